/*
 * thread_plan.h - which helper threads podtrail runs, decided in one
 * place from the configuration. Each module asks thread_plan() for its
 * own line of the plan instead of reading settings itself; main logs
 * the whole plan once at start.
 *
 * What runs where (thread.h for how helpers start):
 *   parse    libauparse and event building for a stream of text (a
 *            replay, auditd's dispatcher); netlink records come a few
 *            at a time and are parsed on the loop's thread.
 *   parse_behind  a parse worker for netlink records, used only while
 *            the ring is behind: the split and event building leave
 *            the loop's thread while it cannot keep up.
 *   build    gzip of sealed batches (https:// and nats:// outputs) and
 *            the forwarder's request bodies (formats).
 *   build_behind  the same helper, used only while the netlink ring
 *            is behind (pipeline_behind): what the loop's thread
 *            hands off then is what it could not keep up with.
 *   drain    the netlink socket emptied into a ring (ring_bytes), so a
 *            loop held up elsewhere loses nothing until the ring fills.
 *   witness  the checkpoint sender for an https:// checkpoint_output
 *            (blocking requests, off the loop so it never stalls it).
 * The chain always hashes on the loop's thread: cheaper than handing
 * lines on (bench/README.md). libnats runs threads of its own for a
 * nats:// output; they are not podtrail's to plan.
 */
#ifndef PODTRAIL_THREAD_PLAN_H
#define PODTRAIL_THREAD_PLAN_H

struct conf;

struct thread_plan {
	unsigned parse:1;
	unsigned parse_behind:1;
	unsigned build:1;
	unsigned build_behind:1;
	unsigned drain:1;
	unsigned witness:1;
};

/*
 * The plan for c. helper_threads decides parse and build: yes, no, or
 * auto = only for a replayed file (catching up, where they halve the
 * wait; on a live node they cost more CPU per event than they save),
 * and build_behind on a netlink source with a ring; parse_behind on a
 * netlink source with a ring unless helper_threads is no.
 */
struct thread_plan thread_plan(const struct conf *c);

/* worker_new's threads for an output's batch builder under c's plan */
int thread_plan_builder(const struct conf *c);

/* Log c's plan (info): main does, once at start. */
void thread_plan_log(const struct conf *c);

#endif
