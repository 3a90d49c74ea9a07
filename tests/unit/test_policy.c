/*
 * test_policy.c - policy_file: the parser (good lines, every error with
 * its line), first-match rules with namespace and pod globs, and the
 * violations of real contexts (tests/fixtures/proc).
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "secctx.h"
#include "unit.h"

static struct policy *
parse(const char *text, char *err, size_t errlen)
{
	err[0] = '\0';
	return policy_parse(text, strlen(text), "pol", err, errlen);
}

START_TEST(parse_good)
{
	char err[256];
	const char *rule = NULL;
	struct policy *p = parse(
	    "# baseline\n"
	    "\n"
	    "kube-system:   # exempt\n"
	    "  prod/web-*: non_root,no_capabilities , no_new_privs\r\n"
	    "prod:seccomp\n"
	    "*: non_root, no_capabilities, no_new_privs, seccomp, read_only_root, no_host_namespaces",
	    err, sizeof(err));

	ck_assert_msg(p != NULL, "%s", err);
	ck_assert_uint_eq(policy_count(p), 4);
	ck_assert_int_eq(policy_required(p, "kube-system", "coredns-1", &rule), 0);
	ck_assert_str_eq(rule, "kube-system/*");
	ck_assert_int_eq(policy_required(p, "prod", "web-0", &rule),
	    POLICY_NON_ROOT | POLICY_NO_CAPABILITIES | POLICY_NO_NEW_PRIVS);
	ck_assert_str_eq(rule, "prod/web-*");
	/* the first match wins: prod's other pods get the prod line */
	ck_assert_int_eq(policy_required(p, "prod", "db-0", &rule), POLICY_SECCOMP);
	ck_assert_int_eq(policy_required(p, "shop", "x", &rule), 0x3f);
	ck_assert_str_eq(rule, "*/*");
	/* unknown names (no kubelet log directory) match only what matches "" */
	ck_assert_int_eq(policy_required(p, "", "", &rule), 0x3f);
	ck_assert_int_eq(policy_required(p, NULL, NULL, NULL), 0x3f);
	policy_free(p);
	p = parse("prod/web-[0-9]: seccomp\n", err, sizeof(err));
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(policy_required(p, "prod", "web-3", NULL), POLICY_SECCOMP);
	ck_assert_int_eq(policy_required(p, "prod", "web-x", NULL), -1);
	ck_assert_int_eq(policy_required(p, "dev", "web-3", NULL), -1);
	policy_free(p);
	/* empty text: no rules, nothing applies */
	p = parse("", err, sizeof(err));
	ck_assert_uint_eq(policy_count(p), 0);
	ck_assert_int_eq(policy_required(p, "a", "b", NULL), -1);
	policy_free(p);
}
END_TEST

START_TEST(parse_errors)
{
	static const struct {
		const char *text, *err;
	} cases[] = {
		{ "prod seccomp\n", "pol:1: expected 'NAMESPACE_GLOB[/POD_GLOB]: REQ, ...'" },
		{ "\n: seccomp\n", "pol:2: empty namespace pattern" },
		{ "prod/: seccomp\n", "pol:1: empty namespace or pod pattern" },
		{ "/web: seccomp\n", "pol:1: empty namespace or pod pattern" },
		{ "a/b/c: seccomp\n", "pol:1: more than one '/' in the pattern" },
		{ "pr od: seccomp\n", "pol:1: blank inside the pattern" },
		{ "prod: seccomp,\n", "pol:1: empty requirement" },
		{ "prod: seccomp,, non_root\n", "pol:1: empty requirement" },
		{ "#\nprod: rootless\n", "pol:2: unknown requirement (use non_root, no_capabilities, no_new_privs, seccomp, read_only_root, no_host_namespaces)" },
		{ "prod: Seccomp\n", "pol:1: unknown requirement (use non_root, no_capabilities, no_new_privs, seccomp, read_only_root, no_host_namespaces)" },
		{ "prod: seccomp non_root\n", "pol:1: unknown requirement (use non_root, no_capabilities, no_new_privs, seccomp, read_only_root, no_host_namespaces)" },
	};
	char err[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct policy *p = parse(cases[i].text, err, sizeof(err));

		ck_assert_msg(p == NULL, "case %zu parsed", i);
		ck_assert_str_eq(err, cases[i].err);
	}
	{
		static const char nul[] = "a: seccomp\nb\0: seccomp\n";
		struct policy *p = policy_parse(nul, sizeof(nul) - 1, "pol", err,
		    sizeof(err));

		ck_assert_ptr_null(p);
		ck_assert_str_eq(err, "pol:2: NUL byte in line");
	}
	{
		char longpat[600];

		memset(longpat, 'a', 300);
		snprintf(longpat + 300, sizeof(longpat) - 300, ": seccomp\n");
		ck_assert_ptr_null(parse(longpat, err, sizeof(err)));
		ck_assert_str_eq(err, "pol:1: pattern too long");
	}
}
END_TEST

