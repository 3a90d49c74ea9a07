/*
 * event_record.c - a field read back from a built event's records
 * (event_build carries each as its canonical JSON, a raw node).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "event_record.h"
#include "text.h"

static int
hexdigit(char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/*
 * Read a JSON string at p (just past its opening quote) into out,
 * undoing the escapes json_write_strn makes. 0, or -1 if it does not
 * fit or is not such a string.
 */
static int
unquote(const char *p, char *out, size_t outlen)
{
	size_t o = 0;

	for (; *p != '"'; p++) {
		char c = *p;

		if (c == '\0')
			return -1;
		if (c == '\\') {
			switch (*++p) {
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case '"': case '\\': case '/': c = *p; break;
			case 'u':
				/* only controls are written as \u00XX */
				if (strncmp(p + 1, "00", 2) || !text_is_hex(p + 3, 2))
					return -1;
				c = (char)(hexdigit(p[3]) << 4 | hexdigit(p[4]));
				p += 4;
				break;
			default:
				return -1;
			}
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = c;
	}
	out[o] = '\0';
	return 0;
}

/*
 * Find member name's string value in a canonical record. A quote inside
 * a string is always escaped, so "name":" right after '{' or ',' can
 * only be that member.
 */
static int
member_str(const char *obj, const char *name, char *out, size_t outlen)
{
	char pat[64];
	const char *p = obj;
	int n = snprintf(pat, sizeof(pat), "\"%s\":\"", name);

	if (n < 0 || (size_t)n >= sizeof(pat))
		return -1;
	while ((p = strstr(p, pat)) != NULL) {
		if (p > obj && (p[-1] == '{' || p[-1] == ','))
			return unquote(p + n, out, outlen);
		p++;
	}
	return -1;
}

int
event_record_str(const cJSON *ev, const char *type, const char *name,
    char *out, size_t outlen)
{
	const cJSON *r;

	/* event_build's records: raw JSON, the tag says the type */
	cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(ev, "records")) {
		if (!cJSON_IsRaw(r) || r->string == NULL ||
		    strcmp(r->string, type) != 0)
			continue;
		if (strcmp(name, "type") == 0)
			return snprintf(out, outlen, "%s", type) < (int)outlen ?
			    0 : -1;
		return member_str(r->valuestring, name, out, outlen);
	}
	return -1;
}
