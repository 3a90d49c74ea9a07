/* output.c - the table of outputs. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "output.h"

struct output {
	const struct output_ops *ops;
	void *ctx;
};

static const struct output_ops *const outputs[] = {
	&output_file_ops,
	&fwd_https_ops,
#ifdef HAVE_NATS
	&output_nats_ops,
#endif
};

struct output *
output_open(const char *spec, struct loop *loop, const struct conf *c)
{
	struct output *o;

	for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++) {
		if (!outputs[i]->match(spec))
			continue;
		if ((o = calloc(1, sizeof(*o))) == NULL) {
			log_warn("output");
			return NULL;
		}
		o->ops = outputs[i];
		if ((o->ctx = o->ops->open(spec, loop, c)) == NULL) {
			free(o);
			return NULL;
		}
		return o;
	}
#ifndef HAVE_NATS
	if (strncmp(spec, "nats://", 7) == 0) {
		log_warnx("output '%s': this podtrail was built without NATS "
		    "(configure --without-nats)", spec);
		return NULL;
	}
#endif
	log_warnx("unknown output '%s' (use -, file:PATH, https://... or "
	    "nats://HOST:PORT)", spec);
	return NULL;
}

int
output_write(struct output *o, const struct sealed *s)
{
	return o->ops->write(o->ctx, s);
}

void
output_flush(struct output *o)
{
	if (o->ops->flush)
		o->ops->flush(o->ctx);
}

void
output_stop(struct output *o)
{
	if (o && o->ops->stop)
		o->ops->stop(o->ctx);
}

int
output_close(struct output *o)
{
	int rc;

	if (o == NULL)
		return 0;
	rc = o->ops->close(o->ctx);
	free(o);
	return rc;
}

void
output_stats(struct output *o, cJSON *obj)
{
	if (o->ops->stats)
		o->ops->stats(o->ctx, obj);
}

void
output_set_emit(struct output *o, output_emit_cb cb, void *arg)
{
	if (o->ops->set_emit)
		o->ops->set_emit(o->ctx, cb, arg);
}

void
output_reconfigure(struct output *o, const struct conf *c)
{
	if (o->ops->reconfigure)
		o->ops->reconfigure(o->ctx, c);
}

void
output_behind(struct output *o, int on)
{
	if (o->ops->behind)
		o->ops->behind(o->ctx, on);
}
