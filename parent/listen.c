/*
 * The sockets the unprivileged children may not make themselves: the
 * control socket (handed to minerd) and netd's listeners.
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lethd.h"
#include "conf.h"
#include "log.h"
#include "lethd_proc.h"

#define CTL_BACKLOG	16	/* lethctl and a dashboard, not a crowd */
#define NET_BACKLOG	128	/* peers connecting at once */
#define API_BACKLOG	16	/* local tools, as the control socket */

int
listen_control(void)
{
	struct sockaddr_un	 sun;
	struct stat		 st;
	mode_t			 old;
	int			 fd;

	env->ctl_fd = -1;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlcpy(sun.sun_path, env->conf.socket, sizeof(sun.sun_path)) >=
	    sizeof(sun.sun_path)) {
		log_warnx("%s: socket path too long", env->conf.socket);
		return (-1);
	}
	/* we hold the pidfile lock: a socket there is a dead instance's */
	if (lstat(env->conf.socket, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			log_warnx("%s: exists and is not a socket",
			    env->conf.socket);
			return (-1);
		}
		if (unlink(env->conf.socket) == -1) {
			log_warn("unlink %s", env->conf.socket);
			return (-1);
		}
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1) {
		log_warn("socket");
		return (-1);
	}
	old = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		umask(old);
		log_warn("bind %s", env->conf.socket);
		close(fd);
		return (-1);
	}
	umask(old);
	if (chown(env->conf.socket, 0, env->ctl_gid) == -1 ||
	    chmod(env->conf.socket, env->conf.socket_mode) == -1) {
		log_warn("%s", env->conf.socket);
		close(fd);
		return (-1);
	}
	if (listen(fd, CTL_BACKLOG) == -1) {
		log_warn("listen %s", env->conf.socket);
		close(fd);
		return (-1);
	}
	env->ctl_fd = fd;
	return (0);
}

int
listen_net(void)
{
	struct conf_listen	*cl;
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	unsigned int		 i;
	int			 fd, on = 1;
	void			*addr;

	for (i = 0; i < env->conf.nlisten; i++) {
		cl = &env->conf.listen[i];
		fd = socket(cl->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0);
		if (fd == -1) {
			log_warn("socket");
			return (-1);
		}
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on,
		    sizeof(on)) == -1 || (cl->ss.ss_family == AF_INET6 &&
		    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on,
		    sizeof(on)) == -1)) {
			log_warn("setsockopt");
			close(fd);
			return (-1);
		}
		if (bind(fd, (struct sockaddr *)&cl->ss, cl->sslen) == -1 ||
		    listen(fd, NET_BACKLOG) == -1) {
			log_warn("listen on port %u", cl->port);
			close(fd);
			return (-1);
		}
		len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
			log_warn("getsockname");
			close(fd);
			return (-1);
		}
		if (ss.ss_family == AF_INET6) {
			addr = &((struct sockaddr_in6 *)&ss)->sin6_addr;
			env->net_port[i] =
			    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
		} else {
			addr = &((struct sockaddr_in *)&ss)->sin_addr;
			env->net_port[i] =
			    ntohs(((struct sockaddr_in *)&ss)->sin_port);
		}
		if (inet_ntop(ss.ss_family, addr, env->net_addr[i],
		    sizeof(env->net_addr[i])) == NULL)
			(void)strlcpy(env->net_addr[i], "?",
			    sizeof(env->net_addr[i]));
		env->net_fd[i] = fd;
		env->nnet++;
		log_debug("netd listens on %s port %u", env->net_addr[i],
		    env->net_port[i]);
	}
	return (0);
}

/*
 * The loopback TCP API (api listen): the parser took only loopback
 * addresses; minerd reads the port it got from the socket itself.
 */
int
listen_api(void)
{
	struct conf_listen	*cl = &env->conf.api_listen;
	int			 fd, on = 1;

	env->api_fd = -1;
	if (!env->conf.api_listen_set)
		return (0);
	fd = socket(cl->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0);
	if (fd == -1) {
		log_warn("api listen: socket");
		return (-1);
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    (cl->ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)) {
		log_warn("api listen: setsockopt");
		close(fd);
		return (-1);
	}
	if (bind(fd, (struct sockaddr *)&cl->ss, cl->sslen) == -1 ||
	    listen(fd, API_BACKLOG) == -1) {
		log_warn("api listen on port %u", cl->port);
		close(fd);
		return (-1);
	}
	env->api_fd = fd;
	return (0);
}
