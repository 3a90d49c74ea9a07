/*
 * test_secctx.c - a process's context from /proc text: status files and
 * mountinfo of real runc containers (tests/fixtures/proc, made from the
 * configs of tests/integration/800), capability names, the wider/merge
 * rules, and sctx_read on this test's own /proc entry.
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secctx.h"
#include "unit.h"

static char *
fixture(const char *name, size_t *len)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	FILE *fp;
	char *b = malloc(65536);

	snprintf(path, sizeof(path), "%s/tests/fixtures/proc/%s", top ? top : ".", name);
	fp = fopen(path, "r");
	ck_assert_msg(fp != NULL, "fixture %s", path);
	*len = fread(b, 1, 65535, fp);
	b[*len] = '\0';
	fclose(fp);
	return b;
}

static void
parse_fixture(const char *name, struct sctx *c)
{
	size_t len;
	char *t = fixture(name, &len);

	sctx_clear(c);
	ck_assert_int_eq(sctx_parse_status(t, len, c), 0);
	free(t);
}

START_TEST(status_scanner)
{
	struct sctx c;

	parse_fixture("status-scanner", &c);
	ck_assert_str_eq(c.comm, "cat");
	ck_assert_int_eq(c.uid, 1000);
	ck_assert_int_eq(c.euid, 1000);
	ck_assert_int_eq(c.gid, 1000);
	ck_assert_int_eq(c.egid, 1000);
	ck_assert(c.cap_eff == 0 && c.cap_prm == 0 && c.cap_bnd == 0 && c.cap_amb == 0);
	ck_assert_int_eq(c.no_new_privs, 1);
	ck_assert_int_eq(c.seccomp, SCTX_SECCOMP_FILTER);
	ck_assert_int_eq(c.seccomp_filters, 1);
}
END_TEST

START_TEST(status_privileged)
{
	struct sctx c;

	parse_fixture("status-priv", &c);
	ck_assert_int_eq(c.uid, 0);
	ck_assert_int_eq(c.euid, 0);
	/* every capability this machine's bounding set holds: not sys_resource */
	ck_assert(c.cap_bnd == 0x000001fffeffffffULL);
	ck_assert(c.cap_eff == c.cap_bnd && c.cap_prm == c.cap_bnd);
	ck_assert(c.cap_amb == 0);
	ck_assert_int_eq(c.no_new_privs, 0);
	ck_assert_int_eq(c.seccomp, SCTX_SECCOMP_DISABLED);
	ck_assert_int_eq(c.seccomp_filters, 0);
}
END_TEST

START_TEST(status_onecap)
{
	struct sctx c;
	cJSON *a;
	char *s;

	parse_fixture("status-onecap", &c);
	ck_assert(c.cap_eff == 1ULL << 10 && c.cap_amb == 1ULL << 10);
	a = sctx_caps_json(c.cap_eff);
	s = cJSON_PrintUnformatted(a);
	ck_assert_str_eq(s, "[\"net_bind_service\"]");
	free(s);
	cJSON_Delete(a);
}
END_TEST

