/*
 * enrich_volume.c - paths[].host_path, paths[].volume, volume,
 * cross_pod, and for mount syscalls a decoded "mount" object.
 *
 * A path in an event is what the process passed, in its own mount
 * namespace and relative to its CWD; it is mapped to the host through
 * the namespace's mount table, then classified (volume.h).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "enrich.h"
#include "event.h"
#include "hostpath.h"
#include "log.h"
#include "mountinfo.h"
#include "procinfo.h"
#include "volume.h"

#define AT_FDCWD32 0xffffff9cULL
#define AT_FDCWD64 0xffffffffffffff9cULL
/* the kernel's own limit on symlinks followed in one lookup */
#define SYMLINKS_MAX 40

struct vol_stage {
	struct enrich_procs *ep;
	char kubelet_root[4096];
	char **hostpaths;
	int nhost;
	/* "" or /proc/1/root: how podtrail reaches host paths */
	char host_root[16];
	unsigned long long paths, translated, untranslated, volumes,
	    cross_pod, mounts, ns_mismatch, symlinks, symlink_unknown;
};

static const struct {
	unsigned long bit;
	const char *name;
} ms_flags[] = {
	{ 1UL << 0, "MS_RDONLY" }, { 1UL << 1, "MS_NOSUID" },
	{ 1UL << 2, "MS_NODEV" }, { 1UL << 3, "MS_NOEXEC" },
	{ 1UL << 4, "MS_SYNCHRONOUS" }, { 1UL << 5, "MS_REMOUNT" },
	{ 1UL << 6, "MS_MANDLOCK" }, { 1UL << 7, "MS_DIRSYNC" },
	{ 1UL << 8, "MS_NOSYMFOLLOW" }, { 1UL << 10, "MS_NOATIME" },
	{ 1UL << 11, "MS_NODIRATIME" }, { 1UL << 12, "MS_BIND" },
	{ 1UL << 13, "MS_MOVE" }, { 1UL << 14, "MS_REC" },
	{ 1UL << 15, "MS_SILENT" }, { 1UL << 16, "MS_POSIXACL" },
	{ 1UL << 17, "MS_UNBINDABLE" }, { 1UL << 18, "MS_PRIVATE" },
	{ 1UL << 19, "MS_SLAVE" }, { 1UL << 20, "MS_SHARED" },
	{ 1UL << 21, "MS_RELATIME" }, { 1UL << 22, "MS_KERNMOUNT" },
	{ 1UL << 23, "MS_I_VERSION" }, { 1UL << 24, "MS_STRICTATIME" },
	{ 1UL << 25, "MS_LAZYTIME" },
};


