// SPDX-License-Identifier: GPL-2.0
/*
 * goro_obsdemo: a process for the README's observability examples.
 * libgoro runs four goroutines, three of them parked (a channel, a mutex,
 * a timer), and its registry is published to a goro.ko instance with two
 * Ps: the main thread is an M running P0, one M is parked, one M owns P1
 * and is blocked in read(). It stays so for SECONDS, then exits.
 * Usage: goro_obsdemo SECONDS
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <goro.h>
#include "uapi/goro.h"

/* libgoro's (hidden) registry hand-over, reachable in a static link */
int goro__greg_register(int devfd);

static int fd, pfd[2];
static goro_chan *ch;
static goro_mutex mu = GORO_MUTEX_INIT;

static void die(const char *what)
{
	fprintf(stderr, "goro_obsdemo: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void receiver(void *arg)
{
	int v;

	(void)arg;
	goro_setname("order-rx");
	goro_chan_recv(ch, &v);
}

static void locker(void *arg)
{
	(void)arg;
	goro_mutex_lock(&mu);
	goro_mutex_unlock(&mu);
}

static void sleeper(void *arg)
{
	(void)arg;
	goro_sleep(3600 * 1000000000LL);
}

static void *parked_m(void *arg)
{
	struct goro_attach a = { 0 };
	struct goro_park pk = { 0 };

	(void)arg;
	if (ioctl(fd, GORO_IOC_ATTACH_M, &a))
		die("attach");
	ioctl(fd, GORO_IOC_PARK, &pk);
	return NULL;
}

static void *blocked_m(void *arg)
{
	struct goro_attach a = { .flags = GORO_ATTACH_P, .p = 1 };
	char c;

	(void)arg;
	if (ioctl(fd, GORO_IOC_ATTACH_M, &a))
		die("attach");
	if (read(pfd[0], &c, 1) < 0)
		die("read");
	return NULL;
}

int main(int argc, char **argv)
{
	struct goro_spawn_opts o = { .name = "reaper" };
	struct goro_attach a = { .flags = GORO_ATTACH_P, .p = 0 };
	struct goro_setup s = { .nprocs = 2, .max_ms = 8 };
	pthread_t t1, t2;
	time_t end;
	int i;

	if (argc != 2 || atoi(argv[1]) <= 0) {
		fprintf(stderr, "usage: goro_obsdemo SECONDS\n");
		return 2;
	}
	goro_setname("main");
	ch = goro_chan_make(sizeof(int), 0);
	goro_mutex_lock(&mu);
	goro_go(receiver, NULL);
	goro_go(locker, NULL);
	goro_go_opts(sleeper, NULL, &o);
	for (i = 0; i < 1000; i++)
		goro_yield();

	fd = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0 || pipe(pfd))
		die(GORO_DEVICE);
	if (ioctl(fd, GORO_IOC_SETUP, &s))
		die("setup");
	if (mmap(NULL, s.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		 0) == MAP_FAILED)
		die("mmap");
	if (goro__greg_register(fd))
		die("GORO_IOC_GREGISTER");
	if (ioctl(fd, GORO_IOC_ATTACH_M, &a))
		die("attach");
	if (pthread_create(&t1, NULL, parked_m, NULL) ||
	    pthread_create(&t2, NULL, blocked_m, NULL))
		die("pthread_create");
	printf("ready %d\n", getpid());
	fflush(stdout);
	end = time(NULL) + atoi(argv[1]);
	while (time(NULL) < end)
		sched_yield();	/* stays runnable: P0 keeps running */
	return 0;
}