START_TEST(status_shapes)
{
	struct sctx c;
	/* an old kernel: no Seccomp_filters line, no NoNewPrivs */
	static const char old[] = "Name:\tapp\nUid:\t5\t6\t6\t6\nGid:\t7\t8\t8\t8\n"
	    "CapPrm:\t0000000000000001\nCapEff:\t0000000000000001\n"
	    "CapBnd:\t000000ffffffffff\nSeccomp:\t1\n";

	sctx_clear(&c);
	ck_assert_int_eq(sctx_parse_status(old, sizeof(old) - 1, &c), 0);
	ck_assert_int_eq(c.uid, 5);
	ck_assert_int_eq(c.euid, 6);
	ck_assert_int_eq(c.gid, 7);
	ck_assert_int_eq(c.egid, 8);
	ck_assert(c.cap_eff == 1 && c.cap_bnd == 0xffffffffffULL);
	ck_assert_int_eq(c.no_new_privs, -1);
	ck_assert_int_eq(c.seccomp, SCTX_SECCOMP_STRICT);
	ck_assert_int_eq(c.seccomp_filters, -1);
	/* not a status file; a truncated line; a key that only starts alike */
	sctx_clear(&c);
	ck_assert_int_eq(sctx_parse_status("hello\n", strlen("hello\n"), &c), -1);
	ck_assert_int_eq(sctx_parse_status("Uid:", strlen("Uid:"), &c), 0);
	ck_assert_int_eq(c.uid, -1);
	sctx_clear(&c);
	ck_assert_int_eq(sctx_parse_status("CapEffX:\t1\nCapEff:\tzz\n", strlen("CapEffX:\t1\nCapEff:\tzz\n"), &c), -1);
	ck_assert_int_eq(sctx_parse_status("Seccomp:\t7\n", strlen("Seccomp:\t7\n"), &c), -1);
	ck_assert_int_eq(c.seccomp, SCTX_SECCOMP_UNKNOWN);
}
END_TEST

START_TEST(cap_names)
{
	cJSON *a;
	char *s;

	ck_assert_str_eq(sctx_cap_name(0), "chown");
	ck_assert_str_eq(sctx_cap_name(21), "sys_admin");
	ck_assert_str_eq(sctx_cap_name(40), "checkpoint_restore");
	ck_assert_ptr_null(sctx_cap_name(41));
	ck_assert_ptr_null(sctx_cap_name(-1));
	ck_assert_int_eq(sctx_cap_bit("sys_admin"), 21);
	ck_assert_int_eq(sctx_cap_bit("CAP_NET_RAW"), 13);
	ck_assert_int_eq(sctx_cap_bit("cap_bpf"), 39);
	ck_assert_int_eq(sctx_cap_bit("nope"), -1);
	for (int i = 0; i <= 40; i++)
		ck_assert_int_eq(sctx_cap_bit(sctx_cap_name(i)), i);
	/* a bit a newer kernel may have is kept, not dropped */
	a = sctx_caps_json(1ULL << 21 | 1ULL << 0 | 1ULL << 45);
	s = cJSON_PrintUnformatted(a);
	ck_assert_str_eq(s, "[\"chown\",\"sys_admin\",\"unknown_45\"]");
	free(s);
	cJSON_Delete(a);
	a = sctx_caps_json(0);
	ck_assert_int_eq(cJSON_GetArraySize(a), 0);
	cJSON_Delete(a);
	ck_assert_str_eq(sctx_seccomp_name(SCTX_SECCOMP_FILTER), "filter");
	ck_assert_ptr_null(sctx_seccomp_name(-1));
	ck_assert_str_eq(sctx_ns_name(SCTX_NS_CGROUP), "cgroup");
}
END_TEST

START_TEST(root_read_only)
{
	size_t len;
	char *t;
	static const char stacked[] =
	    "1 0 8:1 / / ro,relatime - ext4 /dev/sda1 rw\n"
	    "2 1 0:5 / /proc rw - proc proc rw\n"
	    "3 1 0:6 / / rw,noatime - overlay overlay rw\n";

	t = fixture("mountinfo-scanner", &len);
	ck_assert_int_eq(sctx_root_read_only(t, len), 1);
	free(t);
	t = fixture("mountinfo-priv", &len);
	ck_assert_int_eq(sctx_root_read_only(t, len), 0);
	free(t);
	/* the last mount on / is the one in effect; "rorelatime" is not "ro" */
	ck_assert_int_eq(sctx_root_read_only(stacked, sizeof(stacked) - 1), 0);
	ck_assert_int_eq(sctx_root_read_only("1 0 8:1 / / rorelatime - x y rw\n", strlen("1 0 8:1 / / rorelatime - x y rw\n")), 0);
	ck_assert_int_eq(sctx_root_read_only("1 0 8:1 / /x ro - x y ro\n", strlen("1 0 8:1 / /x ro - x y ro\n")), -1);
	ck_assert_int_eq(sctx_root_read_only("", strlen("")), -1);
	ck_assert_int_eq(sctx_root_read_only("1 0 8:1 / /", strlen("1 0 8:1 / /")), -1);
}
END_TEST

