/*
 * context.c - one podtrail_container event per container when it is
 * first seen, and one more each time a process of it shows a wider
 * context than recorded (see context.h).
 *
 * Runtimes build a container with their own init (runc:[2:INIT]) in
 * its cgroup; its events come before capabilities are dropped and
 * seccomp is loaded, so they are not read as the container's context.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "conf.h"
#include "context.h"
#include "event.h"
#include "evfield.h"
#include "loop.h"
#include "log.h"
#include "policy.h"
#include "secctx.h"

#define CTX_BUCKETS 1024
#define CTX_MAX 8192
#define CTX_PIDS 16
/* a container whose processes all vanish before we read them: stop trying */
#define CTX_TRIES 32
/* full re-reads of a container whose status looks the same: at most this often */
#define CTX_FULL_MS 1000

struct cent {
	struct cent *next;
	char id[CG_ID_LEN + 1];
	struct sctx rec;
	int reported;
	unsigned tries;
	pid_t pids[CTX_PIDS];	/* the last processes looked at */
	unsigned npid, ring;
	long long seen_ms, full_ms;
};

struct context {
	char *proc_root;
	char node[256];
	context_emit_cb emit;
	void *arg;
	struct policy *policy;
	struct sctx_host host;
	struct cent *b[CTX_BUCKETS];
	size_t n;
	unsigned long long events, first, wider, unread, flagged, evicted,
	    by_req[POLICY_NREQ];
};

static unsigned
hash_id(const char *s)
{
	return evf_hash(s, EVF_HASH_INIT) % CTX_BUCKETS;
}

