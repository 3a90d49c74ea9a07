/*
 * runtime.c - a container's config.json, found under the runtimes'
 * state directories, and the CRI annotations in it.
 *
 * The runtime writes config.json before the container starts and keeps
 * it, root-owned, until the container is deleted: unlike kubelet's log
 * directory it is there for every container of a pod, sandbox
 * included, with or without kubelet. Annotation names are those set by
 * containerd's CRI plugin (pkg/cri/annotations: io.kubernetes.cri.
 * container-type, sandbox-name, sandbox-namespace, sandbox-uid,
 * container-name, image-name) and by CRI-O (kubelet's labels
 * io.kubernetes.pod.name, .pod.namespace, .pod.uid,
 * io.kubernetes.container.name, and its own io.kubernetes.cri-o.
 * ContainerType, ImageName, ImageRef).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "procinfo.h"
#include "runtime.h"

#define RT_NEG_TTL_MS 2000
#define RT_MAX 1024
/* config.json is a few KiB; a runaway one is not read whole */
#define RT_CONFIG_MAX (1 << 20)
#define TASK_DIR "io.containerd.runtime.v2.task"

struct rt_entry {
	struct rt_entry *next;
	char id[CG_ID_LEN + 1];
	int found;
	long long read_ms;
	struct rt_info info;
};

struct rt_cache {
	char **dirs;
	int ndirs;
	struct rt_entry *e;
	size_t n;
	unsigned long long lookups, reads, found, bad;
};

static const char *
ann(const cJSON *a, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The first of keys that a carries, into dst. */
static void
take(char *dst, size_t len, const cJSON *a, const char *k1, const char *k2)
{
	const char *v = ann(a, k1);

	if (v == NULL && k2)
		v = ann(a, k2);
	if (v)
		snprintf(dst, len, "%s", v);
}

/* "repo@sha256:..." or "sha256:..." gives the digest; an image id does not. */
static void
take_digest(char *dst, size_t len, const char *ref)
{
	const char *at;

	if (ref == NULL)
		return;
	if ((at = strstr(ref, "@sha256:")) != NULL)
		snprintf(dst, len, "%s", at + 1);
	else if (strncmp(ref, "sha256:", 7) == 0)
		snprintf(dst, len, "%s", ref);
}

int
rt_parse_config(const char *json, size_t len, struct rt_info *out)
{
	cJSON *root = cJSON_ParseWithLength(json, len);
	const cJSON *a;
	const char *type;

	memset(out, 0, sizeof(*out));
	out->sandbox = -1;
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return -1;
	}
	a = cJSON_GetObjectItemCaseSensitive(root, "annotations");
	if (cJSON_IsObject(a)) {
		if ((type = ann(a, "io.kubernetes.cri.container-type")) != NULL)
			snprintf(out->runtime, sizeof(out->runtime), "containerd");
		else if ((type = ann(a, "io.kubernetes.cri-o.ContainerType")) != NULL)
			snprintf(out->runtime, sizeof(out->runtime), "cri-o");
		if (type)
			out->sandbox = !strcmp(type, "sandbox") ? 1 :
			    !strcmp(type, "container") ? 0 : -1;
		take(out->pod_name, sizeof(out->pod_name), a,
		    "io.kubernetes.cri.sandbox-name", "io.kubernetes.pod.name");
		take(out->pod_namespace, sizeof(out->pod_namespace), a,
		    "io.kubernetes.cri.sandbox-namespace",
		    "io.kubernetes.pod.namespace");
		take(out->pod_uid, sizeof(out->pod_uid), a,
		    "io.kubernetes.cri.sandbox-uid", "io.kubernetes.pod.uid");
		take(out->sandbox_id, sizeof(out->sandbox_id), a,
		    "io.kubernetes.cri.sandbox-id", "io.kubernetes.cri-o.SandboxID");
		if (out->sandbox == 1)
			snprintf(out->name, sizeof(out->name), "POD");
		else
			take(out->name, sizeof(out->name), a,
			    "io.kubernetes.cri.container-name",
			    "io.kubernetes.container.name");
		take(out->image, sizeof(out->image), a,
		    "io.kubernetes.cri.image-name", "io.kubernetes.cri-o.ImageName");
		take_digest(out->image_digest, sizeof(out->image_digest),
		    ann(a, "io.kubernetes.cri.image-ref"));
		if (!out->image_digest[0])
			take_digest(out->image_digest, sizeof(out->image_digest),
			    ann(a, "io.kubernetes.cri-o.ImageRef"));
		if (!out->image_digest[0])
			take_digest(out->image_digest, sizeof(out->image_digest),
			    out->image);
	}
	cJSON_Delete(root);
	return 0;
}

/* Read a whole small file. 0 with *out (caller frees), or -1. */
static int
read_file(const char *path, struct buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char chunk[8192];
	ssize_t n;
	int rc = -1;

	if (fd == -1)
		return -1;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || out->len + (size_t)n > RT_CONFIG_MAX ||
		    buf_add(out, chunk, (size_t)n) == -1)
			goto out;
	}
	rc = out->len > 0 ? 0 : -1;
out:
	close(fd);
	return rc;
}

/* config.json at path, parsed into e. 1 if read, 0 if absent. */
static int
try_config(struct rt_cache *rc, struct rt_entry *e, const char *path)
{
	struct buf b = BUF_INIT;
	int got;

	if (access(path, F_OK) != 0)
		return 0;
	rc->reads++;
	got = read_file(path, &b) == 0 &&
	    rt_parse_config(b.data, b.len, &e->info) == 0;
	buf_free(&b);
	if (!got) {
		static struct log_rl rl;

		rc->bad++;
		log_warnx_rl(&rl, "runtime state: cannot read %s", path);
		memset(&e->info, 0, sizeof(e->info));
		e->info.sandbox = -1;
	}
	return 1;
}

