/*
 * output_file.c - NDJSON to stdout ("-") or a file ("file:PATH").
 * Buffered; flushed whenever the loop is about to sleep, so a live
 * stream is never held back.
 *
 * A pipe, socket or terminal can stall when its reader stops reading.
 * Those are written without blocking (RWF_NOWAIT, or poll and PIPE_BUF
 * bytes where the kernel has no RWF_NOWAIT for them; either way the
 * file description, which others may share, keeps its flags) and the
 * loop waits for room like for any other fd, so signals are still
 * acted on. Up to OUT_STALL_MAX stays buffered meanwhile; past that
 * podtrail waits for the reader (backpressure, as a blocking write
 * would), with signals let through. After a stop (SIGTERM) the last flush gives up after
 * OUT_STOP_MS instead of waiting for a reader that may never come back.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "buf.h"
#include "event.h"
#include "fdio.h"
#include "log.h"
#include "loop.h"
#include "output.h"

#define OUT_FLUSH_AT (256 * 1024)
#define OUT_STALL_MAX (4 * 1024 * 1024)
#define OUT_STOP_MS 5000
/* how a pipe-like fd is written without blocking */
#define NOWAIT_FLAG 1	/* pwritev2(RWF_NOWAIT): anonymous pipes, sockets */
#define NOWAIT_POLL 2	/* poll, then PIPE_BUF bytes: named FIFOs, terminals */

struct out_file {
	int fd;
	int own_fd;
	struct loop *loop;
	struct buf buf;
	size_t done;		/* bytes of buf already written */
	int nowait;		/* pipe-like: 0, or NOWAIT_FLAG or NOWAIT_POLL */
	int watching;		/* the loop waits for room for us */
	int interrupted;	/* a signal came while we waited: not again this round */
	long long deadline;	/* after a stop: last flush gives up then (ms) */
	int failed;
	unsigned long long lines, bytes, stalls;
};

static int
file_match(const char *spec)
{
	return strcmp(spec, "-") == 0 || strncmp(spec, "file:", 5) == 0;
}

static void on_room(int fd, short revents, void *arg);

static size_t
pending(const struct out_file *f)
{
	return f->buf.len - f->done;
}

/* Have the loop call on_room when the fd takes data again, or stop it. */
static void
watch(struct out_file *f, int on)
{
	if (on == f->watching || f->loop == NULL)
		return;
	if (on && loop_fd_add(f->loop, f->fd, POLLOUT, on_room, f) == -1)
		return;		/* ENOMEM: the next flush tries again */
	if (!on)
		loop_fd_del(f->loop, f->fd);
	f->watching = on;
}

/*
 * Write what the fd takes now. 0 (all written, or the rest must wait
 * for room), or -1 (the output failed; logged once).
 */
static int
push(struct out_file *f)
{
	if (f->failed)
		return -1;
	while (pending(f) > 0) {
		struct iovec iov = { f->buf.data + f->done, pending(f) };
		ssize_t n;

		if (!f->nowait) {
			if (fd_write_all(f->fd, iov.iov_base, iov.iov_len) == -1)
				goto fail;
			f->done = f->buf.len;
			break;
		}
		if (f->nowait == NOWAIT_FLAG) {
			n = pwritev2(f->fd, &iov, 1, -1, RWF_NOWAIT);
		} else {
			/*
			 * No RWF_NOWAIT here (a named FIFO, a terminal): a
			 * pipe that polls writable takes PIPE_BUF bytes
			 * without blocking.
			 */
			struct pollfd p = { .fd = f->fd, .events = POLLOUT };

			if (poll(&p, 1, 0) == 0)
				break;
			if (iov.iov_len > PIPE_BUF)
				iov.iov_len = PIPE_BUF;
			n = write(f->fd, iov.iov_base, iov.iov_len);
		}
		if (n >= 0) {
			f->done += (size_t)n;
			continue;
		}
		if (errno == EAGAIN)
			break;
		if (errno == EINTR)
			continue;
		if (f->nowait == NOWAIT_FLAG &&
		    (errno == EOPNOTSUPP || errno == EINVAL)) {
			f->nowait = NOWAIT_POLL;
			continue;
		}
		goto fail;
	}
	if (pending(f) == 0) {
		buf_reset(&f->buf);
		f->done = 0;
	} else if (f->done >= OUT_FLUSH_AT) {
		/* keep the buffer from creeping: drop what is written */
		memmove(f->buf.data, f->buf.data + f->done, pending(f));
		f->buf.len -= f->done;
		f->buf.data[f->buf.len] = '\0';
		f->done = 0;
	}
	return 0;
fail:
	log_warn("write output");
	f->failed = 1;
	watch(f, 0);
	return -1;
}

