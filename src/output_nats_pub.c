/*
 * output_nats_pub.c - the nats:// output's publishing: spool segments
 * become messages of at most the server's max_payload, published up to
 * WINDOW_MSGS in flight; acks retire them, and a segment leaves the
 * spool only when every message made from it is acked.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nats/nats.h>

#include "buf.h"
#include "fwd_retry.h"
#include "gzip.h"
#include "log.h"
#include "loop.h"
#include "output_nats.h"
#include "output_nats_int.h"
#include "output_nats_link.h"
#include "output_nats_pub.h"
#include "spool.h"

/* messages in flight at once, and their bytes */
#define WINDOW_MSGS 32
#define WINDOW_BYTES ((size_t)16 << 20)
/* room for headers and protocol within the server's max_payload */
#define HDR_ROOM 1024

static void
seg_free(struct onats *f, struct nseg *g)
{
	for (size_t i = 0; i < g->nm; i++) {
		if (g->m[i].state == M_INFLIGHT) {
			f->inflight--;
			f->inflight_bytes -= g->m[i].data.len;
		}
		buf_free(&g->m[i].data);
	}
	free(g->m);
	free(g);
}

/* Take g out of the list and free it. */
void
output_nats_pub_seg_drop(struct onats *f, struct nseg *g)
{
	struct nseg **pp = &f->head, *prev = NULL;

	while (*pp && *pp != g) {
		prev = *pp;
		pp = &(*pp)->next;
	}
	if (*pp == NULL)
		return;
	*pp = g->next;
	if (f->tail == g)
		f->tail = prev;
	seg_free(f, g);
}

static void
schedule_retry(struct onats *f)
{
	long ms;

	/* a window of failures from one outage is one failure */
	if (loop_now_ms() < f->retry_at)
		return;
	ms = fwd_retry_backoff_ms(++f->failures);
	f->retry_at = loop_now_ms() + ms;
	loop_timer_arm(f->retry_timer, ms);
}

static int
add_msg(struct nseg *g, const char *id, struct buf *data, int gz)
{
	struct nmsg *m = realloc(g->m, (g->nm + 1) * sizeof(*m));

	if (m == NULL)
		return -1;
	g->m = m;
	m = &g->m[g->nm++];
	memset(m, 0, sizeof(*m));
	m->seg = g;
	snprintf(m->id, sizeof(m->id), "%s", id);
	m->data = *data;	/* taken */
	*data = (struct buf)BUF_INIT;
	m->gz = gz;
	return 0;
}

/*
 * A segment larger than the server takes: messages of whole lines,
 * each within limit (gzip'd again when the segment was). 0, -1 (no
 * memory) or -2 (one line alone is too large: never deliverable).
 */
static int
split(struct onats *f, struct nseg *g, const struct buf *plain, int gz,
    size_t limit)
{
	const char *p = plain->data, *end = plain->data + plain->len;

	while (p < end) {
		const char *q = p, *last = p, *nl1;
		char id[MSGID_MAX];
		struct buf *out = &f->chunk;

		while (q < end) {
			const char *nl = memchr(q, '\n', (size_t)(end - q));
			const char *next = nl ? nl + 1 : end;

			if ((size_t)(next - p) > limit)
				break;
			last = q;
			q = next;
		}
		if (q == p)
			return -2;
		nl1 = memchr(p, '\n', (size_t)(q - p));
		if (output_nats_msg_id(p, (size_t)(q - p),
		    output_nats_seq_of(p, nl1 ? (size_t)(nl1 - p) :
		    (size_t)(q - p)), output_nats_seq_of(last,
		    (size_t)(q - last)), id, sizeof(id)) == -1)
			return -2;
		buf_reset(out);
		if (gz) {
			buf_reset(&f->zgz);
			if (buf_add(&f->zgz, p, (size_t)(q - p)) == -1 ||
			    gzip_compress(f->gz, &f->zgz, out) == -1)
				return -1;
		} else if (buf_add(out, p, (size_t)(q - p)) == -1) {
			return -1;
		}
		if (add_msg(g, id, out, gz) == -1)
			return -1;
		p = q;
	}
	return 0;
}

