/*
 * chaingen.c - chained, signed podtrail streams for bench/verify.sh,
 * made with podtrail's own chain (chain.c) and checkpoint (ckpt.c)
 * code, written as an aggregator stores them: batches of consecutive
 * lines of one stream, the streams interleaved, and batches reordered
 * within a window (retries, parallel senders).
 *
 *   chaingen DIR STREAMS EVENTS [CKPT_EVERY [BATCH [WINDOW [SEED]]]]
 *
 * DIR holds one state dir per stream (keys, chain state). EVENTS in
 * total, split evenly; a checkpoint every CKPT_EVERY events (0: none,
 * for the cost of signing). NDJSON to stdout; to stderr, the time
 * spent in the chain per event, in Merkle leaves per event, and per
 * checkpoint (root, Ed25519 signature, the state file's fsync).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "chain.h"
#include "event.h"
#include "ckpt.h"
#include "conf.h"
#include "log.h"

struct gen {
	struct chain *ch;
	struct ckpt *ck;
	unsigned long long made, want, since;
	char node[32];
};

static double chain_s, leaf_s, make_s;
static unsigned long long nmade;

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A mount event shaped like podtrail's (about 700 bytes sealed). */
static cJSON *
event(struct gen *g, unsigned long long i)
{
	cJSON *ev = cJSON_CreateObject(), *p, *paths, *path, *rec, *recs;
	char buf[64];

	cJSON_AddStringToObject(ev, "type", "audit");
	snprintf(buf, sizeof(buf), "2026-12-04T03:%02llu:%02llu.%03lluZ",
	    i / 60000 % 60, i / 1000 % 60, i % 1000);
	cJSON_AddStringToObject(ev, "time", buf);
	cJSON_AddStringToObject(ev, "node", g->node);
	snprintf(buf, sizeof(buf), "%llu", 1000000 + i);
	cJSON_AddRawToObject(ev, "serial", buf);
	cJSON_AddStringToObject(ev, "syscall", "mount");
	cJSON_AddTrueToObject(ev, "success");
	cJSON_AddRawToObject(ev, "exit", "0");
	cJSON_AddStringToObject(ev, "key", "podtrail_mount");
	p = cJSON_AddObjectToObject(ev, "process");
	cJSON_AddNumberToObject(p, "pid", (double)(4000 + i % 30000));
	cJSON_AddNumberToObject(p, "ppid", 1);
	cJSON_AddNumberToObject(p, "uid", 0);
	cJSON_AddRawToObject(p, "auid", "4294967295");
	cJSON_AddStringToObject(p, "comm", "runc:[2:INIT]");
	cJSON_AddStringToObject(p, "exe", "/usr/bin/runc");
	paths = cJSON_AddArrayToObject(ev, "paths");
	path = cJSON_CreateObject();
	snprintf(buf, sizeof(buf), "/var/lib/kubelet/pods/%08llx/volumes", i);
	cJSON_AddStringToObject(path, "name", buf);
	cJSON_AddStringToObject(path, "nametype", "NORMAL");
	cJSON_AddNumberToObject(path, "inode", (double)(i % 1000000));
	cJSON_AddStringToObject(path, "mode", "040755");
	cJSON_AddItemToArray(paths, path);
	cJSON_AddStringToObject(ev, "container_id",
	    "4f1c3b2a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a");
	cJSON_AddStringToObject(ev, "pod", "default/web-7d9f8b6c5-x2x4q");
	recs = cJSON_AddArrayToObject(ev, "records");
	rec = cJSON_CreateObject();
	cJSON_AddStringToObject(rec, "type", "SYSCALL");
	cJSON_AddStringToObject(rec, "arch", "c000003e");
	cJSON_AddStringToObject(rec, "syscall", "165");
	cJSON_AddStringToObject(rec, "a0", "7ffd1c2b3a40");
	cJSON_AddStringToObject(rec, "a1", "55d1e2f3a4b0");
	cJSON_AddItemToArray(recs, rec);
	return ev;
}

/* Seal ev (taken) into out as one line; its hash is the next leaf. */
static void
seal(struct gen *g, cJSON *ev, struct buf *out)
{
	static struct buf line;
	struct event e = { .json = ev };
	double t = now_s(), t2;

	if (ev == NULL || chain_seal(g->ch, &e, &line) == -1) {
		fprintf(stderr, "chaingen: sealing failed\n");
		exit(1);
	}
	t2 = now_s();
	chain_s += t2 - t;
	if (g->ck)
		ckpt_leaf(g->ck, line.data, line.len);
	leaf_s += now_s() - t2;
	buf_add(out, line.data, line.len);
	buf_addc(out, '\n');
	cJSON_Delete(ev);
}

