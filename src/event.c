/*
 * event.c - from auparse's view of an event to podtrail's JSON.
 *
 * Every record and every field the kernel sent goes into "records",
 * decoded (text.h); the top-level fields (process, paths, key, ...) are
 * conveniences derived from them. Integers are written verbatim as raw
 * JSON numbers, so 64-bit values (inodes) keep every digit.
 */
#include "config.h"

#include <libaudit.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"
#include "buf.h"
#include "event.h"
#include "log.h"
#include "text.h"

/* What the top level is derived from, gathered while walking records. */
struct ev_scan {
	cJSON *process;
	cJSON *argv;		/* from EXECVE; PROCTITLE only if none */
	struct buf proctitle;
	int have_execve;
	unsigned long arch;
	long syscall;
	struct buf arg;		/* EXECVE argument being reassembled */
	cJSON *keys;
};

static int
may_hex(int ftype)
{
	return ftype == AUPARSE_TYPE_ESCAPED ||
	    ftype == AUPARSE_TYPE_PROCTITLE ||
	    ftype == AUPARSE_TYPE_ESCAPED_KEY ||
	    ftype == AUPARSE_TYPE_ESCAPED_FILE;
}

/*
 * auparse_get_field_type() costs as much as the rest of a field's
 * handling (string compares per call), and only matters for bare values
 * that look like hex. Remember its answer per record type and name.
 */
#define HEXCACHE_SIZE 512
#define HEXCACHE_NAME 24

static struct {
	int rtype;
	char name[HEXCACHE_NAME];
	int hex;
} hexcache[HEXCACHE_SIZE];

static int
field_may_hex(auparse_state_t *au, int rtype, const char *name)
{
	size_t n = strlen(name);
	unsigned h = (unsigned)rtype * 31u;

	if (n >= HEXCACHE_NAME)
		return may_hex(auparse_get_field_type(au));
	for (size_t i = 0; i < n; i++)
		h = h * 33u + (unsigned char)name[i];
	for (unsigned probe = 0; probe < 8; probe++) {
		unsigned i = (h + probe) % HEXCACHE_SIZE;

		if (hexcache[i].name[0] == '\0') {
			hexcache[i].rtype = rtype;
			memcpy(hexcache[i].name, name, n + 1);
			hexcache[i].hex = may_hex(auparse_get_field_type(au));
			return hexcache[i].hex;
		}
		if (hexcache[i].rtype == rtype && !strcmp(hexcache[i].name, name))
			return hexcache[i].hex;
	}
	return may_hex(auparse_get_field_type(au));
}

/* Printable ASCII but backslash: needs neither decoding nor escaping. */
static int
plain(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x20 || c > 0x7e || c == '\\')
			return 0;
	}
	return 1;
}

/* Decode raw as the kernel encoded it and escape it to valid UTF-8. */
static cJSON *
decoded_string(const char *raw, int hex, struct buf *tmp, struct buf *esc)
{
	size_t n = strlen(raw);

	/* the common cases: a bare number or word, a clean quoted string */
	if (!hex && plain(raw, n)) {
		if (n < 2 || raw[0] != '"' || raw[n - 1] != '"')
			return cJSON_CreateString(raw);
		buf_reset(esc);
		if (buf_add(esc, raw + 1, n - 2) == -1)
			return NULL;
		return cJSON_CreateString(esc->data);
	}
	buf_reset(tmp);
	buf_reset(esc);
	if (text_decode(tmp, raw, hex) == -1 ||
	    text_escape(esc, tmp->data ? tmp->data : "", tmp->len) == -1)
		return NULL;
	return cJSON_CreateString(esc->data ? esc->data : "");
}

static cJSON *
escaped_bytes(const char *p, size_t n, struct buf *esc)
{
	buf_reset(esc);
	if (text_escape(esc, p, n) == -1)
		return NULL;
	return cJSON_CreateString(esc->data ? esc->data : "");
}

/* An integer field as an exact raw number, or NULL if it is not one. */
static cJSON *
int_value(const char *raw)
{
	if (raw == NULL || !text_is_int(raw, strlen(raw)))
		return NULL;
	return cJSON_CreateRaw(raw);
}

/* A cheap per-record filter: only a name whose bit is set may repeat. */
static uint64_t
name_bit(const char *name)
{
	size_t n = strlen(name);

	return 1ULL << ((unsigned char)name[0] * 7 + n * 13 +
	    (unsigned char)name[n - 1]) % 64;
}

