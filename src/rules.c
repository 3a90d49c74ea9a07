/*
 * rules.c - the rule pack as data, loaded through libaudit.
 *
 * The pack's text is the same as rules/podtrail.rules (a unit test
 * compares them), in the subset of auditctl syntax parsed here:
 * "-a always,exit -F PAIR -S LIST -k KEY" and "-w PATH -p PERMS -k KEY".
 *
 * A directory watch does not see file systems mounted below it after
 * it was loaded, so on every mount change podtrail rescans its own
 * mount table and keeps one podtrail_volume watch per mount point under
 * KUBELET_ROOT/pods, dropped again when the mount goes.
 */
#include "config.h"

#include <errno.h>
#include <libaudit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "buf.h"
#include "conf.h"
#include "hostpath.h"
#include "log.h"
#include "rules.h"

/*
 * libaudit keeps per-rule parsing state in globals that auditctl
 * resets between rules; they are exported but not declared.
 */
extern int _audit_archadded, _audit_syscalladded, _audit_exeadded,
    _audit_permadded, _audit_filterfsadded;
extern unsigned int _audit_elf;

#define MAX_RULES 64
#define MAX_MOUNTS 256
#define KEY_VOLUME "podtrail_volume"
#define KEY_HOSTPATH "podtrail_hostpath"
#define MAX_DISCOVERED 1024	/* hostpath_discovery_max's bound */

/* Keep in step with rules/podtrail.rules (tests/unit/test_rules.c). */
static const char *const pack[] = {
	"-a always,exit -F arch=b64 -S mount,umount2,pivot_root,open_tree,"
	"move_mount,fsopen,fsconfig,fsmount,fspick,mount_setattr "
	"-k podtrail_mount",
	"-a always,exit -F arch=b32 -S mount,umount,umount2,pivot_root,"
	"open_tree,move_mount,fsopen,fsconfig,fsmount,fspick,mount_setattr "
	"-k podtrail_mount",
	"-a always,exit -F arch=b64 -S write,pwrite,writev,pwritev,pwritev2,"
	"open,openat,creat,mkdir,mkdirat,mknod,mknodat,link,linkat,symlink,"
	"symlinkat,rename,renameat,renameat2,fallocate,truncate,ftruncate,"
	"copy_file_range,sendfile,splice -F exit=-ENOSPC -k podtrail_enospc",
	"-a always,exit -F arch=b32 -S write,pwrite64,writev,pwritev,pwritev2,"
	"open,openat,creat,mkdir,mkdirat,mknod,mknodat,link,linkat,symlink,"
	"symlinkat,rename,renameat,renameat2,fallocate,truncate,ftruncate,"
	"copy_file_range,sendfile,sendfile64,splice -F exit=-ENOSPC "
	"-k podtrail_enospc",
};

struct loaded {
	struct audit_rule_data *rule;
	int flags, action;
	char *text;
};

struct rules {
	int fd;
	struct loaded r[MAX_RULES];
	int n;
	char *pods;			/* KUBELET_ROOT/pods */
	struct loaded m[MAX_MOUNTS];	/* watches on later mounts */
	char *mpath[MAX_MOUNTS];
	int nm;
	struct loaded *d;		/* watches on discovered hostPaths */
	char **dpath;
	int nd;
};

int
rules_pack_text(const struct conf *c, struct buf *out)
{
	size_t i;
	int j;

	for (i = 0; i < sizeof(pack) / sizeof(pack[0]); i++)
		if (buf_printf(out, "%s\n", pack[i]) == -1)
			return -1;
	if (buf_printf(out, "-w %s/pods -p wa -k podtrail_volume\n",
	    c->kubelet_root) == -1)
		return -1;
	for (j = 0; j < c->hostpath.n; j++)
		if (buf_printf(out, "-w %s -p wa -k podtrail_hostpath\n",
		    c->hostpath.v[j]) == -1)
			return -1;
	return 0;
}

static int
perms(const char *p)
{
	int m = 0;

	for (; *p; p++) {
		switch (*p) {
		case 'r': m |= AUDIT_PERM_READ; break;
		case 'w': m |= AUDIT_PERM_WRITE; break;
		case 'x': m |= AUDIT_PERM_EXEC; break;
		case 'a': m |= AUDIT_PERM_ATTR; break;
		default: return -1;
		}
	}
	return m;
}

