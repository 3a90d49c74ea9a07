/*
 * disk_files.c - the disk watcher's tracked files and their writers:
 * a file's growth is credited to the container that last opened it
 * for writing; a file that is gone gives its bytes back.
 */
#include "config.h"


#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include "conf.h"
#include "disk.h"
#include "disk_int.h"
#include "event.h"
#include "evfield.h"
#include "log.h"
#include "loop.h"
#include "mountinfo.h"

#define WRITERS_MAX 4096

/* ---- writers ---------------------------------------------------------- */

static unsigned
writer_hash(const char *ctr, const char *pod, const char *vol, dev_t dev)
{
	unsigned h = evf_hash(vol, evf_hash(pod, evf_hash(ctr, EVF_HASH_INIT)));

	return (h ^ (unsigned)dev) % WRITER_BUCKETS;
}

static struct dwriter *
writer_get(struct disk *d, const char *ctr, const char *pod, const char *vol,
    const char *vtype, const char *vpod, dev_t dev)
{
	unsigned h = writer_hash(ctr, pod, vol, dev);
	struct dwriter *w;

	for (w = d->wb[h]; w; w = w->next)
		if (w->dev == dev && !strcmp(w->ctr, ctr) &&
		    !strcmp(w->pod_uid, pod) && !strcmp(w->volume, vol))
			return w;
	if (d->nwriters >= WRITERS_MAX) {
		d->writers_full++;
		return NULL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	snprintf(w->ctr, sizeof(w->ctr), "%s", ctr);
	snprintf(w->pod_uid, sizeof(w->pod_uid), "%s", pod);
	snprintf(w->volume, sizeof(w->volume), "%s", vol);
	snprintf(w->vtype, sizeof(w->vtype), "%s", vtype);
	snprintf(w->vpod, sizeof(w->vpod), "%s", vpod);
	w->dev = dev;
	w->next = d->wb[h];
	d->wb[h] = w;
	d->nwriters++;
	return w;
}

/* Writers with no file left and nothing to report go (their metric too). */
void
disk_files_prune(struct disk *d)
{
	for (size_t i = 0; i < WRITER_BUCKETS; i++) {
		struct dwriter **pp = &d->wb[i];

		while (*pp) {
			struct dwriter *w = *pp;

			if (w->refs == 0 && w->window <= 0) {
				*pp = w->next;
				free(w);
				d->nwriters--;
				continue;
			}
			pp = &w->next;
		}
	}
}

static void
credit(struct dwriter *w, long long delta)
{
	if (w == NULL || delta == 0)
		return;
	w->window += delta;
	if (delta > 0)
		w->added += (unsigned long long)delta;
}

/* ---- tracked files ---------------------------------------------------- */

static void
lru_unlink(struct disk *d, struct dfile *f)
{
	if (f->prev)
		f->prev->next = f->next;
	else
		d->lru_head = f->next;
	if (f->next)
		f->next->prev = f->prev;
	else
		d->lru_tail = f->prev;
	f->prev = f->next = NULL;
}

static void
lru_front(struct disk *d, struct dfile *f)
{
	if (d->lru_head == f)
		return;
	if (f->prev || f->next || d->lru_tail == f)
		lru_unlink(d, f);
	f->next = d->lru_head;
	if (d->lru_head)
		d->lru_head->prev = f;
	d->lru_head = f;
	if (d->lru_tail == NULL)
		d->lru_tail = f;
}

void
disk_files_drop(struct disk *d, struct dfile *f)
{
	struct dfile **pp = &d->fb[evf_hash(f->path, EVF_HASH_INIT) % FILE_BUCKETS];

	while (*pp && *pp != f)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = f->hnext;
	lru_unlink(d, f);
	if (f->w)
		f->w->refs--;
	free(f->path);
	free(f);
	d->nfiles--;
}

static void
file_set_writer(struct dfile *f, struct dwriter *w)
{
	if (f->w == w)
		return;
	if (f->w)
		f->w->refs--;
	f->w = w;
	if (w)
		w->refs++;
}

static long long
alloc_bytes(const struct stat *st)
{
	return (long long)st->st_blocks * 512;
}

/*
 * A file written by w: track it. created: the event made it, so all
 * its bytes are new; otherwise what it held when first seen is not.
 */
void
disk_files_track(struct disk *d, const char *path, int created,
    const char *ctr, const char *pod, const char *vol, const char *vtype,
    const char *vpod, pid_t pid, int fd)
{
	unsigned h = evf_hash(path, EVF_HASH_INIT) % FILE_BUCKETS;
	struct dfile *f;
	struct stat st;

	for (f = d->fb[h]; f; f = f->hnext)
		if (strcmp(f->path, path) == 0)
			break;
	if (f == NULL) {
		if (fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode))
			return;
		if (d->nfiles >= d->max_files && d->lru_tail) {
			d->evicted++;
			disk_files_drop(d, d->lru_tail);
		}
		if ((f = calloc(1, sizeof(*f))) == NULL ||
		    (f->path = strdup(path)) == NULL) {
			free(f);
			return;
		}
		f->dev = st.st_dev;
		f->ino = st.st_ino;
		f->bytes = created ? 0 : alloc_bytes(&st);
		f->hnext = d->fb[h];
		d->fb[h] = f;
		d->nfiles++;
		d->tracked++;
	}
	file_set_writer(f, writer_get(d, ctr, pod, vol, vtype, vpod, f->dev));
	f->pid = pid;
	f->fd = fd;
	lru_front(d, f);
}

/* Sample one file: credit its growth; 0, or -1 when it is gone (dropped). */
static int
file_sample(struct disk *d, struct dfile *f)
{
	struct stat st;
	long long b;

	d->samples++;
	if (fstatat(AT_FDCWD, f->path, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    st.st_ino != f->ino || st.st_dev != f->dev) {
		/* deleted or replaced: the bytes it held are freed */
		credit(f->w, -f->bytes);
		d->stat_gone++;
		disk_files_drop(d, f);
		return -1;
	}
	b = alloc_bytes(&st);
	if (b != f->bytes) {
		credit(f->w, b - f->bytes);
		f->bytes = b;
		lru_front(d, f);
	}
	return 0;
}

/* Sample every tracked file (on dev only, unless dev is 0). */
void
disk_files_sample(struct disk *d, dev_t dev, int all)
{
	struct dfile *f = d->lru_head, *next;

	for (; f; f = next) {
		next = f->next;
		if (all || f->dev == dev)
			(void)file_sample(d, f);
	}
}

