/*
 * memscan PID FILE: is the content of FILE (up to 64 bytes) anywhere in
 * the readable memory of process PID?  Exit 0: found; 1: not found;
 * 2: the memory could not be read at all (no ptrace access); 3: usage.
 * Used by the tests to check that only keyd holds the node key's seed.
 */

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NEEDLE_MAX	64
#define CHUNK		(1024 * 1024)

int
main(int argc, char *argv[])
{
	unsigned char	 needle[NEEDLE_MAX], *buf;
	char		 path[64], line[512], perms[8];
	uint64_t	 start, end, off;
	size_t		 nlen;
	ssize_t		 n;
	FILE		*maps;
	int		 fd, mem, readable = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: memscan pid file\n");
		return (3);
	}
	if ((fd = open(argv[2], O_RDONLY)) == -1 ||
	    (n = read(fd, needle, sizeof(needle))) <= 0) {
		perror(argv[2]);
		return (3);
	}
	close(fd);
	nlen = n;
	snprintf(path, sizeof(path), "/proc/%s/maps", argv[1]);
	if ((maps = fopen(path, "r")) == NULL) {
		perror(path);
		return (2);
	}
	snprintf(path, sizeof(path), "/proc/%s/mem", argv[1]);
	if ((mem = open(path, O_RDONLY)) == -1) {
		perror(path);
		return (2);
	}
	if ((buf = malloc(CHUNK + NEEDLE_MAX)) == NULL)
		return (3);
	while (fgets(line, sizeof(line), maps) != NULL) {
		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s", &start, &end,
		    perms) != 3 || perms[0] != 'r')
			continue;
		if (strstr(line, "[vvar") != NULL)
			continue;
		for (off = start; off < end; off += CHUNK) {
			size_t	 want = end - off > CHUNK + nlen ?
			    CHUNK + nlen : end - off;
			size_t	 i;

			n = pread(mem, buf, want, off);
			if (n <= 0)
				break;
			readable = 1;
			for (i = 0; i + nlen <= (size_t)n; i++)
				if (memcmp(buf + i, needle, nlen) == 0) {
					printf("found at 0x%" PRIx64 "\n",
					    off + i);
					return (0);
				}
		}
	}
	return (readable ? 1 : 2);
}