/*
 * Split in place: the next token of *p delimited by sep (runs of sep
 * count as one), or NULL at the end. strtok without its hidden state.
 */
static char *
tok_next(char **p, char sep)
{
	char *start = *p, *end;

	while (*start == sep)
		start++;
	if (*start == '\0')
		return NULL;
	if ((end = strchr(start, sep)) != NULL) {
		*end = '\0';
		*p = end + 1;
	} else {
		*p = start + strlen(start);
	}
	return start;
}

/*
 * Build the kernel form of one rule line. NULL on error (logged with
 * the line). Fills flags and action for add/delete.
 */
static struct audit_rule_data *
build(const char *line, int *flags, int *action)
{
	struct audit_rule_data *rule = audit_rule_create_data();
	char *copy = strdup(line), *cur = copy, *tok, *arg;
	struct buf pair = BUF_INIT;
	struct stat st;
	int rc;

	_audit_archadded = _audit_syscalladded = _audit_exeadded = 0;
	_audit_permadded = _audit_filterfsadded = 0;
	_audit_elf = 0;
	*flags = AUDIT_FILTER_EXIT;
	*action = AUDIT_ALWAYS;
	if (rule == NULL || copy == NULL)
		goto bad;
	while (cur && (tok = tok_next(&cur, ' ')) != NULL) {
		if ((arg = tok_next(&cur, ' ')) == NULL)
			goto bad;
		if (!strcmp(tok, "-a")) {
			if (strcmp(arg, "always,exit") != 0)
				goto bad;
		} else if (!strcmp(tok, "-F")) {
			if (audit_rule_fieldpair_data(&rule, arg, *flags) != 0)
				goto bad;
		} else if (!strcmp(tok, "-S")) {
			char *s2 = arg, *sc;

			while ((sc = tok_next(&s2, ',')) != NULL)
				if (audit_rule_syscallbyname_data(rule, sc) != 0) {
					log_warnx("rule pack: syscall '%s' "
					    "unknown", sc);
					goto bad;
				}
			/* auditctl's bookkeeping, which -k checks for */
			_audit_syscalladded = 1;
		} else if (!strcmp(tok, "-w")) {
			/* a directory is watched with its subtree */
			int type = stat(arg, &st) == 0 && S_ISDIR(st.st_mode) ?
			    AUDIT_DIR : AUDIT_WATCH;

			if (audit_add_watch_dir(type, &rule, arg) != 0)
				goto bad;
			_audit_permadded = 1;
		} else if (!strcmp(tok, "-p")) {
			if ((rc = perms(arg)) <= 0 ||
			    audit_update_watch_perms(rule, rc) != 0)
				goto bad;
		} else if (!strcmp(tok, "-k")) {
			buf_reset(&pair);
			if (buf_printf(&pair, "key=%s", arg) == -1 ||
			    audit_rule_fieldpair_data(&rule, pair.data,
			    *flags) != 0)
				goto bad;
		} else
			goto bad;
	}
	free(copy);
	buf_free(&pair);
	return rule;
bad:
	log_warnx("rule pack: cannot build '%s'", line);
	if (rule)
		audit_rule_free_data(rule);
	free(copy);
	buf_free(&pair);
	return NULL;
}

/* Load one rule; 1 if we added it, 0 if it was already there, -1. */
static int
load(int fd, const char *line, struct loaded *l)
{
	int rc;

	memset(l, 0, sizeof(*l));
	if ((l->rule = build(line, &l->flags, &l->action)) == NULL)
		return -1;
	rc = audit_add_rule_data(fd, l->rule, l->flags, l->action);
	if (rc == -EEXIST) {
		audit_rule_free_data(l->rule);
		l->rule = NULL;
		return 0;
	}
	if (rc <= 0) {
		errno = -rc;
		if (rc == -EPERM)
			log_warnx("loading '%s': not permitted (rules locked "
			    "with enabled 2, or no CAP_AUDIT_CONTROL)", line);
		else
			log_warnx("loading '%s': %s", line, strerror(-rc));
		audit_rule_free_data(l->rule);
		l->rule = NULL;
		return -1;
	}
	if ((l->text = strdup(line)) == NULL) {
		log_warn("rules");
		return -1;
	}
	return 1;
}

