/* conf.c - the option table and the key = value file parser. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "conf.h"
#include "conf_access.h"
#include "log.h"

/*
 * Value types. T_MULTI is repeatable, each value kept whole (commas
 * and all). Past T_LIST they are strings too, checked once the file
 * and the flags are merged (conf_check): T_ENUM one of its enums[]
 * values; T_FILE a file podtrail reads; T_SECRET that, and private;
 * T_OUTFILE a file podtrail writes (its directory must exist); T_DIR a
 * directory podtrail creates if missing; T_USER a user name.
 */
enum conf_type {
	T_STR, T_INT, T_BOOL, T_SIZE, T_MULTI, T_LIST,
	T_ENUM, T_FILE, T_SECRET, T_OUTFILE, T_DIR, T_USER, T_URL
};

struct conf_opt {
	const char *name;
	enum conf_type type;
	size_t off;
	const char *def;	/* text form, parsed like a file value */
	long long min, max;	/* T_INT and T_SIZE */
	const char *help;
	int live;		/* 1: SIGHUP applies it; 0: needs a restart */
};

#define O(f) offsetof(struct conf, f)
#define SZMAX (1LL << 40)
/* longest config line accepted: a value is a path or a URL, not a blob */
#define CONF_LINE_MAX 8192

static const struct conf_opt opts[] = {
	{ "source", T_ENUM, O(source), "stdin", 0, 0,
	  "where records come from: stdin (auditd plugin), file:PATH (replay), netlink (multicast, beside auditd), netlink-unicast (as the audit daemon)", 0 },
	{ "output", T_ENUM, O(output), "-", 0, 0,
	  "where events go: - (stdout, NDJSON), file:PATH, an https:// URL, or nats://HOST:PORT[,HOST:PORT...] (NATS JetStream)", 0 },
	{ "node", T_STR, O(node), "", 0, 0,
	  "node name reported in events (default: the host name)", 0 },
	{ "eoe_timeout", T_INT, O(eoe_timeout), "2", 1, 600,
	  "seconds after which an event that never saw its EOE record is emitted", 0 },
	{ "event_max_records", T_INT, O(event_max_records), "4096", 16, 1000000,
	  "most records one event may hold (the kernel's largest, a 6 MiB execve, makes ~1,700); further records of it are dropped and counted in the event's truncated member", 0 },
	{ "event_max_bytes", T_SIZE, O(event_max_bytes), "16M", 65536, 1LL << 30,
	  "most bytes of record text one event may hold; further records of it are dropped and counted in the event's truncated member", 0 },
	{ "log_level", T_ENUM, O(log_level), "info", 0, 0,
	  "error, warning, info or debug", 1 },
	{ "foreground", T_BOOL, O(foreground), "yes", 0, 0,
	  "log to stderr instead of syslog", 1 },
	{ "rcvbuf", T_SIZE, O(rcvbuf), "32M", 65536, 1LL << 31,
	  "netlink receive buffer in bytes (SO_RCVBUFFORCE when permitted); kernel memory, used only while podtrail is behind", 0 },
	{ "ring_bytes", T_SIZE, O(ring_bytes), "64M", 0, 1LL << 34,
	  "netlink: a drain thread empties the socket into a ring of this many bytes that the main loop reads, so a loop held up by a burst loses nothing until the ring is full (multicast: then records are dropped and reported, cause ring_full; unicast: the kernel waits); resident only while podtrail is behind; 0: no drain thread", 0 },
	{ "priority_boost", T_INT, O(priority_boost), "10", 0, 20,
	  "lower podtrail's nice value by this much at start (as auditd.conf's priority_boost), so busy audited processes cannot starve the multicast reader into losing records (needs CAP_SYS_NICE; 0: leave)", 0 },
	{ "helper_threads", T_ENUM, O(helper_threads), "auto", 0, 0,
	  "work on helper threads: yes, no, or auto (a replayed file: faster to catch up; a netlink source: only while the loop is behind its ring, as they cost more CPU per event than they save while it keeps up); input is parsed on one, and requests are gzip'd on another", 0 },
	{ "force", T_BOOL, O(force), "no", 0, 0,
	  "netlink-unicast: take the audit pid even if another daemon holds it", 0 },
	{ "backlog_limit", T_INT, O(backlog_limit), "8192", 0, 1LL << 30,
	  "netlink-unicast: kernel audit backlog (records queued for podtrail) while podtrail runs, restored at exit (0: leave as configured)", 0 },
	{ "backlog_wait_time", T_INT, O(backlog_wait_time), "0", 0, 600000,
	  "netlink-unicast: how long (jiffies) an audited process may wait for backlog room; only ever lowered, restored at exit (0: leave as configured)", 0 },
	{ "install_rules", T_BOOL, O(install_rules), "no", 0, 0,
	  "load podtrail's rule pack at start and remove it at exit", 0 },
	{ "keep_rules", T_BOOL, O(keep_rules), "no", 0, 0,
	  "with install_rules: leave the rules loaded at exit", 0 },
	{ "kubelet_root", T_STR, O(kubelet_root), "/var/lib/kubelet", 0, 0,
	  "kubelet's root directory (pods live in ROOT/pods)", 0 },
	{ "hostpath", T_LIST, O(hostpath), "", 0, 0,
	  "hostPath directories to watch (repeatable; comma-separated in the file)", 0 },
	{ "hostpath_discovery_max", T_INT, O(hostpath_discovery_max), "64", 0, 1024,
	  "at most this many hostPath directories found in containers' mount tables are tracked and (with install_rules) watched, each while a container mounts it (0: no discovery)", 0 },
	{ "runtime_state_dirs", T_LIST, O(runtime_state_dirs), "", 0, 0,
	  "where container runtimes keep each container's config.json (names, sandbox, image; repeatable; empty: /run/containerd, /run/crio, /run/containers/storage, /run/docker, /run/libpod)", 0 },
	{ "heartbeat_interval", T_INT, O(heartbeat_interval), "60", 0, 86400,
	  "seconds between podtrail_heartbeat events (0: none)", 1 },
	{ "status_interval", T_INT, O(status_interval), "5", 1, 3600,
	  "seconds between polls of the kernel's audit status (lost counter)", 0 },
	{ "enrich", T_BOOL, O(enrich), "yes", 0, 0,
	  "add container, pod and volume attribution", 0 },
	{ "proc_connector", T_BOOL, O(proc_connector), "yes", 0, 0,
	  "learn processes at fork/exec (kernel process connector) so short-lived ones are attributed", 0 },
	{ "pod_log_dir", T_STR, O(pod_log_dir), "/var/log/pods", 0, 0,
	  "kubelet's pod log directory, used to name pods and containers the runtime's annotations do not name", 0 },
	{ "container_context", T_BOOL, O(container_context), "yes", 0, 0,
	  "a podtrail_container event per container (ids, capabilities, no_new_privs, seccomp, LSM label, read-only root, host namespaces) read from /proc when it is first seen and when a process of it runs with more (live sources only)", 0 },
	{ "policy_file", T_FILE, O(policy_file), "", 0, 0,
	  "baseline for container contexts: lines 'NAMESPACE_GLOB[/POD_GLOB]: REQ, ...' with non_root, no_capabilities, no_new_privs, seccomp, read_only_root, no_host_namespaces; the first matching line applies (empty: none)", 0 },
	{ "disk_interval", T_INT, O(disk_interval), "10", 0, 86400,
	  "seconds between samples of the file systems behind pod volumes (statvfs, and fstatat of the tracked files); 0: no disk reports (live sources only)", 0 },
	{ "disk_thresholds", T_STR, O(disk_thresholds), "80,90,95", 0, 0,
	  "percent used at which a podtrail_disk report is made, ascending; a level is reported again after usage fell 5 points below it", 0 },
	{ "disk_min_free", T_SIZE, O(disk_min_free), "0", 0, SZMAX,
	  "also report a file system behind pod volumes whose free bytes fall below this (0: no floor)", 0 },
	{ "disk_tracked_files", T_INT, O(disk_tracked_files), "4096", 16, 1000000,
	  "files written in pod volumes whose size is sampled (~150 bytes each); past it the least recently grown is dropped", 0 },
	{ "disk_top_writers", T_INT, O(disk_top_writers), "5", 1, 100,
	  "writers (pod, container, volume) listed in a podtrail_disk report", 0 },
	{ "volume_metrics_top", T_INT, O(volume_metrics_top), "10", 0, 1000,
	  "volumes with their own volume_written_bytes series (the most written; the rest are summed as \"other\")", 0 },
	{ "state_dir", T_DIR, O(state_dir), "/var/lib/podtrail", 0, 0,
	  "directory for the spool, dead letters and chain state (mode 0700)", 0 },
	{ "format", T_ENUM, O(format), "ndjson", 0, 0,
	  "HTTPS payload: ndjson, elasticsearch (_bulk), splunk-hec, loki (push API) or otlp (OTLP/HTTP JSON logs)", 0 },
	{ "schema", T_ENUM, O(schema), "native", 0, 0,
	  "field names of each event for ndjson, elasticsearch and splunk-hec: native, ecs (auditbeat's names) or otel (OpenTelemetry's); ecs and otel keep the chained line in event.original", 0 },
	{ "content_type", T_STR, O(content_type), "", 0, 0,
	  "Content-Type of the requests (empty: the format's, application/x-ndjson for ndjson and elasticsearch, else application/json; Fluent Bit's http input needs application/json)", 0 },
	{ "es_index", T_STR, O(es_index), "podtrail", 0, 0,
	  "index name for the elasticsearch format", 0 },
	{ "batch_events", T_INT, O(batch_events), "1000", 1, 1000000,
	  "send a batch when it holds this many events", 1 },
	{ "batch_bytes", T_SIZE, O(batch_bytes), "1M", 1024, 1LL << 30,
	  "send a batch when it holds this many bytes", 1 },
	{ "batch_age_ms", T_INT, O(batch_age_ms), "1000", 1, 3600000,
	  "send a batch when its oldest event is this old (ms)", 1 },
	{ "ca_file", T_FILE, O(ca_file), "", 0, 0,
	  "CA bundle to verify the aggregator (default: the system's)", 0 },
	{ "client_cert", T_FILE, O(client_cert), "", 0, 0,
	  "client certificate for mutual TLS (PEM)", 0 },
	{ "client_key", T_SECRET, O(client_key), "", 0, 0,
	  "client key for mutual TLS (PEM, not readable by others)", 0 },
	{ "token_file", T_SECRET, O(token_file), "", 0, 0,
	  "file holding a bearer token (not readable by others)", 0 },
	{ "basic_auth_file", T_SECRET, O(basic_auth_file), "", 0, 0,
	  "file holding USER:PASSWORD for HTTP Basic authentication (not readable by others)", 0 },
	{ "api_key_file", T_SECRET, O(api_key_file), "", 0, 0,
	  "file holding an Elasticsearch API key (the encoded form), sent as Authorization: ApiKey (not readable by others)", 0 },
	{ "header", T_MULTI, O(header), "", 0, 0,
	  "an extra request header, Name: value (repeatable; one per line in the file)", 0 },
	{ "hmac_key_file", T_SECRET, O(hmac_key_file), "", 0, 0,
	  "key file for HMAC-SHA256 chain hashes (not readable by others)", 0 },
	{ "checkpoint_interval", T_INT, O(checkpoint_interval), "10", 1, 86400,
	  "seconds between signed checkpoints in the stream (also while idle, and one at a clean stop)", 0 },
	{ "checkpoint_output", T_STR, O(checkpoint_output), "", 0, 0,
	  "a second destination for the signed checkpoints only (a witness): file:PATH or an https:// URL (empty: none)", 0 },
	{ "key_epoch", T_INT, O(key_epoch), "3600", 0, 1LL << 30,
	  "seconds between new signing keys; each is certified by the previous one, which is then destroyed (0: never)", 0 },
	{ "allow_http", T_BOOL, O(allow_http), "no", 0, 0,
	  "permit plain http:// to a loopback address (testing only)", 0 },
	{ "timeout_ms", T_INT, O(timeout_ms), "10000", 100, 600000,
	  "HTTPS request timeout (ms)", 1 },
	{ "spool_max_bytes", T_SIZE, O(spool_max_bytes), "256M", 65536, SZMAX,
	  "spool size cap, in gzip'd bytes (~100 bytes per event here, 6-20x less than the JSON); past it the oldest data is dropped and reported", 0 },
	{ "spool_min_free", T_SIZE, O(spool_min_free), "64M", 0, SZMAX,
	  "free space to leave on the spool's file system", 0 },
	{ "nats_stream", T_STR, O(nats_stream), "PODTRAIL", 0, 0,
	  "nats:// output: the JetStream stream; created with podtrail's definition (deploy/nats-stream.json: deny_delete, deny_purge, 3 replicas, 90 days) when missing, used as it is when it exists", 0 },
	{ "nats_subject", T_STR, O(nats_subject), "podtrail.NODE", 0, 0,
	  "nats:// output: the subject batches are published to; a NODE token becomes the node name", 0 },
	{ "nats_creds", T_SECRET, O(nats_creds), "", 0, 0,
	  "nats:// output: NATS credentials file (user JWT and NKey seed; not readable by others)", 0 },
	{ "metrics_file", T_OUTFILE, O(metrics_file), "", 0, 0,
	  "Prometheus textfile to write counters to (empty: none)", 1 },
	{ "metrics_interval", T_INT, O(metrics_interval), "15", 1, 86400,
	  "seconds between rewrites of metrics_file", 1 },
	{ "user", T_USER, O(user), "", 0, 0,
	  "switch to this user (and its group, no supplementary groups) once everything privileged is open and before any helper thread starts, keeping only the capabilities still used (empty: stay)", 0 },
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

/*
 * The values a T_ENUM option takes. One ending in ':' or "//" is a
 * prefix: the rest (not empty) is checked as the type beside it.
 */
#define ENUM_MAX 8
static const struct conf_enum {
	const char *opt;
	struct conf_value {
		const char *v;
		enum conf_type rest;
	} vals[ENUM_MAX];
} enums[] = {
	{ "source", { { "stdin", T_STR }, { "file:", T_FILE },
	    { "netlink", T_STR }, { "netlink-unicast", T_STR } } },
	{ "output", { { "-", T_STR }, { "file:", T_OUTFILE },
	    { "https://", T_URL }, { "http://", T_URL },
	    { "nats://", T_URL } } },
	{ "log_level", { { "error", T_STR }, { "warning", T_STR },
	    { "info", T_STR }, { "debug", T_STR } } },
	{ "helper_threads", { { "auto", T_STR }, { "yes", T_STR },
	    { "no", T_STR } } },
	{ "format", { { "ndjson", T_STR }, { "elasticsearch", T_STR },
	    { "splunk-hec", T_STR }, { "loki", T_STR }, { "otlp", T_STR } } },
	{ "schema", { { "native", T_STR }, { "ecs", T_STR },
	    { "otel", T_STR } } },
};

static int
is_string(enum conf_type t)
{
	return t == T_STR || t > T_LIST;
}

static int
is_prefix(const char *v)
{
	size_t n = strlen(v);

	return n && (v[n - 1] == ':' || (n > 2 && !strcmp(v + n - 2, "//")));
}

static const struct conf_enum *
find_enum(const char *opt)
{
	for (size_t i = 0; i < sizeof(enums) / sizeof(enums[0]); i++)
		if (strcmp(enums[i].opt, opt) == 0)
			return &enums[i];
	return NULL;
}

/* The value of e that v is (or starts with), or NULL. */
static const struct conf_value *
enum_match(const struct conf_enum *e, const char *v)
{
	for (int i = 0; i < ENUM_MAX && e->vals[i].v; i++) {
		const struct conf_value *cv = &e->vals[i];

		if (is_prefix(cv->v) ? strncmp(v, cv->v, strlen(cv->v)) == 0 :
		    strcmp(v, cv->v) == 0)
			return cv;
	}
	return NULL;
}

/* "'x' is not a, b or c" for a bad T_ENUM value. */
static void
enum_error(const struct conf_opt *o, const struct conf_enum *e,
    const char *v, char *err, size_t errlen)
{
	size_t used;
	int n = 0;

	if (errlen == 0)
		return;
	while (n < ENUM_MAX && e->vals[n].v)
		n++;
	snprintf(err, errlen, "%s: '%s' is not ", o->name, v);
	for (int i = 0; i < n; i++) {
		const struct conf_value *cv = &e->vals[i];

		used = strlen(err);
		snprintf(err + used, errlen - used, "%s%s%s",
		    i == 0 ? "" : i == n - 1 ? " or " : ", ", cv->v,
		    !is_prefix(cv->v) ? "" : cv->rest == T_URL ? "..." : "PATH");
	}
}

static const struct conf_opt *
find_opt(const char *name)
{
	for (size_t i = 0; i < NOPTS; i++) {
		const char *a = opts[i].name, *b = name;

		/* '-' on the command line is '_' in the table */
		while (*a && (*a == *b || (*a == '_' && *b == '-'))) {
			a++;
			b++;
		}
		if (*a == '\0' && *b == '\0')
			return &opts[i];
	}
	return NULL;
}

int
conf_is_bool(const char *name)
{
	const struct conf_opt *o = find_opt(name);

	return o ? o->type == T_BOOL : -1;
}

static int
parse_num(const struct conf_opt *o, const char *v, long long *out)
{
	char *end;
	long long n, mul = 1;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (end == v || errno)
		return -1;
	if (o->type == T_SIZE && *end) {
		switch (toupper((unsigned char)*end)) {
		case 'K': mul = 1LL << 10; break;
		case 'M': mul = 1LL << 20; break;
		case 'G': mul = 1LL << 30; break;
		default: return -1;
		}
		end++;
	}
	if (*end || n > LLONG_MAX / mul || n < LLONG_MIN / mul)
		return -1;
	*out = n * mul;
	return 0;
}

/* Set o from its text form; the value checks that need nothing else. */
static int
set_value(struct conf *c, const struct conf_opt *o, const char *value,
    char *err, size_t errlen)
{
	void *p;
	long long n;

	p = (char *)c + o->off;
	if (o->type == T_ENUM) {
		const struct conf_enum *e = find_enum(o->name);
		const struct conf_value *cv;

		if (e == NULL) {
			snprintf(err, errlen, "%s: no values listed in enums[]",
			    o->name);
			return -1;
		}
		if ((cv = enum_match(e, value)) == NULL) {
			enum_error(o, e, value, err, errlen);
			return -1;
		}
		if (is_prefix(cv->v) && value[strlen(cv->v)] == '\0') {
			snprintf(err, errlen, "%s: '%s' needs a %s after it",
			    o->name, value, cv->rest == T_URL ? "host" : "path");
			return -1;
		}
	}
	if (is_string(o->type)) {
		char *s = strdup(value);

		if (s == NULL)
			goto nomem;
		free(*(char **)p);
		*(char **)p = s;
		return 0;
	}
	switch (o->type) {
	case T_LIST: {
		struct conf_list *l = p;
		const char *v = value;

		/* comma-separated; each piece trimmed and appended */
		while (*v) {
			size_t len, skip;

			v += strspn(v, " \t");
			len = strcspn(v, ",");
			skip = len + (v[len] == ',');
			while (len && (v[len - 1] == ' ' || v[len - 1] == '\t'))
				len--;
			if (len) {
				if (l->n == CONF_LIST_MAX) {
					snprintf(err, errlen,
					    "%s: more than %d entries", o->name,
					    CONF_LIST_MAX);
					return -1;
				}
				if ((l->v[l->n] = strndup(v, len)) == NULL)
					goto nomem;
				l->n++;
			}
			v += skip;
		}
		return 0;
	}
	case T_MULTI: {
		struct conf_list *l = p;

		/* the whole value, commas and all (a header value has them) */
		if (*value == '\0')
			return 0;
		if (l->n == CONF_LIST_MAX) {
			snprintf(err, errlen, "%s: more than %d entries", o->name,
			    CONF_LIST_MAX);
			return -1;
		}
		if ((l->v[l->n] = strdup(value)) == NULL)
			goto nomem;
		l->n++;
		return 0;
	}
	case T_BOOL:
		if (!strcmp(value, "yes") || !strcmp(value, "true") ||
		    !strcmp(value, "1"))
			*(int *)p = 1;
		else if (!strcmp(value, "no") || !strcmp(value, "false") ||
		    !strcmp(value, "0"))
			*(int *)p = 0;
		else {
			snprintf(err, errlen, "%s: '%s' is not yes or no",
			    o->name, value);
			return -1;
		}
		return 0;
	case T_INT:
	case T_SIZE:
		if (parse_num(o, value, &n) == -1 || n < o->min || n > o->max) {
			snprintf(err, errlen,
			    "%s: '%s' is not %s between %lld and %lld", o->name,
			    value, o->type == T_SIZE ? "a size" : "a number",
			    o->min, o->max);
			return -1;
		}
		*(long long *)p = n;
		return 0;
	default:
		break;
	}
	return -1;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* Note where o's value came from: a line of c->from_file, or a flag. */
static void
set_origin(struct conf *c, const struct conf_opt *o, unsigned line)
{
	if (c->from_line)
		c->from_line[o - opts] = line;
}

int
conf_set(struct conf *c, const char *name, const char *value, char *err,
    size_t errlen)
{
	const struct conf_opt *o = find_opt(name);

	if (o == NULL) {
		snprintf(err, errlen, "unknown option '%s'", name);
		return -1;
	}
	if (set_value(c, o, value, err, errlen) == -1)
		return -1;
	set_origin(c, o, CONF_FROM_FLAG);
	return 0;
}

int
conf_defaults(struct conf *c)
{
	char err[256];

	memset(c, 0, sizeof(*c));
	if ((c->from_line = calloc(NOPTS, sizeof(*c->from_line))) == NULL) {
		log_warn("conf");
		return -1;
	}
	for (size_t i = 0; i < NOPTS; i++) {
		if (set_value(c, &opts[i], opts[i].def, err, sizeof(err))) {
			log_warnx("default of %s: %s", opts[i].name, err);
			conf_free(c);
			return -1;
		}
	}
	return 0;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
conf_load_err(struct conf *c, const char *path, int must_exist, char *err,
    size_t errlen)
{
	char *line = NULL, why[512];
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0, first[NOPTS] = { 0 };
	int rc = -1;
	FILE *fp = NULL;
	struct stat st;
	char *name;
	int fd;

	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		if (errno == ENOENT && !must_exist)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* a device, FIFO or directory would block, never end, or fail late */
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if ((fp = fdopen(fd, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if ((name = strdup(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	free(c->from_file);
	c->from_file = name;
	while ((len = getline(&line, &cap, fp)) != -1) {
		const struct conf_opt *o;
		char *s, *eq, *key, *val;

		lineno++;
		if (len > CONF_LINE_MAX) {
			snprintf(err, errlen, "%s:%u: line longer than %d bytes",
			    path, lineno, CONF_LINE_MAX);
			goto out;
		}
		/* a NUL would cut the value short without a word */
		if (memchr(line, '\0', (size_t)len) != NULL) {
			snprintf(err, errlen, "%s:%u: NUL byte in line", path,
			    lineno);
			goto out;
		}
		s = trim(line);
		if (*s == '\0' || *s == '#')
			continue;
		if ((eq = strchr(s, '=')) == NULL) {
			snprintf(err, errlen, "%s:%u: expected 'key = value'",
			    path, lineno);
			goto out;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		if ((o = find_opt(key)) == NULL) {
			snprintf(err, errlen, "%s:%u: unknown option '%s'",
			    path, lineno, key);
			goto out;
		}
		if (set_value(c, o, val, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			goto out;
		}
		/*
		 * The last one wins, as in auditd.conf (appending an
		 * override is common; refusing to start would stop the
		 * audit trail), but not silently. A list adds up.
		 */
		if (first[o - opts] && o->type != T_LIST && o->type != T_MULTI)
			log_warnx("%s:%u: %s given again (first at line %u); "
			    "this value is used", path, lineno, o->name,
			    first[o - opts]);
		first[o - opts] = lineno;
		set_origin(c, o, lineno);
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	rc = 0;
out:
	free(line);
	fclose(fp);
	return rc;
}

int
conf_load(struct conf *c, const char *path, int must_exist)
{
	char err[1024];

	if (conf_load_err(c, path, must_exist, err, sizeof(err)) == -1) {
		/* "FILE:LINE: reason" alone: the form editors jump to */
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int
opt_equal(const struct conf_opt *o, const struct conf *a, const struct conf *b)
{
	const void *pa = (const char *)a + o->off, *pb = (const char *)b + o->off;

	if (is_string(o->type))
		return strcmp(*(char *const *)pa, *(char *const *)pb) == 0;
	switch (o->type) {
	case T_BOOL:
		return *(const int *)pa == *(const int *)pb;
	case T_INT:
	case T_SIZE:
		return *(const long long *)pa == *(const long long *)pb;
	case T_LIST:
	case T_MULTI: {
		const struct conf_list *la = pa, *lb = pb;

		if (la->n != lb->n)
			return 0;
		for (int i = 0; i < la->n; i++)
			if (strcmp(la->v[i], lb->v[i]))
				return 0;
		return 1;
	}
	default:
		break;
	}
	return 0;
}

int
conf_apply_live(struct conf *cur, struct conf *next, conf_change_cb cb,
    void *arg)
{
	int n = 0;

	for (size_t i = 0; i < NOPTS; i++) {
		const struct conf_opt *o = &opts[i];
		char *pc = (char *)cur + o->off, *pn = (char *)next + o->off;
		size_t sz;

		if (opt_equal(o, cur, next))
			continue;
		if (cb)
			cb(o->name, o->live, arg);
		if (!o->live)
			continue;
		/* swap, so next owns (and frees) the old value */
		switch (o->type) {
		case T_BOOL: sz = sizeof(int); break;
		case T_INT:
		case T_SIZE: sz = sizeof(long long); break;
		case T_LIST: sz = sizeof(struct conf_list); break;
		default: sz = sizeof(char *); break;
		}
		{
			char tmp[sizeof(struct conf_list)];

			memcpy(tmp, pc, sz);
			memcpy(pc, pn, sz);
			memcpy(pn, tmp, sz);
		}
		n++;
	}
	return n;
}

void
conf_free(struct conf *c)
{
	for (size_t i = 0; i < NOPTS; i++) {
		void *p = (char *)c + opts[i].off;

		if (is_string(opts[i].type)) {
			free(*(char **)p);
			*(char **)p = NULL;
		} else if (opts[i].type == T_LIST || opts[i].type == T_MULTI) {
			struct conf_list *l = p;

			for (int j = 0; j < l->n; j++)
				free(l->v[j]);
			l->n = 0;
		}
	}
	free(c->from_file);
	c->from_file = NULL;
	free(c->from_line);
	c->from_line = NULL;
}

void
conf_print_table(FILE *fp, int man)
{
	for (size_t i = 0; i < NOPTS; i++) {
		const struct conf_opt *o = &opts[i];

		if (man)
			fprintf(fp, ".TP\n.B %s\n%s. Default: %s.%s\n",
			    o->name, o->help, *o->def ? o->def : "empty",
			    o->live ? " Applied on SIGHUP." : "");
		else
			fprintf(fp, "  %-20s %s [%s]\n", o->name, o->help,
			    o->def);
	}
}

const char *
conf_where(const struct conf *c, const char *name, char *buf, size_t len)
{
	const struct conf_opt *o = find_opt(name);
	unsigned line = o && c->from_line ? c->from_line[o - opts] : 0;

	if (line == CONF_FROM_FLAG)
		snprintf(buf, len, "podtrail: --");
	else if (line && c->from_file)
		snprintf(buf, len, "%s:%u: ", c->from_file, line);
	else
		snprintf(buf, len, "podtrail: ");
	return buf;
}

static int
check_value(enum conf_type t, const char *v, char *why, size_t len)
{
	switch (t) {
	case T_FILE:
		return conf_access_read(v, why, len);
	case T_SECRET:
		return conf_access_secret(v, why, len);
	case T_OUTFILE:
		return conf_access_outfile(v, why, len);
	case T_DIR:
		return conf_access_dir(v, why, len);
	case T_USER:
		errno = 0;
		if (getpwnam(v) != NULL)
			return 0;
		if (errno)
			snprintf(why, len, "'%s': %s", v, strerror(errno));
		else
			snprintf(why, len, "no user '%s'", v);
		return -1;
	default:
		return 0;	/* T_URL: the output module's (cli_check) */
	}
}

int
conf_check(const struct conf *c, const struct conf *running, char *err,
    size_t errlen)
{
	char why[PATH_MAX + 256], where[PATH_MAX + 32];

	for (size_t i = 0; i < NOPTS; i++) {
		const struct conf_opt *o = &opts[i];
		enum conf_type t = o->type;
		const char *v;

		if (t <= T_LIST || (running && opt_equal(o, c, running)))
			continue;
		v = *(char *const *)((const char *)c + o->off);
		if (t == T_ENUM) {
			const struct conf_value *cv;

			cv = enum_match(find_enum(o->name), v);
			if (cv == NULL || !is_prefix(cv->v))
				continue;
			t = cv->rest;
			v += strlen(cv->v);
		}
		if (*v == '\0' || check_value(t, v, why, sizeof(why)) == 0)
			continue;
		snprintf(err, errlen, "%s%s: %s", conf_where(c, o->name, where,
		    sizeof(where)), o->name, why);
		return -1;
	}
	return 0;
}

