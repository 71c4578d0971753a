/*
 * Logging in the style of OpenBSD's log.c.  The parent logs to syslog
 * (or stderr under -d).  Children never call syslog: each line is
 * vis-encoded and handed to a sink that sends it to the parent as a
 * fixed-size IMSG_LOG; under -d the parent prints it on stderr.  Until
 * a child has its sink, it writes to stderr itself.
 */

#ifndef LOG_H
#define LOG_H

#include <stdarg.h>
#include <syslog.h>

/* debug: write to stderr instead of syslog (parent) */
void	log_init(int debug, int facility);
void	log_procinit(const char *name);		/* "keyd": line prefix */
void	log_setverbose(int);
int	log_getverbose(void);
/* Children: every line goes to sink (already vis-encoded, NUL-terminated,
 * at most LOG_MAXLINE - 1 bytes) instead of syslog or stderr. */
void	log_setsink(void (*sink)(int priority, const char *text));

void	log_warn(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	log_warnx(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	log_info(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	log_debug(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
void	logit(int, const char *, ...)
	    __attribute__((__format__ (printf, 2, 3)));
void	vlog(int, const char *, va_list)
	    __attribute__((__format__ (printf, 2, 0)));
/* Log a line that arrived already encoded (the parent, for children). */
void	log_raw(int priority, const char *prefix, const char *text);
__attribute__((__noreturn__)) void fatal(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));
__attribute__((__noreturn__)) void fatalx(const char *, ...)
	    __attribute__((__format__ (printf, 1, 2)));

#endif /* LOG_H */
