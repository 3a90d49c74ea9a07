/*
 * secctx.c - a process's security context from /proc (see secctx.h).
 *
 * The capability table follows include/uapi/linux/capability.h; bits
 * past it (a newer kernel) are named "unknown_N" rather than dropped.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <sys/stat.h>

#include "secctx.h"

#define STATUS_MAX 16384
#define MOUNTINFO_MAX (4 << 20)

static const char *const cap_names[] = {
	"chown", "dac_override", "dac_read_search", "fowner", "fsetid",
	"kill", "setgid", "setuid", "setpcap", "linux_immutable",
	"net_bind_service", "net_broadcast", "net_admin", "net_raw",
	"ipc_lock", "ipc_owner", "sys_module", "sys_rawio", "sys_chroot",
	"sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
	"sys_resource", "sys_time", "sys_tty_config", "mknod", "lease",
	"audit_write", "audit_control", "setfcap", "mac_override",
	"mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read",
	"perfmon", "bpf", "checkpoint_restore",
};
#define NCAPS (int)(sizeof(cap_names) / sizeof(cap_names[0]))

static const char *const ns_names[SCTX_NNS] = {
	[SCTX_NS_PID] = "pid", [SCTX_NS_NET] = "net", [SCTX_NS_IPC] = "ipc",
	[SCTX_NS_UTS] = "uts", [SCTX_NS_USER] = "user",
	[SCTX_NS_CGROUP] = "cgroup",
};

void
sctx_clear(struct sctx *c)
{
	memset(c, 0, sizeof(*c));
	c->uid = c->euid = c->gid = c->egid = -1;
	c->no_new_privs = -1;
	c->seccomp = SCTX_SECCOMP_UNKNOWN;
	c->seccomp_filters = -1;
	c->root_read_only = -1;
}

const char *
sctx_cap_name(int bit)
{
	return bit >= 0 && bit < NCAPS ? cap_names[bit] : NULL;
}

int
sctx_cap_bit(const char *name)
{
	if (strncasecmp(name, "cap_", 4) == 0)
		name += 4;
	for (int i = 0; i < NCAPS; i++)
		if (strcasecmp(name, cap_names[i]) == 0)
			return i;
	return -1;
}

cJSON *
sctx_caps_json(uint64_t mask)
{
	cJSON *a = cJSON_CreateArray();
	char other[24];

	if (a == NULL)
		return NULL;
	for (int i = 0; i < 64; i++) {
		cJSON *s;

		if (!(mask & ((uint64_t)1 << i)))
			continue;
		if (i < NCAPS) {
			s = cJSON_CreateStringReference(cap_names[i]);
		} else {
			snprintf(other, sizeof(other), "unknown_%d", i);
			s = cJSON_CreateString(other);
		}
		if (s == NULL) {
			cJSON_Delete(a);
			return NULL;
		}
		cJSON_AddItemToArray(a, s);
	}
	return a;
}

const char *
sctx_ns_name(int ns)
{
	return ns >= 0 && ns < SCTX_NNS ? ns_names[ns] : NULL;
}

const char *
sctx_seccomp_name(int mode)
{
	switch (mode) {
	case SCTX_SECCOMP_DISABLED: return "disabled";
	case SCTX_SECCOMP_STRICT: return "strict";
	case SCTX_SECCOMP_FILTER: return "filter";
	}
	return NULL;
}

/* Decimal at p (after blanks); -1 if none. */
static long long
dec_at(const char *p, const char *end, const char **next)
{
	long long v = 0;
	int any = 0;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (p < end && *p >= '0' && *p <= '9' && v < (1LL << 40)) {
		v = v * 10 + (*p++ - '0');
		any = 1;
	}
	*next = p;
	return any ? v : -1;
}

