/*
 * test_fwd_format.c - request bodies per format, the ECS and OTel
 * mappings (the chained line kept in event.original), and _bulk
 * answers read item by item.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "fwd_format.h"

#include <check.h>
#include "unit.h"

static const char LINE[] = "{\"container\":{\"id\":\"c1\",\"name\":\"app\","
    "\"pod_name\":\"web\",\"pod_namespace\":\"ns\",\"pod_uid\":\"u1\","
    "\"runtime\":\"containerd\"},\"hash\":\"ab\",\"node\":\"n1\","
    "\"paths\":[{\"host_path\":\"/var/x\",\"name\":\"/x\"}],\"prev\":\"00\","
    "\"process\":{\"auid\":4294967295,\"pid\":7,\"ppid\":1,\"uid\":0},"
    "\"seq\":18446744073709551615,\"serial\":5,\"stream\":\"n1/s\","
    "\"success\":true,\"syscall\":\"openat\","
    "\"time\":\"2023-11-14T22:13:20.250Z\",\"type\":\"audit\"}";
static const char HOST[] = "{\"seq\":2,\"stream\":\"n1/s\","
    "\"time\":\"2023-11-14T22:13:21.000Z\",\"type\":\"audit\"}";

static struct fwd_format
fmt(const char *name, const char *schema)
{
	struct fwd_format f = { .es_index = "audit", .node = "n1" };
	char err[256];

	ck_assert_int_eq(fwd_format_init(&f, name, schema, err, sizeof(err)), 0);
	return f;
}

static cJSON *
body(const char *name, const char *schema, struct buf *out)
{
	struct fwd_format f = fmt(name, schema);
	struct buf nd = BUF_INIT;

	buf_printf(&nd, "%s\n%s\n", LINE, HOST);
	ck_assert_int_eq(fwd_format_body(&f, nd.data, nd.len, out), 0);
	buf_free(&nd);
	return cJSON_Parse(out->data);
}

START_TEST(names_checked)
{
	struct fwd_format f;
	char err[256];

	ck_assert_int_eq(fwd_format_init(&f, "gelf", "native", err,
	    sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "loki or otlp"));
	ck_assert_int_eq(fwd_format_init(&f, "ndjson", "cef", err,
	    sizeof(err)), -1);
	ck_assert_int_eq(fwd_format_init(&f, "loki", "ecs", err,
	    sizeof(err)), -1);
	f = fmt("ndjson", "native");
	ck_assert(fwd_format_is_plain(&f));
	ck_assert_str_eq(fwd_format_content_type(&f), "application/x-ndjson");
	f = fmt("ndjson", "ecs");
	ck_assert(!fwd_format_is_plain(&f));
	f = fmt("otlp", "native");
	ck_assert_str_eq(fwd_format_content_type(&f), "application/json");
}
END_TEST

/* create, _id = stream:seq, @timestamp in front of the line as it is */
START_TEST(elasticsearch_bulk)
{
	struct buf out = BUF_INIT;

	cJSON_Delete(body("elasticsearch", "native", &out));
	ck_assert_ptr_nonnull(strstr(out.data, "{\"create\":{\"_index\":\"audit\","
	    "\"_id\":\"n1/s:18446744073709551615\"}}\n{\"@timestamp\":"
	    "\"2023-11-14T22:13:20.250Z\",\"container\":"));
	ck_assert_ptr_nonnull(strstr(out.data, LINE + 1));
	ck_assert_ptr_nonnull(strstr(out.data, "\"_id\":\"n1/s:2\"}}\n"));
	buf_free(&out);
}
END_TEST

START_TEST(ecs_keeps_the_line)
{
	struct buf out = BUF_INIT;
	struct fwd_format f = fmt("ndjson", "ecs");
	cJSON *d;

	ck_assert_int_eq(fwd_format_body(&f, LINE, strlen(LINE), &out), 0);
	ck_assert_ptr_nonnull(d = cJSON_Parse(out.data));
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "event"),
	    "original")->valuestring, LINE);
	ck_assert_str_eq(cJSON_GetObjectItem(d, "@timestamp")->valuestring,
	    "2023-11-14T22:13:20.250Z");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "host"),
	    "name")->valuestring, "n1");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(
	    cJSON_GetObjectItem(d, "kubernetes"), "pod"), "uid")->valuestring,
	    "u1");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(d,
	    "container"), "id")->valuestring, "c1");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "file"),
	    "path")->valuestring, "/var/x");
	/* numbers verbatim (a seq of 2^64-1 keeps every digit) */
	ck_assert_ptr_nonnull(strstr(out.data, "\"parent\":{\"pid\":1}"));
	ck_assert_ptr_nonnull(strstr(out.data, "\"seq\":18446744073709551615"));
	ck_assert_ptr_nonnull(strstr(out.data, "\"audit\":{\"id\":\"4294967295\"}"));
	cJSON_Delete(d);
	buf_free(&out);
}
END_TEST

