/*
 * mountinfo.c - parse /proc/<pid>/mountinfo and map paths to the host.
 *
 * A line: ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE
 * SOURCE SUPEROPTS. ROOT is the mount's root inside its file system,
 * MOUNTPOINT is relative to the reading process's root; both escape
 * space, tab, newline and backslash as \ooo.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "mountinfo.h"

struct mountinfo_mount {
	unsigned long dev_major, dev_minor;
	char *root;
	char *point;
	char *fstype;
};

struct mountinfo_table {
	struct mountinfo_mount *m;
	size_t n, cap;
	size_t skipped;
};

/* Copy field f[0..n) decoding \ooo escapes. NULL on ENOMEM. */
static char *
unescape(const char *f, size_t n)
{
	char *s = malloc(n + 1), *o = s;

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (f[i] == '\\' && i + 3 < n &&
		    f[i + 1] >= '0' && f[i + 1] <= '3' &&
		    f[i + 2] >= '0' && f[i + 2] <= '7' &&
		    f[i + 3] >= '0' && f[i + 3] <= '7') {
			*o++ = (char)(((f[i + 1] - '0') << 6) |
			    ((f[i + 2] - '0') << 3) | (f[i + 3] - '0'));
			i += 3;
		} else {
			*o++ = f[i];
		}
	}
	*o = '\0';
	return s;
}

static void
mount_free(struct mountinfo_mount *m)
{
	free(m->root);
	free(m->point);
	free(m->fstype);
}

/* One line; 0 added, 1 malformed, -1 ENOMEM. */
static int
parse_line(struct mountinfo_table *t, const char *p, const char *end)
{
	const char *f[16];
	size_t fl[16];
	int nf = 0, dash = -1;
	struct mountinfo_mount m = { 0 };
	char *colon;

	while (p < end && nf < 16) {
		while (p < end && *p == ' ')
			p++;
		if (p == end)
			break;
		f[nf] = p;
		while (p < end && *p != ' ')
			p++;
		fl[nf] = (size_t)(p - f[nf]);
		if (fl[nf] == 1 && f[nf][0] == '-' && nf >= 6 && dash < 0)
			dash = nf;
		nf++;
	}
	if (nf < 6 || dash < 0 || dash + 1 >= nf)
		return 1;
	m.dev_major = strtoul(f[2], &colon, 10);
	if (colon == f[2] || *colon != ':')
		return 1;
	m.dev_minor = strtoul(colon + 1, NULL, 10);
	if (f[3][0] != '/' || f[4][0] != '/')
		return 1;
	m.root = unescape(f[3], fl[3]);
	m.point = unescape(f[4], fl[4]);
	m.fstype = unescape(f[dash + 1], fl[dash + 1]);
	if (m.root == NULL || m.point == NULL || m.fstype == NULL)
		goto nomem;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 32;
		struct mountinfo_mount *nm = realloc(t->m, cap * sizeof(*nm));

		if (nm == NULL)
			goto nomem;
		t->m = nm;
		t->cap = cap;
	}
	t->m[t->n++] = m;
	return 0;
nomem:
	mount_free(&m);
	return -1;
}

struct mountinfo_table *
mountinfo_parse(const char *text, size_t len)
{
	struct mountinfo_table *t = calloc(1, sizeof(*t));
	const char *p = text, *end = text + len;

	if (t == NULL)
		return NULL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		int rc;

		if (nl == NULL)
			nl = end;
		if (nl > p) {
			rc = parse_line(t, p, nl);
			if (rc == -1)
				goto err;
			if (rc == 1)
				t->skipped++;
		}
		p = nl + 1;
	}
	if (t->n == 0) {
		errno = EINVAL;
		goto err;
	}
	return t;
err:
	mountinfo_free(t);
	return NULL;
}

struct mountinfo_table *
mountinfo_load(const char *path)
{
	struct buf b = BUF_INIT;
	struct mountinfo_table *t = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return NULL;
	for (;;) {
		ssize_t n;

		if (buf_reserve(&b, 16384) == -1)
			goto out;
		n = read(fd, b.data + b.len, b.cap - b.len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto out;
		if (n == 0)
			break;
		b.len += (size_t)n;
		b.data[b.len] = '\0';
	}
	t = mountinfo_parse(b.data ? b.data : "", b.len);
out:
	close(fd);
	buf_free(&b);
	return t;
}

void
mountinfo_free(struct mountinfo_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n; i++)
		mount_free(&t->m[i]);
	free(t->m);
	free(t);
}

size_t
mountinfo_count(const struct mountinfo_table *t)
{
	return t->n;
}

size_t
mountinfo_skipped(const struct mountinfo_table *t)
{
	return t->skipped;
}

