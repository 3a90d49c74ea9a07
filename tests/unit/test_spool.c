/* test_spool.c - ordering, durability across reopen, the size cap. */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "log.h"
#include "spool.h"
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

/* "N:" at the start of a line is its seq, as fwd's line_seq reads "seq" */
static unsigned long long
test_seq(const char *line, size_t len)
{
	return len && line[0] >= '0' && line[0] <= '9' ?
	    strtoull(line, NULL, 10) : 0;
}

static int
open_files(void)
{
	char cmd[160];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls %s/spool | grep -c '^open-'", tmpdir);
	ck_assert_ptr_nonnull(p = popen(cmd, "r"));
	ck_assert_int_eq(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

/* The batch being built: appended, sealed, removed once spooled. */
START_TEST(open_segment_lifecycle)
{
	struct spool_loss l = { 0 };
	struct spool *s = spool_open(tmpdir, 1 << 20, 0);
	unsigned long long a, b;

	ck_assert_uint_eq(spool_seg_seal(s), 0);	/* nothing open */
	ck_assert_int_eq(spool_seg_append(s, "1:a\n", 4), 0);
	ck_assert_int_eq(spool_seg_append(s, "2:b\n", 4), 0);
	a = spool_seg_seal(s);
	ck_assert_uint_ne(a, 0);
	/* the next batch opens its own while the first is being spooled */
	ck_assert_int_eq(spool_seg_append(s, "3:c\n", 4), 0);
	ck_assert_int_eq(open_files(), 2);
	put(s, "1:a\n2:b\n", 1, 2, &l);
	spool_seg_done(s, a);
	ck_assert_int_eq(open_files(), 1);
	b = spool_seg_seal(s);
	ck_assert_uint_gt(b, a);
	spool_seg_done(s, b);
	ck_assert_int_eq(open_files(), 0);
	spool_seg_done(s, 0);
	spool_close(s);
}
END_TEST

/* A crash left two open segments: they come back in order, after the sealed ones, cut line dropped. */
START_TEST(open_segments_recovered_after_crash)
{
	struct spool_loss l = { 0 };
	struct spool_seg g;
	struct buf b = BUF_INIT;
	struct spool *s = spool_open(tmpdir, 1 << 20, 0);

	put(s, "1:a\n", 1, 1, &l);
	ck_assert_int_eq(spool_seg_append(s, "2:b\n3:c\n", 8), 0);
	(void)spool_seg_seal(s);		/* sealed, not yet spooled */
	ck_assert_int_eq(spool_seg_append(s, "4:d\n5:e\n6:cut-by-the-cr",
	    22), 0);
	ck_assert_int_eq(spool_seg_append(s, "", 0), 0);
	/* kill -9 here: nothing more happens; a new process opens it */
	spool_close(s);
	s = spool_open(tmpdir, 1 << 20, 0);
	ck_assert_uint_eq(spool_segments(s), 1);
	ck_assert_int_eq(spool_seg_recover(s, test_seq), 4);
	ck_assert_int_eq(open_files(), 0);
	ck_assert_uint_eq(spool_segments(s), 3);
	ck_assert_int_eq(spool_peek(s, &b, &g), 1);
	ck_assert_str_eq(b.data, "1:a\n");
	spool_remove(s, g.id);
	ck_assert_int_eq(spool_peek(s, &b, &g), 1);
	ck_assert_str_eq(b.data, "2:b\n3:c\n");
	ck_assert_uint_eq(g.first_seq, 2);
	ck_assert_uint_eq(g.last_seq, 3);
	ck_assert_uint_eq(g.events, 2);
	spool_remove(s, g.id);
	ck_assert_int_eq(spool_peek(s, &b, &g), 1);
	ck_assert_str_eq(b.data, "4:d\n5:e\n");
	ck_assert_uint_eq(g.first_seq, 4);
	ck_assert_uint_eq(g.last_seq, 5);
	spool_remove(s, g.id);
	/* a new open segment never reuses a recovered one's id or file */
	ck_assert_int_eq(spool_seg_append(s, "7:f\n", 4), 0);
	ck_assert_int_eq(open_files(), 1);
	spool_close(s);
	s = spool_open(tmpdir, 1 << 20, 0);
	ck_assert_int_eq(spool_seg_recover(s, test_seq), 1);
	ck_assert_int_eq(spool_peek(s, &b, &g), 1);
	ck_assert_str_eq(b.data, "7:f\n");
	spool_close(s);
	buf_free(&b);
}
END_TEST

/* An open segment holding only a cut line is no event: removed. */
START_TEST(open_segment_with_only_a_cut_line)
{
	struct spool *s = spool_open(tmpdir, 1 << 20, 0);

	ck_assert_int_eq(spool_seg_append(s, "1:cut", 5), 0);
	spool_close(s);
	s = spool_open(tmpdir, 1 << 20, 0);
	ck_assert_int_eq(spool_seg_recover(s, test_seq), 0);
	ck_assert_uint_eq(spool_segments(s), 0);
	ck_assert_int_eq(open_files(), 0);
	spool_close(s);
}
END_TEST

/* A batch growing in place: only what it gained is kept; the seal spools it and drops the copy; ids grow. */
START_TEST(keep_growing_batch_then_append_sealed)
{
	struct spool_loss l = { 0 };
	struct spool_seg g;
	struct buf batch = BUF_INIT, b = BUF_INIT;
	struct spool *s = spool_open(tmpdir, 1 << 20, 0);
	unsigned long long open_id, id = spool_next_id(s);
	size_t kept = 0;

	spool_seg_keep(s, &batch, &kept);	/* empty: nothing opened */
	ck_assert_int_eq(open_files(), 0);
	buf_adds(&batch, "1:a\n");
	spool_seg_keep(s, &batch, &kept);
	spool_seg_keep(s, &batch, &kept);	/* nothing new: no write */
	buf_adds(&batch, "2:b\n");
	spool_seg_keep(s, &batch, &kept);
	ck_assert_uint_eq(kept, 8);
	{
		/* the crash copy holds each line once */
		char cmd[160], got[64] = "";
		FILE *p;

		snprintf(cmd, sizeof(cmd), "cat %s/spool/open-*", tmpdir);
		ck_assert_ptr_nonnull(p = popen(cmd, "r"));
		ck_assert_uint_eq(fread(got, 1, sizeof(got) - 1, p), 8);
		pclose(p);
		ck_assert_str_eq(got, "1:a\n2:b\n");
	}
	open_id = spool_seg_seal(s);
	ck_assert_int_eq(spool_append_sealed(s, &batch, open_id, 1, 2, 2, &l), 0);
	ck_assert_int_eq(open_files(), 0);
	ck_assert_uint_eq(spool_next_id(s), id + 1);
	ck_assert_int_eq(spool_peek(s, &b, &g), 1);
	ck_assert_uint_eq(g.id, id);
	ck_assert_str_eq(b.data, "1:a\n2:b\n");
	spool_close(s);
	buf_free(&batch);
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
	tcase_add_test(tc, open_segment_lifecycle);
	tcase_add_test(tc, open_segments_recovered_after_crash);
	tcase_add_test(tc, open_segment_with_only_a_cut_line);
	tcase_add_test(tc, keep_growing_batch_then_append_sealed);
	suite_add_tcase(s, tc);
	return unit_run(s);
}
