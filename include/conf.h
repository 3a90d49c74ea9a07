/*
 * conf.h - podtrail's settings, driven by one table (conf.c) that the
 * config file parser, the command line and the man page all share.
 */
#ifndef PODTRAIL_CONF_H
#define PODTRAIL_CONF_H

#include <stddef.h>
#include <stdio.h>

#define CONF_DEFAULT_FILE "/etc/podtrail/podtrail.conf"
#define CONF_LIST_MAX 32

struct conf_list {
	char *v[CONF_LIST_MAX];
	int n;
};

/* Every setting; names match the config file keys. */
struct conf {
	/* pipeline */
	char *source;		/* stdin | file:PATH | netlink | netlink-unicast */
	char *output;		/* - | file:PATH | https://... | nats://... */
	char *node;		/* host name reported in events */
	long long eoe_timeout;	/* s: end an event without EOE */
	long long event_max_records;	/* records one event may hold */
	long long event_max_bytes;	/* bytes of text one event may hold */
	char *log_level;
	int foreground;
	/* kernel source and rules */
	long long rcvbuf;	/* bytes, netlink socket receive buffer */
	long long ring_bytes;	/* netlink drain thread's ring, 0 = none */
	long long priority_boost;	/* nice decrement at start, 0 = leave */
	char *helper_threads;	/* auto | yes | no: thread_plan.h */
	int force;		/* unicast: take over the audit pid */
	long long backlog_limit;	/* unicast: kernel backlog, 0 = leave */
	long long backlog_wait_time;	/* unicast: lower only, 0 = leave */
	int install_rules;
	int keep_rules;
	char *kubelet_root;
	struct conf_list hostpath;
	long long hostpath_discovery_max;	/* 0: no discovery */
	struct conf_list runtime_state_dirs;	/* empty: RT_DEFAULT_DIRS */
	long long heartbeat_interval;	/* s, 0 = off */
	long long status_interval;	/* s, AUDIT_GET polling */
	/* correlation */
	int enrich;
	int proc_connector;	/* learn processes at fork/exec */
	char *pod_log_dir;
	int container_context;	/* podtrail_container events */
	char *policy_file;	/* baseline for container contexts */
	long long disk_interval;	/* s between disk samples, 0 = off */
	char *disk_thresholds;	/* "80,90,95" */
	long long disk_min_free;	/* bytes, 0 = no floor */
	long long disk_tracked_files;
	long long disk_top_writers;
	long long volume_metrics_top;
	/* forwarding */
	char *state_dir;
	char *format;		/* ndjson | elasticsearch | splunk-hec | loki | otlp */
	char *schema;		/* native | ecs | otel */
	char *content_type;	/* empty: the format's */
	char *es_index;
	long long batch_events;
	long long batch_bytes;
	long long batch_age_ms;
	char *ca_file;
	char *client_cert;
	char *client_key;
	char *token_file;
	char *basic_auth_file;
	char *api_key_file;
	struct conf_list header;	/* "Name: value", repeatable */
	char *hmac_key_file;
	long long checkpoint_interval;	/* s between signed checkpoints */
	char *checkpoint_output;	/* witness: file:PATH | https://... */
	long long key_epoch;	/* s between signing keys, 0 = never */
	int allow_http;
	long long timeout_ms;
	long long spool_max_bytes;
	long long spool_min_free;
	char *nats_stream;	/* JetStream stream (nats:// output) */
	char *nats_subject;	/* subject; a NODE token is the node name */
	char *nats_creds;	/* NATS credentials file (JWT + NKey seed) */
	/* operations */
	char *metrics_file;
	long long metrics_interval;	/* s between metrics_file rewrites */
	char *user;
	/* where each setting came from (conf_where), not settings */
	char *from_file;	/* the file conf_load read last */
	unsigned *from_line;	/* by table row: 0 default, or CONF_FROM_FLAG */
};

#define CONF_FROM_FLAG ((unsigned)-1)

/* Fill c with the table's defaults. 0, or -1 (ENOMEM; logged). */
int conf_defaults(struct conf *c);
/*
 * Set one option by name (with '_' or '-') from its text form, as a
 * flag (conf_where). On error returns -1 and writes a reason into err.
 */
int conf_set(struct conf *c, const char *name, const char *value,
    char *err, size_t errlen);
/* Is name a boolean option (so "--name" alone means yes)? 1, 0, or -1 if unknown. */
int conf_is_bool(const char *name);
/*
 * Read a key = value file. Errors are printed as "FILE:LINE: reason"
 * to stderr. A key given twice takes the last value, with a warning
 * (logged) naming both lines; a list adds up. 0, or -1. A missing file
 * is an error only if must_exist.
 */
int conf_load(struct conf *c, const char *path, int must_exist);
/*
 * Like conf_load, but the error ("FILE:LINE: reason") goes into err
 * instead of stderr, for reloads logged to syslog. 0, or -1.
 */
int conf_load_err(struct conf *c, const char *path, int must_exist,
    char *err, size_t errlen);
/*
 * The checks the merged settings need from the system, without starting:
 * files to read are readable, secrets private too, files to write and
 * directories to create have a writable place, the user exists, for
 * every option (or, with running, only those that differ from it: a
 * reload). 0, or -1 with "FILE:LINE: key: reason" (or "podtrail: --key:
 * reason" for a flag) in err. URLs are the output's to check.
 */
int conf_check(const struct conf *c, const struct conf *running, char *err,
    size_t errlen);
/*
 * Where option name's value came from, as a message prefix written into
 * buf: "FILE:LINE: ", "podtrail: --" (a flag) or "podtrail: " (the
 * default). Returns buf.
 */
const char *conf_where(const struct conf *c, const char *name, char *buf,
    size_t len);
/* Told about each option whose value differs; live: applied now. */
typedef void (*conf_change_cb)(const char *name, int live, void *arg);
/*
 * Move the values of live (SIGHUP-safe) options that differ from next
 * into cur; next keeps cur's old values, to be freed with conf_free.
 * Every difference, live or not, is reported to cb (may be NULL).
 * Returns how many live options changed.
 */
int conf_apply_live(struct conf *cur, struct conf *next, conf_change_cb cb,
    void *arg);
/* Free every string the struct owns. */
void conf_free(struct conf *c);
/* Print the option table (name, default, help) for --help and the man page. */
void conf_print_table(FILE *fp, int man);

#endif
