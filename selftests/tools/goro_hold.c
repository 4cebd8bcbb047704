// SPDX-License-Identifier: GPL-2.0
/*
 * goro_hold: a goro instance for the tools' tests to look at. Sets up
 * NPROCS Ps, attaches the calling thread as an M owning P 0, then runs
 * (never blocking, so the P stays running) until killed or SECONDS pass.
 * Usage: goro_hold NPROCS SECONDS
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sched.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "uapi/goro.h"

int main(int argc, char **argv)
{
	struct goro_setup s = { 0 };
	struct goro_attach a = { 0 };
	void *region;
	time_t end;
	int fd;

	if (argc != 3 || atoi(argv[1]) <= 0 || atoi(argv[2]) <= 0) {
		fprintf(stderr, "usage: goro_hold NPROCS SECONDS\n");
		return 2;
	}
	fd = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "goro_hold: %s: %s\n", GORO_DEVICE, strerror(errno));
		return 1;
	}
	s.nprocs = (__u32)atoi(argv[1]);
	if (ioctl(fd, GORO_IOC_SETUP, &s)) {
		fprintf(stderr, "goro_hold: setup: %s\n", strerror(errno));
		return 1;
	}
	region = mmap(NULL, s.map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      fd, 0);
	if (region == MAP_FAILED) {
		fprintf(stderr, "goro_hold: mmap: %s\n", strerror(errno));
		return 1;
	}
	a.flags = GORO_ATTACH_P;
	a.p = 0;
	if (ioctl(fd, GORO_IOC_ATTACH_M, &a)) {
		fprintf(stderr, "goro_hold: attach: %s\n", strerror(errno));
		return 1;
	}
	printf("ready %d\n", getpid());
	fflush(stdout);
	end = time(NULL) + atoi(argv[2]);
	while (time(NULL) < end)
		sched_yield();	/* stays runnable: not a block */
	return 0;
}
