/*
 * output_nats_int.h - what the files of the nats:// output share, and
 * nothing else includes: its state (struct onats, owned by the loop's
 * thread but for the q hand-off and the libnats handles the set-up
 * thread writes before it is joined) and the functions they call in
 * each other. output_nats.c is the output (batching, open, close) and
 * its policy, output_nats_link.c the connection (libnats's threads and
 * the set-up thread), output_nats_pub.c the publishing of spooled
 * segments and their acks.
 */
#ifndef PODTRAIL_OUTPUT_NATS_INT_H
#define PODTRAIL_OUTPUT_NATS_INT_H

#include <pthread.h>
#include <stddef.h>

#include <nats/nats.h>

#include "buf.h"
#include "gzip.h"
#include "output.h"
#include "spool.h"

#define MSGID_MAX 400
#define NAME_MAX_ 256


enum { EV_ACK, EV_SETUP, EV_CONNECTED, EV_DISCONNECTED, EV_RECONNECTED,
    EV_CLOSED, EV_ERROR, EV_NOTE };
enum { M_QUEUED, M_INFLIGHT, M_ACKED };

/* From a libnats thread (or the set-up thread) to the loop. */
struct nev {
	struct nev *next;
	int kind;
	int status;		/* natsStatus */
	int errcode;		/* jsErrCode */
	int dup;
	int warn;
	char id[MSGID_MAX];
	char text[512];
};

struct nseg;

struct nmsg {
	struct nseg *seg;
	char id[MSGID_MAX];
	struct buf data;
	int gz;
	int state;
	unsigned tries;
};

/* A spool segment being published: its messages, oldest segment first. */
struct nseg {
	struct nseg *next;
	struct spool_seg seg;
	struct nmsg *m;
	size_t nm, nacked;
};

struct onats {
	struct loop *loop;
	char **urls;
	int nurls, tls;
	char stream[NAME_MAX_], subject[NAME_MAX_], node[256];
	char *ca_file, *client_cert, *client_key, *creds;
	long batch_events;
	size_t batch_bytes;
	long batch_age_ms;
	long timeout_ms;
	long setup_ms;		/* timeout_ms for the set-up thread */
	/* the batch being built; bytes of it in the spool's crash copy, or -1 */
	struct buf batch, zgz, raw, plain, chunk;
	unsigned long long batch_n, batch_first, batch_last;
	size_t batch_kept;
	struct gzip *gz;
	/*
	 * The sealed batch being compressed, off the loop when a helper can
	 * (worker.h), then spooled; while it is out only the packer touches
	 * job. z_open is its crash copy, z_report whether a loss report is
	 * in it.
	 */
	struct worker *packer;
	struct {
		struct gzip *gz;
		struct buf raw, out;
		int rc;
	} job;
	unsigned long long z_n, z_first, z_last, z_open;
	int z_report, closing;
	/*
	 * Segments from own_from on were sealed by this process: their
	 * lines' chain stream is own_stream, so their message id needs no
	 * look inside them.
	 */
	unsigned long long own_from;
	char own_stream[MSGID_MAX];
	struct spool *spool;
	struct spool_loss loss, unreported;
	unsigned long long report_seq;
	int report_in_batch;
	output_emit_cb emit;
	void *emit_arg;
	struct loop_timer *age_timer, *retry_timer, *start_timer;
	/* segments read from the spool, oldest first */
	struct nseg *head, *tail;
	unsigned long long loaded_upto;
	size_t inflight, inflight_bytes;
	unsigned failures;
	long long retry_at;
	/* libnats: written by the set-up thread, read by the loop after it joined */
	natsOptions *opts;
	natsConnection *nc;
	jsCtx *js;
	int nats_open;
	int max_payload;
	/* loop thread */
	int ready;		/* the stream was checked: publish */
	int connected;
	int setup_running;
	int stopping;
	pthread_t setup_thread;
	/* the hand-off; everything in q is under q.mu */
	struct {
		pthread_mutex_t mu;
		pthread_cond_t cv;
		struct nev *head, *tail;
		int lost;	/* an event could not be queued (no memory) */
		int stop;	/* the set-up thread should give up */
		int efd;
	} q;
	/* counters */
	unsigned long long published, acked, retried, duplicates, sent_events,
	    dead_batches, dead_events, lost_events, bytes, reconnects;
};

/* "seq" of a line (the chain's, the last top-level one), 0 if none. */
unsigned long long output_nats_seq_of(const char *line, size_t n);

#endif
