/*
 * enrich_container.c - "container": which container and pod made the
 * event, or null for a host process; "attribution" says how we know
 * ("proc", "connector", "cache") or that we do not ("unknown").
 *
 * Names, in order of trust: the annotations the runtime keeps in the
 * container's config.json (runtime.h: every container of a pod, the
 * sandbox included, as long as the runtime has it), then kubelet's log
 * directory: <pod_log_dir>/<namespace>_<name>_<uid>/<container>/, and
 * for pods of several containers ../containers/<pod>_<ns>_<container>-
 * <id>.log. The cgroup path decides the pod; annotations naming another
 * pod are not used.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "enrich.h"
#include "event.h"
#include "log.h"
#include "procinfo.h"
#include "runtime.h"

#define NAMES_TTL_MS 30000
#define NAMES_NEG_TTL_MS 2000
#define NAMES_MAX 1024

struct pod_names {
	struct pod_names *next;
	char uid[CG_UID_LEN + 1];
	char id[CG_ID_LEN + 1];
	char ns[128], pod[256], ctr[256];	/* "" if unknown */
	long long read_ms;
};

struct ctr_stage {
	struct enrich_procs *ep;
	char *log_dir;
	char *ctr_log_dir;	/* sibling "containers" directory */
	struct pod_names *names;
	size_t nnames;
	unsigned long long attributed, host, unknown, from_proc,
	    from_connector, from_cache, named, from_runtime, sandboxes,
	    pod_mismatch;
};

static void
names_free(struct ctr_stage *st)
{
	while (st->names) {
		struct pod_names *n = st->names;

		st->names = n->next;
		free(n);
	}
	st->nnames = 0;
}

/* <pod>_<ns>_<container>-<id>.log in the containers directory. */
static void
find_ctr_name(struct ctr_stage *st, struct pod_names *n)
{
	DIR *d = opendir(st->ctr_log_dir);
	struct dirent *de;
	char sfx[CG_ID_LEN + 8];

	if (d == NULL)
		return;
	snprintf(sfx, sizeof(sfx), "-%s.log", n->id);
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name), sl = strlen(sfx);
		const char *u2;

		if (len <= sl || strcmp(de->d_name + len - sl, sfx) != 0)
			continue;
		/* the container name sits between the second '_' and the suffix */
		if ((u2 = strchr(de->d_name, '_')) == NULL ||
		    (u2 = strchr(u2 + 1, '_')) == NULL)
			continue;
		snprintf(n->ctr, sizeof(n->ctr), "%.*s",
		    (int)(de->d_name + len - sl - u2 - 1), u2 + 1);
		break;
	}
	closedir(d);
}

static void
read_names(struct ctr_stage *st, struct pod_names *n)
{
	DIR *d = opendir(st->log_dir), *cd;
	struct dirent *de;
	char sfx[CG_UID_LEN + 2], path[4096];
	int nctr = 0;

	n->ns[0] = n->pod[0] = n->ctr[0] = '\0';
	if (d == NULL)
		return;
	snprintf(sfx, sizeof(sfx), "_%s", n->uid);
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name), sl = strlen(sfx);
		const char *u1;

		if (len <= sl || strcmp(de->d_name + len - sl, sfx) != 0 ||
		    (u1 = strchr(de->d_name, '_')) == NULL ||
		    u1 >= de->d_name + len - sl)
			continue;
		/* namespaces and pod names cannot hold '_' */
		snprintf(n->ns, sizeof(n->ns), "%.*s", (int)(u1 - de->d_name),
		    de->d_name);
		snprintf(n->pod, sizeof(n->pod), "%.*s",
		    (int)(de->d_name + len - sl - u1 - 1), u1 + 1);
		snprintf(path, sizeof(path), "%s/%s", st->log_dir, de->d_name);
		break;
	}
	closedir(d);
	if (n->pod[0] == '\0')
		return;
	/* one container directory: that is its name */
	if ((cd = opendir(path)) != NULL) {
		while ((de = readdir(cd)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			if (nctr++ == 0)
				snprintf(n->ctr, sizeof(n->ctr), "%s", de->d_name);
		}
		closedir(cd);
	}
	if (nctr != 1) {
		n->ctr[0] = '\0';
		find_ctr_name(st, n);
	}
}

