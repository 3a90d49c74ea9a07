/*
 * fuzz_policy.c - the policy_file parser (an operator's file, but one a
 * config-management tool may template from pod names) and the checks
 * made with it.
 *
 * The input is up to three parts separated by NUL bytes: the policy
 * text, a namespace and a pod name. Checks: policy_parse() returns a
 * policy or NULL with a "NAME:LINE: reason" message whose line exists;
 * a rule's bits are known requirements; policy_required() answers -1
 * or a rule text that has one '/'; violations are a subset of what was
 * required, for a context that breaks everything and one that breaks
 * nothing.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "secctx.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	size_t ntext, nns, npod, lines = 1;
	char *text, *ns, *pod, err[512];
	struct policy *pol;
	struct sctx bad, good;
	const char *rule = NULL;
	int req;

	text = fuzz_part(&p, end, &ntext);
	ns = fuzz_part(&p, end, &nns);
	pod = fuzz_part(&p, end, &npod);
	for (size_t i = 0; i < ntext; i++)
		lines += text[i] == '\n';
	err[0] = '\0';
	pol = policy_parse(text, ntext, "f", err, sizeof(err));
	if (pol == NULL) {
		unsigned long line;
		char *colon;

		FUZZ_ASSERT(strncmp(err, "f:", 2) == 0);
		line = strtoul(err + 2, &colon, 10);
		FUZZ_ASSERT(*colon == ':' && line >= 1 && line <= lines);
		goto out;
	}
	FUZZ_ASSERT(policy_count(pol) <= POLICY_RULES_MAX);
	req = policy_required(pol, ns, pod, &rule);
	if (req == -1)
		goto out;
	FUZZ_ASSERT((req & ~0x3f) == 0);
	FUZZ_ASSERT(rule != NULL && strchr(rule, '/') != NULL);
	sctx_clear(&bad);
	bad.uid = bad.euid = 0;
	bad.cap_eff = ~0ULL;
	bad.no_new_privs = 0;
	bad.seccomp = SCTX_SECCOMP_DISABLED;
	bad.root_read_only = 0;
	FUZZ_ASSERT(policy_violations((unsigned)req, &bad) == (unsigned)req);
	sctx_clear(&good);
	good.uid = good.euid = good.gid = good.egid = 1000;
	good.no_new_privs = 1;
	good.seccomp = SCTX_SECCOMP_FILTER;
	good.seccomp_filters = 1;
	good.root_read_only = 1;
	good.ns_known = (1u << SCTX_NNS) - 1;
	good.host_ns = 1u << SCTX_NS_USER;
	FUZZ_ASSERT(policy_violations((unsigned)req, &good) == 0);
	/* the same text parses to the same answer */
	{
		struct policy *again = policy_parse(text, ntext, "f", err, sizeof(err));

		FUZZ_ASSERT(again != NULL);
		FUZZ_ASSERT(policy_required(again, ns, pod, NULL) == req);
		policy_free(again);
	}
out:
	policy_free(pol);
	free(text);
	free(ns);
	free(pod);
	return 0;
}