static void
unload(int fd, struct loaded *l)
{
	int rc;

	if (l->rule == NULL)
		return;
	rc = audit_delete_rule_data(fd, l->rule, l->flags, l->action);
	/* a watch on a vanished mount may already be gone */
	if (rc <= 0 && rc != -ENOENT)
		log_warnx("removing '%s': %s", l->text, strerror(-rc));
	audit_rule_free_data(l->rule);
	free(l->text);
	memset(l, 0, sizeof(*l));
}

/* Undo mountinfo's octal escapes (\040 for a space) in place. */
static void
unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
			    (s[3] - '0'));
			s += 3;
		} else
			*w++ = *s;
	}
	*w = '\0';
}

static int
under_pods(const struct rules *r, const char *mp)
{
	size_t n = strlen(r->pods);

	return strncmp(mp, r->pods, n) == 0 && mp[n] == '/';
}

/* Bring the mount watches in line with the current mount table. */
static void
resync(struct rules *r)
{
	char line[4096], *cur[MAX_MOUNTS];
	int ncur = 0, i, j;
	FILE *fp = fopen("/proc/self/mountinfo", "re");
	static struct log_rl rl;

	if (fp == NULL) {
		log_warnx_rl(&rl, "mountinfo: %s", strerror(errno));
		return;
	}
	while (fgets(line, sizeof(line), fp) && ncur < MAX_MOUNTS) {
		char *f = line, *mp = NULL;

		/* field 5 is the mount point */
		for (i = 0; i < 4 && f; i++)
			if ((f = strchr(f, ' ')) != NULL)
				f++;
		if (f == NULL)
			continue;
		mp = f;
		if ((f = strchr(mp, ' ')) != NULL)
			*f = '\0';
		unescape(mp);
		if (under_pods(r, mp) && (cur[ncur] = strdup(mp)) != NULL)
			ncur++;
	}
	fclose(fp);

	/* drop watches whose mount is gone */
	for (i = 0; i < r->nm; i++) {
		for (j = 0; j < ncur; j++)
			if (cur[j] && !strcmp(cur[j], r->mpath[i]))
				break;
		if (j < ncur) {
			free(cur[j]);
			cur[j] = NULL;	/* already watched */
			continue;
		}
		log_info("mount watch removed: %s", r->mpath[i]);
		unload(r->fd, &r->m[i]);
		free(r->mpath[i]);
		r->m[i] = r->m[r->nm - 1];
		r->mpath[i] = r->mpath[r->nm - 1];
		r->nm--;
		i--;
	}
	/* and watch the new ones */
	for (j = 0; j < ncur; j++) {
		struct buf rule = BUF_INIT;

		if (cur[j] == NULL)
			continue;
		if (r->nm < MAX_MOUNTS &&
		    buf_printf(&rule, "-w %s -p wa -k " KEY_VOLUME,
		    cur[j]) == 0 && !strchr(cur[j], ' ') &&
		    load(r->fd, rule.data, &r->m[r->nm]) >= 0) {
			log_info("mount watch added: %s", cur[j]);
			r->mpath[r->nm++] = cur[j];
			cur[j] = NULL;
		} else
			log_warnx_rl(&rl, "cannot watch mount %s", cur[j]);
		buf_free(&rule);
		free(cur[j]);
	}
}

struct rules *
rules_install(const struct conf *c)
{
	struct rules *r = calloc(1, sizeof(*r));
	struct buf text = BUF_INIT, pods = BUF_INIT;
	char *line, *cur;
	int rc;

	if (r == NULL || (r->fd = audit_open()) < 0) {
		log_warn("rules");
		free(r);
		return NULL;
	}
	if (buf_printf(&pods, "%s/pods", c->kubelet_root) == -1 ||
	    rules_pack_text(c, &text) == -1) {
		log_warn("rules");
		goto err;
	}
	r->pods = pods.data;
	pods.data = NULL;
	if ((r->d = calloc(MAX_DISCOVERED, sizeof(*r->d))) == NULL ||
	    (r->dpath = calloc(MAX_DISCOVERED, sizeof(*r->dpath))) == NULL) {
		log_warn("rules");
		goto err;
	}
	cur = text.data;
	while (cur && (line = tok_next(&cur, '\n')) != NULL) {
		if (r->n == MAX_RULES) {
			log_warnx("rule pack: more than %d rules", MAX_RULES);
			goto err;
		}
		if ((rc = load(r->fd, line, &r->r[r->n])) == -1)
			goto err;
		if (rc == 1)
			r->n++;
	}
	log_info("rule pack loaded: %d rules added", r->n);
	/* mounts made before we started are covered by the pods watch */
	resync(r);
	buf_free(&text);
	return r;
err:
	buf_free(&text);
	buf_free(&pods);
	rules_close(r, 0);
	return NULL;
}