static const struct pod_names *
names_of(struct ctr_stage *st, const struct cg_info *cg)
{
	long long now = procinfo_now_ms();
	struct pod_names *n;

	for (n = st->names; n; n = n->next) {
		if (strcmp(n->uid, cg->pod_uid) || strcmp(n->id, cg->id))
			continue;
		if (now - n->read_ms < (n->pod[0] ? NAMES_TTL_MS : NAMES_NEG_TTL_MS))
			return n;
		break;
	}
	if (n == NULL) {
		if (st->nnames >= NAMES_MAX)
			names_free(st);
		if ((n = calloc(1, sizeof(*n))) == NULL)
			return NULL;
		snprintf(n->uid, sizeof(n->uid), "%s", cg->pod_uid);
		snprintf(n->id, sizeof(n->id), "%s", cg->id);
		n->next = st->names;
		st->names = n;
		st->nnames++;
	}
	read_names(st, n);
	n->read_ms = now;
	return n;
}

static void
add_str_or_null(cJSON *o, const char *k, const char *v)
{
	if (v && *v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static void add_container(struct ctr_stage *st, cJSON *c,
    const struct cg_info *cg);

static void
ctr_event(void *arg, struct event *e)
{
	cJSON *ev = e->json;
	struct ctr_stage *st = arg;
	struct procinfo_view v;
	cJSON *c;
	const char *how;

	if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(ev, "process")))
		return;	/* user-space or podtrail-made events */
	if (enrich_procs_lookup(st->ep, e, &v) == -1) {
		st->unknown++;
		cJSON_AddNullToObject(ev, "container");
		cJSON_AddStringToObject(ev, "attribution", "unknown");
		return;
	}
	switch (v.how) {
	case PINFO_PROC:
		how = "proc";
		st->from_proc++;
		break;
	case PINFO_CONNECTOR:
		how = "connector";
		st->from_connector++;
		break;
	default:
		how = "cache";
		st->from_cache++;
		break;
	}
	cJSON_AddStringToObject(ev, "attribution", how);
	if (!v.in_container) {
		st->host++;
		cJSON_AddNullToObject(ev, "container");
		return;
	}
	st->attributed++;
	c = cJSON_AddObjectToObject(ev, "container");
	add_container(st, c, &v.cg);
}

/* The runtime's record, if it agrees with the cgroup about the pod. */
static const struct rt_info *
runtime_of(struct ctr_stage *st, const struct cg_info *cg)
{
	const struct rt_info *ri = rt_lookup(enrich_procs_runtime(st->ep), cg->id);

	if (ri && ri->pod_uid[0] && cg->pod_uid[0] &&
	    strcmp(ri->pod_uid, cg->pod_uid) != 0) {
		static struct log_rl rl;

		st->pod_mismatch++;
		log_warnx_rl(&rl, "container %.12s: cgroup says pod %s, its "
		    "config.json pod %s: names not used", cg->id, cg->pod_uid,
		    ri->pod_uid);
		return NULL;
	}
	return ri;
}

