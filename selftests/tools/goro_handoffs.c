// SPDX-License-Identifier: GPL-2.0
/*
 * goro_handoffs: provoke a known number of P handoffs for the tools'
 * tests. Two Ms: the main thread owns a P, queues a (dummy) goroutine on
 * it and blocks in read(), so the kernel hands the P to the other M,
 * parked; that M drains the queue, writes the pipe and parks again, and
 * the main thread gets a P back. N times; then it prints the instance's
 * handoff count and exits.
 * Usage: goro_handoffs N GOFILE  (starts once GOFILE exists)
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "uapi/goro.h"

#include "uapi/goro_runq.h"

static int fd, pfd[2];
static char *region;
static struct goro_setup s;

static struct goro_p *p_of(__u32 p)
{
	return (struct goro_p *)(region + s.off.procs +
				 (size_t)p * s.off.p_stride);
}

static struct goro_m *m_of(__u32 m)
{
	return (struct goro_m *)(region + s.off.ms +
				 (size_t)m * s.off.m_stride);
}

static struct goro_shared_hdr *hdr(void)
{
	return (struct goro_shared_hdr *)(region + s.off.hdr);
}

static void die(const char *what)
{
	fprintf(stderr, "goro_handoffs: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Wait up to 30 s for *v == want. */
static void wait_u32(__u32 *v, __u32 want, const char *what)
{
	int i;

	for (i = 0; __atomic_load_n(v, __ATOMIC_ACQUIRE) != want; i++) {
		if (i == 30000) {
			errno = ETIMEDOUT;
			die(what);
		}
		sleep_ms(1);
	}
}

/* The spare M: park; given a P, drain it, wake the blocker, park again. */
static void *spare(void *arg)
{
	struct goro_attach a = { 0 };
	struct goro_park pk;

	(void)arg;
	if (ioctl(fd, GORO_IOC_ATTACH_M, &a))
		die("attach spare");
	for (;;) {
		memset(&pk, 0, sizeof(pk));
		pk.flags = GORO_PARK_NOSTEAL;
		if (ioctl(fd, GORO_IOC_PARK, &pk))
			die("park");
		if (pk.p == GORO_NONE)
			continue;
		while (goro_runq_get(p_of(pk.p), 4))
			;
		if (write(pfd[1], "x", 1) != 1)
			die("write");
	}
	return NULL;
}

int main(int argc, char **argv)
{
	struct goro_attach a = { .flags = GORO_ATTACH_P };
	struct stat st;
	pthread_t t;
	__u64 g = 42;
	int i, n;
	char ch;

	if (argc != 3 || atoi(argv[1]) <= 0) {
		fprintf(stderr, "usage: goro_handoffs N GOFILE\n");
		return 2;
	}
	n = atoi(argv[1]);
	fd = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0 || pipe(pfd))
		die(GORO_DEVICE);
	s.nprocs = 1;
	s.max_ms = 4;
	if (ioctl(fd, GORO_IOC_SETUP, &s))
		die("setup");
	region = mmap(NULL, s.map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      fd, 0);
	if (region == MAP_FAILED)
		die("mmap");
	if (ioctl(fd, GORO_IOC_ATTACH_M, &a))
		die("attach");
	if (pthread_create(&t, NULL, spare, NULL))
		die("pthread_create");
	wait_u32(&hdr()->nmidle, 1, "spare parks");
	printf("ready %d\n", getpid());
	fflush(stdout);
	for (i = 0; stat(argv[2], &st); i++) {
		if (i == 60000) {
			errno = ETIMEDOUT;
			die(argv[2]);
		}
		sleep_ms(1);
	}
	for (i = 0; i < n; i++) {
		__u32 p = m_of(a.m)->p;

		/* work queued on our P, the spare parked: the block hands off */
		if (p == GORO_NONE || goro_runq_put_batch(p_of(p), &g, 1) != 1) {
			errno = EPROTO;
			die("no P to queue on");
		}
		if (read(pfd[0], &ch, 1) != 1)
			die("read");
		wait_u32(&hdr()->nmidle, 1, "spare parks again");
	}
	printf("handoffs %llu\n", (unsigned long long)hdr()->handoffs);
	fflush(stdout);
	return 0;
}
