/*
 * cgroup.c - container and pod from a cgroup path.
 *
 * The path is read one component at a time, left to right; each
 * component may name a QoS class, a pod or a container.
 *
 * Who decides: the first container found inside a pod ends the walk.
 * Everything below it is that container's own sub-cgroup, which a
 * process with a writable or delegated cgroup can create and name as
 * it likes ("<id>/kubepods/pod<other>/<other-id>", "crio-conmon-x"):
 * names it adds must not choose its attribution. Below a container that
 * is not in a pod (a kind or k3d node, Docker-in-Docker) a deeper pod or
 * container still wins, so nested clusters report the innermost real
 * container as seen from podtrail's cgroup namespace.
 *
 * A process outside the reader's cgroup namespace is shown relative to
 * it ("/../../../besteffort/pod<uid>/<id>" from inside a DaemonSet pod
 * with a private namespace): leading ".." stand for unknown ancestors,
 * which may be kubepods levels, so pods are recognised below them; the
 * QoS class is then known only if a component names it.
 */
#include "config.h"

#include <string.h>

#include "cgroup.h"

static int
is_hex_lower(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int
is_id(const char *s, size_t n)
{
	return n == CG_ID_LEN && is_hex_lower(s, n);
}

/* A pod UID with '-' (cgroupfs) or '_' (systemd slices) separators. */
static int
take_uid(const char *s, size_t n, char *out)
{
	if (n != CG_UID_LEN)
		return 0;
	for (size_t i = 0; i < n; i++) {
		int sep = i == 8 || i == 13 || i == 18 || i == 23;

		if (sep ? (s[i] != '-' && s[i] != '_') : !is_hex_lower(s + i, 1))
			return 0;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = s[i] == '_' ? '-' : s[i];
	out[n] = '\0';
	return 1;
}

static int
has_prefix(const char *s, size_t n, const char *pfx, size_t *plen)
{
	size_t k = strlen(pfx);

	if (n < k || memcmp(s, pfx, k) != 0)
		return 0;
	*plen = k;
	return 1;
}

static int
has_suffix(const char *s, size_t n, const char *sfx)
{
	size_t k = strlen(sfx);

	return n >= k && memcmp(s + n - k, sfx, k) == 0;
}

static void
set_str(char *dst, size_t dstlen, const char *src)
{
	size_t n = strlen(src);

	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Runtime-named scopes: <prefix><id>[.scope]. */
static const struct {
	const char *prefix;
	const char *runtime;
} scopes[] = {
	{ "cri-containerd-", "containerd" },
	{ "crio-", "cri-o" },
	{ "docker-", "docker" },
	{ "libpod-", "podman" },
	{ "nerdctl-", "containerd" },
};

/* "a:b:c" from systemd-driver cgroupsPath text taken literally. */
static const struct {
	const char *prefix;
	const char *runtime;
} colon_prefixes[] = {
	{ "cri-containerd", "containerd" },
	{ "crio", "cri-o" },
	{ "docker", "docker" },
	{ "libpod", "podman" },
};

/* Is c a QoS class name, alone or as a kubepods slice? */
static const char *
qos_of(const char *c, size_t n)
{
	static const char *const classes[] = { "burstable", "besteffort" };

	for (size_t i = 0; i < 2; i++) {
		size_t k = strlen(classes[i]);

		if (n == k && memcmp(c, classes[i], k) == 0)
			return classes[i];
		/* kubepods-burstable.slice, kubelet-kubepods-besteffort.slice */
		if (has_suffix(c, n, ".slice") && n > k + 6 &&
		    memcmp(c + n - 6 - k, classes[i], k) == 0 &&
		    c[n - 7 - k] == '-')
			return classes[i];
	}
	return NULL;
}

struct walk {
	struct cg_info info;
	int depth;		/* components seen, ".." included */
	int in_kubepods;	/* a kubepods level was seen (or may be above) */
	int relative;		/* the path starts above our namespace's root */
	int locked;		/* a pod's container was found: stop */
	int prev_top;		/* previous component was the first, a plain name */
	char qos[16];
	int prev_docker;	/* previous component was "docker" */
	int prev_libpod;	/* previous component was "libpod_parent" */
	int prev_pod;		/* previous component was a cgroupfs pod */
};

static void
found_container(struct walk *w, const char *id, const char *runtime)
{
	memcpy(w->info.id, id, CG_ID_LEN);
	w->info.id[CG_ID_LEN] = '\0';
	set_str(w->info.runtime, sizeof(w->info.runtime), runtime);
	if (w->info.pod_uid[0])
		w->locked = 1;
}

static void
found_pod(struct walk *w)
{
	/* no QoS level below kubepods means guaranteed, unless it is above us */
	set_str(w->info.qos, sizeof(w->info.qos),
	    w->qos[0] ? w->qos : w->relative ? "" : "guaranteed");
	/* a pod below an outer container: the outer one is not its container */
	w->info.id[0] = '\0';
	w->info.runtime[0] = '\0';
}

/* A pod slice: ...kubepods[-qos]-pod<uid_>.slice */
static int
pod_slice(struct walk *w, const char *c, size_t n)
{
	const char *p;

	if (!has_suffix(c, n, ".slice") || n < CG_UID_LEN + 10)
		return 0;
	p = c + n - 6 - CG_UID_LEN - 4;
	if (memcmp(p, "-pod", 4) != 0 ||
	    !take_uid(p + 4, CG_UID_LEN, w->info.pod_uid))
		return 0;
	w->qos[0] = '\0';
	for (size_t i = 0; i < 2; i++) {
		static const char *const classes[] = { "burstable", "besteffort" };
		size_t k = strlen(classes[i]);

		if ((size_t)(p - c) > k && memcmp(p - k, classes[i], k) == 0 &&
		    p[-(long)k - 1] == '-')
			set_str(w->qos, sizeof(w->qos), classes[i]);
	}
	found_pod(w);
	return 1;
}

static void
component(struct walk *w, const char *c, size_t n)
{
	const char *q;
	size_t k;
	int was_docker = w->prev_docker, was_libpod = w->prev_libpod;
	int was_pod = w->prev_pod, was_top = w->prev_top;

	w->prev_docker = w->prev_libpod = w->prev_pod = w->prev_top = 0;
	if (n == 0 || (n == 1 && c[0] == '.'))
		return;
	if (n == 2 && c[0] == '.' && c[1] == '.') {
		if (w->depth++ == 0) {
			/* above our cgroup namespace's root: see the top comment */
			w->relative = 1;
			w->in_kubepods = 1;
		}
		return;
	}
	if (w->depth++ == 0 && !has_suffix(c, n, ".slice"))
		w->prev_top = 1;
	if ((n == 8 && !memcmp(c, "kubepods", 8)) ||
	    (has_suffix(c, n, "kubepods.slice"))) {
		w->in_kubepods = 1;
		w->qos[0] = '\0';
		return;
	}
	if (w->in_kubepods && (q = qos_of(c, n)) != NULL) {
		set_str(w->qos, sizeof(w->qos), q);
		return;
	}
	/* cgroupfs driver: pod<uid> */
	if (w->in_kubepods && n == 3 + CG_UID_LEN && !memcmp(c, "pod", 3) &&
	    take_uid(c + 3, CG_UID_LEN, w->info.pod_uid)) {
		found_pod(w);
		w->prev_pod = 1;
		return;
	}
	if (pod_slice(w, c, n))
		return;
	/* literal "slice:prefix:id" */
	if ((q = memchr(c, ':', n)) != NULL) {
		const char *r = memchr(q + 1, ':', n - (size_t)(q + 1 - c));

		if (r && is_id(r + 1, n - (size_t)(r + 1 - c))) {
			size_t plen = (size_t)(r - q - 1);

			if ((size_t)(q - c) > 0)
				pod_slice(w, c, (size_t)(q - c));
			for (size_t i = 0; i < sizeof(colon_prefixes) /
			    sizeof(colon_prefixes[0]); i++)
				if (strlen(colon_prefixes[i].prefix) == plen &&
				    !memcmp(q + 1, colon_prefixes[i].prefix, plen)) {
					found_container(w, r + 1,
					    colon_prefixes[i].runtime);
					return;
				}
			found_container(w, r + 1, "cri");
		}
		return;
	}
	/*
	 * Monitors are not containers: crio-conmon-, libpod-conmon-. Below
	 * a container such a name is one of its own sub-cgroups.
	 */
	if ((has_prefix(c, n, "crio-conmon-", &k) ||
	    has_prefix(c, n, "libpod-conmon-", &k)) && w->info.id[0] == '\0') {
		w->info.id[0] = '\0';
		w->info.runtime[0] = '\0';
		return;
	}
	for (size_t i = 0; i < sizeof(scopes) / sizeof(scopes[0]); i++) {
		size_t idn;

		if (!has_prefix(c, n, scopes[i].prefix, &k))
			continue;
		idn = n - k;
		if (has_suffix(c, n, ".scope"))
			idn -= 6;
		if (is_id(c + k, idn)) {
			found_container(w, c + k, scopes[i].runtime);
			return;
		}
	}
	if (n == 6 && !memcmp(c, "docker", 6)) {
		w->prev_docker = 1;
		return;
	}
	if (n == 13 && !memcmp(c, "libpod_parent", 13)) {
		w->prev_libpod = 1;
		return;
	}
	if (is_id(c, n)) {
		if (was_docker)
			found_container(w, c, "docker");
		else if (was_pod)
			/* cgroupfs driver: containerd and CRI-O look alike */
			found_container(w, c, "cri");
		else if (was_libpod)
			found_container(w, c, "podman");
		else if (was_top && !w->in_kubepods)
			/* containerd without kubelet: /<namespace>/<id> */
			found_container(w, c, "containerd");
		return;
	}
	/* podman's ".../libpod-<id>.scope/container" keeps the id */
}

int
cg_parse_path(const char *path, size_t len, struct cg_info *out)
{
	struct walk w;
	const char *p = path, *end = path + len;

	memset(&w, 0, sizeof(w));
	while (p < end) {
		const char *s = memchr(p, '/', (size_t)(end - p));

		if (s == NULL)
			s = end;
		component(&w, p, (size_t)(s - p));
		if (w.locked)
			break;
		p = s + 1;
	}
	*out = w.info;
	if (out->id[0] == '\0') {
		out->runtime[0] = '\0';
		return 0;
	}
	return 1;
}

int
cg_parse(const char *text, size_t len, struct cg_info *out)
{
	const char *p = text, *end = text + len;
	struct cg_info best, cur;
	int have_best = 0, parsed = 0, best_v2 = 0;

	memset(out, 0, sizeof(*out));
	memset(&best, 0, sizeof(best));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *c1, *c2;
		int v2;

		if (nl == NULL)
			nl = end;
		/* hierarchy-id:controllers:path; the path may hold ':' */
		c1 = memchr(p, ':', (size_t)(nl - p));
		c2 = c1 ? memchr(c1 + 1, ':', (size_t)(nl - c1 - 1)) : NULL;
		if (c2 == NULL)
			goto next;
		parsed = 1;
		v2 = c1 - p == 1 && p[0] == '0' && c2 == c1 + 1;
		if (cg_parse_path(c2 + 1, (size_t)(nl - c2 - 1), &cur) == 1 &&
		    (!have_best || (v2 && !best_v2))) {
			best = cur;
			have_best = 1;
			best_v2 = v2;
		}
next:
		p = nl + 1;
	}
	if (!parsed)
		return -1;
	if (!have_best)
		return 0;
	*out = best;
	return 1;
}
