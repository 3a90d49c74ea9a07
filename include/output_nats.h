/*
 * output_nats.h - the NATS JetStream output ("nats://HOST:PORT[,...]"):
 * each sealed batch is spooled (spool.h), then published as one
 * JetStream message (or a few, when it exceeds the server's payload
 * limit) with Nats-Msg-Id = CHAIN_STREAM:FIRST-LAST, so the stream's
 * duplicate window stores a retried batch once. Acks come back on
 * libnats's threads and reach the loop through a queue and an eventfd;
 * podtrail state is touched only on the loop's thread.
 */
#ifndef PODTRAIL_OUTPUT_NATS_H
#define PODTRAIL_OUTPUT_NATS_H

#include <stddef.h>

#include "output.h"

/* libnats-style chaining: call only while s is still NATS_OK (0). */
#define ONATS_IFOK(s, call) ((s) = (s) == 0 ? (call) : (s))

/* What to do with a publish result (natsStatus, jsErrCode). */
enum output_nats_verdict {
	ONATS_DONE,	/* stored (or a duplicate the server already had) */
	ONATS_RETRY,	/* timeout, no responders, disconnected, no quorum */
	ONATS_DEAD,	/* the stream refuses it for good (too large) */
};

/* Classify an ack: status 0 (NATS_OK) and errcode 0 is stored. */
enum output_nats_verdict output_nats_classify(int status, int errcode);
/*
 * The subject for node: pattern's tokens named NODE become the node
 * name, with characters a subject token cannot hold ('.', blanks,
 * wildcards, controls) as '_'. 0, or -1 if the result is not a valid
 * literal subject (empty tokens, wildcards) or does not fit in len.
 */
int output_nats_subject(const char *pattern, const char *node, char *out,
    size_t len);
/*
 * The message id of a batch: "STREAM:FIRST-LAST", STREAM the chain's
 * stream read from the first line of lines (NDJSON). 0, or -1 when the
 * line has no "stream" or the id does not fit in len.
 */
int output_nats_msg_id(const char *lines, size_t n, unsigned long long first,
    unsigned long long last, char *out, size_t len);
/*
 * Split "nats://H:P,H:P" (each part may repeat the scheme) into URLs
 * for libnats; *all_loopback tells whether every host is loopback.
 * Returns the count (the array is malloc'd, free with
 * output_nats_free_servers), or -1 on a bad spec (logged).
 */
int output_nats_servers(const char *spec, char ***urls, int *all_loopback);
void output_nats_free_servers(char **urls, int n);

#endif
