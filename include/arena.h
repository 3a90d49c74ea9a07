/*
 * arena.h - a bump allocator behind cJSON for the trees event_build()
 * makes. An event has ~100 small nodes, all freed together; malloc and
 * free for each cost more than parsing the event (callgrind: ~45%).
 *
 * While an arena is open, cJSON allocations come from it; freeing such
 * a node is a no-op and any other pointer goes to free(). Nodes made
 * while the arena is closed (enrichers, podtrail's own events) are
 * ordinary heap memory and may be mixed into arena trees.
 *
 * Every thread has an arena of its own, recycled by each arena_open().
 * The parse worker (parse.h) builds events into batch arenas instead,
 * which keep their events until arena_rewind(). Each event names the
 * arena its tree is in (event.h): the stage that adds to the tree
 * enters that arena (arena_enter), on whichever thread it runs.
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
/* Release all of the calling thread's own arena memory (at exit). */
void arena_free(void);

struct arena;
/* A batch arena: arena_open() does not recycle it. NULL if no memory. */
struct arena *arena_new(void);
/* Recycle a batch arena: every tree made from it must be dead. */
void arena_rewind(struct arena *a);
/* The calling thread's arena from now on (NULL: its own). */
void arena_use(struct arena *a);
/* The arena the calling thread allocates from (its own, or arena_use's). */
struct arena *arena_current(void);
/*
 * arena_use(a) for an event built into a elsewhere, as event_build()
 * left it: closed, with no heap allocation counted (see arena_pure).
 */
void arena_enter(struct arena *a);
/* Free a batch arena and its memory. */
void arena_delete(struct arena *a);

#endif
