/*
 * source_stream.c - audit text from a file descriptor: stdin (auditd's
 * plugin dispatcher, format = string) or a recorded audit.log (RAW or
 * ENRICHED; auparse keeps the enrichment apart from the fields).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "loop.h"
#include "pipeline.h"
#include "source.h"

#define STREAM_CHUNK (64 * 1024)

struct stream {
	int fd;
	int own_fd;
	struct loop *loop;
	struct pipeline *pl;
	char *buf;
	unsigned long long bytes;
	int live;	/* not a regular file: records arrive as we read */
};

static void
stream_close(void *arg)
{
	struct stream *s = arg;

	if (s == NULL)
		return;
	if (s->fd >= 0) {
		loop_fd_del(s->loop, s->fd);
		if (s->own_fd)
			close(s->fd);
	}
	free(s->buf);
	free(s);
}

static void
stream_readable(int fd, short revents, void *arg)
{
	struct stream *s = arg;
	ssize_t n;

	/*
	 * One read per wake-up, so timers and other fds get their turn
	 * even when a replayed file is always readable.
	 */
	n = read(fd, s->buf, STREAM_CHUNK);
	if (n > 0) {
		s->bytes += (unsigned long long)n;
		if (s->live)
			pipeline_received(s->pl, loop_now_us());
		pipeline_feed(s->pl, s->buf, (size_t)n);
		return;
	}
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n == -1)
		log_warn("read audit input");
	loop_fd_del(s->loop, fd);
	pipeline_eof(s->pl);
}

/* Bound on what a drain takes in: a writer that never stops cannot hold us. */
#define STREAM_DRAIN_MAX (64 * 1024 * 1024)

/*
 * auditd's dispatcher may have written records we have not read yet
 * when SIGTERM comes: take them in, so stopping loses nothing that was
 * already handed to us. A replayed file is simply stopped.
 */
static void
stream_drain(void *arg)
{
	struct stream *s = arg;
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
	size_t total = 0;

	if (s->fd < 0 || !s->live)
		return;
	while (total < STREAM_DRAIN_MAX && poll(&pfd, 1, 0) == 1 &&
	    (pfd.revents & POLLIN)) {
		ssize_t n = read(s->fd, s->buf, STREAM_CHUNK);

		if (n <= 0)
			break;
		s->bytes += (unsigned long long)n;
		total += (size_t)n;
		pipeline_received(s->pl, loop_now_us());
		pipeline_feed(s->pl, s->buf, (size_t)n);
	}
}

static void *
stream_open_fd(int fd, int own, struct loop *loop, struct pipeline *pl)
{
	struct stream *s = calloc(1, sizeof(*s));
	struct stat st;

	if (s == NULL || (s->buf = malloc(STREAM_CHUNK)) == NULL) {
		log_warn("source");
		goto err;
	}
	s->live = fstat(fd, &st) == 0 && !S_ISREG(st.st_mode);
	s->fd = fd;
	s->own_fd = own;
	s->loop = loop;
	s->pl = pl;
	if (loop_fd_add(loop, fd, POLLIN, stream_readable, s) == -1) {
		log_warn("watch audit input");
		goto err;
	}
	return s;
err:
	if (s)
		s->fd = -1;
	stream_close(s);
	return NULL;
}

static void *
stdin_open(const char *arg, struct loop *loop, struct pipeline *pl,
    const struct conf *c)
{
	if (arg) {
		log_warnx("source stdin takes no argument");
		return NULL;
	}
	return stream_open_fd(STDIN_FILENO, 0, loop, pl);
}

static void *
file_open(const char *arg, struct loop *loop, struct pipeline *pl,
    const struct conf *c)
{
	void *s;
	int fd;

	if (arg == NULL || *arg == '\0') {
		log_warnx("source file needs a path: --source=file:PATH");
		return NULL;
	}
	if ((fd = open(arg, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warn("%s", arg);
		return NULL;
	}
	if ((s = stream_open_fd(fd, 1, loop, pl)) == NULL)
		close(fd);
	return s;
}

static void
stream_stats(void *arg, cJSON *obj)
{
	struct stream *s = arg;

	cJSON_AddNumberToObject(obj, "input_bytes", (double)s->bytes);
}

const struct source_ops source_stdin_ops = {
	.name = "stdin",
	.open = stdin_open,
	.close = stream_close,
	.stats = stream_stats,
	.drain = stream_drain,
};

const struct source_ops source_file_ops = {
	.name = "file",
	.open = file_open,
	.close = stream_close,
	.stats = stream_stats,
	.drain = stream_drain,
};
