/* conf.c - the option table and the key = value file parser. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include "conf.h"
#include "log.h"

enum conf_type { T_STR, T_INT, T_BOOL, T_SIZE, T_LIST };

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
	{ "source", T_STR, O(source), "stdin", 0, 0,
	  "where records come from: stdin (auditd plugin), file:PATH (replay), netlink (multicast, beside auditd), netlink-unicast (as the audit daemon)", 0 },
	{ "output", T_STR, O(output), "-", 0, 0,
	  "where events go: - (stdout, NDJSON), file:PATH, or an https:// URL", 0 },
	{ "node", T_STR, O(node), "", 0, 0,
	  "node name reported in events (default: the host name)", 0 },
	{ "eoe_timeout", T_INT, O(eoe_timeout), "2", 1, 600,
	  "seconds after which an event that never saw its EOE record is emitted", 0 },
	{ "log_level", T_STR, O(log_level), "info", 0, 0,
	  "error, warning, info or debug", 1 },
	{ "foreground", T_BOOL, O(foreground), "yes", 0, 0,
	  "log to stderr instead of syslog", 1 },
	{ "rcvbuf", T_SIZE, O(rcvbuf), "32M", 65536, 1LL << 31,
	  "netlink receive buffer in bytes (SO_RCVBUFFORCE when permitted); kernel memory, used only while podtrail is behind", 0 },
	{ "priority_boost", T_INT, O(priority_boost), "10", 0, 20,
	  "lower podtrail's nice value by this much at start (as auditd.conf's priority_boost), so busy audited processes cannot starve the multicast reader into losing records (needs CAP_SYS_NICE; 0: leave)", 0 },
	{ "helper_threads", T_STR, O(helper_threads), "auto", 0, 0,
	  "work on helper threads: yes, no, or auto (only when replaying a file: faster to catch up, but more CPU per event on a live node); a file or stdin is parsed on one (the chain is then hashed on the main thread), netlink records are hashed on one, and requests are gzip'd on another", 0 },
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
	{ "heartbeat_interval", T_INT, O(heartbeat_interval), "60", 0, 86400,
	  "seconds between podtrail_heartbeat events (0: none)", 1 },
	{ "status_interval", T_INT, O(status_interval), "5", 1, 3600,
	  "seconds between polls of the kernel's audit status (lost counter)", 0 },
	{ "enrich", T_BOOL, O(enrich), "yes", 0, 0,
	  "add container, pod and volume attribution", 0 },
	{ "proc_connector", T_BOOL, O(proc_connector), "yes", 0, 0,
	  "learn processes at fork/exec (kernel process connector) so short-lived ones are attributed", 0 },
	{ "pod_log_dir", T_STR, O(pod_log_dir), "/var/log/pods", 0, 0,
	  "kubelet's pod log directory, used to name pods and containers", 0 },
	{ "state_dir", T_STR, O(state_dir), "/var/lib/podtrail", 0, 0,
	  "directory for the spool, dead letters and chain state (mode 0700)", 0 },
	{ "format", T_STR, O(format), "ndjson", 0, 0,
	  "HTTPS payload: ndjson, elasticsearch or splunk-hec", 0 },
	{ "es_index", T_STR, O(es_index), "podtrail", 0, 0,
	  "index name for the elasticsearch format", 0 },
	{ "batch_events", T_INT, O(batch_events), "1000", 1, 1000000,
	  "send a batch when it holds this many events", 1 },
	{ "batch_bytes", T_SIZE, O(batch_bytes), "1M", 1024, 1LL << 30,
	  "send a batch when it holds this many bytes", 1 },
	{ "batch_age_ms", T_INT, O(batch_age_ms), "1000", 1, 3600000,
	  "send a batch when its oldest event is this old (ms)", 1 },
	{ "ca_file", T_STR, O(ca_file), "", 0, 0,
	  "CA bundle to verify the aggregator (default: the system's)", 0 },
	{ "client_cert", T_STR, O(client_cert), "", 0, 0,
	  "client certificate for mutual TLS (PEM)", 0 },
	{ "client_key", T_STR, O(client_key), "", 0, 0,
	  "client key for mutual TLS (PEM, not readable by others)", 0 },
	{ "token_file", T_STR, O(token_file), "", 0, 0,
	  "file holding a bearer token (not readable by others)", 0 },
	{ "hmac_key_file", T_STR, O(hmac_key_file), "", 0, 0,
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
	{ "metrics_file", T_STR, O(metrics_file), "", 0, 0,
	  "Prometheus textfile to write counters to (empty: none)", 1 },
	{ "metrics_interval", T_INT, O(metrics_interval), "15", 1, 86400,
	  "seconds between rewrites of metrics_file", 1 },
	{ "user", T_STR, O(user), "", 0, 0,
	  "switch to this user after start-up (empty: stay)", 0 },
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

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

int
conf_set(struct conf *c, const char *name, const char *value, char *err,
    size_t errlen)
{
	const struct conf_opt *o = find_opt(name);
	void *p;
	long long n;

	if (o == NULL) {
		snprintf(err, errlen, "unknown option '%s'", name);
		return -1;
	}
	p = (char *)c + o->off;
	switch (o->type) {
	case T_STR: {
		char *s = strdup(value);

		if (s == NULL)
			goto nomem;
		free(*(char **)p);
		*(char **)p = s;
		return 0;
	}
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
	}
	return -1;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

int
conf_defaults(struct conf *c)
{
	char err[256];

	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < NOPTS; i++) {
		if (conf_set(c, opts[i].name, opts[i].def, err, sizeof(err))) {
			log_warnx("default of %s: %s", opts[i].name, err);
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

/*
 * A secret named in a config file that others can read is a config
 * error, reported with file:line (and by -n), not only at first use.
 */
