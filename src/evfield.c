/* evfield.c - small accessors for event trees (see evfield.h). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "evfield.h"

const char *
evf_str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

long long
evf_int(const cJSON *o, const char *k, long long dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	char *end;
	long long n;

	if (cJSON_IsNumber(v))
		return (long long)v->valuedouble;
	if (!cJSON_IsRaw(v) || v->valuestring == NULL)
		return dflt;
	errno = 0;
	n = strtoll(v->valuestring, &end, 10);
	return end != v->valuestring && *end == '\0' && !errno ? n : dflt;
}

void
evf_add_str_or_null(cJSON *o, const char *k, const char *v)
{
	if (v && *v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

unsigned
evf_hash(const char *s, unsigned h)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}
