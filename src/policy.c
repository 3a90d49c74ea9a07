/*
 * policy.c - policy_file: what a namespace's or pod's containers must
 * run with (see policy.h), and the check of a context against it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "policy.h"
#include "secctx.h"

#define POLICY_FILE_MAX (1 << 20)
#define POLICY_GLOB_MAX 256

struct rule {
	char ns[POLICY_GLOB_MAX];
	char pod[POLICY_GLOB_MAX];
	char text[2 * POLICY_GLOB_MAX + 2];
	unsigned req;
};

struct policy {
	struct rule *r;
	size_t n, cap;
};

static const char *const req_names[POLICY_NREQ] = {
	"non_root", "no_capabilities", "no_new_privs", "seccomp",
	"read_only_root", "no_host_namespaces",
};

/* Namespaces whose sharing no_host_namespaces forbids (user: see policy_violations). */
#define FORBIDDEN_NS ((1u << SCTX_NS_PID) | (1u << SCTX_NS_NET) | \
    (1u << SCTX_NS_IPC) | (1u << SCTX_NS_UTS) | (1u << SCTX_NS_CGROUP))

const char *
policy_req_name(unsigned bit)
{
	for (int i = 0; i < POLICY_NREQ; i++)
		if (bit == 1u << i)
			return req_names[i];
	return NULL;
}

unsigned
policy_req_bit(const char *name, size_t len)
{
	for (int i = 0; i < POLICY_NREQ; i++)
		if (strlen(req_names[i]) == len &&
		    memcmp(req_names[i], name, len) == 0)
			return 1u << i;
	return 0;
}

static const char *
skip_blank(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return p;
}

static const char *
trim_end(const char *s, const char *e)
{
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	return e;
}

/* One non-comment line [p, e) into r. 0, or -1 with why set. */
static int
parse_rule(const char *p, const char *e, struct rule *r, const char **why)
{
	const char *colon = memchr(p, ':', (size_t)(e - p));
	const char *ge, *slash;
	size_t nl, pl;

	if (colon == NULL) {
		*why = "expected 'NAMESPACE_GLOB[/POD_GLOB]: REQ, ...'";
		return -1;
	}
	ge = trim_end(p, colon);
	if (ge == p) {
		*why = "empty namespace pattern";
		return -1;
	}
	if (memchr(p, ' ', (size_t)(ge - p)) || memchr(p, '\t', (size_t)(ge - p))) {
		*why = "blank inside the pattern";
		return -1;
	}
	slash = memchr(p, '/', (size_t)(ge - p));
	nl = (size_t)((slash ? slash : ge) - p);
	pl = slash ? (size_t)(ge - slash - 1) : 1;
	if (nl == 0 || (slash && pl == 0)) {
		*why = "empty namespace or pod pattern";
		return -1;
	}
	if (nl >= sizeof(r->ns) || pl >= sizeof(r->pod)) {
		*why = "pattern too long";
		return -1;
	}
	if (slash && memchr(slash + 1, '/', pl)) {
		*why = "more than one '/' in the pattern";
		return -1;
	}
	memcpy(r->ns, p, nl);
	r->ns[nl] = '\0';
	if (slash) {
		memcpy(r->pod, slash + 1, pl);
		r->pod[pl] = '\0';
	} else {
		snprintf(r->pod, sizeof(r->pod), "*");
	}
	snprintf(r->text, sizeof(r->text), "%s/%s", r->ns, r->pod);
	r->req = 0;
	p = skip_blank(colon + 1, e);
	while (p < e) {
		const char *comma = memchr(p, ',', (size_t)(e - p));
		const char *ie = trim_end(p, comma ? comma : e);
		unsigned bit;

		if (ie == p) {
			*why = "empty requirement";
			return -1;
		}
		if ((bit = policy_req_bit(p, (size_t)(ie - p))) == 0) {
			*why = "unknown requirement (use non_root, "
			    "no_capabilities, no_new_privs, seccomp, "
			    "read_only_root, no_host_namespaces)";
			return -1;
		}
		r->req |= bit;
		if (comma == NULL)
			break;
		p = skip_blank(comma + 1, e);
		if (p == e) {
			*why = "empty requirement";
			return -1;
		}
	}
	return 0;
}