/* Add item under name; a repeated name turns the value into an array. */
static void
add_field(cJSON *obj, const char *name, cJSON *item, uint64_t *seen)
{
	uint64_t bit = name_bit(name);
	cJSON *old = NULL;

	if (*seen & bit)
		old = cJSON_GetObjectItemCaseSensitive(obj, name);
	*seen |= bit;

	if (old == NULL) {
		cJSON_AddItemToObject(obj, name, item);
	} else if (cJSON_IsArray(old)) {
		cJSON_AddItemToArray(old, item);
	} else {
		cJSON *arr = cJSON_CreateArray();

		cJSON_DetachItemViaPointer(obj, old);
		cJSON_AddItemToArray(arr, old);
		cJSON_AddItemToArray(arr, item);
		cJSON_AddItemToObject(obj, name, arr);
	}
}

/* Keys: the kernel joins several with \001. */
static void
add_keys(struct ev_scan *s, const char *raw, struct buf *tmp, struct buf *esc)
{
	const char *p, *end;

	if (strcmp(raw, "(null)") == 0)
		return;
	buf_reset(tmp);
	if (text_decode(tmp, raw, 1) == -1 || tmp->data == NULL)
		return;
	if (s->keys == NULL)
		s->keys = cJSON_CreateArray();
	for (p = tmp->data, end = p + tmp->len; p <= end; p++) {
		const char *q = memchr(p, '\001', (size_t)(end - p));

		if (q == NULL)
			q = end;
		cJSON_AddItemToArray(s->keys, escaped_bytes(p, (size_t)(q - p), esc));
		p = q;
	}
}

/* Fields of the acting process; the first record that has one wins. */
static void
process_field(struct ev_scan *s, const char *name, const char *raw, cJSON *val)
{
	int is_int;

	switch (name[0]) {
	case 'p':
		is_int = !strcmp(name, "pid") || !strcmp(name, "ppid");
		break;
	case 'u':
		is_int = !strcmp(name, "uid");
		break;
	case 'a':
		is_int = !strcmp(name, "auid");
		break;
	case 'c':
	case 'e':
		if ((strcmp(name, "comm") && strcmp(name, "exe")) ||
		    cJSON_HasObjectItem(s->process, name))
			return;
		cJSON_AddItemToObject(s->process, name, cJSON_Duplicate(val, 0));
		return;
	default:
		return;
	}
	if (is_int && !cJSON_HasObjectItem(s->process, name)) {
		cJSON *n = int_value(raw);

		if (n)
			cJSON_AddItemToObject(s->process, name, n);
	}
}

/*
 * EXECVE: argc=N a0=... and, for long arguments, aK_len=L aK[0]=hex
 * aK[1]=hex ...; arguments may continue in the next EXECVE record.
 */
static void
execve_field(struct ev_scan *s, const char *name, const char *raw,
    struct buf *tmp, struct buf *esc)
{
	const char *br;

	if (name[0] != 'a' || name[1] < '0' || name[1] > '9')
		return;
	if (strstr(name, "_len"))
		return;
	if (s->argv == NULL)
		s->argv = cJSON_CreateArray();
	br = strchr(name, '[');
	if (br && strcmp(br, "[0]") != 0) {
		/* continuation of the argument being reassembled */
		text_decode(&s->arg, raw, 1);
		return;
	}
	if (s->arg.data) {
		cJSON_AddItemToArray(s->argv,
		    escaped_bytes(s->arg.data, s->arg.len, esc));
		buf_free(&s->arg);
	}
	if (br) {
		buf_reset(&s->arg);
		text_decode(&s->arg, raw, 1);
		if (s->arg.data == NULL)
			buf_adds(&s->arg, "");
		return;
	}
	cJSON_AddItemToArray(s->argv, decoded_string(raw, 1, tmp, esc));
}

static void
execve_done(struct ev_scan *s, struct buf *esc)
{
	if (s->arg.data) {
		cJSON_AddItemToArray(s->argv,
		    escaped_bytes(s->arg.data, s->arg.len, esc));
		buf_free(&s->arg);
	}
}

