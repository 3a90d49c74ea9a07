/*
 * hostpath.c - hostPath directories discovered from containers' mount
 * tables, and the audit watches kept on them.
 *
 * A container's mount that is a bind of a host directory (not its own
 * rootfs, not a kubelet pod volume, which the pods watch covers, not a
 * pseudo file system) is translated to the host and recorded for that
 * container's mount namespace. A directory is watched while one
 * namespace still mounts it; one below another watched directory (or
 * below a configured hostpath) needs no watch of its own, since a
 * directory watch covers its subtree. Nothing that is, or holds, /,
 * /proc, /sys, /dev, a runtime's state, kubelet's directories or
 * podtrail's own state is ever watched: writes there are the node's
 * own machinery, and a watch over podtrail's spool would feed itself.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "hostpath.h"
#include "log.h"
#include "mountinfo.h"
#include "procinfo.h"
#include "runtime.h"

#define HP_DIRS_PER_NS 32
#define HP_NS_MAX 4096
#define HP_PROTECT_MAX 16

struct hp_dir {
	char *path;
	size_t len;
	int users;		/* namespaces that mount it */
	int watched;
	int failed;		/* the watch could not be loaded: not retried */
};

struct hp_user {
	struct hp_user *next;
	unsigned long long mntns;
	char id[CG_ID_LEN + 1];
	char pod_uid[CG_UID_LEN + 1];
	struct hp_dir *d[HP_DIRS_PER_NS];
	int nd;
};

struct hostpaths {
	struct hp_dir **dirs;
	int ndirs, max;
	struct hp_user *users;
	int nusers;
	char *protect[HP_PROTECT_MAX];	/* never watched, nor what holds them */
	int nprotect;
	char **configured;		/* watched by the rule pack */
	int nconfigured;
	struct rt_cache *rt;
	unsigned long long self_mntns;
	const struct hp_watch_ops *ops;
	void *arg;
	const char *host_root;		/* "" or /proc/1/root: see procinfo.h */
	unsigned long long found, dropped, refused, over_max, watch_failed;
};

/* Is p equal to dir or below it? */
static int
is_under(const char *p, const char *dir, size_t n)
{
	if (n == 1 && dir[0] == '/')
		return 1;
	return strncmp(p, dir, n) == 0 && (p[n] == '\0' || p[n] == '/');
}

/* May dir (a host path) be discovered and watched? */
static int
allowed(const struct hostpaths *hp, const char *dir)
{
	size_t n = strlen(dir);

	if (n <= 1 || dir[0] != '/')
		return 0;
	for (int i = 0; i < hp->nprotect; i++) {
		const char *p = hp->protect[i];
		size_t k = strlen(p);

		/* below a protected dir, or holding one */
		if (is_under(dir, p, k) || is_under(p, dir, n))
			return 0;
	}
	return !rt_is_state_path(hp->rt, dir);
}

/* File systems that are never a hostPath's backing store. */
static int
pseudo_fs(const char *fs)
{
	static const char *const names[] = {
		"proc", "sysfs", "tmpfs", "devpts", "devtmpfs", "mqueue",
		"cgroup", "cgroup2", "overlay", "securityfs", "debugfs",
		"tracefs", "bpf", "fusectl", "configfs", "pstore", "hugetlbfs",
		"autofs", "nsfs", "ramfs", "binfmt_misc", "shm", "rpc_pipefs",
	};

	if (fs == NULL)
		return 1;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(fs, names[i]))
			return 1;
	return 0;
}

static struct hp_dir *
dir_find(const struct hostpaths *hp, const char *path)
{
	for (int i = 0; i < hp->ndirs; i++)
		if (!strcmp(hp->dirs[i]->path, path))
			return hp->dirs[i];
	return NULL;
}

/* A dir (new or known) for one more user; NULL if over the bound. */
static struct hp_dir *
dir_get(struct hostpaths *hp, const char *path)
{
	struct hp_dir *d = dir_find(hp, path);

	if (d)
		return d;
	if (hp->ndirs >= hp->max) {
		static struct log_rl rl;

		hp->over_max++;
		log_warnx_rl(&rl, "hostPath %s not watched: %d discovered "
		    "directories already (hostpath_discovery_max)", path,
		    hp->max);
		return NULL;
	}
	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->path = strdup(path)) == NULL) {
		free(d);
		log_warn("hostpath");
		return NULL;
	}
	d->len = strlen(path);
	hp->dirs[hp->ndirs++] = d;
	hp->found++;
	log_info("hostPath discovered: %s", path);
	return d;
}

