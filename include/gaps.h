/*
 * gaps.h - finding kernel audit serials that never arrived.
 *
 * Serials grow by one per event, but events on different CPUs reach
 * a reader slightly out of order, and multicast readers see records,
 * not events. So a serial is only declared missing once it has stayed
 * absent for a whole tick (gaps_tick) or fallen out of a window of
 * GAPS_WINDOW serials behind the newest one.
 */
#ifndef PODTRAIL_GAPS_H
#define PODTRAIL_GAPS_H

#define GAPS_WINDOW 65536

/* What one call settled: count serials missing, between first and last. */
struct gaps_report {
	unsigned long long count;
	unsigned long long first, last;
};

struct gaps;

/* New tracker; NULL on ENOMEM. */
struct gaps *gaps_new(void);
/*
 * A record with serial s arrived. Adds to *r the serials this settles
 * as missing (r is not cleared).
 */
void gaps_seen(struct gaps *g, unsigned long long s, struct gaps_report *r);
/* A tick passed: serials absent since the previous tick are missing. */
void gaps_tick(struct gaps *g, struct gaps_report *r);
/* Records whose serial was already settled (late or repeated). */
unsigned long long gaps_late(const struct gaps *g);
/* Highest serial seen, 0 if none. */
unsigned long long gaps_max(const struct gaps *g);
void gaps_free(struct gaps *g);

#endif