static const char *
str_of(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Is a0..a3 number i AT_FDCWD (as a 32- or a 64-bit value)? */
static int
is_at_fdcwd(const struct event *e, unsigned i)
{
	return (e->args & 1u << i) &&
	    (e->arg[i] == AT_FDCWD32 || e->arg[i] == AT_FDCWD64);
}

/* May a relative name be resolved against the CWD for this syscall? */
static int
relative_ok(const struct event *e)
{
	const char *sc = str_of(e->json, "syscall");
	size_t n;

	if (sc == NULL || !e->has_syscall)
		return 0;
	n = strlen(sc);
	/* *at() calls name a directory fd: only AT_FDCWD means the CWD */
	if ((n > 2 && !strcmp(sc + n - 2, "at")) ||
	    (n > 3 && !strcmp(sc + n - 3, "at2"))) {
		if (!strcmp(sc, "symlinkat"))
			return is_at_fdcwd(e, 1);
		if (!is_at_fdcwd(e, 0))
			return 0;
		if (!strncmp(sc, "renameat", 8) || !strcmp(sc, "linkat"))
			return is_at_fdcwd(e, 2);
	}
	return 1;
}

/* lstat of a host path as the host sees it. */
static int
host_lstat(const struct vol_stage *st, const char *hp, struct stat *sb,
    char *link, size_t linklen, ssize_t *linkn)
{
	char full[PATH_MAX + 16];

	if ((size_t)snprintf(full, sizeof(full), "%s%s", st->host_root, hp) >=
	    sizeof(full)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (lstat(full, sb) == -1)
		return -1;
	if (link && S_ISLNK(sb->st_mode) &&
	    (*linkn = readlink(full, link, linklen - 1)) <= 0)
		return -1;
	if (link && S_ISLNK(sb->st_mode))
		link[*linkn] = '\0';
	return 0;
}

/*
 * Translate the normalized path seen in namespace t to the host as the
 * kernel resolved it: each prefix is mapped through t and looked at on
 * the host; a symlink there is followed in the container's view (an
 * absolute target from the container's root), the last component only
 * if follow_last. Appends to out. 1 if a symlink was followed, 0 if
 * none, -1 if it cannot be known (a loop, an unreadable directory).
 */
static int
resolve(struct vol_stage *st, const struct mountinfo_table *t,
    const struct mountinfo_table *host, const char *path, int follow_last,
    struct buf *out)
{
	struct buf todo = BUF_INIT, cur = BUF_INIT, h = BUF_INIT,
	    next = BUF_INIT;
	char link[PATH_MAX];
	int links = 0, rc = -1;
	const char *p;

	if (buf_adds(&todo, path) == -1)
		goto out;
	p = todo.data;
restart:
	buf_reset(&cur);
	while (*p) {
		const char *s, *e;
		struct stat sb;
		ssize_t ln = 0;
		size_t keep = cur.len;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		s = p;
		e = s + strcspn(s, "/");
		p = e;
		if (buf_addc(&cur, '/') == -1 || buf_add(&cur, s, (size_t)(e - s)) == -1)
			goto out;
		if (e[strspn(e, "/")] == '\0' && !follow_last)
			break;
		buf_reset(&h);
		if (mountinfo_translate(t, host, cur.data, &h) == -1)
			goto out;
		if (host_lstat(st, h.data, &sb, link, sizeof(link), &ln) == -1) {
			/* nothing there now: the rest can only be taken as written */
			if (errno != ENOENT && errno != ENOTDIR)
				goto out;
			if (buf_adds(&cur, p) == -1)
				goto out;
			break;
		}
		if (!S_ISLNK(sb.st_mode))
			continue;
		if (++links > SYMLINKS_MAX)
			goto out;
		/* start again from the root with the link replaced */
		buf_reset(&next);
		if (link[0] != '/') {
			cur.len = keep;
			if (buf_add(&next, cur.data ? cur.data : "", keep) == -1 ||
			    buf_addc(&next, '/') == -1)
				goto out;
		}
		if (buf_adds(&next, link) == -1 || buf_addc(&next, '/') == -1 ||
		    buf_adds(&next, p) == -1)
			goto out;
		buf_reset(&todo);
		if (mountinfo_normalize(&todo, NULL, next.data) == -1)
			goto out;
		p = todo.data;
		goto restart;
	}
	while (cur.len > 1 && cur.data[cur.len - 1] == '/')
		cur.data[--cur.len] = '\0';
	if (mountinfo_translate(t, host, cur.len ? cur.data : "/", out) == -1)
		goto out;
	rc = links > 0;
out:
	buf_free(&todo);
	buf_free(&cur);
	buf_free(&h);
	buf_free(&next);
	return rc;
}

/* Does the kernel follow a symlink in the last component of this item? */
static int
follows_last(const char *sc, const char *nametype)
{
	if (nametype && !strcmp(nametype, "DELETE"))
		return 0;
	/* of the calls that create a name, only open follows a link there */
	if (nametype && !strcmp(nametype, "CREATE"))
		return sc && (!strcmp(sc, "open") || !strcmp(sc, "openat") ||
		    !strcmp(sc, "openat2") || !strcmp(sc, "creat"));
	return 1;
}

/*
 * Is the object at host path hp now the one the record names? A
 * different inode there means the path no longer leads to it (or never
 * did): unknown. An object gone since cannot be checked.
 */
static int
same_object(const struct vol_stage *st, const cJSON *item, const char *hp,
    int follow_last)
{
	const cJSON *ino = cJSON_GetObjectItemCaseSensitive(item, "inode");
	const char *txt = cJSON_IsRaw(ino) || cJSON_IsString(ino) ?
	    ino->valuestring : NULL;
	struct stat sb;
	char full[PATH_MAX + 16];
	char *end;
	unsigned long long want;

	if (txt == NULL)
		return 1;
	want = strtoull(txt, &end, 10);
	if (end == txt || *end != '\0')
		return 1;
	if ((size_t)snprintf(full, sizeof(full), "%s%s", st->host_root, hp) >=
	    sizeof(full) ||
	    (follow_last ? stat(full, &sb) : lstat(full, &sb)) == -1)
		return 1;
	return (unsigned long long)sb.st_ino == want;
}

/*
 * Map name to the host; appends to out. 0, or -1 if not knowable.
 * Symlinks on the way are followed as the kernel did (resolve).
 */
static int
host_path(struct vol_stage *st, const struct procinfo_view *v, const char *cwd,
    const char *name, int rel_ok, int follow_last, struct buf *out)
{
	struct buf norm = BUF_INIT;
	const struct mountinfo_table *host;
	size_t base = out->len;
	int rc = -1;

	if (v->mounts == NULL || (name[0] != '/' && !rel_ok))
		return -1;
	if (mountinfo_normalize(&norm, cwd, name) == -1)
		goto out;
	if (v->host_ns) {
		rc = buf_adds(out, norm.data);
		goto out;
	}
	host = procinfo_host_mounts(enrich_procs_cache(st->ep), 0);
	if (host == NULL)
		goto out;
	if ((rc = resolve(st, v->mounts, host, norm.data, follow_last,
	    out)) >= 0)
		goto out;
	/* the host may have mounted something since we read its table */
	if (errno == EXDEV &&
	    (host = procinfo_host_mounts(enrich_procs_cache(st->ep), 1)) !=
	    NULL) {
		out->len = base;
		rc = resolve(st, v->mounts, host, norm.data, follow_last, out);
	}
out:
	buf_free(&norm);
	if (rc == 1)
		st->symlinks++;
	return rc < 0 ? -1 : 0;
}

/*
 * A hostPath discovered in containers' mount tables that holds hp:
 * more specific than a configured one, or the only one.
 */
static void
discovered(struct vol_stage *st, const char *hp, struct vol_info *vi)
{
	size_t n = hp_match(enrich_procs_hostpaths(st->ep), hp);

	if (n == 0 || (vi->type != VOL_NONE && vi->type != VOL_HOSTPATH) ||
	    (vi->type == VOL_HOSTPATH && vi->root_len > n))
		return;
	memset(vi, 0, sizeof(*vi));
	vi->type = VOL_HOSTPATH;
	vi->root_len = n;
}

/* Every container (and its pod) that mounts this host-path volume. */
static void
mounted_by(struct vol_stage *st, cJSON *vol, const char *hp,
    const struct vol_info *vi, const char *my_pod, int *cross)
{
	cJSON *arr = cJSON_CreateArray();
	int others = 0;

	if (hp_users_json(enrich_procs_hostpaths(st->ep), hp, vi->root_len,
	    arr, my_pod, &others) == 0) {
		cJSON_Delete(arr);
		return;
	}
	cJSON_AddItemToObject(vol, "mounted_by", arr);
	/* a hostPath another pod mounts too is shared across pods */
	if (my_pod)
		*cross = *cross == 1 || others > 0;
}

static cJSON *
volume_json(const struct vol_info *vi, const char *hp)
{
	cJSON *o = cJSON_CreateObject();
	static const char *const types[] = {
		[VOL_POD] = "pod-volume", [VOL_SUBPATH] = "subpath",
		[VOL_HOSTPATH] = "host-path",
	};

	cJSON_AddStringToObject(o, "type", types[vi->type]);
	if (vi->type != VOL_HOSTPATH) {
		cJSON_AddStringToObject(o, "pod_uid", vi->pod_uid);
		if (vi->plugin[0])
			cJSON_AddStringToObject(o, "plugin", vi->plugin);
		else
			cJSON_AddNullToObject(o, "plugin");
		cJSON_AddStringToObject(o, "name", vi->name);
	}
	{
		char *root = strndup(hp, vi->root_len);

		if (root)
			cJSON_AddStringToObject(o, "host_path", root);
		free(root);
	}
	return o;
}

static void
add_flags(cJSON *m, unsigned long flags)
{
	cJSON *arr = cJSON_AddArrayToObject(m, "flags");

	/* the historic magic in the upper half carries no flags */
	if ((flags & 0xffff0000UL) == 0xc0ed0000UL)
		flags &= 0xffffUL;
	cJSON_AddNumberToObject(m, "flags_raw", (double)flags);
	for (size_t i = 0; i < sizeof(ms_flags) / sizeof(ms_flags[0]); i++)
		if (flags & ms_flags[i].bit)
			cJSON_AddItemToArray(arr, cJSON_CreateString(ms_flags[i].name));
}

/* name and host_path of the n-th paths[] item into m as key / key_host_path. */
static void
mount_path(cJSON *m, cJSON *paths, int n, const char *key)
{
	cJSON *p = cJSON_GetArrayItem(paths, n);
	char hk[64];
	cJSON *nm, *hp;

	snprintf(hk, sizeof(hk), "%s_host_path", key);
	nm = p ? cJSON_GetObjectItemCaseSensitive(p, "name") : NULL;
	hp = p ? cJSON_GetObjectItemCaseSensitive(p, "host_path") : NULL;
	cJSON_AddItemToObject(m, key, nm ? cJSON_Duplicate(nm, 0) : cJSON_CreateNull());
	cJSON_AddItemToObject(m, hk, hp ? cJSON_Duplicate(hp, 0) : cJSON_CreateNull());
}

/*
 * mount(2): the kernel resolves the target first, so PATH item 0 is
 * the target and item 1 (bind and move mounts) the source.
 */
static void
mount_object(struct vol_stage *st, const struct event *e, const char *sc,
    const struct procinfo_view *v)
{
	cJSON *ev = e->json;
	cJSON *paths = cJSON_GetObjectItemCaseSensitive(ev, "paths");
	cJSON *m;

	if (!e->has_syscall)
		return;
	m = cJSON_AddObjectToObject(ev, "mount");
	st->mounts++;
	/* an argument the record lacks reads as 0 */
	if (!strcmp(sc, "mount")) {
		add_flags(m, (unsigned long)e->arg[3]);
		mount_path(m, paths, 0, "target");
		if (cJSON_GetArraySize(paths) > 1)
			mount_path(m, paths, 1, "source");
		else
			cJSON_AddNullToObject(m, "source");
	} else if (!strcmp(sc, "umount2")) {
		cJSON_AddNumberToObject(m, "umount_flags", (double)e->arg[1]);
		mount_path(m, paths, 0, "target");
	} else if (!strcmp(sc, "pivot_root")) {
		mount_path(m, paths, 0, "new_root");
		mount_path(m, paths, 1, "put_old");
	} else {
		mount_path(m, paths, 0, "target");
	}
	/* the namespace's table is out of date now */
	if (v->mntns)
		procinfo_ns_changed(enrich_procs_cache(st->ep), v->mntns);
}

static int
is_mount_call(const char *sc)
{
	static const char *const calls[] = { "mount", "umount2", "pivot_root",
	    "move_mount", "fsmount", "mount_setattr", "open_tree" };

	for (size_t i = 0; sc && i < sizeof(calls) / sizeof(calls[0]); i++)
		if (!strcmp(sc, calls[i]))
			return 1;
	return 0;
}

/*
 * Is t a container namespace's table copied before the runtime set it
 * up? Then its root is still the host's: mount point "/", root "/", the
 * host root's file system type. A set-up container's root is an overlay
 * or a bind of its rootfs directory. Errs only towards "unknown".
 */
static int
pre_setup(struct vol_stage *st, const struct mountinfo_table *t)
{
	const struct mountinfo_table *host =
	    procinfo_host_mounts(enrich_procs_cache(st->ep), 0);
	const char *pt, *root, *fs, *hpt, *hroot, *hfs;

	if (t == NULL || host == NULL || t == host ||
	    mountinfo_lookup(t, "/", &pt, &root, &fs) == -1 ||
	    mountinfo_lookup(host, "/", &hpt, &hroot, &hfs) == -1)
		return 0;
	return !strcmp(pt, "/") && !strcmp(root, "/") && fs && hfs &&
	    !strcmp(fs, hfs) && !strcmp(hroot, "/");
}

static void
vol_event(void *arg, struct event *e)
{
	cJSON *ev = e->json;
	struct vol_stage *st = arg;
	cJSON *proc = cJSON_GetObjectItemCaseSensitive(ev, "process");
	cJSON *paths = cJSON_GetObjectItemCaseSensitive(ev, "paths");
	cJSON *container = cJSON_GetObjectItemCaseSensitive(ev, "container");
	const char *cwd = str_of(proc, "cwd");
	const char *my_pod = str_of(container, "pod_uid");
	const char *sc = str_of(ev, "syscall");
	cJSON *p, *top = NULL;
	struct procinfo_view v;
	struct buf hp = BUF_INIT;
	int rel_ok = -1, cross = -1;

	if (!cJSON_IsObject(proc) || !cJSON_IsArray(paths))
		return;
	(void)enrich_procs_lookup(st->ep, e, &v);
	/*
	 * A mount call changes the table it would be read through, and
	 * runtimes mount before pivot_root: the table we hold now is not
	 * the one the call saw. Only the host's own view is safe.
	 */
	if (is_mount_call(sc) && !v.host_ns)
		v.mounts = NULL;
	/*
	 * A container never shares the host's mount namespace, nor keeps
	 * the host's root as its own. A view that says so was taken before
	 * the runtime's setns or pivot_root (a process learned at fork and
	 * gone by its exec): unknown, not wrong.
	 */
	if (v.in_container && (v.host_ns || pre_setup(st, v.mounts))) {
		v.mounts = NULL;
		st->ns_mismatch++;
	}
	cJSON_ArrayForEach(p, paths) {
		const char *name = str_of(p, "name");
		const char *nt = str_of(p, "nametype");
		struct vol_info vi;
		int follow, known;

		if (name == NULL)
			continue;
		st->paths++;
		/* asked only for relative names: its record lookups cost */
		if (rel_ok == -1 && name[0] != '/')
			rel_ok = relative_ok(e);
		buf_reset(&hp);
		follow = follows_last(sc, nt);
		known = host_path(st, &v, cwd, name, rel_ok, follow, &hp) == 0 &&
		    hp.data != NULL;
		/* the path leads elsewhere now: where the bytes went is unknown */
		if (known && !v.host_ns && !same_object(st, p, hp.data, follow)) {
			st->symlink_unknown++;
			known = 0;
		}
		if (!known) {
			st->untranslated++;
			cJSON_AddNullToObject(p, "host_path");
			cJSON_AddNullToObject(p, "volume");
			continue;
		}
		st->translated++;
		cJSON_AddStringToObject(p, "host_path", hp.data);
		vol_classify(hp.data, st->kubelet_root, st->hostpaths,
		    st->nhost, &vi);
		discovered(st, hp.data, &vi);
		if (vi.type == VOL_NONE) {
			cJSON_AddNullToObject(p, "volume");
			continue;
		}
		st->volumes++;
		cJSON_AddItemToObject(p, "volume", volume_json(&vi, hp.data));
		if (vi.type == VOL_HOSTPATH)
			mounted_by(st, cJSON_GetObjectItemCaseSensitive(p,
			    "volume"), hp.data, &vi, my_pod, &cross);
		/* the object acted on beats its parent directory */
		if (top == NULL || (nt && strcmp(nt, "PARENT") != 0))
			top = cJSON_GetObjectItemCaseSensitive(p, "volume");
		if (vi.pod_uid[0] && my_pod)
			cross = cross == 1 || strcmp(vi.pod_uid, my_pod) != 0;
	}
	buf_free(&hp);
	cJSON_AddItemToObject(ev, "volume",
	    top ? cJSON_Duplicate(top, 1) : cJSON_CreateNull());
	if (cross == -1) {
		cJSON_AddNullToObject(ev, "cross_pod");
	} else {
		cJSON_AddBoolToObject(ev, "cross_pod", cross);
		if (cross)
			st->cross_pod++;
	}
	if (is_mount_call(sc))
		mount_object(st, e, sc, &v);
}

static void
vol_close(void *arg)
{
	struct vol_stage *st = arg;

	if (st == NULL)
		return;
	enrich_procs_release(st->ep);
	for (int i = 0; i < st->nhost; i++)
		free(st->hostpaths[i]);
	free(st->hostpaths);
	free(st);
}

/* Canonical form of a configured directory, so it compares with host paths. */
static char *
canon(const char *dir)
{
	char *r = realpath(dir, NULL);
	struct buf b = BUF_INIT;

	if (r)
		return r;
	if (dir[0] != '/' || mountinfo_normalize(&b, NULL, dir) == -1) {
		buf_free(&b);
		return strdup(dir);
	}
	return b.data;
}

static void *
vol_open(const struct conf *c, struct loop *loop)
{
	struct vol_stage *st = calloc(1, sizeof(*st));
	char *kr = NULL;

	if (st == NULL) {
		log_warn("volume stage");
		return NULL;
	}
	if (c->kubelet_root && *c->kubelet_root) {
		if ((kr = canon(c->kubelet_root)) == NULL)
			goto nomem;
		snprintf(st->kubelet_root, sizeof(st->kubelet_root), "%s", kr);
		free(kr);
	}
	if (c->hostpath.n > 0 &&
	    (st->hostpaths = calloc((size_t)c->hostpath.n, sizeof(char *))) == NULL)
		goto nomem;
	for (int i = 0; i < c->hostpath.n; i++) {
		if ((st->hostpaths[i] = canon(c->hostpath.v[i])) == NULL)
			goto nomem;
		st->nhost++;
	}
	if ((st->ep = enrich_procs_acquire(c, loop)) == NULL)
		goto err;
	/* in a DaemonSet (hostPID) the host's files are under pid 1's root */
	snprintf(st->host_root, sizeof(st->host_root), "%s",
	    procinfo_host_root());
	return st;
nomem:
	log_warn("volume stage");
err:
	vol_close(st);
	return NULL;
}

static void
vol_stats(void *arg, cJSON *obj)
{
	struct vol_stage *st = arg;

	cJSON_AddNumberToObject(obj, "paths_seen", (double)st->paths);
	cJSON_AddNumberToObject(obj, "paths_translated", (double)st->translated);
	cJSON_AddNumberToObject(obj, "paths_untranslated", (double)st->untranslated);
	cJSON_AddNumberToObject(obj, "paths_in_volumes", (double)st->volumes);
	cJSON_AddNumberToObject(obj, "cross_pod_events", (double)st->cross_pod);
	cJSON_AddNumberToObject(obj, "mount_events", (double)st->mounts);
	cJSON_AddNumberToObject(obj, "paths_namespace_mismatch", (double)st->ns_mismatch);
	cJSON_AddNumberToObject(obj, "paths_through_symlinks", (double)st->symlinks);
	cJSON_AddNumberToObject(obj, "paths_object_moved", (double)st->symlink_unknown);
}

const struct enrich_ops enrich_volume_ops = {
	.name = "volume",
	.open = vol_open,
	.event = vol_event,
	.close = vol_close,
	.stats = vol_stats,
};
