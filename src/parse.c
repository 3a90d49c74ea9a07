/* parse.c - libauparse feed wrapper. */
#include "config.h"

#include <auparse.h>
#include <libaudit.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "event.h"
#include "log.h"
#include "parse.h"

struct parse {
	auparse_state_t *au;
	char *node;
	parse_emit_cb emit;
	void *arg;
	unsigned long long records, events, resets;
};

static void
on_event(auparse_state_t *au, auparse_cb_event_t type, void *arg)
{
	struct parse *p = arg;
	cJSON *ev;

	if (type != AUPARSE_CB_EVENT_READY)
		return;
	/* a synthetic EOE (eoe.h) for an event auparse had already ended */
	if (auparse_get_num_records(au) == 1 &&
	    auparse_get_type(au) == AUDIT_EOE)
		return;
	if ((ev = event_build(au, p->node)) == NULL)
		return;
	p->events++;
	p->emit(ev, p->arg);
}

struct parse *
parse_new(const char *node, long eoe_timeout, parse_emit_cb emit, void *arg)
{
	struct parse *p = calloc(1, sizeof(*p));

	if (p == NULL || (p->node = strdup(node)) == NULL)
		goto err;
	arena_install();
	if ((p->au = auparse_init(AUSOURCE_FEED, NULL)) == NULL) {
		log_warn("auparse_init");
		goto err;
	}
	/* process-wide in libauparse 3.0 */
	auparse_set_eoe_timeout((time_t)eoe_timeout);
	auparse_add_callback(p->au, on_event, p, NULL);
	p->emit = emit;
	p->arg = arg;
	return p;
err:
	if (p)
		free(p->node);
	free(p);
	return NULL;
}

int
parse_feed(struct parse *p, const char *data, size_t len)
{
	for (const char *q = data; (q = memchr(q, '\n', len - (size_t)(q - data)));
	    q++)
		p->records++;
	return auparse_feed(p->au, data, len);
}

int
parse_feed_record(struct parse *p, const char *line, size_t len)
{
	p->records++;
	if (auparse_feed(p->au, line, len) == -1)
		return -1;
	return auparse_feed(p->au, "\n", 1);
}

int
parse_age(struct parse *p)
{
	if (!auparse_feed_has_data(p->au))
		return 0;
	auparse_feed_age_events(p->au);
	return auparse_feed_has_data(p->au);
}

int
parse_compact(struct parse *p)
{
	auparse_state_t *au;

	if (auparse_feed_has_data(p->au))
		return 0;
	if ((au = auparse_init(AUSOURCE_FEED, NULL)) == NULL) {
		log_warn("auparse_init");
		return -1;
	}
	auparse_add_callback(au, on_event, p, NULL);
	auparse_destroy(p->au);
	p->au = au;
	p->resets++;
	return 1;
}

void
parse_flush(struct parse *p)
{
	auparse_flush_feed(p->au);
}

unsigned long long
parse_records(const struct parse *p)
{
	return p->records;
}

unsigned long long
parse_events(const struct parse *p)
{
	return p->events;
}

unsigned long long
parse_resets(const struct parse *p)
{
	return p->resets;
}

void
parse_free(struct parse *p)
{
	if (p == NULL)
		return;
	auparse_destroy(p->au);
	arena_free();
	free(p->node);
	free(p);
}
