/*
 * event_record.h - reading a field back from an event event_build made
 * (event.h).
 */
#ifndef PODTRAIL_EVENT_RECORD_H
#define PODTRAIL_EVENT_RECORD_H

#include <stddef.h>

#include <cjson/cJSON.h>

/*
 * Copy the string value of field name in ev's first record of type
 * (e.g. "SYSCALL", "a0") to out. 0, or -1 if there is no such record,
 * no such string field, or it does not fit.
 */
int event_record_str(const cJSON *ev, const char *type, const char *name,
    char *out, size_t outlen);

#endif
