/*
 * verify_nats.h - podtrail-verify reading a JetStream stream:
 * nats://HOST:PORT[,HOST:PORT...]/STREAM[?OPTION=VALUE&...] as a FILE *
 * of the NDJSON lines podtrail published there (gzip'd payloads are
 * gunzip'd), through a durable pull consumer that resumes where it
 * stopped across reconnects and server failures.
 */
#ifndef PODTRAIL_VERIFY_NATS_H
#define PODTRAIL_VERIFY_NATS_H

#include <stdio.h>

/*
 * Open the stream for reading, to its current end. Options: durable=NAME
 * (a consumer that is kept, so the next run resumes after this one;
 * default: one made for this run and deleted at the end), ca_file,
 * client_cert, client_key, nats_creds (as in podtrail.conf), wait=SECONDS
 * (how long to retry without progress, default 60). NULL on error
 * (logged). A read error (the stream cannot be read to its end) is a
 * read error on the FILE; fclose returns -1 if the consumer could not
 * be cleaned up.
 */
FILE *vnats_open(const char *url);

#endif