static int
hex_at(const char *p, const char *end, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	for (; p < end && n < 16; p++, n++) {
		int d;

		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (*p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			break;
		v = v << 4 | (uint64_t)d;
	}
	if (n == 0)
		return -1;
	*out = v;
	return 0;
}

/* "Key:" at the start of line [p, end)? Returns the value's start or NULL. */
static const char *
key_is(const char *p, const char *end, const char *key)
{
	size_t n = strlen(key);

	if ((size_t)(end - p) <= n || memcmp(p, key, n) != 0 || p[n] != ':')
		return NULL;
	return p + n + 1;
}

int
sctx_parse_status(const char *text, size_t len, struct sctx *c)
{
	const char *p = text, *end = text + len;
	int seen = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *v, *q;
		long long a;

		if ((v = key_is(p, le, "Uid")) != NULL ||
		    (v = key_is(p, le, "Gid")) != NULL) {
			int uid = p[0] == 'U';

			a = dec_at(v, le, &q);
			if (uid)
				c->uid = a;
			else
				c->gid = a;
			a = dec_at(q, le, &q);
			if (uid)
				c->euid = a;
			else
				c->egid = a;
			seen = 1;
		} else if ((v = key_is(p, le, "CapEff")) != NULL) {
			seen = hex_at(v, le, &c->cap_eff) == 0 || seen;
		} else if ((v = key_is(p, le, "CapPrm")) != NULL) {
			seen = hex_at(v, le, &c->cap_prm) == 0 || seen;
		} else if ((v = key_is(p, le, "CapBnd")) != NULL) {
			seen = hex_at(v, le, &c->cap_bnd) == 0 || seen;
		} else if ((v = key_is(p, le, "CapAmb")) != NULL) {
			seen = hex_at(v, le, &c->cap_amb) == 0 || seen;
		} else if ((v = key_is(p, le, "NoNewPrivs")) != NULL) {
			a = dec_at(v, le, &q);
			c->no_new_privs = a < 0 ? -1 : a != 0;
		} else if ((v = key_is(p, le, "Seccomp")) != NULL) {
			a = dec_at(v, le, &q);
			c->seccomp = a >= 0 && a <= 2 ? (int)a : SCTX_SECCOMP_UNKNOWN;
		} else if ((v = key_is(p, le, "Seccomp_filters")) != NULL) {
			a = dec_at(v, le, &q);
			c->seccomp_filters = a < 0 || a > 1 << 20 ? -1 : (int)a;
		} else if ((v = key_is(p, le, "Name")) != NULL) {
			while (v < le && (*v == ' ' || *v == '\t'))
				v++;
			snprintf(c->comm, sizeof(c->comm), "%.*s",
			    (int)(le - v), v);
		}
		p = nl ? nl + 1 : end;
	}
	return seen ? 0 : -1;
}

/* Field i (0-based, space-separated) of line [p, end): its span. */
static int
field(const char *p, const char *end, int i, const char **f, size_t *n)
{
	for (;;) {
		const char *s;

		while (p < end && *p == ' ')
			p++;
		if (p == end)
			return -1;
		s = p;
		while (p < end && *p != ' ')
			p++;
		if (i-- == 0) {
			*f = s;
			*n = (size_t)(p - s);
			return 0;
		}
	}
}

int
sctx_root_read_only(const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	int ro = -1;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *f, *o;
		size_t n, on;

		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS ... */
		if (field(p, le, 4, &f, &n) == 0 && n == 1 && f[0] == '/' &&
		    field(p, le, 5, &o, &on) == 0) {
			const char *q = o, *oe = o + on;

			ro = 0;
			while (q < oe) {
				const char *comma = memchr(q, ',', (size_t)(oe - q));
				const char *ie = comma ? comma : oe;

				if (ie - q == 2 && q[0] == 'r' && q[1] == 'o')
					ro = 1;
				q = comma ? comma + 1 : oe;
			}
		}
		p = nl ? nl + 1 : end;
	}
	return ro;
}

/* Read at most max bytes of path into a new buffer; NULL on failure. */
static char *
slurp(const char *path, size_t max, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *b = NULL, *nb;
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return NULL;
	for (;;) {
		if (n == cap || b == NULL) {
			if (b && cap >= max)
				break;
			if (b)
				cap *= 2;
			if ((nb = realloc(b, cap + 1)) == NULL)
				goto err;
			b = nb;
		}
		if ((r = read(fd, b + n, cap - n)) == -1) {
			if (errno == EINTR)
				continue;
			goto err;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	b[n] = '\0';
	*len = n;
	return b;
err:
	close(fd);
	free(b);
	return NULL;
}

static int
ns_stat(const char *proc_root, const char *pid, int ns, struct stat *st)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s/ns/%s", proc_root, pid,
	    ns_names[ns]);
	return stat(path, st);
}

int
sctx_host_read(const char *proc_root, struct sctx_host *h)
{
	struct stat st;

	memset(h, 0, sizeof(*h));
	for (int i = 0; i < SCTX_NNS; i++) {
		/*
		 * PID 1 may be out of reach (no hostPID, a sandbox denying
		 * ptrace access): then our own namespace stands in, which
		 * is the host's for an agent run with the host's namespaces.
		 */
		if (ns_stat(proc_root, "1", i, &st) == -1 &&
		    ns_stat(proc_root, "self", i, &st) == -1)
			continue;
		h->ino[i] = (unsigned long long)st.st_ino;
		h->dev[i] = (unsigned long long)st.st_dev;
		h->known |= 1u << i;
	}
	return h->known ? 0 : -1;
}

/* Could PID 1's namespaces be read (else our own stand in)? */
int
sctx_host_is_pid1(const char *proc_root)
{
	struct stat st;

	return ns_stat(proc_root, "1", SCTX_NS_NET, &st) == 0;
}