START_TEST(load_file)
{
	char err[512], path[] = "/tmp/test_policy.XXXXXX";
	int fd = mkstemp(path);
	struct policy *p;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "*: seccomp\nbad line\n", 20), 20);
	close(fd);
	ck_assert_ptr_null(policy_load(path, err, sizeof(err)));
	ck_assert(strstr(err, ":2: expected") != NULL);
	ck_assert(strncmp(err, path, strlen(path)) == 0);
	unlink(path);
	ck_assert_ptr_null(policy_load(path, err, sizeof(err)));
	ck_assert(strstr(err, "No such file") != NULL);
	ck_assert_ptr_null(policy_load("/tmp", err, sizeof(err)));
	ck_assert(strstr(err, "not a regular file") != NULL);
	(void)p;
}
END_TEST

static void
ctx_of(const char *name, struct sctx *c)
{
	const char *top = getenv("top_srcdir");
	char path[4096], text[8192];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/tests/fixtures/proc/%s", top ? top : ".", name);
	ck_assert_ptr_nonnull(fp = fopen(path, "r"));
	n = fread(text, 1, sizeof(text), fp);
	fclose(fp);
	sctx_clear(c);
	ck_assert_int_eq(sctx_parse_status(text, n, c), 0);
}

START_TEST(violations)
{
	const unsigned all = 0x3f;
	struct sctx c;

	ctx_of("status-scanner", &c);
	c.root_read_only = 1;
	c.ns_known = 0x3f;
	c.host_ns = 1u << SCTX_NS_USER;	/* the user namespace is not required */
	ck_assert_uint_eq(policy_violations(all, &c), 0);
	c.host_ns |= 1u << SCTX_NS_NET;
	ck_assert_uint_eq(policy_violations(all, &c), POLICY_NO_HOST_NAMESPACES);
	c.host_ns = 0;
	c.ns_known &= ~(1u << SCTX_NS_PID);	/* unproven is not met */
	ck_assert_uint_eq(policy_violations(all, &c), POLICY_NO_HOST_NAMESPACES);
	c.ns_known = 0x3f;
	c.root_read_only = -1;
	ck_assert_uint_eq(policy_violations(all, &c), POLICY_READ_ONLY_ROOT);
	ck_assert_uint_eq(policy_violations(all & ~POLICY_READ_ONLY_ROOT, &c), 0);

	ctx_of("status-onecap", &c);
	c.root_read_only = 1;
	c.ns_known = 0x3f;
	ck_assert_uint_eq(policy_violations(all, &c), POLICY_NO_CAPABILITIES);
	ck_assert_uint_eq(policy_violations(POLICY_SECCOMP, &c), 0);

	ctx_of("status-priv", &c);
	c.root_read_only = 0;
	c.ns_known = 0x3f;
	c.host_ns = 1u << SCTX_NS_NET;
	ck_assert_uint_eq(policy_violations(all, &c), all);
	ck_assert_uint_eq(policy_violations(0, &c), 0);
	/* euid alone makes root */
	ctx_of("status-scanner", &c);
	c.euid = 0;
	ck_assert_uint_eq(policy_violations(POLICY_NON_ROOT, &c), POLICY_NON_ROOT);
	for (int i = 0; i < POLICY_NREQ; i++)
		ck_assert_uint_eq(policy_req_bit(policy_req_name(1u << i),
		    strlen(policy_req_name(1u << i))), 1u << i);
	ck_assert_ptr_null(policy_req_name(3));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("policy");

	tcase_add_test(tc, parse_good);
	tcase_add_test(tc, parse_errors);
	tcase_add_test(tc, load_file);
	tcase_add_test(tc, violations);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