/* Is d inside another active dir or a configured hostpath? */
static int
covered(const struct hostpaths *hp, const struct hp_dir *d)
{
	for (int i = 0; i < hp->nconfigured; i++)
		if (is_under(d->path, hp->configured[i],
		    strlen(hp->configured[i])))
			return 1;
	for (int i = 0; i < hp->ndirs; i++) {
		const struct hp_dir *o = hp->dirs[i];

		if (o != d && o->users > 0 && o->len < d->len &&
		    is_under(d->path, o->path, o->len))
			return 1;
	}
	return 0;
}

/* Bring watches in line with the users: add needed ones, drop the rest. */
/* dir as podtrail reaches it (see host_root); in buf. */
static const char *
on_host(const struct hostpaths *hp, const char *dir, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", hp->host_root, dir);
	return buf;
}

static void
resync(struct hostpaths *hp)
{
	char full[PATH_MAX + 16];

	/* removals first: a covering dir gone makes its children need one */
	for (int i = 0; i < hp->ndirs; i++) {
		struct hp_dir *d = hp->dirs[i];

		if (d->users > 0 && !(d->watched && covered(hp, d)))
			continue;
		if (d->watched && hp->ops) {
			hp->ops->del(hp->arg, on_host(hp, d->path, full, sizeof(full)));
			d->watched = 0;
		}
		if (d->users > 0)
			continue;
		log_info("hostPath no longer mounted: %s", d->path);
		hp->dropped++;
		free(d->path);
		free(d);
		hp->dirs[i--] = hp->dirs[--hp->ndirs];
	}
	for (int i = 0; hp->ops && i < hp->ndirs; i++) {
		struct hp_dir *d = hp->dirs[i];

		if (d->watched || d->failed || covered(hp, d))
			continue;
		if (hp->ops->add(hp->arg, on_host(hp, d->path, full,
		    sizeof(full))) == -1) {
			hp->watch_failed++;
			d->failed = 1;
			continue;
		}
		d->watched = 1;
	}
}

static void
user_release(struct hp_user *u)
{
	for (int i = 0; i < u->nd; i++)
		u->d[i]->users--;
	u->nd = 0;
}

/* Is the table's root still the host's (copied before set-up)? */
static int
not_set_up(const struct mountinfo_table *t, const struct mountinfo_table *host)
{
	const char *pt, *root, *fs, *hpt, *hroot, *hfs;

	if (mountinfo_lookup(t, "/", &pt, &root, &fs) == -1 ||
	    mountinfo_lookup(host, "/", &hpt, &hroot, &hfs) == -1)
		return 1;
	return !strcmp(root, "/") && fs && hfs && !strcmp(fs, hfs) &&
	    !strcmp(hroot, "/");
}

/* The host dirs bound into t, at most HP_DIRS_PER_NS, into out[]. */
static int
bound_dirs(struct hostpaths *hp, const struct mountinfo_table *t,
    const struct mountinfo_table *host, char **out)
{
	struct buf rootfs = BUF_INIT, h = BUF_INIT;
	struct mountinfo_entry m;
	char full[PATH_MAX + 16];
	int n = 0;

	if (mountinfo_translate(t, host, "/", &rootfs) == -1)
		buf_reset(&rootfs);
	for (size_t i = 0; mountinfo_mount_at(t, i, &m) == 0 &&
	    n < HP_DIRS_PER_NS; i++) {
		const char *point = m.point, *fs = m.fstype;
		struct stat st;
		int dup = 0;

		if (!strcmp(point, "/") || pseudo_fs(fs) ||
		    is_under(point, "/proc", 5) || is_under(point, "/sys", 4) ||
		    is_under(point, "/dev", 4))
			continue;
		buf_reset(&h);
		if (mountinfo_translate(t, host, point,
		    &h) == -1 || h.data == NULL)
			continue;
		if (rootfs.data && is_under(h.data, rootfs.data, rootfs.len))
			continue;
		if (!allowed(hp, h.data)) {
			hp->refused++;
			continue;
		}
		/* a file bound in (hosts, resolv.conf) is not a volume */
		if (stat(on_host(hp, h.data, full, sizeof(full)), &st) == -1 ||
		    !S_ISDIR(st.st_mode))
			continue;
		for (int j = 0; j < n; j++)
			dup |= !strcmp(out[j], h.data);
		if (!dup && (out[n] = strdup(h.data)) != NULL)
			n++;
	}
	buf_free(&rootfs);
	buf_free(&h);
	return n;
}

static void forget(struct hostpaths *hp, unsigned long long mntns);