int
sctx_read(const char *proc_root, pid_t pid, const struct sctx_host *h,
    int only_status, struct sctx *c)
{
	char path[256], ps[24];
	char *text;
	size_t len;
	struct stat st;
	int rc;

	sctx_clear(c);
	snprintf(ps, sizeof(ps), "%d", (int)pid);
	snprintf(path, sizeof(path), "%s/%s/status", proc_root, ps);
	if ((text = slurp(path, STATUS_MAX, &len)) == NULL)
		return -1;
	rc = sctx_parse_status(text, len, c);
	free(text);
	if (rc == -1 || only_status)
		return rc;
	/* no LSM: EINVAL; labels end in a newline (or a NUL) */
	snprintf(path, sizeof(path), "%s/%s/attr/current", proc_root, ps);
	if ((text = slurp(path, sizeof(c->lsm) - 1, &len)) != NULL) {
		while (len && (text[len - 1] == '\n' || text[len - 1] == '\0'))
			len--;
		snprintf(c->lsm, sizeof(c->lsm), "%.*s", (int)len, text);
		free(text);
	}
	snprintf(path, sizeof(path), "%s/%s/mountinfo", proc_root, ps);
	if ((text = slurp(path, MOUNTINFO_MAX, &len)) != NULL) {
		c->root_read_only = sctx_root_read_only(text, len);
		free(text);
	}
	for (int i = 0; h && i < SCTX_NNS; i++) {
		if (!(h->known & (1u << i)) || ns_stat(proc_root, ps, i, &st) == -1)
			continue;
		c->ns_known |= 1u << i;
		if ((unsigned long long)st.st_ino == h->ino[i] &&
		    (unsigned long long)st.st_dev == h->dev[i])
			c->host_ns |= 1u << i;
	}
	return 0;
}

/* Seccomp modes from the most permissive: disabled, filter, strict. */
static int
seccomp_rank(int mode)
{
	return mode == SCTX_SECCOMP_STRICT ? 2 :
	    mode == SCTX_SECCOMP_FILTER ? 1 : 0;
}

/* A is to root where rec was not. */
static int
to_root(long long rec, long long now)
{
	return rec > 0 && now == 0;
}

int
sctx_wider(const struct sctx *rec, const struct sctx *now)
{
	unsigned both = rec->ns_known & now->ns_known;

	if (to_root(rec->uid, now->uid) || to_root(rec->euid, now->euid) ||
	    to_root(rec->gid, now->gid) || to_root(rec->egid, now->egid))
		return 1;
	if ((now->cap_eff & ~rec->cap_eff) || (now->cap_prm & ~rec->cap_prm) ||
	    (now->cap_bnd & ~rec->cap_bnd) || (now->cap_amb & ~rec->cap_amb))
		return 1;
	if (rec->no_new_privs == 1 && now->no_new_privs == 0)
		return 1;
	if (rec->seccomp >= 0 && now->seccomp >= 0 &&
	    (seccomp_rank(now->seccomp) < seccomp_rank(rec->seccomp) ||
	    (rec->seccomp == SCTX_SECCOMP_FILTER &&
	    now->seccomp == SCTX_SECCOMP_FILTER && rec->seccomp_filters >= 0 &&
	    now->seccomp_filters >= 0 &&
	    now->seccomp_filters < rec->seccomp_filters)))
		return 1;
	if (rec->root_read_only == 1 && now->root_read_only == 0)
		return 1;
	if ((now->host_ns & both) & ~(rec->host_ns & both))
		return 1;
	if (rec->lsm[0] && now->lsm[0] && strcmp(rec->lsm, now->lsm) != 0)
		return 1;
	return 0;
}

static void
merge_id(long long *rec, long long now)
{
	if (*rec < 0 || to_root(*rec, now))
		*rec = now;
}

void
sctx_merge(struct sctx *rec, const struct sctx *now)
{
	merge_id(&rec->uid, now->uid);
	merge_id(&rec->euid, now->euid);
	merge_id(&rec->gid, now->gid);
	merge_id(&rec->egid, now->egid);
	rec->cap_eff |= now->cap_eff;
	rec->cap_prm |= now->cap_prm;
	rec->cap_bnd |= now->cap_bnd;
	rec->cap_amb |= now->cap_amb;
	if (rec->no_new_privs < 0 || now->no_new_privs == 0)
		rec->no_new_privs = now->no_new_privs;
	if (rec->seccomp < 0 || (now->seccomp >= 0 &&
	    seccomp_rank(now->seccomp) < seccomp_rank(rec->seccomp))) {
		rec->seccomp = now->seccomp;
		rec->seccomp_filters = now->seccomp_filters;
	} else if (now->seccomp == rec->seccomp && now->seccomp_filters >= 0 &&
	    (rec->seccomp_filters < 0 ||
	    now->seccomp_filters < rec->seccomp_filters)) {
		rec->seccomp_filters = now->seccomp_filters;
	}
	if (rec->root_read_only < 0 || now->root_read_only == 0)
		rec->root_read_only = now->root_read_only;
	rec->host_ns |= now->host_ns;
	rec->ns_known |= now->ns_known;
	if (now->lsm[0])
		snprintf(rec->lsm, sizeof(rec->lsm), "%s", now->lsm);
}
