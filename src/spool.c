/*
 * spool.c - segment files named ID-FIRSTSEQ-LASTSEQ-EVENTS.seg, so the
 * index (and what a drop loses) is known without reading them.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "buf.h"
#include "fdio.h"
#include "log.h"
#include "spool.h"

#define SEG_FMT "%020llu-%llu-%llu-%llu.seg"
#define OPEN_FMT "open-%020llu.ndjson"

struct spool {
	char dir[4096], dead[4096];
	long long max_bytes, min_free;
	struct spool_seg *segs;		/* oldest first */
	size_t n, cap;
	unsigned long long bytes, next_id;
	unsigned long long pinned;	/* id being sent, 0 for none */
	int open_fd;			/* the open segment, -1 for none */
	unsigned long long open_id;	/* its id; ids of open ones only grow */
};

static void
seg_path(const struct spool *s, const char *dir, const struct spool_seg *g,
    char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/" SEG_FMT, dir, g->id, g->first_seq,
	    g->last_seq, g->events);
}

static int
seg_cmp(const void *a, const void *b)
{
	const struct spool_seg *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

static int
seg_push(struct spool *s, const struct spool_seg *g)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		struct spool_seg *p = realloc(s->segs, cap * sizeof(*p));

		if (p == NULL)
			return -1;
		s->segs = p;
		s->cap = cap;
	}
	s->segs[s->n++] = *g;
	s->bytes += g->bytes;
	if (g->id >= s->next_id)
		s->next_id = g->id + 1;
	return 0;
}

static int
mkdir_0700(const char *path)
{
	if (mkdir(path, 0700) == -1 && errno != EEXIST) {
		log_warn("%s", path);
		return -1;
	}
	return 0;
}

static int
spool_index(struct spool *s)
{
	DIR *d = opendir(s->dir);
	struct dirent *de;

	if (d == NULL) {
		log_warn("%s", s->dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		struct spool_seg g = { 0 };
		struct stat st;
		int end = 0;

		unsigned long long oid;

		/* a new open segment must never reuse a crash's leftover */
		if (sscanf(de->d_name, "open-%llu.ndjson", &oid) == 1 &&
		    oid > s->open_id)
			s->open_id = oid;
		if (sscanf(de->d_name, "%llu-%llu-%llu-%llu.seg%n", &g.id,
		    &g.first_seq, &g.last_seq, &g.events, &end) != 4 ||
		    de->d_name[end] != '\0') {
			/* a batch that was being written when we died */
			if (strstr(de->d_name, ".tmp"))
				unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (fstatat(dirfd(d), de->d_name, &st, 0) == -1)
			continue;
		g.bytes = (size_t)st.st_size;
		if (seg_push(s, &g) == -1) {
			log_warn("spool index");
			closedir(d);
			return -1;
		}
	}
	closedir(d);
	if (s->n)
		qsort(s->segs, s->n, sizeof(*s->segs), seg_cmp);
	if (s->next_id == 0)
		s->next_id = 1;
	return 0;
}

struct spool *
spool_open(const char *state_dir, long long max_bytes, long long min_free)
{
	struct spool *s = calloc(1, sizeof(*s));

	if (s == NULL) {
		log_warn("spool");
		return NULL;
	}
	s->max_bytes = max_bytes;
	s->min_free = min_free;
	s->open_fd = -1;
	snprintf(s->dir, sizeof(s->dir), "%s/spool", state_dir);
	snprintf(s->dead, sizeof(s->dead), "%s/dead", state_dir);
	if (mkdir_0700(state_dir) == -1 || mkdir_0700(s->dir) == -1 ||
	    mkdir_0700(s->dead) == -1 || spool_index(s) == -1) {
		spool_close(s);
		return NULL;
	}
	if (s->n)
		log_info("spool: %zu batches (%llu bytes) left from before; "
		    "sending them first", s->n, s->bytes);
	return s;
}

static void
loss_add(struct spool_loss *l, const struct spool_seg *g)
{
	l->events += g->events;
	l->bytes += g->bytes;
	l->segments++;
	if (g->first_seq && (l->first_seq == 0 || g->first_seq < l->first_seq))
		l->first_seq = g->first_seq;
	if (g->last_seq > l->last_seq)
		l->last_seq = g->last_seq;
}

static void
seg_forget(struct spool *s, size_t i)
{
	s->bytes -= s->segs[i].bytes;
	memmove(&s->segs[i], &s->segs[i + 1], (s->n - i - 1) * sizeof(*s->segs));
	s->n--;
}

/* Would len more bytes break the cap or the free-space floor? */
static int
over_limits(struct spool *s, size_t len)
{
	struct statvfs vfs;

	if (s->bytes + len > (unsigned long long)s->max_bytes)
		return 1;
	if (s->min_free > 0 && statvfs(s->dir, &vfs) == 0 &&
	    (unsigned long long)vfs.f_bavail * vfs.f_frsize <
	    (unsigned long long)s->min_free + len)
		return 1;
	return 0;
}

/* Drop the oldest segment that is not being sent. 0, or -1 if none. */
static int
drop_oldest(struct spool *s, struct spool_loss *loss)
{
	char path[4400];

	for (size_t i = 0; i < s->n; i++) {
		if (s->segs[i].id == s->pinned)
			continue;
		seg_path(s, s->dir, &s->segs[i], path, sizeof(path));
		if (unlink(path) == -1 && errno != ENOENT)
			log_warn("%s", path);
		loss_add(loss, &s->segs[i]);
		seg_forget(s, i);
		return 0;
	}
	return -1;
}

/* tmp written, fsync'd, renamed to path. 0, or -1 (errno set). */
static int
write_durably(const char *tmp, const char *path, const char *data,
    size_t len)
{
	int fd, e;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600))
	    == -1)
		return -1;
	if (fd_write_all(fd, data, len) == -1 || fsync(fd) == -1) {
		e = errno;
		close(fd);
		goto err;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		e = errno;
		goto err;
	}
	return 0;