static void
checkpoint(struct gen *g, struct buf *out)
{
	double t = now_s();
	cJSON *ev = ckpt_make(g->ck, g->node, chain_next_seq(g->ch),
	    chain_head(g->ch), ckpt_now_ms());

	make_s += now_s() - t;
	nmade++;
	seal(g, ev, out);
	g->since = 0;
}

int
main(int argc, char **argv)
{
	struct conf c;
	struct gen *g;
	struct buf *pool;
	unsigned long long events, every = 1000, batch = 500, window = 64;
	unsigned long long nstreams, npool = 0, done = 0, total = 0;
	char dir[4096], err[256];

	if (argc < 4) {
		fprintf(stderr, "usage: chaingen DIR STREAMS EVENTS "
		    "[CKPT_EVERY [BATCH [WINDOW [SEED]]]]\n");
		return 2;
	}
	nstreams = strtoull(argv[2], NULL, 10);
	events = strtoull(argv[3], NULL, 10);
	if (argc > 4)
		every = strtoull(argv[4], NULL, 10);
	if (argc > 5)
		batch = strtoull(argv[5], NULL, 10);
	if (argc > 6)
		window = strtoull(argv[6], NULL, 10);
	srandom(argc > 7 ? (unsigned)atoi(argv[7]) : 1);
	log_init(1, LOG_LVL_WARN, "chaingen");
	if (nstreams == 0 || batch == 0 || window == 0 ||
	    conf_defaults(&c) == -1 ||
	    (g = calloc(nstreams, sizeof(*g))) == NULL ||
	    (pool = calloc(window, sizeof(*pool))) == NULL)
		return 2;
	(void)mkdir(argv[1], 0700);
	for (unsigned long long s = 0; s < nstreams; s++) {
		snprintf(dir, sizeof(dir), "%s/s%04llu", argv[1], s);
		snprintf(g[s].node, sizeof(g[s].node), "node-%04llu", s);
		if (conf_set(&c, "state_dir", dir, err, sizeof(err)) == -1 ||
		    (g[s].ch = chain_open(dir, g[s].node, NULL, 0)) == NULL)
			return 1;
		if (every && (g[s].ck = ckpt_open(&c, chain_stream(g[s].ch),
		    1, chain_next_seq(g[s].ch), NULL)) == NULL)
			return 1;
		g[s].want = events / nstreams + (s < events % nstreams);
	}
	for (unsigned long long s = 0; s < nstreams; s++)
		if (g[s].ck)
			seal(&g[s], ckpt_start_event(g[s].ck, g[s].node,
			    chain_next_seq(g[s].ch), ckpt_now_ms()), &pool[0]);
	npool = 1;
	while (done < nstreams) {
		unsigned long long s = (unsigned long long)random() % nstreams;
		struct gen *gs = &g[s];
		struct buf *b;

		if (gs->made == gs->want && gs->since == (unsigned long long)-1)
			continue;
		/* a full window: store a random batch of it */
		if (npool == window) {
			unsigned long long k = (unsigned long long)random() % npool;

			fwrite(pool[k].data, 1, pool[k].len, stdout);
			buf_free(&pool[k]);
			pool[k] = pool[--npool];
			memset(&pool[npool], 0, sizeof(pool[npool]));
		}
		b = &pool[npool++];
		for (unsigned long long i = 0; i < batch && gs->made < gs->want;
		    i++) {
			seal(gs, event(gs, gs->made++), b);
			total++;
			if (gs->ck && ++gs->since == every)
				checkpoint(gs, b);
		}
		if (gs->made == gs->want) {
			/* a clean stop ends with a checkpoint */
			if (gs->ck && gs->since)
				checkpoint(gs, b);
			gs->since = (unsigned long long)-1;
			done++;
		}
	}
	for (unsigned long long k = 0; k < npool; k++) {
		fwrite(pool[k].data, 1, pool[k].len, stdout);
		buf_free(&pool[k]);
	}
	for (unsigned long long s = 0; s < nstreams; s++) {
		ckpt_close(g[s].ck);
		chain_close(g[s].ch);
	}
	fprintf(stderr, "chaingen: %llu events, chain %.3f us/event, Merkle "
	    "leaf %.3f us/event, %llu checkpoints at %.3f ms each (signing "
	    "and the state file's fsync)\n", total, chain_s * 1e6 /
	    (double)total, leaf_s * 1e6 / (double)total, nmade,
	    nmade ? make_s * 1e3 / (double)nmade : 0.0);
	free(pool);
	free(g);
	conf_free(&c);
	return 0;
}