START_TEST(wider_and_merge)
{
	struct sctx rec, now;

	parse_fixture("status-scanner", &rec);
	rec.root_read_only = 1;
	rec.ns_known = 0x3f;
	rec.host_ns = 1u << SCTX_NS_USER;
	now = rec;
	ck_assert_int_eq(sctx_wider(&rec, &now), 0);
	now.cap_eff |= 1ULL << 21;
	ck_assert_int_eq(sctx_wider(&rec, &now), 1);
	now = rec;
	now.euid = 0;
	ck_assert_int_eq(sctx_wider(&rec, &now), 1);
	now = rec;
	now.no_new_privs = 0;
	ck_assert_int_eq(sctx_wider(&rec, &now), 1);
	now = rec;
	now.seccomp = SCTX_SECCOMP_DISABLED;
	ck_assert_int_eq(sctx_wider(&rec, &now), 1);
	now = rec;
	now.seccomp_filters = 0;
	ck_assert_int_eq(sctx_wider(&rec, &now), 1);
	now = rec;
	now.seccomp = SCTX_SECCOMP_STRICT;	/* stricter, not wider */
	ck_assert_int_eq(sctx_wider(&rec, &now), 0);
	now = rec;
	now.host_ns |= 1u << SCTX_NS_NET;
	ck_assert_int_eq(sctx_wider(&rec, &now), 1);
	/* a namespace that could not be read now says nothing */
	now.ns_known &= ~(1u << SCTX_NS_NET);
	ck_assert_int_eq(sctx_wider(&rec, &now), 0);
	now = rec;
	now.root_read_only = 0;
	ck_assert_int_eq(sctx_wider(&rec, &now), 1);
	now.root_read_only = -1;	/* unknown (status only) */
	ck_assert_int_eq(sctx_wider(&rec, &now), 0);
	/* a narrower process is not news; a uid other than root is not wider */
	now = rec;
	now.uid = now.euid = 2000;
	ck_assert_int_eq(sctx_wider(&rec, &now), 0);
	/* merged, the same widening is not reported again */
	now = rec;
	now.cap_eff |= 1ULL << 21;
	now.euid = 0;
	sctx_merge(&rec, &now);
	ck_assert_int_eq(sctx_wider(&rec, &now), 0);
	ck_assert_int_eq(rec.euid, 0);
	ck_assert(rec.cap_eff & 1ULL << 21);
}
END_TEST

START_TEST(read_self)
{
	struct sctx_host h;
	struct sctx c;

	ck_assert_int_eq(sctx_host_read("/proc", &h), 0);
	ck_assert_int_eq(sctx_read("/proc", getpid(), &h, 0, &c), 0);
	ck_assert_int_eq(c.uid, (long long)getuid());
	ck_assert_int_eq(c.euid, (long long)geteuid());
	ck_assert(c.seccomp >= 0 && c.no_new_privs >= 0);
	ck_assert(c.root_read_only == 0 || c.root_read_only == 1);
	/* compared with PID 1 or, out of reach, with ourselves */
	ck_assert(c.ns_known != 0);
	if (!sctx_host_is_pid1("/proc"))
		ck_assert_uint_eq(c.host_ns, c.ns_known);
	ck_assert_int_eq(sctx_read("/proc", 0, &h, 0, &c), -1);
	ck_assert_int_eq(sctx_read("/nonexistent", getpid(), &h, 1, &c), -1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("secctx");
	TCase *tc = tcase_create("secctx");

	tcase_add_test(tc, status_scanner);
	tcase_add_test(tc, status_privileged);
	tcase_add_test(tc, status_onecap);
	tcase_add_test(tc, status_shapes);
	tcase_add_test(tc, cap_names);
	tcase_add_test(tc, root_read_only);
	tcase_add_test(tc, wider_and_merge);
	tcase_add_test(tc, read_self);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