int
mountinfo_normalize(struct buf *out, const char *cwd, const char *path)
{
	struct buf tmp = BUF_INIT;
	size_t base = out->len;
	const char *p, *end;
	int rc = -1;

	if (path[0] != '/') {
		if (cwd == NULL || cwd[0] != '/') {
			errno = EINVAL;
			return -1;
		}
		if (buf_adds(&tmp, cwd) == -1 || buf_addc(&tmp, '/') == -1)
			goto out;
	}
	if (buf_adds(&tmp, path) == -1)
		goto out;
	p = tmp.data;
	end = p + tmp.len;
	while (p < end) {
		const char *s;
		size_t n;

		while (p < end && *p == '/')
			p++;
		s = p;
		while (p < end && *p != '/')
			p++;
		n = (size_t)(p - s);
		if (n == 0 || (n == 1 && s[0] == '.'))
			continue;
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			/* drop the last component, never above "/" */
			while (out->len > base && out->data[out->len - 1] != '/')
				out->len--;
			if (out->len > base)
				out->len--;
			if (out->data)
				out->data[out->len] = '\0';
			continue;
		}
		if (buf_addc(out, '/') == -1 || buf_add(out, s, n) == -1)
			goto out;
	}
	if (out->len == base && buf_addc(out, '/') == -1)
		goto out;
	rc = 0;
out:
	buf_free(&tmp);
	return rc;
}

/* Length of prefix if pfx is a path prefix of s ("/" matches all), else -1. */
static long
path_prefix(const char *pfx, const char *s)
{
	size_t n = strlen(pfx);

	if (n == 1 && pfx[0] == '/')
		return s[0] == '/' ? 0 : -1;
	if (strncmp(pfx, s, n) != 0 || (s[n] != '\0' && s[n] != '/'))
		return -1;
	return (long)n;
}

/* The mount that holds path: the last one with the longest mount point. */
static const struct mountinfo_mount *
holder(const struct mountinfo_table *t, const char *path, long *plen)
{
	const struct mountinfo_mount *best = NULL;
	long bestn = -1;

	/* later lines are mounted on top of earlier ones: >= keeps the last */
	for (size_t i = 0; i < t->n; i++) {
		long n = path_prefix(t->m[i].point, path);

		if (n >= 0 && n >= bestn) {
			best = &t->m[i];
			bestn = n;
		}
	}
	*plen = bestn;
	return best;
}

int
mountinfo_lookup(const struct mountinfo_table *t, const char *path,
    const char **mount_point, const char **root, const char **fstype)
{
	long n;
	const struct mountinfo_mount *m = holder(t, path, &n);

	if (m == NULL)
		return -1;
	*mount_point = m->point;
	*root = m->root;
	if (fstype)
		*fstype = m->fstype;
	return 0;
}

int
mountinfo_mount_at(const struct mountinfo_table *t, size_t i,
    struct mountinfo_entry *m)
{
	if (t == NULL || i >= t->n)
		return -1;
	m->major = t->m[i].dev_major;
	m->minor = t->m[i].dev_minor;
	m->point = t->m[i].point;
	m->root = t->m[i].root;
	m->fstype = t->m[i].fstype;
	return 0;
}

/* Append a + b as paths, with one '/' between and none trailing. */
static int
join(struct buf *out, const char *a, const char *b)
{
	size_t n = strlen(a);

	if (n == 1 && a[0] == '/')
		n = 0;
	if (buf_add(out, a, n) == -1)
		return -1;
	if (b[0] == '/' && b[1] == '\0')
		b++;
	if (*b == '\0')
		return n == 0 ? buf_addc(out, '/') : 0;
	return buf_adds(out, b);
}

int
mountinfo_translate(const struct mountinfo_table *t,
    const struct mountinfo_table *host,
    const char *path, struct buf *out)
{
	const struct mountinfo_mount *m, *hm = NULL;
	struct buf full = BUF_INIT;
	long n, hbest = -1;
	size_t hpoint = 0;
	int rc = -1;

	if (t == host)
		return buf_adds(out, path);
	if ((m = holder(t, path, &n)) == NULL) {
		errno = EXDEV;
		return -1;
	}
	/* the path inside its file system: root + rest after the mount point */
	if (join(&full, m->root, path + n) == -1)
		goto out;
	/*
	 * The host mount of the same device whose root is the longest
	 * prefix of that; among equals, the shortest mount point (the
	 * most direct view, not a bind mount of a bind mount).
	 */
	for (size_t i = 0; i < host->n; i++) {
		const struct mountinfo_mount *h = &host->m[i];
		long k;

		if (h->dev_major != m->dev_major || h->dev_minor != m->dev_minor)
			continue;
		if ((k = path_prefix(h->root, full.data)) < 0)
			continue;
		if (k > hbest || (k == hbest && strlen(h->point) < hpoint)) {
			hm = h;
			hbest = k;
			hpoint = strlen(h->point);
		}
	}
	if (hm == NULL) {
		errno = EXDEV;
		goto out;
	}
	if (join(out, hm->point, full.data + hbest) == -1)
		goto out;
	rc = 0;
out:
	buf_free(&full);
	return rc;
}
