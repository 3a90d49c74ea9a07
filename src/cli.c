/*
 * cli.c - the command line: -c FILE first, then --OPTION=VALUE over
 * it. Used at start-up and again on SIGHUP, so errors go into a buffer
 * the caller prints (stderr) or logs (syslog).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "conf.h"
#include "disk.h"
#include "fwd_curl.h"
#include "fwd_format.h"
#include "log.h"
#include "policy.h"

void
cli_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: podtrail [-hnV] [-c FILE] [--requeue-dead] [--OPTION=VALUE ...]\n"
	    "\n"
	    "Reads the kernel's audit stream and writes container-aware JSON\n"
	    "events. Every option below can be given as --OPTION=VALUE (or\n"
	    "--OPTION VALUE; a yes/no option alone means yes) and as\n"
	    "'OPTION = VALUE' in the config file.\n"
	    "\n"
	    "  -c FILE        read FILE instead of " CONF_DEFAULT_FILE "\n"
	    "  -n             check the configuration and exit\n"
	    "  --requeue-dead move STATE_DIR/dead back into the spool and exit\n"
	    "  --print-key    print the node's public signing key (PEM, to\n"
	    "                 pin with podtrail-verify --trust) and exit\n"
	    "  -h, --help     show this help\n"
	    "  -V, --version  show the version\n"
	    "\n"
	    "Options [default]:\n");
	conf_print_table(fp, 0);
	fprintf(fp, "\nExamples:\n"
	    "  podtrail --source=file:/var/log/audit/audit.log --output=-\n"
	    "  podtrail --source=stdin          (as an auditd plugin)\n");
}

int
cli_parse(int argc, char **argv, struct conf *c, int *check_only,
    char *err, size_t errlen)
{
	const char *file = CONF_DEFAULT_FILE;
	int must_exist = 0;
	char why[512];
	int i;

	/* the file first, so the command line overrides it */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
			file = argv[++i];
			must_exist = 1;
		} else if (strncmp(argv[i], "-c", 2) == 0 && argv[i][2] &&
		    argv[i][1] != '-') {
			file = argv[i] + 2;
			must_exist = 1;
		}
	}
	if (conf_load_err(c, file, must_exist, err, errlen) == -1)
		return -1;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		char name[64];
		const char *val, *eq;
		size_t n;

		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			cli_usage(stdout);
			exit(0);
		}
		if (!strcmp(a, "-V") || !strcmp(a, "--version")) {
			printf("podtrail %s\n", PACKAGE_VERSION);
			exit(0);
		}
		if (!strcmp(a, "--man-options")) {
			/* the man pages' option lists are made from the table */
			conf_print_table(stdout, 1);
			exit(0);
		}
		if (!strcmp(a, "-n")) {
			*check_only = 1;
			continue;
		}
		if (!strcmp(a, "--requeue-dead")) {
			*check_only = CLI_REQUEUE_DEAD;
			continue;
		}
		if (!strcmp(a, "--print-key")) {
			*check_only = CLI_PRINT_KEY;
			continue;
		}
		if (!strcmp(a, "-c")) {
			if (++i == argc) {
				snprintf(err, errlen, "podtrail: -c needs a file");
				return -1;
			}
			continue;
		}
		if (!strncmp(a, "-c", 2) && a[2])
			continue;
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			snprintf(err, errlen, "podtrail: unexpected argument '%s' "
			    "(try --help)", a);
			return -1;
		}
		a += 2;
		eq = strchr(a, '=');
		n = eq ? (size_t)(eq - a) : strlen(a);
		if (n >= sizeof(name)) {
			snprintf(err, errlen, "podtrail: unknown option '--%s'", a);
			return -1;
		}
		memcpy(name, a, n);
		name[n] = '\0';
		switch (conf_is_bool(name)) {
		case -1:
			snprintf(err, errlen, "podtrail: unknown option '--%s' "
			    "(try --help)", name);
			return -1;
		case 1:
			val = eq ? eq + 1 : "yes";
			break;
		default:
			if (eq)
				val = eq + 1;
			else if (i + 1 < argc)
				val = argv[++i];
			else {
				snprintf(err, errlen, "podtrail: --%s needs a value",
				    name);
				return -1;
			}
		}
		if (conf_set(c, name, val, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "podtrail: --%s", why);
			return -1;
		}
	}
	return 0;
}

int
cli_check(const struct conf *c, const struct conf *running, char *err,
    size_t errlen)
{
	char why[512], where[4200];
	int thr[DISK_THRESHOLDS_MAX];

	/* values were checked as they were set; now what they name */
	if (conf_check(c, running, err, errlen) == -1)
		return -1;
	if ((!running || strcmp(c->output, running->output) != 0 ||
	    c->allow_http != running->allow_http) &&
	    (strncmp(c->output, "https://", 8) == 0 ||
	    strncmp(c->output, "http://", 7) == 0) &&
	    fwd_curl_check_url(c->output, c->allow_http, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "%soutput: %s",
		    conf_where(c, "output", where, sizeof(where)), why);
		return -1;
	}
	/* a format and a schema that do not go together */
	if (fwd_format_init(&(struct fwd_format){ 0 }, c->format, c->schema,
	    why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s%s",
		    conf_where(c, "schema", where, sizeof(where)), why);
		return -1;
	}
	if (disk_parse_thresholds(c->disk_thresholds, thr,
	    DISK_THRESHOLDS_MAX, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s%s",
		    conf_where(c, "disk_thresholds", where, sizeof(where)), why);
		return -1;
	}
	if (c->policy_file && *c->policy_file) {
		struct policy *p = policy_load(c->policy_file, err, errlen);

		if (p == NULL)
			return -1;
		policy_free(p);
	}
	if (*c->checkpoint_output &&
	    strncmp(c->checkpoint_output, "file:", 5) != 0 &&
	    strncmp(c->checkpoint_output, "https://", 8) != 0 &&
	    strncmp(c->checkpoint_output, "http://", 7) != 0) {
		snprintf(err, errlen, "%scheckpoint_output: '%s' is not "
		    "file:PATH or an https:// URL", conf_where(c,
		    "checkpoint_output", where, sizeof(where)),
		    c->checkpoint_output);
		return -1;
	}
	return 0;
}