static cJSON *
argv_from_proctitle(const struct buf *pt, struct buf *esc)
{
	cJSON *argv = cJSON_CreateArray();
	const char *p = pt->data, *end = pt->data + pt->len;

	/* NUL-separated; a trailing NUL ends the last argument */
	while (p < end) {
		const char *q = memchr(p, '\0', (size_t)(end - p));

		if (q == NULL)
			q = end;
		cJSON_AddItemToArray(argv, escaped_bytes(p, (size_t)(q - p), esc));
		p = q + 1;
	}
	return argv;
}

void
event_format_time(char *out, size_t outlen, long long sec, unsigned ms)
{
	struct tm tm;
	time_t t = (time_t)sec;

	gmtime_r(&t, &tm);
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ms % 1000);
}

cJSON *
event_new_internal(const char *type, const char *node)
{
	struct timespec ts;
	char tbuf[40];
	cJSON *ev = cJSON_CreateObject();

	if (ev == NULL)
		return NULL;
	clock_gettime(CLOCK_REALTIME, &ts);
	event_format_time(tbuf, sizeof(tbuf), ts.tv_sec,
	    (unsigned)(ts.tv_nsec / 1000000));
	cJSON_AddStringToObject(ev, "type", type);
	cJSON_AddStringToObject(ev, "time", tbuf);
	cJSON_AddStringToObject(ev, "node", node);
	return ev;
}

/* One PATH record's summary for "paths"; the inode as an exact number. */
static cJSON *
path_entry(cJSON *rec)
{
	static const char *const keep[] = { "name", "nametype", "inode", "mode" };
	cJSON *p = cJSON_CreateObject();

	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++) {
		cJSON *v = cJSON_GetObjectItemCaseSensitive(rec, keep[i]);
		cJSON *n = NULL;

		if (v && i == 2 && cJSON_IsString(v))
			n = int_value(v->valuestring);
		if (n == NULL)
			n = v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull();
		cJSON_AddItemToObject(p, keep[i], n);
	}
	return p;
}