void
hp_scan(struct hostpaths *hp, const struct cg_info *cg,
    unsigned long long mntns, const struct mountinfo_table *t,
    const struct mountinfo_table *host)
{
	char *found[HP_DIRS_PER_NS];
	struct hp_user *u;
	int n;

	if (hp == NULL || t == NULL || host == NULL || t == host ||
	    mntns == 0 || mntns == hp->self_mntns)
		return;
	if (cg == NULL) {
		forget(hp, mntns);
		return;
	}
	if (not_set_up(t, host))
		return;
	n = bound_dirs(hp, t, host, found);
	for (u = hp->users; u; u = u->next)
		if (u->mntns == mntns)
			break;
	if (u == NULL) {
		if (n == 0 || hp->nusers >= HP_NS_MAX ||
		    (u = calloc(1, sizeof(*u))) == NULL)
			goto out;
		u->mntns = mntns;
		u->next = hp->users;
		hp->users = u;
		hp->nusers++;
	}
	snprintf(u->id, sizeof(u->id), "%s", cg->id);
	snprintf(u->pod_uid, sizeof(u->pod_uid), "%s", cg->pod_uid);
	/* take the new set before letting the old one go: no watch flaps */
	{
		struct hp_user old = *u;

		u->nd = 0;
		for (int i = 0; i < n; i++) {
			struct hp_dir *d = dir_get(hp, found[i]);

			if (d) {
				d->users++;
				u->d[u->nd++] = d;
			}
		}
		user_release(&old);
	}
	resync(hp);
out:
	for (int i = 0; i < n; i++)
		free(found[i]);
}

/* Drop the users for which keep(arg, mntns) is 0; 1 if any went. */
static int
drop_users(struct hostpaths *hp,
    int (*keep)(void *arg, unsigned long long mntns), void *arg)
{
	struct hp_user **pp;
	int gone = 0;

	for (pp = &hp->users; *pp;) {
		struct hp_user *u = *pp;

		if (keep(arg, u->mntns)) {
			pp = &u->next;
			continue;
		}
		user_release(u);
		*pp = u->next;
		free(u);
		hp->nusers--;
		gone = 1;
	}
	return gone;
}

static int
is_other(void *arg, unsigned long long mntns)
{
	return *(unsigned long long *)arg != mntns;
}

static void
forget(struct hostpaths *hp, unsigned long long mntns)
{
	if (drop_users(hp, is_other, &mntns))
		resync(hp);
}

void
hp_sweep(struct hostpaths *hp,
    int (*alive)(void *arg, unsigned long long mntns), void *arg)
{
	if (hp && drop_users(hp, alive, arg))
		resync(hp);
}

size_t
hp_match(const struct hostpaths *hp, const char *host_path)
{
	size_t best = 0;

	for (int i = 0; hp && i < hp->ndirs; i++) {
		const struct hp_dir *d = hp->dirs[i];

		if (d->users > 0 && d->len > best &&
		    is_under(host_path, d->path, d->len))
			best = d->len;
	}
	return best;
}

int
hp_users_json(const struct hostpaths *hp, const char *host_path,
    size_t len, cJSON *arr, const char *my_pod, int *others)
{
	int added = 0;

	for (const struct hp_user *u = hp ? hp->users : NULL; u; u = u->next) {
		const struct rt_info *ri;
		cJSON *o;
		int has = 0;

		for (int i = 0; i < u->nd && !has; i++)
			has = u->d[i]->len == len &&
			    !strncmp(u->d[i]->path, host_path, len);
		if (!has || (o = cJSON_CreateObject()) == NULL)
			continue;
		cJSON_AddStringToObject(o, "container_id", u->id);
		if (u->pod_uid[0])
			cJSON_AddStringToObject(o, "pod_uid", u->pod_uid);
		else
			cJSON_AddNullToObject(o, "pod_uid");
		/* names as the runtime recorded them, for the same pod only */
		if ((ri = rt_lookup(hp->rt, u->id)) != NULL &&
		    (!ri->pod_uid[0] || !strcmp(ri->pod_uid, u->pod_uid))) {
			if (ri->pod_name[0]) {
				cJSON_AddStringToObject(o, "pod_name", ri->pod_name);
				cJSON_AddStringToObject(o, "pod_namespace",
				    ri->pod_namespace);
			}
			if (ri->name[0])
				cJSON_AddStringToObject(o, "container_name", ri->name);
		}
		cJSON_AddItemToArray(arr, o);
		added++;
		if (others && u->pod_uid[0] && (my_pod == NULL ||
		    strcmp(u->pod_uid, my_pod) != 0))
			(*others)++;
	}
	return added;
}

int
hp_count(const struct hostpaths *hp, int *watched)
{
	int w = 0;

	for (int i = 0; hp && i < hp->ndirs; i++)
		w += hp->dirs[i]->watched;
	if (watched)
		*watched = w;
	return hp ? hp->ndirs : 0;
}

