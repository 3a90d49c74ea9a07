/* source.c - the table of sources and the spec parser. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "source.h"

struct source {
	const struct source_ops *ops;
	void *ctx;
};

static const struct source_ops *const sources[] = {
	&source_stdin_ops,
	&source_file_ops,
	&source_netlink_ops,
	&source_netlink_unicast_ops,
};

static const struct source_ops *
lookup(const char *spec, const char **arg)
{
	size_t n = strcspn(spec, ":");

	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		if (strlen(sources[i]->name) == n &&
		    strncmp(sources[i]->name, spec, n) == 0) {
			*arg = spec[n] == ':' ? spec + n + 1 : NULL;
			return sources[i];
		}
	}
	return NULL;
}

int
source_known(const char *spec)
{
	const char *arg;

	return lookup(spec, &arg) != NULL;
}

struct source *
source_open(const char *spec, struct loop *loop, struct pipeline *pl,
    const struct conf *c)
{
	const struct source_ops *ops;
	struct source *s;
	const char *arg;

	if ((ops = lookup(spec, &arg)) == NULL) {
		log_warnx("unknown source '%s'", spec);
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("source");
		return NULL;
	}
	s->ops = ops;
	if ((s->ctx = ops->open(arg, loop, pl, c)) == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

void
source_stats(struct source *s, cJSON *obj)
{
	if (s && s->ops->stats)
		s->ops->stats(s->ctx, obj);
}

int
source_start(struct source *s)
{
	return s && s->ops->start ? s->ops->start(s->ctx) : 0;
}

void
source_drain(struct source *s)
{
	if (s && s->ops->drain)
		s->ops->drain(s->ctx);
}

void
source_close(struct source *s)
{
	if (s == NULL)
		return;
	s->ops->close(s->ctx);
	free(s);
}