/* Set a segment aside for good: it can never be delivered. */
static void
dead_segment(struct onats *f, const struct spool_seg *seg, const char *why)
{
	static struct log_rl rl;

	log_warnx_rl(&rl, "spool segment %llu (%llu events, seq %llu..%llu) "
	    "%s; moved to the dead-letter directory", seg->id, seg->events,
	    seg->first_seq, seg->last_seq, why);
	f->dead_batches++;
	f->dead_events += seg->events;
	spool_dead(f->spool, seg->id);
}

/* Read the next spooled segment into messages. 1 loaded, 0 none, -1 error. */
static int
load_next(struct onats *f)
{
	static struct log_rl rl;
	struct spool_seg seg;
	struct nseg *g;
	const struct buf *plain = &f->raw;
	size_t limit = (size_t)(f->max_payload > 0 ? f->max_payload :
	    1 << 20);
	unsigned long long before = f->loaded_upto;
	int gz, r, w, whole, own = 0;
	char id[MSGID_MAX];

	limit = limit > 2 * HDR_ROOM ? limit - HDR_ROOM : limit / 2;
	if ((r = spool_next(f->spool, f->loaded_upto, &f->raw, &seg)) == 0)
		return 0;
	if (r == -1)
		return 1;	/* set aside; the next one may do */
	f->loaded_upto = seg.id;
	gz = gzip_is_member(&f->raw);
	whole = f->raw.len <= limit;
	/* this process sealed it: the id needs no look inside */
	if (whole && seg.id >= f->own_from && *f->own_stream) {
		w = snprintf(id, sizeof(id), "%s:%llu-%llu", f->own_stream,
		    seg.first_seq, seg.last_seq);
		own = w > 0 && (size_t)w < sizeof(id);
	}
	if (gz && !own) {
		if ((r = gzip_decompress(f->gz, &f->raw, &f->plain)) == -2) {
			dead_segment(f, &seg, "is not a valid batch");
			return 1;
		}
		if (r == -1)
			goto nomem;
		plain = &f->plain;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL)
		goto nomem;
	g->seg = seg;
	if (whole) {
		r = !own && output_nats_msg_id(plain->data, plain->len,
		    seg.first_seq, seg.last_seq, id, sizeof(id)) == -1 ? -2 :
		    add_msg(g, id, &f->raw, gz);
	} else {
		r = split(f, g, plain, gz, limit);
	}
	buf_reset(&f->plain);
	if (r != 0) {
		seg_free(f, g);
		if (r == -1)
			goto nomem;
		dead_segment(f, &seg, !whole ? "holds an event "
		    "larger than the server's max_payload" : "has lines "
		    "without a chain stream");
		return 1;
	}
	if (f->tail)
		f->tail->next = g;
	else
		f->head = g;
	f->tail = g;
	return 1;
nomem:
	log_warnx_rl(&rl, "out of memory reading the spool; will retry");
	f->loaded_upto = before;
	return -1;
}

struct nmsg *
output_nats_pub_next_queued(struct onats *f)
{
	for (struct nseg *g = f->head; g; g = g->next)
		for (size_t i = 0; i < g->nm; i++)
			if (g->m[i].state == M_QUEUED)
				return &g->m[i];
	return NULL;
}

static int
publish(struct onats *f, struct nmsg *m)
{
	static struct log_rl rl;
	natsMsg *msg = NULL;
	jsPubOptions po;
	natsStatus s;

	jsPubOptions_Init(&po);
	po.MsgId = m->id;
	po.ExpectStream = f->stream;
	po.MaxWait = f->timeout_ms;
	s = natsMsg_Create(&msg, f->subject, NULL, m->data.data,
	    (int)m->data.len);
	if (s == NATS_OK && m->gz)
		s = natsMsgHeader_Set(msg, "Content-Encoding", "gzip");
	if (s == NATS_OK)
		s = js_PublishMsgAsync(f->js, &msg, &po);
	natsMsg_Destroy(msg);
	if (s != NATS_OK) {
		log_warnx_rl(&rl, "publishing to NATS: %s; will retry",
		    natsStatus_GetText(s));
		return -1;
	}
	return 0;
}