static void
add_container(struct ctr_stage *st, cJSON *c, const struct cg_info *cg)
{
	const struct rt_info *ri = runtime_of(st, cg);
	const char *runtime = cg->runtime, *pod_uid = cg->pod_uid;
	const char *pod = NULL, *ns = NULL, *name = NULL;

	if (ri) {
		st->from_runtime++;
		/* the state dir it was found in settles cgroupfs's "cri" */
		if (ri->runtime[0] && (!runtime[0] || !strcmp(runtime, "cri")))
			runtime = ri->runtime;
		if (!pod_uid[0])
			pod_uid = ri->pod_uid;
		if (ri->pod_name[0]) {
			pod = ri->pod_name;
			ns = ri->pod_namespace;
		}
		if (ri->name[0])
			name = ri->name;
		if (ri->sandbox == 1)
			st->sandboxes++;
	}
	cJSON_AddStringToObject(c, "id", cg->id);
	add_str_or_null(c, "runtime", runtime);
	add_str_or_null(c, "pod_uid", pod_uid);
	add_str_or_null(c, "qos", cg->qos);
	if (pod == NULL && cg->pod_uid[0]) {
		const struct pod_names *n = names_of(st, cg);

		if (n && n->pod[0]) {
			pod = n->pod;
			ns = n->ns;
			/* a sandbox is never one of the pod's named containers */
			if (name == NULL && !(ri && ri->sandbox == 1))
				name = n->ctr;
		}
	}
	if (pod) {
		st->named++;
		cJSON_AddStringToObject(c, "pod_name", pod);
		add_str_or_null(c, "pod_namespace", ns);
	}
	if (pod || name)
		add_str_or_null(c, "name", name);
	if (ri == NULL || ri->sandbox == -1)
		cJSON_AddNullToObject(c, "sandbox");
	else
		cJSON_AddBoolToObject(c, "sandbox", ri->sandbox == 1);
	add_str_or_null(c, "image", ri ? ri->image : NULL);
	add_str_or_null(c, "image_digest", ri ? ri->image_digest : NULL);
	if (ri && ri->rt_namespace[0])
		cJSON_AddStringToObject(c, "runtime_namespace", ri->rt_namespace);
}

static void
ctr_close(void *arg)
{
	struct ctr_stage *st = arg;

	if (st == NULL)
		return;
	enrich_procs_release(st->ep);
	names_free(st);
	free(st->log_dir);
	free(st->ctr_log_dir);
	free(st);
}

static void *
ctr_open(const struct conf *c, struct loop *loop)
{
	struct ctr_stage *st = calloc(1, sizeof(*st));
	const char *dir = c->pod_log_dir ? c->pod_log_dir : "";
	const char *slash;
	size_t n;

	if (st == NULL) {
		log_warn("container stage");
		return NULL;
	}
	slash = strrchr(dir, '/');
	n = slash ? (size_t)(slash - dir) : 0;
	if ((st->log_dir = strdup(dir)) == NULL ||
	    (st->ctr_log_dir = malloc(n + sizeof("/containers"))) == NULL) {
		log_warn("container stage");
		goto err;
	}
	memcpy(st->ctr_log_dir, dir, n);
	memcpy(st->ctr_log_dir + n, "/containers", sizeof("/containers"));
	if ((st->ep = enrich_procs_acquire(c, loop)) == NULL)
		goto err;
	return st;
err:
	ctr_close(st);
	return NULL;
}

static void
ctr_stats(void *arg, cJSON *obj)
{
	struct ctr_stage *st = arg;

	cJSON_AddNumberToObject(obj, "container_attributed", (double)st->attributed);
	cJSON_AddNumberToObject(obj, "container_host", (double)st->host);
	cJSON_AddNumberToObject(obj, "container_unknown", (double)st->unknown);
	cJSON_AddNumberToObject(obj, "container_from_proc", (double)st->from_proc);
	cJSON_AddNumberToObject(obj, "container_from_connector", (double)st->from_connector);
	cJSON_AddNumberToObject(obj, "container_from_cache", (double)st->from_cache);
	cJSON_AddNumberToObject(obj, "container_named", (double)st->named);
	cJSON_AddNumberToObject(obj, "container_from_runtime", (double)st->from_runtime);
	cJSON_AddNumberToObject(obj, "container_sandbox", (double)st->sandboxes);
	cJSON_AddNumberToObject(obj, "container_pod_mismatch", (double)st->pod_mismatch);
	enrich_procs_stats(st->ep, obj);
}

const struct enrich_ops enrich_container_ops = {
	.name = "container",
	.open = ctr_open,
	.event = ctr_event,
	.close = ctr_close,
	.stats = ctr_stats,
};
