/*
 * fuzz_netlink.c - a netlink audit message as the kernel hands it over
 * (record type, payload that carries workload-chosen names): the line
 * formatting and the serial parsing of source_netlink.c, then the line
 * through the same parser the netlink source feeds.
 *
 * Input: two bytes of record type (little endian), then the payload;
 * payloads are split at NUL bytes into one message each. Checks: the
 * line is "type=NAME msg=" + the payload without its trailing NULs and
 * newlines, a serial is only found in "audit(...:N)", and every event
 * the parser emits serializes to valid UTF-8 JSON.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "event.h"
#include "json.h"
#include "log.h"
#include "parse.h"
#include "source_netlink.h"
#include "fuzz.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct buf rec = BUF_INIT, js = BUF_INIT;

static void
on_event(struct event *e, void *arg)
{
	cJSON *ev = e->json;

	buf_reset(&js);
	FUZZ_ASSERT(json_write(&js, ev, JSON_SORTED, "hash") == 0);
	FUZZ_ASSERT(fuzz_utf8_valid((const unsigned char *)js.data, js.len));
	FUZZ_ASSERT(memchr(js.data, '\n', js.len) == NULL);
	event_free(e);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init(1, LOG_LVL_ERR, "fuzz_netlink");
	fuzz_quiet();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p, *end;
	struct parse *ps;
	int type;

	if (size < 2)
		return 0;
	type = data[0] | data[1] << 8;
	p = (const char *)data + 2;
	end = (const char *)data + size;
	if ((ps = parse_new("fuzz-node", 2, on_event, NULL)) == NULL)
		abort();
	while (p <= end) {
		const char *z = memchr(p, '\0', (size_t)(end - p));
		/* a message keeps its NUL, as the kernel sends it */
		size_t n = z ? (size_t)(z - p) + 1 : (size_t)(end - p);
		size_t body = n, off;
		unsigned long long serial;

		while (body > 0 && (p[body - 1] == '\0' || p[body - 1] == '\n'))
			body--;
		buf_reset(&rec);
		FUZZ_ASSERT(source_netlink_format_record(&rec, type, p,
		    n) == 0);
		FUZZ_ASSERT(rec.data && strncmp(rec.data, "type=", 5) == 0);
		off = rec.len - body;
		FUZZ_ASSERT(rec.len >= body + 5 &&
		    memcmp(rec.data + off - 4, "msg=", 4) == 0);
		FUZZ_ASSERT(memcmp(rec.data + off, p, body) == 0);
		serial = source_netlink_serial(p, n);
		if (serial != 0)
			FUZZ_ASSERT(n >= 9 && memcmp(p, "audit(", 6) == 0 &&
			    memchr(p, ')', n) != NULL);
		parse_feed_record(ps, rec.data, rec.len);
		if (z == NULL)
			break;
		p = z + 1;
	}
	parse_flush(ps);
	parse_free(ps);
	return 0;
}
