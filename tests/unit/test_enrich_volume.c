/* test_enrich_volume.c - mount flag decoding and CWD rules. */
#include "../../src/enrich_volume.c"

#include <check.h>
#include "unit.h"

/* An event whose SYSCALL record is as event_build() leaves it. */
static cJSON *
event(const char *sc, const char *a0, const char *a2)
{
	cJSON *ev = cJSON_CreateObject(), *recs, *r;
	char text[256];

	cJSON_AddStringToObject(ev, "syscall", sc);
	recs = cJSON_AddArrayToObject(ev, "records");
	snprintf(text, sizeof(text), "{\"a0\":\"%s\",\"a1\":\"ffffff9c\","
	    "\"a2\":\"%s\",\"type\":\"SYSCALL\"}", a0, a2);
	r = cJSON_CreateRaw(text);
	r->string = (char *)"SYSCALL";
	r->type |= cJSON_StringIsConst;
	cJSON_AddItemToArray(recs, r);
	return ev;
}

START_TEST(test_relative)
{
	static const struct {
		const char *sc, *a0, *a2;
		int ok;
	} t[] = {
		{ "open", "7ffd0000", "0", 1 },
		{ "mkdir", "7ffd0000", "0", 1 },
		{ "openat", "ffffff9c", "0", 1 },
		{ "openat", "ffffffffffffff9c", "0", 1 },
		{ "openat", "3", "0", 0 },
		{ "renameat2", "ffffff9c", "ffffff9c", 1 },
		{ "renameat2", "ffffff9c", "5", 0 },
		{ "linkat", "4", "ffffff9c", 0 },
		{ "symlinkat", "7ffd", "0", 1 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cJSON *ev = event(t[i].sc, t[i].a0, t[i].a2);

		ck_assert_msg(relative_ok(ev) == t[i].ok, "%s a0=%s", t[i].sc, t[i].a0);
		cJSON_Delete(ev);
	}
}
END_TEST

START_TEST(test_flags)
{
	cJSON *m = cJSON_CreateObject();
	char *s;

	/* MS_MGC_VAL | MS_BIND | MS_REC | MS_RDONLY */
	add_flags(m, 0xc0ed0000UL | 0x1000 | 0x4000 | 0x1);
	s = cJSON_PrintUnformatted(m);
	ck_assert_str_eq(s, "{\"flags\":[\"MS_RDONLY\",\"MS_BIND\",\"MS_REC\"],\"flags_raw\":20481}");
	free(s);
	cJSON_Delete(m);
}
END_TEST

START_TEST(test_volume_json)
{
	struct vol_info vi;
	char *hp[] = { "/srv/hp" };
	const char *p = "/k/pods/u1/volumes/kubernetes.io~secret/tok/x";
	cJSON *o;
	char *s;

	ck_assert_int_eq(vol_classify(p, "/k", hp, 1, &vi), VOL_POD);
	o = volume_json(&vi, p);
	s = cJSON_PrintUnformatted(o);
	ck_assert_str_eq(s, "{\"type\":\"pod-volume\",\"pod_uid\":\"u1\",\"plugin\":"
	    "\"kubernetes.io~secret\",\"name\":\"tok\",\"host_path\":"
	    "\"/k/pods/u1/volumes/kubernetes.io~secret/tok\"}");
	free(s);
	cJSON_Delete(o);
	ck_assert_int_eq(vol_classify("/srv/hp/a", "/k", hp, 1, &vi), VOL_HOSTPATH);
	o = volume_json(&vi, "/srv/hp/a");
	s = cJSON_PrintUnformatted(o);
	ck_assert_str_eq(s, "{\"type\":\"host-path\",\"host_path\":\"/srv/hp\"}");
	free(s);
	cJSON_Delete(o);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("enrich_volume");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_relative);
	tcase_add_test(tc, test_flags);
	tcase_add_test(tc, test_volume_json);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