/* Syscalls that attach or detach a mount. */
static int
mount_change(const cJSON *sc)
{
	static const char *const calls[] = {
		"mount", "umount", "umount2", "move_mount", "pivot_root",
	};

	if (!cJSON_IsString(sc))
		return 0;
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (!strcmp(sc->valuestring, calls[i]))
			return 1;
	return 0;
}

void
rules_event(struct rules *r, const cJSON *ev)
{
	const cJSON *sc = cJSON_GetObjectItemCaseSensitive(ev, "syscall");
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(ev, "success");

	/*
	 * By syscall, not key: an operator's rule listed before ours
	 * names the event. Which path matters less than the result, so
	 * the mount table is read again.
	 */
	if (r == NULL || !cJSON_IsTrue(ok) || !mount_change(sc))
		return;
	resync(r);
}

/* hp_watch_ops: a watch on a discovered hostPath directory. */
static int
watch_dir(void *arg, const char *dir)
{
	struct rules *r = arg;
	struct buf rule = BUF_INIT;
	int rc = -1;

	if (r->nd == MAX_DISCOVERED || strchr(dir, ' ') ||
	    buf_printf(&rule, "-w %s -p wa -k " KEY_HOSTPATH, dir) == -1 ||
	    (r->dpath[r->nd] = strdup(dir)) == NULL) {
		log_warnx("cannot watch hostPath %s", dir);
		goto out;
	}
	/* 0: an operator's identical rule is there, and stays theirs */
	if (load(r->fd, rule.data, &r->d[r->nd]) == -1) {
		free(r->dpath[r->nd]);
		goto out;
	}
	log_info("hostPath watch added: %s", dir);
	r->nd++;
	rc = 0;
out:
	buf_free(&rule);
	return rc;
}

static void
unwatch_dir(void *arg, const char *dir)
{
	struct rules *r = arg;

	for (int i = 0; i < r->nd; i++) {
		if (strcmp(r->dpath[i], dir) != 0)
			continue;
		unload(r->fd, &r->d[i]);
		log_info("hostPath watch removed: %s", dir);
		free(r->dpath[i]);
		r->d[i] = r->d[r->nd - 1];
		r->dpath[i] = r->dpath[r->nd - 1];
		r->nd--;
		return;
	}
}

const struct hp_watch_ops rules_hostpath_ops = {
	.add = watch_dir,
	.del = unwatch_dir,
};

int
rules_hostpath_watches(const struct rules *r)
{
	return r ? r->nd : 0;
}

int
rules_mount_watches(const struct rules *r)
{
	return r ? r->nm : 0;
}

/* Remove (or, to keep them loaded, just forget) l[0..n), last first. */
static void
release(int fd, struct loaded *l, char **paths, int n, int keep)
{
	for (int i = n - 1; i >= 0; i--) {
		if (!keep)
			unload(fd, &l[i]);
		else {
			audit_rule_free_data(l[i].rule);
			free(l[i].text);
		}
		if (paths)
			free(paths[i]);
	}
}

void
rules_close(struct rules *r, int keep)
{
	if (r == NULL)
		return;
	if (r->d)
		release(r->fd, r->d, r->dpath, r->nd, keep);
	free(r->d);
	free(r->dpath);
	release(r->fd, r->m, r->mpath, r->nm, keep);
	release(r->fd, r->r, NULL, r->n, keep);
	if (!keep && r->n)
		log_info("rule pack removed");
	audit_close(r->fd);
	free(r->pods);
	free(r);
}
