/* gaps.c - settle which audit serials went missing (see gaps.h). */
#include "config.h"

#include <stdlib.h>

#include "gaps.h"

struct gaps {
	int started;
	unsigned long long base;	/* lowest serial not yet settled */
	unsigned long long max;		/* highest serial seen */
	unsigned long long mark;	/* max at the previous tick */
	unsigned long long late;
	/* bit (s % GAPS_WINDOW) set: s in [base, base + WINDOW) was seen */
	unsigned char seen[GAPS_WINDOW / 8];
};

#define BIT(s) ((s) % GAPS_WINDOW)

struct gaps *
gaps_new(void)
{
	return calloc(1, sizeof(struct gaps));
}

static void
missing(struct gaps_report *r, unsigned long long lo, unsigned long long hi)
{
	if (r->count == 0 || lo < r->first)
		r->first = lo;
	if (r->count == 0 || hi > r->last)
		r->last = hi;
	r->count += hi - lo + 1;
}

/* Settle every serial up to and including upto. */
static void
settle(struct gaps *g, unsigned long long upto, struct gaps_report *r)
{
	unsigned long long s, end;

	if (upto < g->base)
		return;
	end = upto;
	if (end - g->base >= GAPS_WINDOW)
		end = g->base + GAPS_WINDOW - 1;
	for (s = g->base; s <= end; s++) {
		unsigned b = (unsigned)BIT(s);

		if (g->seen[b / 8] & (1u << (b % 8)))
			g->seen[b / 8] &= (unsigned char)~(1u << (b % 8));
		else
			missing(r, s, s);
	}
	/* beyond the window nothing can have been recorded */
	if (upto > end)
		missing(r, end + 1, upto);
	g->base = upto + 1;
}

void
gaps_seen(struct gaps *g, unsigned long long s, struct gaps_report *r)
{
	unsigned b;

	if (!g->started) {
		g->started = 1;
		g->base = g->max = g->mark = s;
	}
	if (s < g->base) {
		/* another record of a settled event, or a very late one */
		g->late++;
		return;
	}
	if (s - g->base >= GAPS_WINDOW)
		settle(g, s - GAPS_WINDOW, r);
	b = (unsigned)BIT(s);
	g->seen[b / 8] |= (unsigned char)(1u << (b % 8));
	if (s > g->max)
		g->max = s;
}

void
gaps_tick(struct gaps *g, struct gaps_report *r)
{
	if (!g->started)
		return;
	/*
	 * Everything below the newest serial of the previous tick has
	 * had a whole tick to arrive. The mark itself was seen.
	 */
	if (g->mark >= g->base)
		settle(g, g->mark, r);
	g->mark = g->max;
}

unsigned long long
gaps_late(const struct gaps *g)
{
	return g->late;
}

unsigned long long
gaps_max(const struct gaps *g)
{
	return g->max;
}

void
gaps_free(struct gaps *g)
{
	free(g);
}
