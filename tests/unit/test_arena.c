/*
 * test_arena.c - the bump allocator behind event trees: what it serves,
 * what it recycles and when, heap nodes mixed into arena trees, batch
 * arenas lent across threads. Links the module as the daemon does; the
 * block size is read from the source only to size the big allocation.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "arena.h"
#include "unit.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON_CHECKS 1
#define POISONED(p) __asan_address_is_poisoned(p)
#else
#define POISON_CHECKS 0
#define POISONED(p) ((void)(p), 0)
#endif

/* larger than arena.c's 256 KiB block */
#define BIG (300 * 1024)

static void
setup(void)
{
	arena_install();
}

static void
teardown(void)
{
	arena_free();
}

START_TEST(open_serves_and_recycles)
{
	cJSON *a, *b;
	void *first;

	arena_open();
	a = cJSON_CreateObject();
	ck_assert_ptr_nonnull(a);
	cJSON_AddStringToObject(a, "k", "v");
	ck_assert(arena_pure());
	first = a;
	/* freeing arena nodes is a no-op: the tree is still readable */
	cJSON_Delete(a);
	ck_assert(!POISONED(first));
	arena_close();

	/* the next open recycles: the first node's place is handed out again */
	arena_open();
	b = cJSON_CreateObject();
	ck_assert_ptr_eq(b, first);
	arena_close();
}
END_TEST

START_TEST(recycled_memory_is_poisoned)
{
	cJSON *a, *b;

	arena_open();
	a = cJSON_CreateObject();
	b = cJSON_CreateString("a string that is kept past its event");
	arena_close();
	arena_open();
	/* under ASan a node kept past its event faults: b is not served yet */
	if (POISON_CHECKS)
		ck_assert(POISONED(b));
	ck_assert_ptr_eq(cJSON_CreateObject(), a);
	arena_close();
}
END_TEST

START_TEST(heap_nodes_in_arena_trees)
{
	cJSON *ev, *own;

	arena_open();
	ev = cJSON_CreateObject();
	arena_close();
	/* made while closed: heap memory, counted, freed by cJSON_Delete */
	own = cJSON_CreateString("heap");
	ck_assert_ptr_nonnull(own);
	arena_resume();
	ck_assert(!arena_pure());
	cJSON_AddItemToObject(ev, "own", own);
	arena_close();
	/* LeakSanitizer fails the test if the heap node leaks here */
	cJSON_Delete(ev);
	arena_open();
	ck_assert(arena_pure());
	arena_close();
}
END_TEST

START_TEST(big_allocations)
{
	char *s = malloc(BIG);
	cJSON *a, *b;

	ck_assert_ptr_nonnull(s);
	memset(s, 'x', BIG - 1);
	s[BIG - 1] = '\0';
	arena_open();
	a = cJSON_CreateString(s);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(strlen(a->valuestring), BIG - 1);
	/* small nodes after the big one still come from the arena */
	b = cJSON_CreateObject();
	ck_assert_ptr_nonnull(b);
	ck_assert(arena_pure());
	arena_close();
	/* the big block is freed at the next open, not kept as a spare */
	arena_open();
	arena_close();
	free(s);
}
END_TEST

START_TEST(batch_arena_outlives_open)
{
	struct arena *batch = arena_new();
	cJSON *kept, *other;

	ck_assert_ptr_nonnull(batch);
	arena_use(batch);
	arena_open();
	kept = cJSON_CreateString("in the batch");
	arena_close();
	/* a second event in the same batch: the first one stays valid */
	arena_open();
	other = cJSON_CreateString("second");
	arena_close();
	ck_assert_ptr_ne(kept, other);
	ck_assert_str_eq(kept->valuestring, "in the batch");
	ck_assert(!POISONED(kept));
	arena_use(NULL);

	/* the thread's own arena does not hand out the batch's memory */
	arena_open();
	ck_assert_ptr_ne(cJSON_CreateObject(), kept);
	arena_close();

	arena_rewind(batch);
	arena_use(batch);
	arena_open();
	/* rewound: its first block is served again from the start */
	ck_assert_ptr_eq(cJSON_CreateString("again"), kept);
	arena_close();
	arena_use(NULL);
	arena_delete(batch);
}
END_TEST

struct lend {
	struct arena *batch;
	cJSON *tree;
};

static void *
build_in_batch(void *arg)
{
	struct lend *l = arg;

	arena_use(l->batch);
	arena_open();
	l->tree = cJSON_CreateObject();
	cJSON_AddNumberToObject(l->tree, "n", 42);
	arena_close();
	arena_use(NULL);
	arena_free();
	return NULL;
}

START_TEST(batch_lent_to_another_thread)
{
	struct lend l = { arena_new(), NULL };
	pthread_t t;
	cJSON *n;

	ck_assert_ptr_nonnull(l.batch);
	ck_assert_int_eq(pthread_create(&t, NULL, build_in_batch, &l), 0);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	/* the loop's thread finishes the tree as event_build left it */
	arena_enter(l.batch);
	ck_assert(arena_pure());
	arena_resume();
	cJSON_AddStringToObject(l.tree, "enriched", "here");
	arena_close();
	ck_assert(arena_pure());
	n = cJSON_GetObjectItem(l.tree, "n");
	ck_assert_ptr_nonnull(n);
	ck_assert_int_eq(n->valueint, 42);
	ck_assert_str_eq(cJSON_GetObjectItem(l.tree, "enriched")->valuestring,
	    "here");
	arena_use(NULL);
	/* deleting the batch while it is the current arena resets to own */
	arena_use(l.batch);
	arena_delete(l.batch);
	arena_open();
	ck_assert_ptr_nonnull(cJSON_CreateObject());
	arena_close();
}
END_TEST

static void *
churn(void *arg)
{
	uintptr_t id = (uintptr_t)arg;
	char want[32];

	snprintf(want, sizeof(want), "thread %lu", (unsigned long)id);
	for (int round = 0; round < 2000; round++) {
		cJSON *o;

		arena_open();
		o = cJSON_CreateObject();
		for (int i = 0; i < 20; i++)
			cJSON_AddStringToObject(o, "k", want);
		/* another thread's arena never hands out our nodes */
		if (strcmp(cJSON_GetObjectItem(o, "k")->valuestring, want))
			return (void *)1;
		arena_close();
	}
	arena_free();
	return NULL;
}

START_TEST(threads_have_their_own)
{
	pthread_t t[2];
	void *rc;

	for (uintptr_t i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, churn,
		    (void *)i), 0);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(pthread_join(t[i], &rc), 0);
		ck_assert_ptr_null(rc);
	}
}
END_TEST

static Suite *
arena_suite(void)
{
	Suite *s = suite_create("arena");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, open_serves_and_recycles);
	tcase_add_test(tc, recycled_memory_is_poisoned);
	tcase_add_test(tc, heap_nodes_in_arena_trees);
	tcase_add_test(tc, big_allocations);
	tcase_add_test(tc, batch_arena_outlives_open);
	tcase_add_test(tc, batch_lent_to_another_thread);
	tcase_add_test(tc, threads_have_their_own);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return unit_run(arena_suite());
}
