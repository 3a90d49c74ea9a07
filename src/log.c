/* log.c - one place that knows where messages go. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static int log_stderr = 1;
static enum log_level log_level = LOG_LVL_INFO;

static const char *const level_names[] = { "error", "warning", "info", "debug" };
static const int level_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };

void
log_init(int to_stderr, enum log_level level, const char *ident)
{
	if (!to_stderr && log_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
	log_stderr = to_stderr;
	log_level = level;
}

int
log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

static void
vlog(enum log_level lvl, const char *fmt, va_list ap, int err)
{
	/* the SIGUSR1 counters line is several KiB */
	char msg[8192];

	if (lvl > log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (log_stderr) {
		if (err)
			fprintf(stderr, "podtrail: %s: %s\n", msg, strerror(err));
		else
			fprintf(stderr, "podtrail: %s\n", msg);
	} else {
		if (err)
			syslog(level_prio[lvl], "%s: %s", msg, strerror(err));
		else
			syslog(level_prio[lvl], "%s", msg);
	}
}

#define LOG_BODY(lvl, err)                                                   \
	do {                                                                 \
		va_list ap;                                                  \
		va_start(ap, fmt);                                           \
		vlog((lvl), fmt, ap, (err));                                 \
		va_end(ap);                                                  \
	} while (0)

void log_warn(const char *fmt, ...) { int e = errno; LOG_BODY(LOG_LVL_WARN, e); errno = e; }
void log_warnx(const char *fmt, ...) { LOG_BODY(LOG_LVL_WARN, 0); }
void log_info(const char *fmt, ...) { LOG_BODY(LOG_LVL_INFO, 0); }
void log_debug(const char *fmt, ...) { LOG_BODY(LOG_LVL_DEBUG, 0); }

void
fatal(const char *fmt, ...)
{
	int e = errno;

	LOG_BODY(LOG_LVL_ERR, e);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_LVL_ERR, 0);
	exit(1);
}

#define LOG_RL_INTERVAL_MS 10000

/* May a rate-limited message at this call site go out now? */
static int
rl_pass(struct log_rl *rl)
{
	struct timespec ts;
	long long now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	if (rl->last_ms && now - rl->last_ms < LOG_RL_INTERVAL_MS) {
		rl->suppressed++;
		return 0;
	}
	rl->last_ms = now;
	return 1;
}

static void
rl_done(struct log_rl *rl)
{
	if (rl->suppressed) {
		log_warnx("(previous message repeated %lu times)", rl->suppressed);
		rl->suppressed = 0;
	}
}

void
log_warnx_rl(struct log_rl *rl, const char *fmt, ...)
{
	if (!rl_pass(rl))
		return;
	LOG_BODY(LOG_LVL_WARN, 0);
	rl_done(rl);
}

void
log_errx_rl(struct log_rl *rl, const char *fmt, ...)
{
	if (!rl_pass(rl))
		return;
	LOG_BODY(LOG_LVL_ERR, 0);
	rl_done(rl);
}
