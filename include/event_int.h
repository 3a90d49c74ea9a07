/*
 * event_int.h - what the files of event_build (event.h) share, and
 * nothing else includes. event.c builds the event around its records;
 * event_fields.c reads a record's fields and writes them as canonical
 * JSON; event_derive.c derives the top-level fields (process, key,
 * syscall, ...) from them. Helpers called per byte or per field are
 * static inline here, so the split costs no call on the hot path.
 */
#ifndef PODTRAIL_EVENT_INT_H
#define PODTRAIL_EVENT_INT_H

#include <stddef.h>
#include <string.h>

#include <auparse.h>
#include <cjson/cJSON.h>

#include "buf.h"

/*
 * Printable ASCII but backslash: needs no decoding nor lossless escape.
 * event_fields_plain() returns 0 if not, PLAIN if so, CLEAN if it also
 * holds no '"' and so goes into JSON verbatim.
 */
#define PLAIN 1
#define CLEAN 3

/*
 * What a byte allows, ANDed over a span: its class (CLEAN, PLAIN for
 * '"', 0 for the rest) and OK_HEX for a hex digit.
 */
#define OK_HEX 4
#define OK_ALL (CLEAN | OK_HEX)

extern const unsigned char event_fields_byteclass[256];

static inline int
event_fields_plain(const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	unsigned r = OK_ALL;

	for (size_t i = 0; i < n; i++)
		r &= event_fields_byteclass[u[i]];
	return (int)(r & CLEAN);
}

/* The field names the top level is derived from. */
enum fid {
	F_OTHER, F_ARCH, F_SYSCALL, F_SUCCESS, F_EXIT, F_KEY, F_PID, F_PPID,
	F_UID, F_AUID, F_COMM, F_EXE, F_CWD, F_PROCTITLE, F_TYPE, F_NODE,
	F_A0, F_A1, F_A2, F_A3,
};

static inline enum fid
event_derive_id(const char *name, size_t n)
{
	/* called for every field: decide on length and first byte */
#define IS(s) (sizeof(s) - 1 == n && memcmp(name, s, n) == 0)
	switch (n) {
	case 2:
		if (name[0] == 'a' && name[1] >= '0' && name[1] <= '3')
			return (enum fid)(F_A0 + (name[1] - '0'));
		break;
	case 3:
		if (IS("key")) return F_KEY;
		if (IS("pid")) return F_PID;
		if (IS("uid")) return F_UID;
		if (IS("exe")) return F_EXE;
		if (IS("cwd")) return F_CWD;
		break;
	case 4:
		if (IS("arch")) return F_ARCH;
		if (IS("exit")) return F_EXIT;
		if (IS("ppid")) return F_PPID;
		if (IS("auid")) return F_AUID;
		if (IS("comm")) return F_COMM;
		if (IS("type")) return F_TYPE;
		if (IS("node")) return F_NODE;
		break;
	case 7:
		if (IS("syscall")) return F_SYSCALL;
		if (IS("success")) return F_SUCCESS;
		break;
	case 9:
		if (IS("proctitle")) return F_PROCTITLE;
		break;
	}
#undef IS
	return F_OTHER;
}

/* What the top level is derived from, gathered while walking records. */
struct event_derive {
	cJSON *process;
	cJSON *argv;		/* from EXECVE; PROCTITLE only if none */
	int have_proctitle;	/* its bytes are in event_derive.c's scratch */
	int have_execve;
	unsigned long arch;
	long syscall;
	const char *success, *exitv;	/* SYSCALL's, in auparse's text */
	int has_syscall;
	unsigned long long sysarg[4];	/* the first SYSCALL's a0..a3 */
	unsigned sysargs;		/* bit i: sysarg[i] was there */
	long long pid;			/* process.pid, or -1 */
	struct buf arg;		/* EXECVE argument being reassembled */
	cJSON *keys;
	unsigned have;		/* process members set, by 1 << field id */
};

/* event_fields.c */

/*
 * Read the fields of the record auparse is on into the calling
 * thread's scratch, handing those the top level needs to
 * event_derive_field(). 0, or -1 on ENOMEM.
 */
int event_fields_scan(auparse_state_t *au, int rtype, const char *tname,
    struct event_derive *s);
/* The same for a record parse_fast.c split (event.h). */
struct event_rec;
int event_fields_scan_rec(const struct event_rec *r,
    struct event_derive *s);
/*
 * Write the scanned record as one canonical JSON object into out
 * (reset first). 0, or -1 on ENOMEM.
 */
int event_fields_write(struct buf *out, int rtype);
/*
 * The scanned PATH record's summary for "paths": a new object the
 * caller owns (NULL on ENOMEM).
 */
cJSON *event_fields_path_entry(void);
/*
 * A new string (or raw: type) node holding a copy of the n bytes at p;
 * the caller owns it. NULL on ENOMEM.
 */
cJSON *event_fields_span(const char *p, size_t n, int type);

static inline cJSON *
event_fields_string(const char *p, size_t n)
{
	return event_fields_span(p, n, cJSON_String);
}
/* Free the calling thread's scratch. */
void event_fields_thread_done(void);

/* event_derive.c */

/* Start s for an event. 0, or -1 on ENOMEM. */
int event_derive_begin(struct event_derive *s);
/*
 * One field of the record (of type rtype) being scanned: id from
 * event_derive_id(), name and raw as auparse gives them, val/vlen the
 * value as written (valid for this call), decoded the value's decoded
 * bytes if it was hex, or NULL. Called for every field of an EXECVE
 * record and for the others whose id is not F_OTHER.
 */
void event_derive_field(struct event_derive *s, int rtype, enum fid id,
    const char *name, const char *raw, const char *val, size_t vlen,
    const struct buf *decoded);
/*
 * Add what s gathered to ev: syscall, success, exit, key, process
 * (with argv). s keeps nothing ev took.
 */
void event_derive_finish(struct event_derive *s, cJSON *ev);
/* Free what s still holds. */
void event_derive_clear(struct event_derive *s);
/* Free the calling thread's scratch. */
void event_derive_thread_done(void);

#endif