/*
 * Wait until the fd takes data, a signal comes (the loop's handlers run:
 * -1, EINTR) or deadline_ms passes (-1: never; 0 returned).
 */
static int
wait_room(struct out_file *f, long long deadline_ms)
{
	struct pollfd p = { .fd = f->fd, .events = POLLOUT };
	const sigset_t *mask = f->loop ? loop_wait_sigmask(f->loop) : NULL;
	struct timespec ts, *tsp = NULL;

	if (deadline_ms >= 0) {
		long long left = deadline_ms - loop_now_ms();

		if (left <= 0)
			return 0;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (long)(left % 1000) * 1000000;
		tsp = &ts;
	}
	return ppoll(&p, 1, tsp, mask);
}

static void
on_room(int fd, short revents, void *arg)
{
	struct out_file *f = arg;

	if (push(f) == 0 && pending(f) == 0)
		watch(f, 0);
}

static void *
file_open(const char *spec, struct loop *loop, const struct conf *c)
{
	struct out_file *f = calloc(1, sizeof(*f));
	struct stat st;

	if (f == NULL) {
		log_warn("output");
		return NULL;
	}
	f->loop = loop;
	f->deadline = -1;
	if (strcmp(spec, "-") == 0) {
		f->fd = STDOUT_FILENO;
	} else {
		f->fd = open(spec + 5, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		    0600);
		if (f->fd == -1) {
			log_warn("%s", spec + 5);
			free(f);
			return NULL;
		}
		f->own_fd = 1;
	}
	/*
	 * Pipes, sockets and terminals can stall; a disk file or /dev/null
	 * does not for long: plain blocking writes.
	 */
	if (fstat(f->fd, &st) == 0) {
		if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))
			f->nowait = NOWAIT_FLAG;
		else if (S_ISCHR(st.st_mode) && isatty(f->fd))
			f->nowait = NOWAIT_POLL;
	}
	return f;
}

static int
file_write(void *ctx, const struct sealed *s)
{
	struct out_file *f = ctx;

	if (f->failed)
		return -1;
	if (buf_add(&f->buf, s->line, s->len) == -1 ||
	    buf_addc(&f->buf, '\n') == -1) {
		log_warn("output buffer");
		return -1;
	}
	f->lines++;
	f->bytes += s->len + 1;
	if (pending(f) < OUT_FLUSH_AT)
		return 0;
	if (push(f) == -1)
		return -1;
	if (pending(f) == 0)
		return 0;
	watch(f, 1);
	/* the reader stalls: past the cap, wait for it (signals let through) */
	if (pending(f) > OUT_STALL_MAX && !f->interrupted) {
		f->stalls++;
		while (pending(f) > OUT_STALL_MAX) {
			if (wait_room(f, f->deadline) != 1) {
				/*
				 * A signal (let the loop act on it before we
				 * wait again), or a stop's deadline passed.
				 */
				f->interrupted = 1;
				break;
			}
			if (push(f) == -1)
				return -1;
		}
	}
	return 0;
}

static void
file_flush(void *ctx)
{
	struct out_file *f = ctx;

	/* a stop's deadline passed: no more waiting, close gives up */
	f->interrupted = f->deadline >= 0 && loop_now_ms() >= f->deadline;
	if (push(f) == 0)
		watch(f, pending(f) > 0);
}

static void
file_stop(void *ctx)
{
	struct out_file *f = ctx;

	f->deadline = loop_now_ms() + OUT_STOP_MS;
}

static int
file_close(void *ctx)
{
	struct out_file *f = ctx;
	int rc;

	watch(f, 0);
	/* everything, unless a stop's deadline passes or a signal comes */
	while ((rc = push(f)) == 0 && pending(f) > 0)
		if (wait_room(f, f->deadline) != 1)
			break;
	if (rc == 0 && pending(f) > 0) {
		log_warnx("output stalled: %zu bytes not written (its reader "
		    "stopped reading)", pending(f));
		rc = -1;
	}
	if (f->own_fd && close(f->fd) == -1 && rc == 0) {
		log_warn("close output");
		rc = -1;
	}
	buf_free(&f->buf);
	free(f);
	return rc;
}

static void
file_stats(void *ctx, cJSON *obj)
{
	struct out_file *f = ctx;

	cJSON_AddNumberToObject(obj, "output_events", (double)f->lines);
	cJSON_AddNumberToObject(obj, "output_bytes", (double)f->bytes);
	cJSON_AddNumberToObject(obj, "output_stalls", (double)f->stalls);
	cJSON_AddNumberToObject(obj, "output_buffered", (double)pending(f));
}

const struct output_ops output_file_ops = {
	.name = "file",
	.match = file_match,
	.open = file_open,
	.write = file_write,
	.flush = file_flush,
	.stop = file_stop,
	.close = file_close,
	.stats = file_stats,
};
