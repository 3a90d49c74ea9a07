/*
 * arena.h - a bump allocator behind cJSON for the trees event_build()
 * makes. An event has ~100 small nodes, all freed together; malloc and
 * free for each cost more than parsing the event (callgrind: ~45%).
 *
 * While an arena is open, cJSON allocations come from it; freeing such
 * a node is a no-op and any other pointer goes to free(). Nodes made
 * while the arena is closed (enrichers, podtrail's own events) are
 * ordinary heap memory and may be mixed into arena trees.
 */
#ifndef PODTRAIL_ARENA_H
#define PODTRAIL_ARENA_H

/* Route cJSON's allocations through the arena. Call once, at start. */
void arena_install(void);
/*
 * Open the arena, first recycling everything it handed out before:
 * every node from the previous open must be unused (deleted) by now.
 */
void arena_open(void);
/* Stop serving allocations from the arena (memory stays valid). */
void arena_close(void);
/*
 * Serve allocations from the arena again without recycling it, for
 * nodes added to the current event tree that die with it.
 */
void arena_resume(void);
/*
 * True when cJSON made no heap allocation since arena_open(): every
 * node alive since then is arena memory, so deleting the event tree
 * can be skipped (arena_open() recycles it).
 */
int arena_pure(void);
/* Release all arena memory (at exit). */
void arena_free(void);

#endif
