/*
 * drain.c - the pace limit for bench/live.sh: a reader that only
 * drains the audit multicast group (no parsing, no output), so the
 * writers run as fast as the kernel lets them.
 *
 *   drain RCVBUF_BYTES     (runs until SIGTERM/SIGINT)
 * Prints "messages=N bytes=N enobufs=N" at exit.
 */
#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFSZ (16 * 1024)

static volatile sig_atomic_t stop;

static void
on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int
main(int argc, char **argv)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = 1 };
	unsigned long long msgs = 0, bytes = 0, enobufs = 0;
	int rcvbuf = argc > 1 ? atoi(argv[1]) : 8 << 20;
	static char buf[BUFSZ];
	struct sigaction act;
	int fd;

	memset(&act, 0, sizeof(act));
	act.sa_handler = on_term;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	if ((fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
	    NETLINK_AUDIT)) == -1) {
		perror("socket");
		return 1;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
	    sizeof(rcvbuf)) == -1)
		perror("SO_RCVBUFFORCE");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		perror("bind (needs CAP_AUDIT_READ)");
		return 1;
	}
	fprintf(stderr, "drain: ready\n");
	while (!stop) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n == -1) {
			if (errno == ENOBUFS)
				enobufs++;
			else if (errno != EINTR) {
				perror("recv");
				break;
			}
			continue;
		}
		msgs++;
		bytes += (unsigned long long)n;
	}
	printf("messages=%llu bytes=%llu enobufs=%llu\n", msgs, bytes, enobufs);
	return 0;
}
