/*
 * priv.c - drop what start-up needed. Opening the multicast socket
 * needs CAP_AUDIT_READ, the process connector CAP_NET_ADMIN, loading
 * rules CAP_AUDIT_CONTROL, priority_boost CAP_SYS_NICE; afterwards the
 * agent only polls the audit status, removes its rules at exit and
 * reads other users' /proc.
 */
#include "config.h"

#define _XOPEN_SOURCE_EXTENDED 1
#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/capability.h>

#include <cap-ng.h>

#include "conf.h"
#include "log.h"
#include "priv.h"

#define MAX_CAPS 8

static int
is_netlink(const char *source)
{
	return strncmp(source, "netlink", 7) == 0;
}

/* The kept set, as capability numbers; returns how many. */
static int
needed(const struct conf *c, int caps[MAX_CAPS])
{
	int n = 0;

	if (is_netlink(c->source)) {
		/* multicast: the group again after a reconnect */
		if (strcmp(c->source, "netlink-unicast") != 0)
			caps[n++] = CAP_AUDIT_READ;
		/* AUDIT_GET (loss counter) and unicast unregister */
		caps[n++] = CAP_AUDIT_CONTROL;
	} else if (c->install_rules) {
		caps[n++] = CAP_AUDIT_CONTROL;	/* rules removed at exit */
	}
	if (c->enrich) {
		/* /proc/<pid>/{ns,mountinfo,cwd} of any user's process */
		caps[n++] = CAP_SYS_PTRACE;
		caps[n++] = CAP_DAC_READ_SEARCH;
	}
	return n;
}

void
priv_needed(const struct conf *c, char *out, size_t outlen)
{
	int caps[MAX_CAPS], n = needed(c, caps);
	size_t used = 0;

	if (outlen)
		out[0] = '\0';
	for (int i = 0; i < n && used < outlen; i++) {
		const char *name = capng_capability_to_name((unsigned)caps[i]);
		int w = snprintf(out + used, outlen - used, "%s%s",
		    i ? "," : "", name ? name : "?");

		if (w < 0)
			break;
		used += (size_t)w;
	}
}

static uid_t chown_uid;
static gid_t chown_gid;

static int
chown_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	if (lchown(path, chown_uid, chown_gid) == -1) {
		log_warn("chown %s", path);
		return -1;
	}
	return 0;
}

int
priv_drop(const struct conf *c)
{
	int caps[MAX_CAPS], n = needed(c, caps), rc = -1;
	struct passwd *pw = NULL;
	capng_select_t what = CAPNG_SELECT_BOTH;
	char list[256];

	if (*c->user) {
		errno = 0;
		if ((pw = getpwnam(c->user)) == NULL) {
			log_warnx("user: no user '%s'", c->user);
			return -1;
		}
	}
	/* the chain and the spool are the audit trail: the agent's alone */
	if (chmod(c->state_dir, 0700) == -1) {
		log_warn("chmod %s", c->state_dir);
		return -1;
	}
	if (pw) {
		chown_uid = pw->pw_uid;
		chown_gid = pw->pw_gid;
		if (nftw(c->state_dir, chown_one, 16, FTW_PHYS) != 0)
			return -1;
	}
	capng_get_caps_process();
	if (!pw && capng_have_capabilities(CAPNG_SELECT_CAPS) == CAPNG_NONE &&
	    geteuid() != 0)
		return 0;	/* nothing to drop */
	/* without CAP_SETPCAP the bounding set cannot shrink */
	if (!capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP))
		what = CAPNG_SELECT_CAPS;
	capng_clear(CAPNG_SELECT_BOTH);
	for (int i = 0; i < n; i++) {
		if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
		    (what == CAPNG_SELECT_BOTH ? CAPNG_BOUNDING_SET : 0),
		    (unsigned)caps[i]) == -1) {
			log_warnx("capng_update failed");
			goto out;
		}
	}
	if (pw) {
		int r = 0;

		/* bounding set to the kept ones while CAP_SETPCAP remains */
		if (what == CAPNG_SELECT_BOTH &&
		    capng_apply(CAPNG_SELECT_BOUNDS) != 0) {
			log_warnx("capng_apply(bounding set) failed");
			goto out;
		}
		r = capng_change_id((int)pw->pw_uid, (int)pw->pw_gid,
		    CAPNG_DROP_SUPP_GRP);
		if (r != 0) {
			log_warnx("user %s: capng_change_id failed (%d)",
			    c->user, r);
			goto out;
		}
	} else if (capng_apply(what) != 0) {
		log_warnx("capng_apply failed");
		goto out;
	}
	priv_needed(c, list, sizeof(list));
	log_info("privileges: uid %u, capabilities %s", (unsigned)getuid(),
	    *list ? list : "none");
	rc = 0;
out:
	return rc;
}

void
priv_boost(const struct conf *c)
{
	int was, want;

	if (c->priority_boost <= 0)
		return;
	errno = 0;
	was = getpriority(PRIO_PROCESS, 0);
	if (was == -1 && errno != 0) {
		log_warn("priority_boost: getpriority");
		return;
	}
	want = was - (int)c->priority_boost;
	if (want < -20)
		want = -20;
	/*
	 * auditd does the same (priority_boost): with writers on every
	 * CPU, a reader at their priority falls behind and the multicast
	 * socket overflows.
	 */
	if (setpriority(PRIO_PROCESS, 0, want) == -1) {
		log_warn("priority_boost %lld not applied, nice stays %d%s",
		    c->priority_boost, was, errno == EACCES || errno == EPERM ?
		    " (needs CAP_SYS_NICE)" : "");
		return;
	}
	log_info("priority_boost %lld: nice %d -> %d", c->priority_boost,
	    was, want);
}
