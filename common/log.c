/*
 * Logging in the shape of OpenBSD's log.c, with one difference: a child
 * never calls syslog(3).  It vis-encodes each line and hands it to a
 * sink that sends it to the parent as a fixed-size IMSG_LOG.
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "lethd.h"
#include "log.h"
#include "util.h"

static int	 log_debug_mode = 1;
static int	 log_verbose;
static const char *log_procname;
static void	(*log_sink)(int, const char *);

void
log_init(int debug, int facility)
{
	log_debug_mode = debug;
	if (!debug && log_sink == NULL)
		openlog(getprogname(), LOG_PID | LOG_NDELAY, facility);
	tzset();
}

void
log_procinit(const char *name)
{
	log_procname = name;
}

void
log_setverbose(int v)
{
	log_verbose = v;
}

int
log_getverbose(void)
{
	return (log_verbose);
}

void
log_setsink(void (*sink)(int, const char *))
{
	log_sink = sink;
}

/* Encode s so that nothing but printable ASCII reaches a log. */
static void
log_encode(char *dst, size_t dstlen, const char *s)
{
	(void)str_vis(dst, dstlen, s, strlen(s));
}

static void
log_stderr(const char *prefix, const char *text)
{
	if (prefix != NULL)
		fprintf(stderr, "%s: %s\n", prefix, text);
	else
		fprintf(stderr, "%s\n", text);
	fflush(stderr);
}

void
log_raw(int pri, const char *prefix, const char *text)
{
	if (log_debug_mode) {
		log_stderr(prefix, text);
		return;
	}
	if (prefix != NULL)
		syslog(pri, "%s: %s", prefix, text);
	else
		syslog(pri, "%s", text);
}

void
vlog(int pri, const char *fmt, va_list ap)
{
	char	 raw[LOG_MAXLINE * 2];
	char	 text[LOG_MAXLINE];
	int	 saved_errno = errno;

	(void)vsnprintf(raw, sizeof(raw), fmt, ap);
	log_encode(text, sizeof(text), raw);
	if (log_sink != NULL)
		log_sink(pri, text);	/* the parent logs it, or prints it */
	else
		log_raw(pri, NULL, text);
	errno = saved_errno;
}

void
logit(int pri, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vlog(pri, fmt, ap);
	va_end(ap);
}

static void
vlog_errno(int pri, int code, const char *emsg, va_list ap)
{
	char	 fmt[LOG_MAXLINE];

	if (emsg == NULL)
		logit(pri, "%s", strerror(code));
	else {
		(void)vsnprintf(fmt, sizeof(fmt), emsg, ap);
		logit(pri, "%s: %s", fmt, strerror(code));
	}
}

void
log_warn(const char *emsg, ...)
{
	va_list	 ap;
	int	 saved_errno = errno;

	va_start(ap, emsg);
	vlog_errno(LOG_ERR, saved_errno, emsg, ap);
	va_end(ap);
	errno = saved_errno;
}

void
log_warnx(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vlog(LOG_ERR, emsg, ap);
	va_end(ap);
}

void
log_info(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vlog(LOG_INFO, emsg, ap);
	va_end(ap);
}

void
log_debug(const char *emsg, ...)
{
	va_list	 ap;

	if (log_verbose) {
		va_start(ap, emsg);
		vlog(LOG_DEBUG, emsg, ap);
		va_end(ap);
	}
}

static __attribute__((__noreturn__)) void
vfatalc(int code, const char *emsg, va_list ap)
{
	char	 msg[LOG_MAXLINE];

	if (emsg != NULL)
		(void)vsnprintf(msg, sizeof(msg), emsg, ap);
	else
		msg[0] = '\0';
	if (code)
		logit(LOG_CRIT, "fatal in %s: %s%s%s",
		    log_procname ? log_procname : "lethd", msg,
		    msg[0] ? ": " : "", strerror(code));
	else
		logit(LOG_CRIT, "fatal in %s: %s",
		    log_procname ? log_procname : "lethd", msg);
	exit(1);
}

void
fatal(const char *emsg, ...)
{
	va_list	 ap;
	int	 code = errno;

	va_start(ap, emsg);
	vfatalc(code, emsg, ap);
}

void
fatalx(const char *emsg, ...)
{
	va_list	 ap;

	va_start(ap, emsg);
	vfatalc(0, emsg, ap);
}
