/*
 * auparse_floor.c - the floor for any libauparse-based design: feed a
 * log through auparse's feed interface and interpret every field, doing
 * nothing else. bench/replay.sh times podtrail against it.
 *   usage: auparse_floor FILE   (prints events and fields seen)
 */
#include <auparse.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static unsigned long events, fields;

static void
cb(auparse_state_t *au, auparse_cb_event_t t, void *arg)
{
	if (t != AUPARSE_CB_EVENT_READY)
		return;
	events++;
	if (auparse_first_record(au) <= 0)
		return;
	do {
		if (auparse_first_field(au) <= 0)
			continue;
		do {
			if (auparse_interpret_field(au))
				fields++;
		} while (auparse_next_field(au) > 0);
	} while (auparse_next_record(au) > 0);
}

int
main(int argc, char **argv)
{
	static char buf[65536];
	auparse_state_t *au;
	ssize_t n;
	int fd;

	if (argc != 2 || (fd = open(argv[1], O_RDONLY)) == -1) {
		fprintf(stderr, "usage: auparse_floor FILE\n");
		return 2;
	}
	au = auparse_init(AUSOURCE_FEED, NULL);
	auparse_add_callback(au, cb, NULL, NULL);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		auparse_feed(au, buf, (size_t)n);
	auparse_flush_feed(au);
	auparse_destroy(au);
	printf("%lu events %lu fields\n", events, fields);
	return 0;
}
