/*
 * event_derive.c - the top-level fields of an event (process, syscall,
 * success, exit, key, argv), derived from its records' fields as
 * event_fields.c reads them.
 */
#include "config.h"

#include <libaudit.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event_int.h"
#include "text.h"

/* Scratch kept between events, per thread as event_build is. */
static _Thread_local struct {
	struct buf tmp;		/* a value's decoded bytes before escaping */
	struct buf esc;
	struct buf proctitle;	/* the event's decoded PROCTITLE */
} D;

static const char *const field_name[] = {
	[F_PID] = "pid", [F_PPID] = "ppid", [F_UID] = "uid", [F_AUID] = "auid",
	[F_COMM] = "comm", [F_EXE] = "exe",
};

/* Decode raw as the kernel encoded it and escape it to valid UTF-8. */
static cJSON *
decoded_string(const char *raw, int hex, struct buf *tmp, struct buf *esc)
{
	size_t n = strlen(raw);

	/* the common cases: a bare number or word, a clean quoted string */
	if (!hex && event_fields_plain(raw, n)) {
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

/* Keys: the kernel joins several with \001. */
static void
add_keys(struct event_derive *s, const char *raw, struct buf *tmp, struct buf *esc)
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

/*
 * EXECVE: argc=N a0=... and, for long arguments, aK_len=L aK[0]=hex
 * aK[1]=hex ...; arguments may continue in the next EXECVE record.
 */
static void
execve_field(struct event_derive *s, const char *name, const char *raw,
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
execve_done(struct event_derive *s, struct buf *esc)
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

/* Fields of the acting process; the first record that has one wins. */
static void
process_field(struct event_derive *s, enum fid id, const char *raw,
    const char *val, size_t vlen)
{
	cJSON *v;

	if (s->have & 1u << id)
		return;
	switch (id) {
	case F_PID:
	case F_PPID:
	case F_UID:
	case F_AUID:
		v = int_value(raw);
		break;
	case F_COMM:
	case F_EXE:
		v = event_fields_string(val, vlen);
		break;
	default:
		return;
	}
	if (v) {
		cJSON_AddItemToObjectCS(s->process, field_name[id], v);
		s->have |= 1u << id;
		if (id == F_PID)
			s->pid = strtoll(raw, NULL, 10);
	}
}

void
event_derive_field(struct event_derive *s, int rtype, enum fid id,
    const char *name, const char *raw, const char *val, size_t vlen,
    const struct buf *decoded)
{
	switch (rtype) {
	case AUDIT_SYSCALL:
		if (id >= F_A0 && id <= F_A3) {
			unsigned i = (unsigned)(id - F_A0);

			/* hex, as the kernel writes them; the first record's */
			if (!(s->sysargs & 1u << i)) {
				s->sysarg[i] = strtoull(raw, NULL, 16);
				s->sysargs |= 1u << i;
			}
		} else if (id == F_ARCH)
			s->arch = strtoul(raw, NULL, 16);
		else if (id == F_SYSCALL)
			s->syscall = strtol(raw, NULL, 10);
		else if (id == F_SUCCESS)
			s->success = raw;
		else if (id == F_EXIT)
			s->exitv = raw;
		else if (id == F_KEY)
			add_keys(s, raw, &D.tmp, &D.esc);
		else if (id != F_OTHER)
			process_field(s, id, raw, val, vlen);
		break;
	case AUDIT_CWD:
		if (id == F_CWD && !(s->have & 1u << F_CWD)) {
			cJSON_AddItemToObjectCS(s->process, "cwd",
			    event_fields_string(val, vlen));
			s->have |= 1u << F_CWD;
		}
		break;
	case AUDIT_EXECVE:
		execve_field(s, name, raw, &D.tmp, &D.esc);
		break;
	case AUDIT_PROCTITLE:
		if (id != F_PROCTITLE)
			break;
		if (!s->have_proctitle)
			buf_reset(&D.proctitle);
		s->have_proctitle = 1;
		if (decoded != NULL)
			buf_add(&D.proctitle, decoded->data, decoded->len);
		else
			text_decode(&D.proctitle, raw, 1);
		break;
	default:
		/* user-space records carry the process too */
		if (id == F_KEY)
			add_keys(s, raw, &D.tmp, &D.esc);
		else if (id != F_OTHER)
			process_field(s, id, raw, val, vlen);
		break;
	}
}

int
event_derive_begin(struct event_derive *s)
{
	memset(s, 0, sizeof(*s));
	s->syscall = -1;
	s->pid = -1;
	s->process = cJSON_CreateObject();
	return s->process ? 0 : -1;
}

void
event_derive_finish(struct event_derive *s, cJSON *ev)
{
	if (s->have_execve)
		execve_done(s, &D.esc);
	if (s->syscall >= 0) {
		int machine = audit_elf_to_machine((unsigned int)s->arch);
		const char *sc = machine < 0 ? NULL :
		    audit_syscall_to_name((int)s->syscall, machine);

		if (sc)
			cJSON_AddItemToObjectCS(ev, "syscall",
			    cJSON_CreateStringReference(sc));
		else
			cJSON_AddNumberToObject(ev, "syscall", (double)s->syscall);
	}
	if (s->success)
		cJSON_AddItemToObjectCS(ev, "success",
		    cJSON_CreateBool(!strcmp(s->success, "yes")));
	if (s->exitv) {
		cJSON *n = int_value(s->exitv);

		if (n == NULL)
			n = decoded_string(s->exitv, 0, &D.tmp, &D.esc);
		cJSON_AddItemToObjectCS(ev, "exit", n);
	}
	if (s->keys == NULL)
		cJSON_AddItemToObjectCS(ev, "key", cJSON_CreateNull());
	else if (cJSON_GetArraySize(s->keys) == 1)
		cJSON_AddItemToObjectCS(ev, "key",
		    cJSON_DetachItemFromArray(s->keys, 0));
	else {
		cJSON_AddItemToObjectCS(ev, "key", s->keys);
		s->keys = NULL;
	}
	if (!s->have_execve && s->have_proctitle && D.proctitle.len > 0)
		s->argv = argv_from_proctitle(&D.proctitle, &D.esc);
	if (s->argv) {
		cJSON_AddItemToObjectCS(s->process, "argv", s->argv);
		s->argv = NULL;
	}
	if (s->process->child) {
		cJSON_AddItemToObjectCS(ev, "process", s->process);
		s->process = NULL;
	} else {
		cJSON_AddItemToObjectCS(ev, "process", cJSON_CreateNull());
	}
}

void
event_derive_clear(struct event_derive *s)
{
	cJSON_Delete(s->process);
	cJSON_Delete(s->argv);
	cJSON_Delete(s->keys);
	buf_free(&s->arg);
	s->process = s->argv = s->keys = NULL;
}

void
event_derive_thread_done(void)
{
	buf_free(&D.tmp);
	buf_free(&D.esc);
	buf_free(&D.proctitle);
	memset(&D, 0, sizeof(D));
}