static int
runtime_name(const char *s)
{
	static const char *const names[] = { "runc", "crun", "youki",
	    "conmon", "containerd-shim", "runsc" };

	for (size_t i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
		if (strncmp(s, names[i], strlen(names[i])) == 0)
			return 1;
	return 0;
}

/*
 * The runtime's own processes, before the container's program runs.
 * comm "exe" is anything re-executed through /proc/self/exe: runc's
 * parent does it, and so does busybox for its applets (a container's
 * program); the executable tells them apart (runc's may be a memfd
 * copy, "memfd:runc_cloned:/proc/self/exe (deleted)").
 */
static int
runtime_init(const char *comm, const char *exe)
{
	const char *base;

	if (runtime_name(comm))
		return 1;
	if (comm == NULL || strcmp(comm, "exe") != 0 || exe == NULL)
		return 0;
	if (strncmp(exe, "memfd:", 6) == 0)
		return runtime_name(exe + 6);
	base = strrchr(exe, '/');
	return runtime_name(base ? base + 1 : exe);
}

/* runtime_init() for a live process: its executable from /proc */
static int
runtime_proc(struct context *cx, pid_t pid, const char *comm)
{
	char path[256], exe[256];
	ssize_t n;

	if (comm == NULL || strcmp(comm, "exe") != 0)
		return runtime_name(comm);
	snprintf(path, sizeof(path), "%s/%d/exe", cx->proc_root, (int)pid);
	if ((n = readlink(path, exe, sizeof(exe) - 1)) < 0)
		return 1;	/* gone or hidden: not known to be the program */
	exe[n] = '\0';
	return runtime_init(comm, exe);
}

static void
drop_oldest(struct context *cx)
{
	struct cent **best = NULL, **pp, *e;

	for (size_t i = 0; i < CTX_BUCKETS; i++)
		for (pp = &cx->b[i]; *pp; pp = &(*pp)->next)
			if (best == NULL || (*pp)->seen_ms < (*best)->seen_ms)
				best = pp;
	if (best == NULL)
		return;
	e = *best;
	*best = e->next;
	free(e);
	cx->n--;
	cx->evicted++;
}

static struct cent *
find(struct context *cx, const char *id, int add)
{
	unsigned h = hash_id(id);
	struct cent *e;

	for (e = cx->b[h]; e; e = e->next)
		if (strcmp(e->id, id) == 0)
			return e;
	if (!add)
		return NULL;
	if (cx->n >= CTX_MAX)
		drop_oldest(cx);
	if ((e = calloc(1, sizeof(*e))) == NULL)
		return NULL;
	snprintf(e->id, sizeof(e->id), "%s", id);
	sctx_clear(&e->rec);
	e->next = cx->b[h];
	cx->b[h] = e;
	cx->n++;
	return e;
}

static int
pid_known(struct cent *e, pid_t pid)
{
	for (unsigned i = 0; i < e->npid; i++)
		if (e->pids[i] == pid)
			return 1;
	e->pids[e->ring++ % CTX_PIDS] = pid;
	if (e->npid < CTX_PIDS)
		e->npid++;
	return 0;
}

/* Is pid still a process of container id (its cgroup names it)? */
static int
in_container(struct context *cx, pid_t pid, const char *id)
{
	char path[256], text[4096];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/%d/cgroup", cx->proc_root, (int)pid);
	if ((fp = fopen(path, "re")) == NULL)
		return 0;
	n = fread(text, 1, sizeof(text) - 1, fp);
	fclose(fp);
	text[n] = '\0';
	return strstr(text, id) != NULL;
}

static void
add_id(cJSON *o, const char *k, long long v)
{
	if (v >= 0)
		cJSON_AddNumberToObject(o, k, (double)v);
	else
		cJSON_AddNullToObject(o, k);
}

static void
add_caps(cJSON *o, const char *k, uint64_t mask)
{
	cJSON *a = sctx_caps_json(mask);

	if (a)
		cJSON_AddItemToObject(o, k, a);
}

static void
emit(struct context *cx, const cJSON *ev, const struct sctx *c, pid_t pid,
    const char *reason)
{
	const cJSON *ctr = cJSON_GetObjectItemCaseSensitive(ev, "container");
	cJSON *out = event_new_internal("podtrail_container", cx->node);
	cJSON *ns, *viol;
	const char *rule = NULL, *sc;
	long long serial = evf_int(ev, "serial", -1);
	int req = -1;
	unsigned v = 0;

	if (out == NULL)
		return;
	cJSON_AddItemToObject(out, "container", cJSON_Duplicate(ctr, 1));
	cJSON_AddStringToObject(out, "reason", reason);
	if (serial >= 0)
		cJSON_AddNumberToObject(out, "trigger_serial", (double)serial);
	cJSON_AddNumberToObject(out, "pid", (double)pid);
	cJSON_AddStringToObject(out, "comm", c->comm);
	add_id(out, "uid", c->uid);
	add_id(out, "euid", c->euid);
	add_id(out, "gid", c->gid);
	add_id(out, "egid", c->egid);
	add_caps(out, "cap_eff", c->cap_eff);
	add_caps(out, "cap_prm", c->cap_prm);
	add_caps(out, "cap_bnd", c->cap_bnd);
	add_caps(out, "cap_amb", c->cap_amb);
	if (c->no_new_privs >= 0)
		cJSON_AddBoolToObject(out, "no_new_privs", c->no_new_privs);
	else
		cJSON_AddNullToObject(out, "no_new_privs");
	if ((sc = sctx_seccomp_name(c->seccomp)) != NULL)
		cJSON_AddStringToObject(out, "seccomp", sc);
	else
		cJSON_AddNullToObject(out, "seccomp");
	add_id(out, "seccomp_filters", c->seccomp_filters);
	if (c->lsm[0])
		cJSON_AddStringToObject(out, "lsm", c->lsm);
	else
		cJSON_AddNullToObject(out, "lsm");
	if (c->root_read_only >= 0)
		cJSON_AddBoolToObject(out, "root_read_only", c->root_read_only);
	else
		cJSON_AddNullToObject(out, "root_read_only");
	ns = cJSON_AddArrayToObject(out, "host_namespaces");
	for (int i = 0; ns && i < SCTX_NNS; i++)
		if (c->host_ns & (1u << i))
			cJSON_AddItemToArray(ns,
			    cJSON_CreateStringReference(sctx_ns_name(i)));
	if (cx->policy)
		req = policy_required(cx->policy, evf_str(ctr, "pod_namespace"),
		    evf_str(ctr, "pod_name"), &rule);
	if (req >= 0)
		v = policy_violations((unsigned)req, c);
	if (rule)
		cJSON_AddStringToObject(out, "policy_rule", rule);
	else
		cJSON_AddNullToObject(out, "policy_rule");
	viol = cJSON_AddArrayToObject(out, "violations");
	for (int i = 0; viol && i < POLICY_NREQ; i++)
		if (v & (1u << i)) {
			cJSON_AddItemToArray(viol, cJSON_CreateStringReference(
			    policy_req_name(1u << i)));
			cx->by_req[i]++;
		}
	if (v)
		cx->flagged++;
	cx->events++;
	cx->emit(out, cx->arg);
}

/*
 * Read pid, or its parent when pid is gone and the parent is still in
 * the container (a shell's short-lived child made the event). The
 * process read must already run the container's program.
 */
static pid_t
read_ctx(struct context *cx, const char *id, pid_t pid, pid_t ppid,
    int only_status, struct sctx *c)
{
	if (sctx_read(cx->proc_root, pid, &cx->host, only_status, c) == 0 &&
	    !runtime_proc(cx, pid, c->comm))
		return pid;
	if (ppid > 1 && in_container(cx, ppid, id) &&
	    sctx_read(cx->proc_root, ppid, &cx->host, only_status, c) == 0 &&
	    !runtime_proc(cx, ppid, c->comm))
		return ppid;
	return -1;
}

void
context_event(struct context *cx, const cJSON *ev)
{
	const cJSON *ctr, *proc;
	const char *id, *type = evf_str(ev, "type");
	struct cent *e;
	struct sctx now;
	pid_t pid, ppid, got;
	long long t;

	if (type == NULL || strcmp(type, "audit") != 0 ||
	    !cJSON_IsObject(ctr = cJSON_GetObjectItemCaseSensitive(ev,
	    "container")) || (id = evf_str(ctr, "id")) == NULL ||
	    !cJSON_IsObject(proc = cJSON_GetObjectItemCaseSensitive(ev,
	    "process")))
		return;
	if ((e = find(cx, id, 1)) == NULL)
		return;
	pid = (pid_t)evf_int(proc, "pid", -1);
	if (pid <= 0 || runtime_init(evf_str(proc, "comm"),
	    evf_str(proc, "exe")))
		return;
	t = loop_now_ms();
	e->seen_ms = t;
	if (pid_known(e, pid))
		return;
	ppid = (pid_t)evf_int(proc, "ppid", -1);
	if (!e->reported) {
		if (e->tries >= CTX_TRIES)
			return;
		if ((got = read_ctx(cx, id, pid, ppid, 0, &now)) == -1) {
			e->tries++;
			cx->unread++;
			return;
		}
		e->rec = now;
		e->reported = 1;
		e->full_ms = t;
		cx->first++;
		emit(cx, ev, &now, got, "first_seen");
		return;
	}
	/* the status says most; the rest is re-read at most once a second */
	if ((got = read_ctx(cx, id, pid, ppid, 1, &now)) == -1)
		return;
	if (!sctx_wider(&e->rec, &now) && t - e->full_ms < CTX_FULL_MS)
		return;
	if (sctx_read(cx->proc_root, got, &cx->host, 0, &now) == -1)
		return;
	e->full_ms = t;
	if (!sctx_wider(&e->rec, &now))
		return;
	sctx_merge(&e->rec, &now);
	cx->wider++;
	emit(cx, ev, &now, got, "wider");
}

struct context *
context_open(const struct conf *c, const char *proc_root, const char *node,
    context_emit_cb emit_cb, void *arg)
{
	struct context *cx = calloc(1, sizeof(*cx));
	char err[1024];

	if (cx == NULL || (cx->proc_root = strdup(proc_root)) == NULL) {
		log_warn("container context");
		free(cx);
		return NULL;
	}
	snprintf(cx->node, sizeof(cx->node), "%s", node);
	cx->emit = emit_cb;
	cx->arg = arg;
	if (c->policy_file && *c->policy_file) {
		if ((cx->policy = policy_load(c->policy_file, err,
		    sizeof(err))) == NULL) {
			log_warnx("%s", err);
			goto err;
		}
		log_info("policy_file %s: %zu rules", c->policy_file,
		    policy_count(cx->policy));
	}
	if (sctx_host_read(proc_root, &cx->host) == -1)
		log_warnx("container context: cannot read %s/1/ns nor our own: "
		    "host namespaces are not reported", proc_root);
	else if (!sctx_host_is_pid1(proc_root))
		log_info("container context: %s/1/ns is not readable; host "
		    "namespaces are compared with podtrail's own", proc_root);
	return cx;
err:
	context_close(cx);
	return NULL;
}

void
context_stats(struct context *cx, cJSON *obj)
{
	cJSON *by;

	cJSON_AddNumberToObject(obj, "container_context_events", (double)cx->events);
	cJSON_AddNumberToObject(obj, "container_context_first", (double)cx->first);
	cJSON_AddNumberToObject(obj, "container_context_wider", (double)cx->wider);
	cJSON_AddNumberToObject(obj, "container_context_unread", (double)cx->unread);
	cJSON_AddNumberToObject(obj, "container_context_tracked", (double)cx->n);
	cJSON_AddNumberToObject(obj, "container_policy_violations",
	    (double)cx->flagged);
	if (cx->policy && (by = cJSON_AddObjectToObject(obj,
	    "container_violations_by_requirement")) != NULL)
		for (int i = 0; i < POLICY_NREQ; i++)
			cJSON_AddNumberToObject(by, policy_req_name(1u << i),
			    (double)cx->by_req[i]);
}

void
context_close(struct context *cx)
{
	if (cx == NULL)
		return;
	for (size_t i = 0; i < CTX_BUCKETS; i++)
		while (cx->b[i]) {
			struct cent *e = cx->b[i];

			cx->b[i] = e->next;
			free(e);
		}
	policy_free(cx->policy);
	free(cx->proc_root);
	free(cx);
}