/* base/<ns>/<id>/config.json for every containerd namespace in base. */
static int
try_tasks(struct rt_cache *rc, struct rt_entry *e, const char *base,
    const char *runtime)
{
	DIR *d = opendir(base);
	struct dirent *de;
	char path[4096];
	int found = 0;

	if (d == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/%s/config.json", base,
		    de->d_name, e->id);
		if (!try_config(rc, e, path))
			continue;
		found = 1;
		snprintf(e->info.rt_namespace, sizeof(e->info.rt_namespace),
		    "%.63s", de->d_name);
		/* Docker's containerd keeps its containers in namespace moby */
		if (!strcmp(de->d_name, "moby") || !e->info.runtime[0])
			snprintf(e->info.runtime, sizeof(e->info.runtime), "%s",
			    !strcmp(de->d_name, "moby") ? "docker" : runtime);
	}
	closedir(d);
	return found;
}

static int
find(struct rt_cache *rc, struct rt_entry *e)
{
	char path[4096];

	for (int i = 0; i < rc->ndirs; i++) {
		const char *d = rc->dirs[i];

		snprintf(path, sizeof(path), "%s/" TASK_DIR, d);
		if (try_tasks(rc, e, path, "containerd"))
			return 1;
		snprintf(path, sizeof(path), "%s/containerd/daemon/" TASK_DIR, d);
		if (try_tasks(rc, e, path, "docker"))
			return 1;
		snprintf(path, sizeof(path),
		    "%s/overlay-containers/%s/userdata/config.json", d, e->id);
		if (try_config(rc, e, path)) {
			/* CRI-O marks its containers; podman's carry no CRI type */
			if (!e->info.runtime[0])
				snprintf(e->info.runtime, sizeof(e->info.runtime),
				    "podman");
			return 1;
		}
		snprintf(path, sizeof(path), "%s/runtime-runc/moby/%s", d, e->id);
		if (access(path, F_OK) == 0) {
			snprintf(e->info.runtime, sizeof(e->info.runtime), "docker");
			e->info.sandbox = -1;
			return 1;
		}
	}
	return 0;
}

static void
entries_free(struct rt_cache *rc)
{
	while (rc->e) {
		struct rt_entry *e = rc->e;

		rc->e = e->next;
		free(e);
	}
	rc->n = 0;
}

const struct rt_info *
rt_lookup(struct rt_cache *rc, const char *id)
{
	long long now = procinfo_now_ms();
	struct rt_entry *e;

	if (rc == NULL || strlen(id) != CG_ID_LEN)
		return NULL;
	rc->lookups++;
	for (e = rc->e; e; e = e->next)
		if (!strcmp(e->id, id))
			break;
	if (e && (e->found || now - e->read_ms < RT_NEG_TTL_MS))
		return e->found ? &e->info : NULL;
	if (e == NULL) {
		if (rc->n >= RT_MAX)
			entries_free(rc);
		if ((e = calloc(1, sizeof(*e))) == NULL)
			return NULL;
		memcpy(e->id, id, CG_ID_LEN + 1);
		e->next = rc->e;
		rc->e = e;
		rc->n++;
	}
	memset(&e->info, 0, sizeof(e->info));
	e->info.sandbox = -1;
	e->read_ms = now;
	if ((e->found = find(rc, e)) != 0)
		rc->found++;
	return e->found ? &e->info : NULL;
}

int
rt_is_state_path(const struct rt_cache *rc, const char *path)
{
	for (int i = 0; rc && i < rc->ndirs; i++) {
		size_t n = strlen(rc->dirs[i]);

		if (strncmp(path, rc->dirs[i], n) == 0 &&
		    (path[n] == '\0' || path[n] == '/'))
			return 1;
	}
	return 0;
}

void
rt_stats(const struct rt_cache *rc, cJSON *obj)
{
	if (rc == NULL)
		return;
	cJSON_AddNumberToObject(obj, "runtime_lookups", (double)rc->lookups);
	cJSON_AddNumberToObject(obj, "runtime_configs_read", (double)rc->reads);
	cJSON_AddNumberToObject(obj, "runtime_found", (double)rc->found);
	cJSON_AddNumberToObject(obj, "runtime_configs_bad", (double)rc->bad);
}

struct rt_cache *
rt_new(char *const *dirs, int n)
{
	static const char *const defaults[] = { RT_DEFAULT_DIRS };
	struct rt_cache *rc = calloc(1, sizeof(*rc));
	int want = n > 0 ? n : (int)(sizeof(defaults) / sizeof(defaults[0]));

	if (rc == NULL || (rc->dirs = calloc((size_t)want, sizeof(char *))) == NULL)
		goto nomem;
	for (int i = 0; i < want; i++) {
		const char *d = n > 0 ? dirs[i] : defaults[i];
		size_t len = strlen(d);

		/* compared as path prefixes: no trailing '/' */
		while (len > 1 && d[len - 1] == '/')
			len--;
		if ((rc->dirs[i] = strndup(d, len)) == NULL)
			goto nomem;
		rc->ndirs++;
	}
	return rc;
nomem:
	log_warn("runtime state");
	rt_free(rc);
	return NULL;
}

void
rt_free(struct rt_cache *rc)
{
	if (rc == NULL)
		return;
	entries_free(rc);
	for (int i = 0; i < rc->ndirs; i++)
		free(rc->dirs[i]);
	free(rc->dirs);
	free(rc);
}
