/*
 * policy.h - the baseline a container's kernel context must meet
 * (policy_file). One rule a line:
 *
 *     NAMESPACE_GLOB[/POD_GLOB]: REQ, REQ, ...
 *
 * globs as fnmatch(3) (no special '/'), '#' starts a comment. The first
 * rule whose globs match the pod's namespace and name applies; an empty
 * list requires nothing (an exemption placed before a wider rule).
 */
#ifndef PODTRAIL_POLICY_H
#define PODTRAIL_POLICY_H

#include <stddef.h>

struct sctx;
struct policy;

/* Requirements, as bits. */
enum {
	POLICY_NON_ROOT = 1 << 0,
	POLICY_NO_CAPABILITIES = 1 << 1,
	POLICY_NO_NEW_PRIVS = 1 << 2,
	POLICY_SECCOMP = 1 << 3,
	POLICY_READ_ONLY_ROOT = 1 << 4,
	POLICY_NO_HOST_NAMESPACES = 1 << 5,
};
#define POLICY_NREQ 6
#define POLICY_RULES_MAX 4096

/*
 * Parse policy text; name is used in errors ("NAME:LINE: reason" into
 * err). A new policy the caller frees, or NULL (err says why; ENOMEM
 * too).
 */
struct policy *policy_parse(const char *text, size_t len, const char *name,
    char *err, size_t errlen);
/* Read and parse a file (a regular file of at most 1 MiB). NULL with err set. */
struct policy *policy_load(const char *path, char *err, size_t errlen);
void policy_free(struct policy *p);
/* Number of rules. */
size_t policy_count(const struct policy *p);
/*
 * The first rule matching namespace ns and pod name pod (either may be
 * "", unknown): its requirement bits, and its text ("NS/POD") in
 * *rule (owned by p). -1 if no rule matches.
 */
int policy_required(const struct policy *p, const char *ns, const char *pod,
    const char **rule);
/*
 * Which of the required bits c breaks. A field that could not be read
 * breaks what depends on it (unproven is not met). Returns the bits.
 */
unsigned policy_violations(unsigned required, const struct sctx *c);
/* The name of one requirement bit ("non_root"), or NULL. */
const char *policy_req_name(unsigned bit);
/* The bit of a requirement name, or 0 if unknown. */
unsigned policy_req_bit(const char *name, size_t len);

#endif