static int
check_secret(const char *key, const char *val, char *err, size_t errlen)
{
	static const char *const secrets[] = { "client_key", "token_file",
	    "hmac_key_file" };
	struct stat st;

	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++) {
		if (strcmp(key, secrets[i]) != 0 || *val == '\0')
			continue;
		if (stat(val, &st) == -1) {
			snprintf(err, errlen, "%s: %s: %s", key, val,
			    strerror(errno));
			return -1;
		}
		if (st.st_mode & (S_IRWXG | S_IRWXO)) {
			snprintf(err, errlen, "%s: %s is readable by group or "
			    "others; chmod 600 it", key, val);
			return -1;
		}
	}
	return 0;
}

int
conf_load_err(struct conf *c, const char *path, int must_exist, char *err,
    size_t errlen)
{
	char *line = NULL, why[512];
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;
	int rc = -1;
	FILE *fp = NULL;
	struct stat st;
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
	while ((len = getline(&line, &cap, fp)) != -1) {
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
		if (conf_set(c, key, val, why, sizeof(why)) == -1 ||
		    check_secret(key, val, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, why);
			goto out;
		}
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

	switch (o->type) {
	case T_STR:
		return strcmp(*(char *const *)pa, *(char *const *)pb) == 0;
	case T_BOOL:
		return *(const int *)pa == *(const int *)pb;
	case T_INT:
	case T_SIZE:
		return *(const long long *)pa == *(const long long *)pb;
	case T_LIST: {
		const struct conf_list *la = pa, *lb = pb;

		if (la->n != lb->n)
			return 0;
		for (int i = 0; i < la->n; i++)
			if (strcmp(la->v[i], lb->v[i]))
				return 0;
		return 1;
	}
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
		case T_STR: sz = sizeof(char *); break;
		case T_BOOL: sz = sizeof(int); break;
		case T_INT:
		case T_SIZE: sz = sizeof(long long); break;
		default: sz = sizeof(struct conf_list); break;
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

		if (opts[i].type == T_STR) {
			free(*(char **)p);
			*(char **)p = NULL;
		} else if (opts[i].type == T_LIST) {
			struct conf_list *l = p;

			for (int j = 0; j < l->n; j++)
				free(l->v[j]);
			l->n = 0;
		}
	}
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

int
conf_helper_threads(const struct conf *c)
{
	if (strcmp(c->helper_threads, "yes") == 0)
		return 1;
	if (strcmp(c->helper_threads, "no") == 0)
		return 0;
	if (strcmp(c->helper_threads, "auto") == 0)
		return strncmp(c->source, "file:", 5) == 0;
	return -1;
}
