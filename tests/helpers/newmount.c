/*
 * newmount.c - mount a tmpfs at DIR through the new mount API
 * (fsopen, fsconfig, fsmount, move_mount), called with syscall(2) so
 * the test does not depend on libc wrappers.
 *
 *   newmount DIR
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_fsopen
#define SYS_open_tree 428
#define SYS_move_mount 429
#define SYS_fsopen 430
#define SYS_fsconfig 431
#define SYS_fsmount 432
#endif
#define FSCONFIG_CMD_CREATE 6
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004

int
main(int argc, char **argv)
{
	int fs, mnt;

	if (argc != 2) {
		fprintf(stderr, "usage: newmount DIR\n");
		return 2;
	}
	if ((fs = (int)syscall(SYS_fsopen, "tmpfs", 0)) < 0) {
		perror("fsopen");
		return 1;
	}
	if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		perror("fsconfig");
		return 1;
	}
	if ((mnt = (int)syscall(SYS_fsmount, fs, 0, 0)) < 0) {
		perror("fsmount");
		return 1;
	}
	if (syscall(SYS_move_mount, mnt, "", AT_FDCWD, argv[1],
	    MOVE_MOUNT_F_EMPTY_PATH) < 0) {
		perror("move_mount");
		return 1;
	}
	close(mnt);
	close(fs);
	return 0;
}