err:
	unlink(tmp);
	errno = e;
	return -1;
}

int
spool_append(struct spool *s, const char *data, size_t len,
    unsigned long long first_seq, unsigned long long last_seq,
    unsigned long long events, struct spool_loss *loss)
{
	static struct log_rl rl_cap, rl_io;
	struct spool_seg g = { s->next_id, first_seq, last_seq, events, len };
	char tmp[4500], path[4400];

	while (over_limits(s, len))
		if (drop_oldest(s, loss) == -1)
			break;
	if (over_limits(s, len)) {
		log_warnx_rl(&rl_cap, "spool full (cap %lld bytes, floor %lld "
		    "free): dropping a batch of %llu events", s->max_bytes,
		    s->min_free, events);
		goto lost;
	}
	seg_path(s, s->dir, &g, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (write_durably(tmp, path, data, len) == -1)
		goto io;
	if (seg_push(s, &g) == -1) {
		/* on disk but unindexed: the next start picks it up */
		log_warn("spool index");
		return -1;
	}
	return 0;
io:
	log_warnx_rl(&rl_io, "spool %s: %s; dropping a batch of %llu events",
	    tmp, strerror(errno), events);
lost:
	loss_add(loss, &g);
	return -1;
}

static ssize_t
find(const struct spool *s, unsigned long long id)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->segs[i].id == id)
			return (ssize_t)i;
	return -1;
}

/* Read segment i into data. 0, or -1 (logged; the segment is set aside). */
static int
seg_read(struct spool *s, size_t i, struct buf *data, struct spool_seg *seg)
{
	char path[4400], chunk[65536];
	ssize_t r;
	int fd;

	buf_reset(data);
	*seg = s->segs[i];
	seg_path(s, s->dir, seg, path, sizeof(path));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		goto err;
	while ((r = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_add(data, chunk, (size_t)r) == -1)
			break;
	close(fd);
	if (r != 0)
		goto err;
	return 0;
err:
	log_warn("spool %s; moving it to the dead-letter directory", path);
	spool_dead(s, seg->id);
	return -1;
}

int
spool_peek(struct spool *s, struct buf *data, struct spool_seg *seg)
{
	buf_reset(data);
	if (s->n == 0)
		return 0;
	if (seg_read(s, 0, data, seg) == -1)
		return -1;
	s->pinned = seg->id;
	return 1;
}

int
spool_next(struct spool *s, unsigned long long after, struct buf *data,
    struct spool_seg *seg)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->segs[i].id > after)
			return seg_read(s, i, data, seg) == -1 ? -1 : 1;
	buf_reset(data);
	return 0;
}

int
spool_pin_oldest(struct spool *s, struct spool_seg *seg)
{
	if (s->n == 0)
		return 0;
	*seg = s->segs[0];
	s->pinned = seg->id;
	return 1;
}

void
spool_unpin(struct spool *s)
{
	s->pinned = 0;
}

