/* log.h - logging to stderr (foreground) or syslog, OpenBSD style. */
#ifndef PODTRAIL_LOG_H
#define PODTRAIL_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_ERR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Set destination and verbosity; may be called again (e.g. on SIGHUP). */
void log_init(int to_stderr, enum log_level level, const char *ident);
/* Parse "error", "warning", "info" or "debug"; -1 if unknown. */
int log_level_parse(const char *name);

/* log_warn appends ": strerror(errno)"; the x variants do not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* For start-up failures and broken invariants only: log and exit(1). */
void fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/*
 * A warning that can repeat at event rate: logs at most once per
 * interval per call site and reports how many were suppressed.
 * Usage: static struct log_rl rl; log_warnx_rl(&rl, "...");
 */
struct log_rl {
	long long last_ms;
	unsigned long suppressed;
};
void log_warnx_rl(struct log_rl *rl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* The same at error level: a condition the operator must fix. */
void log_errx_rl(struct log_rl *rl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
