/* arena.c - bump allocator for per-event cJSON trees. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "arena.h"

/*
 * Under ASan, recycled arena memory is poisoned and each allocation
 * unpoisoned as it is handed out, so a node kept past its event is
 * still caught as a use-after-free.
 */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define ARENA_BLOCK (256 * 1024)
#define ARENA_ALIGN 16

struct block {
	struct block *next;
	char *end;
	char *cur;
	char data[];
};

struct arena {
	struct block *blocks;	/* in use, newest first */
	struct block *spare;	/* rewound base-size blocks, for block_new */
	int on;
	int batch;		/* arena_new()'s: arena_open() does not rewind */
	unsigned long heap_allocs;	/* cJSON heap allocations since open */
};

/*
 * Each thread has its own arena, and may lend it to a batch arena
 * (arena_use): cJSON's hooks are process-wide, so they look here.
 */
static _Thread_local struct arena own;
static _Thread_local struct arena *cur;

static inline struct arena *
here(void)
{
	return cur ? cur : &own;
}

static struct block *
block_new(struct arena *a, size_t need)
{
	size_t size = need > ARENA_BLOCK ? need : ARENA_BLOCK;
	struct block *b;

	if (size == ARENA_BLOCK && a->spare != NULL) {
		b = a->spare;
		a->spare = b->next;
	} else if ((b = malloc(sizeof(*b) + size)) == NULL) {
		return NULL;
	}
	b->cur = b->data;
	b->end = b->data + size;
	POISON(b->data, size);
	b->next = a->blocks;
	a->blocks = b;
	return b;
}

static void
block_free(struct block *b)
{
	UNPOISON(b->data, (size_t)(b->end - b->data));
	free(b);
}

static int
in_arena(const struct arena *a, const void *p)
{
	for (struct block *b = a->blocks; b; b = b->next)
		if ((const char *)p >= b->data && (const char *)p < b->end)
			return 1;
	return 0;
}

static void *
arena_malloc(size_t n)
{
	struct arena *a = here();
	struct block *b = a->blocks;
	char *p;

	if (!a->on) {
		a->heap_allocs++;
		return malloc(n);
	}
	n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (b == NULL || (size_t)(b->end - b->cur) < n) {
		if ((b = block_new(a, n)) == NULL)
			return NULL;
	}
	p = b->cur;
	b->cur += n;
	UNPOISON(p, n);
	return p;
}

static void
arena_release(void *p)
{
	if (p && !in_arena(here(), p))
		free(p);
}

void
arena_install(void)
{
	cJSON_Hooks h = { arena_malloc, arena_release };

	cJSON_InitHooks(&h);
}

/*
 * Recycle a's memory, keeping up to keep base-size blocks as spares
 * (larger ones, one huge event's, are always freed).
 */
static void
rewind_blocks(struct arena *a, size_t keep)
{
	struct block *b;
	size_t n = 0;

	for (b = a->spare; b; b = b->next)
		n++;
	while ((b = a->blocks) != NULL) {
		a->blocks = b->next;
		if ((size_t)(b->end - b->data) == ARENA_BLOCK && n < keep) {
			POISON(b->data, ARENA_BLOCK);
			b->next = a->spare;
			a->spare = b;
			n++;
			continue;
		}
		block_free(b);
	}
	if (keep == 0)
		while ((b = a->spare) != NULL) {
			a->spare = b->next;
			block_free(b);
		}
}

void
arena_open(void)
{
	struct arena *a = here();

	/* a thread's own arena keeps one block; a batch keeps its events */
	if (!a->batch)
		rewind_blocks(a, 1);
	a->heap_allocs = 0;
	a->on = 1;
}

void
arena_close(void)
{
	here()->on = 0;
}

void
arena_resume(void)
{
	here()->on = 1;
}

int
arena_pure(void)
{
	return here()->heap_allocs == 0;
}

void
arena_free(void)
{
	cur = NULL;
	own.on = 0;
	rewind_blocks(&own, 0);
}

struct arena *
arena_new(void)
{
	struct arena *a = calloc(1, sizeof(*a));

	if (a != NULL)
		a->batch = 1;
	return a;
}

void
arena_rewind(struct arena *a)
{
	/* every block a batch needed stays: the next batch needs as many */
	rewind_blocks(a, (size_t)-1);
	a->heap_allocs = 0;
	a->on = 0;
}

void
arena_use(struct arena *a)
{
	cur = a;
}

struct arena *
arena_current(void)
{
	return here();
}

void
arena_enter(struct arena *a)
{
	cur = a;
	a->on = 0;
	a->heap_allocs = 0;
}

void
arena_delete(struct arena *a)
{
	if (a == NULL)
		return;
	if (cur == a)
		cur = NULL;
	rewind_blocks(a, 0);
	free(a);
}
