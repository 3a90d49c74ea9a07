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
	char *output;		/* - | file:PATH | https://... */
	char *node;		/* host name reported in events */
	long long eoe_timeout;	/* s: end an event without EOE */
	char *log_level;
	int foreground;
	/* kernel source and rules */
	long long rcvbuf;	/* bytes, netlink socket receive buffer */
	long long priority_boost;	/* nice decrement at start, 0 = leave */
	char *helper_threads;	/* auto | yes | no */
	int force;		/* unicast: take over the audit pid */
	long long backlog_limit;	/* unicast: kernel backlog, 0 = leave */
	long long backlog_wait_time;	/* unicast: lower only, 0 = leave */
	int install_rules;
	int keep_rules;
	char *kubelet_root;
	struct conf_list hostpath;
	long long heartbeat_interval;	/* s, 0 = off */
	long long status_interval;	/* s, AUDIT_GET polling */
	/* correlation */
	int enrich;
	int proc_connector;	/* learn processes at fork/exec */
	char *pod_log_dir;
	/* forwarding */
	char *state_dir;
	char *format;		/* ndjson | elasticsearch | splunk-hec */
	char *es_index;
	long long batch_events;
	long long batch_bytes;
	long long batch_age_ms;
	char *ca_file;
	char *client_cert;
	char *client_key;
	char *token_file;
	char *hmac_key_file;
	long long checkpoint_interval;	/* s between signed checkpoints */
	char *checkpoint_output;	/* witness: file:PATH | https://... */
	long long key_epoch;	/* s between signing keys, 0 = never */
	int allow_http;
	long long timeout_ms;
	long long spool_max_bytes;
	long long spool_min_free;
	/* operations */
	char *metrics_file;
	long long metrics_interval;	/* s between metrics_file rewrites */
	char *user;
};

/* Fill c with the table's defaults. 0, or -1 (ENOMEM; logged). */
int conf_defaults(struct conf *c);
/*
 * Set one option by name (with '_' or '-') from its text form. On
 * error returns -1 and writes a reason into err.
 */
int conf_set(struct conf *c, const char *name, const char *value,
    char *err, size_t errlen);
/* Is name a boolean option (so "--name" alone means yes)? 1, 0, or -1 if unknown. */
int conf_is_bool(const char *name);
/*
 * Read a key = value file. Errors are printed as "FILE:LINE: reason"
 * to stderr. 0, or -1. A missing file is an error only if must_exist.
 */
int conf_load(struct conf *c, const char *path, int must_exist);
/*
 * Like conf_load, but the error ("FILE:LINE: reason") goes into err
 * instead of stderr, for reloads logged to syslog. 0, or -1.
 */
int conf_load_err(struct conf *c, const char *path, int must_exist,
    char *err, size_t errlen);
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
/*
 * Whether to hand hashing and request building to helper threads:
 * helper_threads yes, or auto and a replayed file (catching up, where
 * they halve the wait; on a live node they cost more CPU per event
 * than they save). -1 for a value that is not auto, yes or no.
 */
int conf_helper_threads(const struct conf *c);
/* Print the option table (name, default, help) for --help and the man page. */
void conf_print_table(FILE *fp, int man);

#endif
