/*
 * output_file.c - NDJSON to stdout ("-") or a file ("file:PATH").
 * Buffered; flushed whenever the loop is about to sleep, so a live
 * stream is never held back.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fdio.h"
#include "log.h"
#include "output.h"

#define OUT_FLUSH_AT (256 * 1024)

struct out_file {
	int fd;
	int own_fd;
	struct buf buf;
	int failed;
	unsigned long long lines, bytes;
};

static int
file_match(const char *spec)
{
	return strcmp(spec, "-") == 0 || strncmp(spec, "file:", 5) == 0;
}

static int
file_push(struct out_file *f)
{
	if (f->buf.len == 0 || f->failed)
		return f->failed ? -1 : 0;
	if (fd_write_all(f->fd, f->buf.data, f->buf.len) == -1) {
		log_warn("write output");
		f->failed = 1;
		return -1;
	}
	buf_reset(&f->buf);
	return 0;
}

static void *
file_open(const char *spec, struct loop *loop, const struct conf *c)
{
	struct out_file *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		log_warn("output");
		return NULL;
	}
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
	return f;
}

static int
file_write(void *ctx, const char *line, size_t len)
{
	struct out_file *f = ctx;

	if (f->failed)
		return -1;
	if (buf_add(&f->buf, line, len) == -1 || buf_addc(&f->buf, '\n') == -1) {
		log_warn("output buffer");
		return -1;
	}
	f->lines++;
	f->bytes += len + 1;
	if (f->buf.len >= OUT_FLUSH_AT)
		return file_push(f);
	return 0;
}

static void
file_flush(void *ctx)
{
	file_push(ctx);
}

static int
file_close(void *ctx)
{
	struct out_file *f = ctx;
	int rc = file_push(f);

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
}

const struct output_ops output_file_ops = {
	.name = "file",
	.match = file_match,
	.open = file_open,
	.write = file_write,
	.flush = file_flush,
	.close = file_close,
	.stats = file_stats,
};