struct policy *
policy_parse(const char *text, size_t len, const char *name, char *err,
    size_t errlen)
{
	struct policy *pol = calloc(1, sizeof(*pol));
	const char *p = text, *end = text + len, *why = NULL;
	unsigned lineno = 0;

	if (pol == NULL)
		goto nomem;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end, *hash, *s, *e;
		struct rule r;

		lineno++;
		if (memchr(p, '\0', (size_t)(le - p))) {
			why = "NUL byte in line";
			goto bad;
		}
		hash = memchr(p, '#', (size_t)(le - p));
		s = skip_blank(p, hash ? hash : le);
		e = trim_end(s, hash ? hash : le);
		p = nl ? nl + 1 : end;
		if (s == e)
			continue;
		if (parse_rule(s, e, &r, &why) == -1)
			goto bad;
		if (pol->n == POLICY_RULES_MAX) {
			why = "too many rules";
			goto bad;
		}
		if (pol->n == pol->cap) {
			size_t nc = pol->cap ? pol->cap * 2 : 8;
			struct rule *nr = realloc(pol->r, nc * sizeof(*nr));

			if (nr == NULL)
				goto nomem;
			pol->r = nr;
			pol->cap = nc;
		}
		pol->r[pol->n++] = r;
	}
	return pol;
bad:
	snprintf(err, errlen, "%s:%u: %s", name, lineno, why);
	policy_free(pol);
	return NULL;
nomem:
	snprintf(err, errlen, "%s: out of memory", name);
	policy_free(pol);
	return NULL;
}

struct policy *
policy_load(const char *path, char *err, size_t errlen)
{
	struct policy *pol = NULL;
	struct stat st;
	char *text = NULL;
	ssize_t r;
	size_t n = 0;
	int fd;

	/* O_NONBLOCK: a FIFO must not make us wait for a writer */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "policy_file: %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "policy_file: %s: not a regular file", path);
		goto out;
	}
	if (st.st_size > POLICY_FILE_MAX) {
		snprintf(err, errlen, "policy_file: %s: larger than %d bytes",
		    path, POLICY_FILE_MAX);
		goto out;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		snprintf(err, errlen, "policy_file: out of memory");
		goto out;
	}
	while (n < (size_t)st.st_size &&
	    (r = read(fd, text + n, (size_t)st.st_size - n)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "policy_file: %s: %s", path,
			    strerror(errno));
			goto out;
		}
		n += (size_t)r;
	}
	pol = policy_parse(text, n, path, err, errlen);
out:
	free(text);
	close(fd);
	return pol;
}

void
policy_free(struct policy *p)
{
	if (p == NULL)
		return;
	free(p->r);
	free(p);
}

size_t
policy_count(const struct policy *p)
{
	return p ? p->n : 0;
}

int
policy_required(const struct policy *p, const char *ns, const char *pod,
    const char **rule)
{
	for (size_t i = 0; p && i < p->n; i++) {
		if (fnmatch(p->r[i].ns, ns ? ns : "", 0) != 0 ||
		    fnmatch(p->r[i].pod, pod ? pod : "", 0) != 0)
			continue;
		if (rule)
			*rule = p->r[i].text;
		return (int)p->r[i].req;
	}
	return -1;
}

unsigned
policy_violations(unsigned req, const struct sctx *c)
{
	unsigned v = 0;

	if ((req & POLICY_NON_ROOT) && (c->uid <= 0 || c->euid <= 0))
		v |= POLICY_NON_ROOT;
	if ((req & POLICY_NO_CAPABILITIES) &&
	    (c->cap_eff | c->cap_prm | c->cap_bnd | c->cap_amb) != 0)
		v |= POLICY_NO_CAPABILITIES;
	if ((req & POLICY_NO_NEW_PRIVS) && c->no_new_privs != 1)
		v |= POLICY_NO_NEW_PRIVS;
	if ((req & POLICY_SECCOMP) && c->seccomp != SCTX_SECCOMP_FILTER &&
	    c->seccomp != SCTX_SECCOMP_STRICT)
		v |= POLICY_SECCOMP;
	if ((req & POLICY_READ_ONLY_ROOT) && c->root_read_only != 1)
		v |= POLICY_READ_ONLY_ROOT;
	/*
	 * The user namespace is reported but not required: Kubernetes runs
	 * pods in the host's unless hostUsers is false. An unread
	 * namespace is not proven private.
	 */
	if ((req & POLICY_NO_HOST_NAMESPACES) &&
	    ((c->host_ns & FORBIDDEN_NS) ||
	    (c->ns_known & FORBIDDEN_NS) != FORBIDDEN_NS))
		v |= POLICY_NO_HOST_NAMESPACES;
	return v;
}