int
spool_remove(struct spool *s, unsigned long long id)
{
	ssize_t i = find(s, id);
	char path[4400];

	if (s->pinned == id)
		s->pinned = 0;
	if (i == -1)
		return 0;	/* dropped for space while it was away */
	seg_path(s, s->dir, &s->segs[i], path, sizeof(path));
	seg_forget(s, (size_t)i);
	if (unlink(path) == -1 && errno != ENOENT) {
		log_warn("%s", path);
		return -1;
	}
	return 0;
}

int
spool_dead(struct spool *s, unsigned long long id)
{
	ssize_t i = find(s, id);
	char from[4400], to[4400];

	if (s->pinned == id)
		s->pinned = 0;
	if (i == -1)
		return 0;
	seg_path(s, s->dir, &s->segs[i], from, sizeof(from));
	seg_path(s, s->dead, &s->segs[i], to, sizeof(to));
	seg_forget(s, (size_t)i);
	if (rename(from, to) == -1) {
		log_warn("moving %s to %s", from, to);
		return -1;
	}
	return 0;
}

int
spool_dead_add(struct spool *s, const char *data, size_t len,
    unsigned long long first_seq, unsigned long long last_seq,
    unsigned long long events)
{
	struct spool_seg g = { s->next_id++, first_seq, last_seq, events, len };
	char tmp[4500], path[4400];

	seg_path(s, s->dead, &g, path, sizeof(path));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (write_durably(tmp, path, data, len) == -1) {
		log_warn("dead letter %s", path);
		return -1;
	}
	return 0;
}

int
spool_requeue_dead(struct spool *s, unsigned long long *segs,
    unsigned long long *events)
{
	struct spool_seg *dead = NULL;
	size_t n = 0, cap = 0;
	DIR *d = opendir(s->dead);
	struct dirent *de;
	int rc = -1;

	*segs = *events = 0;
	if (d == NULL) {
		log_warn("%s", s->dead);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		struct spool_seg g = { 0 };
		int end = 0;

		if (sscanf(de->d_name, "%llu-%llu-%llu-%llu.seg%n", &g.id,
		    &g.first_seq, &g.last_seq, &g.events, &end) != 4 ||
		    de->d_name[end] != '\0')
			continue;
		if (n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct spool_seg *p = realloc(dead, nc * sizeof(*p));

			if (p == NULL) {
				log_warn("requeue");
				goto cleanup;
			}
			dead = p;
			cap = nc;
		}
		dead[n++] = g;
	}
	if (n)
		qsort(dead, n, sizeof(*dead), seg_cmp);
	/* oldest first, behind what is spooled, each under a new id */
	for (size_t i = 0; i < n; i++) {
		struct spool_seg g = dead[i];
		char from[4400], to[4400];
		struct stat st;

		seg_path(s, s->dead, &dead[i], from, sizeof(from));
		g.id = s->next_id;
		seg_path(s, s->dir, &g, to, sizeof(to));
		if (stat(from, &st) == -1 || rename(from, to) == -1) {
			log_warn("moving %s to %s", from, to);
			goto cleanup;
		}
		g.bytes = (size_t)st.st_size;
		if (seg_push(s, &g) == -1) {
			log_warn("requeue");
			goto cleanup;
		}
		(*segs)++;
		*events += g.events;
	}
	rc = 0;
cleanup:
	closedir(d);
	free(dead);
	return rc;
}

size_t
spool_segments(const struct spool *s)
{
	return s->n;
}

int
spool_append_sealed(struct spool *s, const struct buf *data,
    unsigned long long open_id, unsigned long long first_seq,
    unsigned long long last_seq, unsigned long long events,
    struct spool_loss *loss)
{
	int rc = spool_append(s, data->data, data->len, first_seq, last_seq,
	    events, loss);

	spool_seg_done(s, open_id);
	return rc;
}

void
spool_seg_keep(struct spool *s, const struct buf *batch, size_t *kept)
{
	if (*kept == (size_t)-1 || batch->len <= *kept)
		return;
	if (spool_seg_append(s, batch->data + *kept, batch->len - *kept) == -1)
		*kept = (size_t)-1;
	else
		*kept = batch->len;
}

unsigned long long
spool_next_id(const struct spool *s)
{
	return s->next_id;
}

unsigned long long
spool_bytes(const struct spool *s)
{
	return s->bytes;
}

static void
open_path(const struct spool *s, unsigned long long id, char *out,
    size_t outlen)
{
	snprintf(out, outlen, "%s/" OPEN_FMT, s->dir, id);
}