START_TEST(otel_keeps_the_line)
{
	struct buf out = BUF_INIT;
	struct fwd_format f = fmt("splunk-hec", "otel");
	cJSON *d, *e;

	ck_assert_int_eq(fwd_format_body(&f, LINE, strlen(LINE), &out), 0);
	ck_assert_ptr_nonnull(d = cJSON_Parse(out.data));
	ck_assert_ptr_nonnull(e = cJSON_GetObjectItem(d, "event"));
	ck_assert_str_eq(cJSON_GetObjectItem(e, "event.original")->valuestring,
	    LINE);
	ck_assert_str_eq(cJSON_GetObjectItem(e, "k8s.pod.uid")->valuestring, "u1");
	ck_assert_str_eq(cJSON_GetObjectItem(e, "k8s.namespace.name")->valuestring,
	    "ns");
	ck_assert_str_eq(cJSON_GetObjectItem(e, "container.id")->valuestring, "c1");
	ck_assert(cJSON_GetObjectItem(d, "time")->valuedouble == 1700000000.25);
	cJSON_Delete(d);
	buf_free(&out);
}
END_TEST

START_TEST(loki_push)
{
	struct buf out = BUF_INIT;
	cJSON *d = body("loki", "native", &out), *s, *v;

	ck_assert_ptr_nonnull(d);
	s = cJSON_GetArrayItem(cJSON_GetObjectItem(d, "streams"), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "stream"),
	    "node")->valuestring, "n1");
	v = cJSON_GetArrayItem(cJSON_GetObjectItem(s, "values"), 0);
	ck_assert_str_eq(cJSON_GetArrayItem(v, 0)->valuestring,
	    "1700000000250000000");
	ck_assert_str_eq(cJSON_GetArrayItem(v, 1)->valuestring, LINE);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(v, 2),
	    "seq")->valuestring, "18446744073709551615");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(v, 2),
	    "pod")->valuestring, "web");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(s, "values")), 2);
	cJSON_Delete(d);
	buf_free(&out);
}
END_TEST

/* one resource per pod (the host process gets the node's) */
START_TEST(otlp_logs)
{
	struct buf out = BUF_INIT;
	cJSON *d = body("otlp", "native", &out), *rl, *r;

	ck_assert_ptr_nonnull(d);
	rl = cJSON_GetObjectItem(d, "resourceLogs");
	ck_assert_int_eq(cJSON_GetArraySize(rl), 2);
	ck_assert_ptr_nonnull(strstr(out.data, "{\"key\":\"k8s.pod.uid\","
	    "\"value\":{\"stringValue\":\"u1\"}}"));
	r = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(
	    cJSON_GetObjectItem(cJSON_GetArrayItem(rl, 0), "scopeLogs"), 0),
	    "logRecords"), 0);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "body"),
	    "stringValue")->valuestring, LINE);
	ck_assert_str_eq(cJSON_GetObjectItem(r, "timeUnixNano")->valuestring,
	    "1700000000250000000");
	cJSON_Delete(d);
	buf_free(&out);
}
END_TEST

START_TEST(bulk_items)
{
	const char *r = "{\"errors\":true,\"items\":[{\"create\":{\"status\":201}},"
	    "{\"create\":{\"status\":409}},{\"create\":{\"status\":429}},"
	    "{\"create\":{\"status\":400,\"error\":{\"type\":\"mapper_parsing_"
	    "exception\",\"reason\":\"bad\"}}}]}";
	enum fwd_item it[4];
	char why[128];

	ck_assert_int_eq(fwd_format_bulk_items(r, strlen(r), 4, it, why,
	    sizeof(why)), 0);
	ck_assert_int_eq(it[0], FWD_ITEM_OK);
	ck_assert_int_eq(it[1], FWD_ITEM_OK);
	ck_assert_int_eq(it[2], FWD_ITEM_RETRY);
	ck_assert_int_eq(it[3], FWD_ITEM_DEAD);
	ck_assert_str_eq(why, "mapper_parsing_exception: bad");
	/* not an answer for 3 items, or none at all */
	ck_assert_int_eq(fwd_format_bulk_items(r, strlen(r), 3, it, why,
	    sizeof(why)), -1);
	ck_assert_int_eq(fwd_format_bulk_items("oops", 4, 1, it, why,
	    sizeof(why)), -1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("fwd_format");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, names_checked);
	tcase_add_test(tc, elasticsearch_bulk);
	tcase_add_test(tc, ecs_keeps_the_line);
	tcase_add_test(tc, otel_keeps_the_line);
	tcase_add_test(tc, loki_push);
	tcase_add_test(tc, otlp_logs);
	tcase_add_test(tc, bulk_items);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