/* Publish what the window has room for. */
void
output_nats_pub_pump(struct onats *f)
{
	if (!f->ready || !f->connected || loop_now_ms() < f->retry_at)
		return;
	for (;;) {
		struct nmsg *m = output_nats_pub_next_queued(f);

		if (f->inflight >= WINDOW_MSGS)
			return;
		if (m == NULL) {
			if (load_next(f) != 1)
				return;
			continue;
		}
		if (f->inflight && f->inflight_bytes + m->data.len >
		    WINDOW_BYTES)
			return;
		if (publish(f, m) == -1) {
			schedule_retry(f);
			return;
		}
		m->state = M_INFLIGHT;
		f->inflight++;
		f->inflight_bytes += m->data.len;
		f->published++;
		f->bytes += m->data.len;
		if (m->tries++)
			f->retried++;
	}
}

static struct nmsg *
find_inflight(struct onats *f, const char *id)
{
	for (struct nseg *g = f->head; g; g = g->next)
		for (size_t i = 0; i < g->nm; i++)
			if (g->m[i].state == M_INFLIGHT &&
			    strcmp(g->m[i].id, id) == 0)
				return &g->m[i];
	return NULL;
}

/* Every message of g is stored: the segment leaves the spool. */
static void
seg_delivered(struct onats *f, struct nseg *g)
{
	f->sent_events += g->seg.events;
	/* as in fwd: only a delivered report retires the losses it told */
	if (f->report_seq && g->seg.last_seq >= f->report_seq) {
		memset(&f->unreported, 0, sizeof(f->unreported));
		f->report_seq = 0;
	}
	spool_remove(f->spool, g->seg.id);
	output_nats_pub_seg_drop(f, g);
}

void
output_nats_pub_ack(struct onats *f, const struct nev *e)
{
	static struct log_rl rl;
	struct nmsg *m = find_inflight(f, e->id);
	struct nseg *g;

	if (m == NULL)
		return;		/* the set-up probe, or a segment dropped */
	g = m->seg;
	f->inflight--;
	f->inflight_bytes -= m->data.len;
	switch (output_nats_classify(e->status, e->errcode)) {
	case ONATS_DONE:
		m->state = M_ACKED;
		buf_free(&m->data);
		f->acked++;
		f->failures = 0;
		if (e->dup)
			f->duplicates++;
		if (++g->nacked == g->nm)
			seg_delivered(f, g);
		return;
	case ONATS_DEAD:
		dead_segment(f, &g->seg, e->text);
		output_nats_pub_seg_drop(f, g);
		return;
	case ONATS_RETRY:
		break;
	}
	m->state = M_QUEUED;
	log_warnx_rl(&rl, "NATS did not store a batch (%s%s%s, JetStream "
	    "error %d); will retry", natsStatus_GetText(e->status),
	    *e->text ? ": " : "", e->text, e->errcode);
	/* the stream is gone (or never was): make it again */
	if (e->errcode == JSStreamNotFoundErr ||
	    e->status == NATS_NO_RESPONDERS)
		output_nats_link_start(f);
	schedule_retry(f);
}

/* Put every message in flight back in the queue (an ack was lost). */
void
output_nats_pub_requeue(struct onats *f)
{
	for (struct nseg *g = f->head; g; g = g->next)
		for (size_t i = 0; i < g->nm; i++)
			if (g->m[i].state == M_INFLIGHT) {
				g->m[i].state = M_QUEUED;
				f->inflight--;
				f->inflight_bytes -= g->m[i].data.len;
			}
}