int
spool_seg_append(struct spool *s, const char *data, size_t len)
{
	static struct log_rl rl;
	char path[4400];

	if (len == 0)
		return 0;
	if (s->open_fd == -1) {
		s->open_id++;
		open_path(s, s->open_id, path, sizeof(path));
		s->open_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC |
		    O_APPEND | O_CLOEXEC, 0600);
		if (s->open_fd == -1)
			goto err;
	}
	/* no fsync: this copy is for a crash of the process only */
	if (fd_write_all(s->open_fd, data, len) == -1)
		goto err;
	return 0;
err:
	open_path(s, s->open_id, path, sizeof(path));
	log_warnx_rl(&rl, "spool %s: %s; a crash now would lose the batch "
	    "being built", path, strerror(errno));
	return -1;
}

unsigned long long
spool_seg_seal(struct spool *s)
{
	if (s->open_fd == -1)
		return 0;
	close(s->open_fd);
	s->open_fd = -1;
	return s->open_id;
}

void
spool_seg_done(struct spool *s, unsigned long long id)
{
	char path[4400];

	if (id == 0)
		return;
	open_path(s, id, path, sizeof(path));
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("%s", path);
}

static int
ull_cmp(const void *a, const void *b)
{
	const unsigned long long *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/* One open segment left by a crash becomes a plain segment. */
static long long
recover_one(struct spool *s, unsigned long long oid,
    unsigned long long (*seq)(const char *, size_t))
{
	char from[4400], to[4400];
	struct buf b = BUF_INIT;
	struct spool_seg g = { 0 };
	size_t end, start = 0;
	long long rc = -1;
	int fd;

	open_path(s, oid, from, sizeof(from));
	if ((fd = open(from, O_RDWR | O_CLOEXEC)) == -1)
		goto io;
	for (;;) {
		char chunk[65536];
		ssize_t got = read(fd, chunk, sizeof(chunk));

		if (got == 0)
			break;
		if (got == -1 || buf_add(&b, chunk, (size_t)got) == -1)
			goto io;
	}
	/* a line cut by the crash is not an event: drop it */
	for (end = b.len; end > 0 && b.data[end - 1] != '\n'; end--)
		;
	while (start < end) {
		const char *nl = memchr(b.data + start, '\n', end - start);
		size_t l = (size_t)(nl - (b.data + start));
		unsigned long long q = seq(b.data + start, l);

		if (q && g.first_seq == 0)
			g.first_seq = q;
		if (q)
			g.last_seq = q;
		g.events++;
		start += l + 1;
	}
	if (g.events == 0) {
		close(fd);
		fd = -1;
		unlink(from);
		rc = 0;
		goto out;
	}
	if ((end < b.len && ftruncate(fd, (off_t)end) == -1) || fsync(fd) == -1)
		goto io;
	g.id = s->next_id;
	g.bytes = end;
	seg_path(s, s->dir, &g, to, sizeof(to));
	if (rename(from, to) == -1)
		goto io;
	if (seg_push(s, &g) == -1) {
		log_warn("spool index");
		goto out;
	}
	log_info("spool: %llu events of a batch being built when podtrail "
	    "stopped (seq %llu..%llu) recovered from %s", g.events,
	    g.first_seq, g.last_seq, from);
	rc = (long long)g.events;
	goto out;
io:
	log_warn("spool %s", from);
out:
	if (fd != -1)
		close(fd);
	buf_free(&b);
	return rc;
}

long long
spool_seg_recover(struct spool *s,
    unsigned long long (*seq)(const char *, size_t))
{
	DIR *d = opendir(s->dir);
	struct dirent *de;
	unsigned long long *ids = NULL;
	size_t n = 0, cap = 0;
	long long total = 0, r;

	if (d == NULL) {
		log_warn("%s", s->dir);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		unsigned long long id;
		int end = 0;

		if (sscanf(de->d_name, "open-%llu.ndjson%n", &id, &end) != 1 ||
		    de->d_name[end] != '\0')
			continue;
		if (n == cap) {
			unsigned long long *p;

			cap = cap ? cap * 2 : 8;
			if ((p = realloc(ids, cap * sizeof(*p))) == NULL) {
				log_warn("spool recover");
				total = -1;
				goto out;
			}
			ids = p;
		}
		ids[n++] = id;
	}
	if (n)
		qsort(ids, n, sizeof(*ids), ull_cmp);
	/* in the order they were built, after every sealed segment */
	for (size_t i = 0; i < n; i++) {
		if ((r = recover_one(s, ids[i], seq)) == -1)
			total = -1;
		else if (total != -1)
			total += r;
	}
out:
	closedir(d);
	free(ids);
	return total;
}

void
spool_close(struct spool *s)
{
	if (s == NULL)
		return;
	if (s->open_fd != -1)
		close(s->open_fd);
	free(s->segs);
	free(s);
}
