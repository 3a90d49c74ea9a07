/*
 * priv.h - least privilege: once the sockets are open and the rules
 * loaded, keep only the capabilities the running agent still uses
 * (libcap-ng) and, optionally, become an unprivileged user.
 */
#ifndef PODTRAIL_PRIV_H
#define PODTRAIL_PRIV_H

struct conf;

/*
 * The capabilities c still needs, as a comma-separated list of names
 * ("audit_control,sys_ptrace"; "" for none) written into out.
 */
void priv_needed(const struct conf *c, char *out, size_t outlen);
/*
 * Make the state dir 0700 (and owned by c->user), then drop every
 * other capability, the bounding set included when permitted, and
 * switch to c->user if set. Does nothing without privileges to drop.
 * 0, or -1 (logged): the caller must not go on with more than it asked.
 */
int priv_drop(const struct conf *c);
/*
 * Lower the nice value by c->priority_boost (nothing for 0), before
 * priv_drop. Failing (no CAP_SYS_NICE) is only a warning: the agent
 * runs at its inherited priority.
 */
void priv_boost(const struct conf *c);

#endif
