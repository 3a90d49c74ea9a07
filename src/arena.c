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

static struct block *blocks;	/* newest first; the oldest is kept on reset */
static int arena_on;
static unsigned long heap_allocs;	/* cJSON heap allocations since open */

static struct block *
block_new(size_t need)
{
	size_t size = need > ARENA_BLOCK ? need : ARENA_BLOCK;
	struct block *b = malloc(sizeof(*b) + size);

	if (b == NULL)
		return NULL;
	b->cur = b->data;
	b->end = b->data + size;
	POISON(b->data, size);
	b->next = blocks;
	blocks = b;
	return b;
}

static int
in_arena(const void *p)
{
	for (struct block *b = blocks; b; b = b->next)
		if ((const char *)p >= b->data && (const char *)p < b->end)
			return 1;
	return 0;
}

static void *
arena_malloc(size_t n)
{
	struct block *b = blocks;
	char *p;

	if (!arena_on) {
		heap_allocs++;
		return malloc(n);
	}
	n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (b == NULL || (size_t)(b->end - b->cur) < n) {
		if ((b = block_new(n)) == NULL)
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
	if (p && !in_arena(p))
		free(p);
}

void
arena_install(void)
{
	cJSON_Hooks h = { arena_malloc, arena_release };

	cJSON_InitHooks(&h);
}

void
arena_open(void)
{
	/* keep one block (the oldest, the base size) and rewind it */
	while (blocks && blocks->next) {
		struct block *b = blocks;

		blocks = b->next;
		UNPOISON(b->data, (size_t)(b->end - b->data));
		free(b);
	}
	if (blocks && (size_t)(blocks->end - blocks->data) == ARENA_BLOCK) {
		blocks->cur = blocks->data;
		POISON(blocks->data, ARENA_BLOCK);
	} else if (blocks) {
		UNPOISON(blocks->data, (size_t)(blocks->end - blocks->data));
		free(blocks);
		blocks = NULL;
	}
	heap_allocs = 0;
	arena_on = 1;
}

void
arena_close(void)
{
	arena_on = 0;
}

void
arena_resume(void)
{
	arena_on = 1;
}

int
arena_pure(void)
{
	return heap_allocs == 0;
}

void
arena_free(void)
{
	arena_on = 0;
	while (blocks) {
		struct block *b = blocks;

		blocks = b->next;
		UNPOISON(b->data, (size_t)(b->end - b->data));
		free(b);
	}
}
