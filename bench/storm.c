/*
 * storm.c - one writer of bench/live.sh: create, write one byte and
 * unlink files in the current directory as fast as the kernel allows
 * for SECONDS. File names are "wID_N" with N from 0, so the set of
 * names every writer made is known exactly from the count it prints.
 *
 *   storm ID SECONDS    (in the watched directory)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	unsigned long long n = 0;
	double end, t0;
	char name[64];

	if (argc != 3) {
		fprintf(stderr, "usage: storm ID SECONDS\n");
		return 2;
	}
	t0 = now();
	end = t0 + atof(argv[2]);
	while (now() < end) {
		int fd;

		snprintf(name, sizeof(name), "w%s_%llu", argv[1], n);
		if ((fd = open(name, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1) {
			perror(name);
			return 1;
		}
		if (write(fd, "x", 1) != 1)
			perror("write");
		close(fd);
		if (unlink(name) == -1) {
			perror(name);
			return 1;
		}
		n++;
	}
	printf("%llu %.3f\n", n, now() - t0);
	return 0;
}
