/* test_spool.c - ordering, durability across reopen, the size cap. */
#include "../../src/spool.c"

#include <check.h>
#include <stdlib.h>
#include "unit.h"

static char tmpdir[64];

static void
setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_spool.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

static void
put(struct spool *s, const char *text, unsigned long long first,
    unsigned long long last, struct spool_loss *l)
{
	ck_assert_int_eq(spool_append(s, text, strlen(text), first, last,
	    last - first + 1, l), 0);
}

START_TEST(oldest_first_and_survives_reopen)
{
	struct spool_loss l = { 0 };
	struct spool_seg g;
	struct buf b = BUF_INIT;
	struct spool *s = spool_open(tmpdir, 1 << 20, 0);

	put(s, "a\n", 1, 1, &l);
	put(s, "b\n", 2, 3, &l);
	put(s, "c\n", 4, 4, &l);
	spool_close(s);
	s = spool_open(tmpdir, 1 << 20, 0);
	ck_assert_uint_eq(spool_segments(s), 3);
	ck_assert_int_eq(spool_peek(s, &b, &g), 1);
	ck_assert_str_eq(b.data, "a\n");
	ck_assert_int_eq(spool_remove(s, g.id), 0);
	ck_assert_int_eq(spool_peek(s, &b, &g), 1);
	ck_assert_str_eq(b.data, "b\n");
	ck_assert_uint_eq(g.first_seq, 2);
	ck_assert_uint_eq(g.events, 2);
	ck_assert_int_eq(spool_dead(s, g.id), 0);
	ck_assert_int_eq(spool_peek(s, &b, &g), 1);
	ck_assert_str_eq(b.data, "c\n");
	/* new segments sort after the old ones */
	put(s, "d\n", 5, 5, &l);
	spool_remove(s, g.id);
	ck_assert_int_eq(spool_peek(s, &b, &g), 1);
	ck_assert_str_eq(b.data, "d\n");
	spool_remove(s, g.id);
	ck_assert_int_eq(spool_peek(s, &b, &g), 0);
	ck_assert_uint_eq(l.events, 0);
	spool_close(s);
	buf_free(&b);
}
END_TEST

START_TEST(cap_drops_oldest_but_not_the_pinned)
{
	struct spool_loss l = { 0 };
	struct spool_seg g;
	struct buf b = BUF_INIT;
	char blob[400];
	struct spool *s = spool_open(tmpdir, 1000, 0);

	memset(blob, 'x', sizeof(blob) - 1);
	blob[sizeof(blob) - 1] = '\0';
	put(s, blob, 1, 10, &l);
	put(s, blob, 11, 20, &l);
	ck_assert_int_eq(spool_peek(s, &b, &g), 1);	/* 1..10 in flight */
	put(s, blob, 21, 30, &l);			/* drops 11..20 */
	ck_assert_uint_eq(l.events, 10);
	ck_assert_uint_eq(l.first_seq, 11);
	ck_assert_uint_eq(l.last_seq, 20);
	ck_assert_uint_eq(spool_segments(s), 2);
	ck_assert_uint_le(spool_bytes(s), 1000);
	spool_unpin(s);
	put(s, blob, 31, 40, &l);			/* now 1..10 may go */
	ck_assert_uint_eq(l.events, 20);
	ck_assert_uint_eq(l.first_seq, 1);
	ck_assert_int_eq(spool_peek(s, &b, &g), 1);
	ck_assert_uint_eq(g.first_seq, 21);
	/* a batch larger than the cap is itself the loss */
	{
		char *big = malloc(2000);

		memset(big, 'y', 1999);
		big[1999] = '\0';
		ck_assert_int_eq(spool_append(s, big, 1999, 41, 50, 10, &l), -1);
		free(big);
	}
	ck_assert_uint_eq(l.last_seq, 50);
	spool_close(s);
	buf_free(&b);
}
END_TEST

/* pinned without a read-back: the cap spares it as it spares a peeked one */
START_TEST(pin_oldest_without_reading)
{
	struct spool_loss l = { 0 };
	struct spool_seg g;
	struct buf b = BUF_INIT;
	char blob[400];
	struct spool *s = spool_open(tmpdir, 1000, 0);

	ck_assert_int_eq(spool_pin_oldest(s, &g), 0);
	memset(blob, 'x', sizeof(blob) - 1);
	blob[sizeof(blob) - 1] = '\0';
	put(s, blob, 1, 10, &l);
	ck_assert_int_eq(spool_pin_oldest(s, &g), 1);
	ck_assert_uint_eq(g.first_seq, 1);
	ck_assert_uint_eq(g.last_seq, 10);
	put(s, blob, 11, 20, &l);
	put(s, blob, 21, 30, &l);			/* drops 11..20, not 1..10 */
	ck_assert_uint_eq(l.first_seq, 11);
	ck_assert_uint_eq(l.last_seq, 20);
	ck_assert_int_eq(spool_remove(s, g.id), 0);
	ck_assert_int_eq(spool_peek(s, &b, &g), 1);
	ck_assert_uint_eq(g.first_seq, 21);
	spool_close(s);
	buf_free(&b);
}
END_TEST

/* Dead letters (whole or per item) go back behind what is spooled. */
START_TEST(dead_letters_requeue)
{
	struct spool_loss l = { 0 };
	struct spool_seg g;
	struct buf b = BUF_INIT;
	struct spool *s = spool_open(tmpdir, 1 << 20, 0);
	unsigned long long segs, events;

	ck_assert_ptr_nonnull(s);
	put(s, "a\n", 1, 1, &l);
	put(s, "b\n", 2, 3, &l);
	ck_assert_int_eq(spool_dead(s, 1), 0);
	ck_assert_int_eq(spool_dead_add(s, "c\n", 2, 7, 7, 1), 0);
	ck_assert_uint_eq(spool_segments(s), 1);
	ck_assert_int_eq(spool_requeue_dead(s, &segs, &events), 0);
	ck_assert_uint_eq(segs, 2);
	ck_assert_uint_eq(events, 2);
	ck_assert_uint_eq(spool_segments(s), 3);
	/* b first (it was spooled), then a and c, oldest first */
	ck_assert_int_eq(spool_peek(s, &b, &g), 1);
	ck_assert_str_eq(b.data, "b\n");
	ck_assert_int_eq(spool_remove(s, g.id), 0);
	ck_assert_int_eq(spool_peek(s, &b, &g), 1);
	ck_assert_str_eq(b.data, "a\n");
	ck_assert_uint_eq(g.first_seq, 1);
	ck_assert_int_eq(spool_remove(s, g.id), 0);
	ck_assert_int_eq(spool_peek(s, &b, &g), 1);
	ck_assert_str_eq(b.data, "c\n");
	ck_assert_uint_eq(g.first_seq, 7);
	spool_close(s);
	/* nothing left in dead/, and the spool survives a reopen */
	ck_assert_ptr_nonnull(s = spool_open(tmpdir, 1 << 20, 0));
	ck_assert_uint_eq(spool_segments(s), 1);
	ck_assert_int_eq(spool_requeue_dead(s, &segs, &events), 0);
	ck_assert_uint_eq(segs, 0);
	spool_close(s);
	buf_free(&b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("spool");
	TCase *tc = tcase_create("core");

	log_init(1, LOG_LVL_ERR, "test");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, oldest_first_and_survives_reopen);
	tcase_add_test(tc, cap_drops_oldest_but_not_the_pinned);
	tcase_add_test(tc, pin_oldest_without_reading);
	tcase_add_test(tc, dead_letters_requeue);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