void
hp_stats(const struct hostpaths *hp, cJSON *obj)
{
	int w, n = hp_count(hp, &w);

	if (hp == NULL)
		return;
	cJSON_AddNumberToObject(obj, "hostpaths_known", n);
	cJSON_AddNumberToObject(obj, "hostpaths_watched", w);
	cJSON_AddNumberToObject(obj, "hostpaths_discovered", (double)hp->found);
	cJSON_AddNumberToObject(obj, "hostpaths_dropped", (double)hp->dropped);
	cJSON_AddNumberToObject(obj, "hostpaths_refused", (double)hp->refused);
	cJSON_AddNumberToObject(obj, "hostpaths_over_max", (double)hp->over_max);
	cJSON_AddNumberToObject(obj, "hostpaths_watch_failed",
	    (double)hp->watch_failed);
}

void
hp_set_watcher(struct hostpaths *hp, const struct hp_watch_ops *ops,
    void *arg)
{
	if (hp == NULL)
		return;
	if (ops == NULL)
		for (int i = 0; i < hp->ndirs; i++)
			hp->dirs[i]->watched = 0;	/* the watcher took them */
	hp->ops = ops;
	hp->arg = arg;
	resync(hp);
}

static int
protect(struct hostpaths *hp, const char *dir)
{
	struct buf b = BUF_INIT;

	if (dir == NULL || dir[0] != '/' || hp->nprotect == HP_PROTECT_MAX)
		return 0;
	if (mountinfo_normalize(&b, NULL, dir) == -1)
		return -1;
	hp->protect[hp->nprotect++] = b.data;
	return 0;
}

static unsigned long long
self_mntns(void)
{
	struct stat st;

	return stat("/proc/self/ns/mnt", &st) == 0 ? (unsigned long long)st.st_ino : 0;
}

struct hostpaths *
hp_new(const struct conf *c, struct rt_cache *rt)
{
	static const char *const fixed[] = {
		"/proc", "/sys", "/dev", "/var/lib/containerd",
		"/var/lib/docker", "/var/lib/containers", "/var/log/pods",
		"/var/log/containers",
	};
	struct hostpaths *hp = calloc(1, sizeof(*hp));
	struct buf logs = BUF_INIT;
	const char *slash;

	if (hp == NULL)
		goto nomem;
	hp->rt = rt;
	hp->host_root = procinfo_host_root();
	hp->max = (int)c->hostpath_discovery_max;
	hp->self_mntns = self_mntns();
	if (hp->max > 0 &&
	    (hp->dirs = calloc((size_t)hp->max, sizeof(*hp->dirs))) == NULL)
		goto nomem;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		if (protect(hp, fixed[i]) == -1)
			goto nomem;
	/* kubelet's pods are watched by the pack; its logs change all the time */
	if (protect(hp, c->kubelet_root) == -1 || protect(hp, c->state_dir) == -1 ||
	    protect(hp, c->pod_log_dir) == -1)
		goto nomem;
	if (c->pod_log_dir && (slash = strrchr(c->pod_log_dir, '/')) != NULL &&
	    slash > c->pod_log_dir) {
		if (buf_printf(&logs, "%.*s/containers",
		    (int)(slash - c->pod_log_dir), c->pod_log_dir) == -1 ||
		    protect(hp, logs.data) == -1)
			goto nomem;
	}
	buf_free(&logs);
	if (c->hostpath.n > 0 && (hp->configured =
	    calloc((size_t)c->hostpath.n, sizeof(char *))) == NULL)
		goto nomem;
	for (int i = 0; i < c->hostpath.n; i++) {
		char *r = realpath(c->hostpath.v[i], NULL);

		if (r == NULL && (r = strdup(c->hostpath.v[i])) == NULL)
			goto nomem;
		hp->configured[hp->nconfigured++] = r;
	}
	return hp;
nomem:
	log_warn("hostpath");
	buf_free(&logs);
	hp_free(hp);
	return NULL;
}

void
hp_free(struct hostpaths *hp)
{
	if (hp == NULL)
		return;
	while (hp->users) {
		struct hp_user *u = hp->users;

		hp->users = u->next;
		free(u);
	}
	for (int i = 0; i < hp->ndirs; i++) {
		free(hp->dirs[i]->path);
		free(hp->dirs[i]);
	}
	free(hp->dirs);
	for (int i = 0; i < hp->nprotect; i++)
		free(hp->protect[i]);
	for (int i = 0; i < hp->nconfigured; i++)
		free(hp->configured[i]);
	free(hp->configured);
	free(hp);
}