cJSON *
event_build(auparse_state_t *au, const char *node)
{
	const au_event_t *ts = auparse_get_timestamp(au);
	struct buf tmp = BUF_INIT, esc = BUF_INIT, key = BUF_INIT;
	struct ev_scan s = { 0 };
	cJSON *ev, *records = NULL, *paths = NULL;
	const char *success = NULL, *exitv = NULL;
	char tbuf[40], serial[24];

	if (ts == NULL)
		return NULL;
	arena_open();
	if ((ev = cJSON_CreateObject()) == NULL)
		goto nomem;
	s.syscall = -1;
	s.process = cJSON_CreateObject();
	records = cJSON_CreateArray();
	paths = cJSON_CreateArray();

	snprintf(serial, sizeof(serial), "%lu", ts->serial);
	event_format_time(tbuf, sizeof(tbuf), ts->sec, ts->milli);
	cJSON_AddStringToObject(ev, "type", "audit");
	cJSON_AddRawToObject(ev, "serial", serial);
	cJSON_AddStringToObject(ev, "time", tbuf);
	/* node= comes from the input too: escaped like any value */
	if (ts->host && *ts->host) {
		if (text_escape(&key, ts->host, strlen(ts->host)) == -1)
			goto nomem;
		cJSON_AddStringToObject(ev, "node", key.data);
	} else {
		cJSON_AddStringToObject(ev, "node", node);
	}

	auparse_first_record(au);
	do {
		const char *tname = auparse_get_type_name(au);
		int rtype = auparse_get_type(au);
		uint64_t seen;
		cJSON *rec;

		/* EOE only ends the event; auparse does not always keep it */
		if (rtype == AUDIT_EOE)
			continue;
		rec = cJSON_CreateObject();
		seen = 0;

		cJSON_AddStringToObject(rec, "type", tname ? tname : "UNKNOWN");
		if (!auparse_first_field(au))
			goto record_done;
		do {
			const char *name = auparse_get_field_name(au);
			const char *raw = auparse_get_field_str(au);
			int hex;
			cJSON *val;

			if (name == NULL || raw == NULL || *name == '\0' ||
			    ((*name == 't' || *name == 'n') &&
			    (!strcmp(name, "type") || !strcmp(name, "node"))))
				continue;
			/* EXECVE arguments are untrusted strings too */
			hex = raw[0] != '"' && text_is_hex(raw, strlen(raw)) &&
			    ((rtype == AUDIT_EXECVE && name[0] == 'a' &&
			    !strstr(name, "_len") && strcmp(name, "argc")) ||
			    field_may_hex(au, rtype, name));
			if ((val = decoded_string(raw, hex, &tmp, &esc)) == NULL)
				goto nomem;

			switch (rtype) {
			case AUDIT_SYSCALL:
				if (!strcmp(name, "arch"))
					s.arch = strtoul(raw, NULL, 16);
				else if (!strcmp(name, "syscall"))
					s.syscall = strtol(raw, NULL, 10);
				else if (!strcmp(name, "success"))
					success = raw;
				else if (!strcmp(name, "exit"))
					exitv = raw;
				else if (!strcmp(name, "key"))
					add_keys(&s, raw, &tmp, &esc);
				process_field(&s, name, raw, val);
				break;
			case AUDIT_CWD:
				if (!strcmp(name, "cwd"))
					cJSON_AddItemToObject(s.process, "cwd",
					    cJSON_Duplicate(val, 0));
				break;
			case AUDIT_EXECVE:
				execve_field(&s, name, raw, &tmp, &esc);
				break;
			case AUDIT_PROCTITLE:
				if (!strcmp(name, "proctitle"))
					text_decode(&s.proctitle, raw, 1);
				break;
			default:
				/* user-space records carry the process too */
				process_field(&s, name, raw, val);
				if (!strcmp(name, "key"))
					add_keys(&s, raw, &tmp, &esc);
				break;
			}
			/* a garbled stream can hold any bytes in a name */
			if (!plain(name, strlen(name))) {
				buf_reset(&key);
				if (text_escape(&key, name, strlen(name)) == -1) {
					cJSON_Delete(val);
					goto nomem;
				}
				name = key.data;
			}
			add_field(rec, name, val, &seen);
		} while (auparse_next_field(au) > 0);
record_done:
		if (rtype == AUDIT_EXECVE)
			s.have_execve = 1;
		if (rtype == AUDIT_PATH)
			cJSON_AddItemToArray(paths, path_entry(rec));
		cJSON_AddItemToArray(records, rec);
	} while (auparse_next_record(au) > 0);
	if (s.have_execve)
		execve_done(&s, &esc);

	if (s.syscall >= 0) {
		int machine = audit_elf_to_machine((unsigned int)s.arch);
		const char *sc = machine < 0 ? NULL :
		    audit_syscall_to_name((int)s.syscall, machine);

		if (sc)
			cJSON_AddStringToObject(ev, "syscall", sc);
		else
			cJSON_AddNumberToObject(ev, "syscall", (double)s.syscall);
	}
	if (success)
		cJSON_AddBoolToObject(ev, "success", !strcmp(success, "yes"));
	if (exitv) {
		cJSON *n = int_value(exitv);

		if (n == NULL)
			n = decoded_string(exitv, 0, &tmp, &esc);
		cJSON_AddItemToObject(ev, "exit", n);
	}
	if (s.keys == NULL)
		cJSON_AddNullToObject(ev, "key");
	else if (cJSON_GetArraySize(s.keys) == 1)
		cJSON_AddItemToObject(ev, "key",
		    cJSON_DetachItemFromArray(s.keys, 0));
	else {
		cJSON_AddItemToObject(ev, "key", s.keys);
		s.keys = NULL;
	}
	if (!s.have_execve && s.proctitle.data)
		s.argv = argv_from_proctitle(&s.proctitle, &esc);
	if (s.argv) {
		cJSON_AddItemToObject(s.process, "argv", s.argv);
		s.argv = NULL;
	}
	if (s.process->child) {
		cJSON_AddItemToObject(ev, "process", s.process);
		s.process = NULL;
	} else {
		cJSON_AddNullToObject(ev, "process");
	}
	cJSON_AddItemToObject(ev, "paths", paths);
	cJSON_AddItemToObject(ev, "records", records);
	goto out;
nomem:
	log_warnx("out of memory building event");
	cJSON_Delete(records);
	cJSON_Delete(paths);
	cJSON_Delete(ev);
	ev = NULL;
out:
	arena_close();
	cJSON_Delete(s.process);
	cJSON_Delete(s.argv);
	cJSON_Delete(s.keys);
	buf_free(&s.arg);
	buf_free(&s.proctitle);
	buf_free(&tmp);
	buf_free(&esc);
	buf_free(&key);
	return ev;
}
