/* SPDX-License-Identifier: MIT */
/*
 * blocking: half the goroutines block in plain read() calls on pipes that
 * a timer thread feeds every few milliseconds, the other half compute.
 * With goro.ko (the kmod backend) a goroutine blocked in the kernel gives
 * its P to another thread at once, so the computing half keeps every P
 * busy; without it (the user backend) a plain read() holds its P while it
 * waits (only reads bracketed by goro_syscall_enter/exit would not).
 *
 *     ./blocking [seconds]     (default 2)
 */
#include <goro.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define NBLOCK 8
#define NCOMPUTE 8
#define TICK_MS 5

static int pipes[NBLOCK][2];
static atomic_int stop;
static atomic_long reads, written, work;
static goro_wg wg = GORO_WG_INIT;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* the timer thread: a byte for every reader each tick, then EOF */
static void *feeder(void *arg)
{
	double end = now_s() + *(double *)arg;
	struct timespec tick = {0, TICK_MS * 1000000L};
	int i;

	while (now_s() < end) {
		for (i = 0; i < NBLOCK; i++)
			if (write(pipes[i][1], "x", 1) != 1)
				abort();
		atomic_fetch_add(&written, NBLOCK);
		nanosleep(&tick, NULL);
	}
	atomic_store(&stop, 1);
	for (i = 0; i < NBLOCK; i++)
		close(pipes[i][1]);
	return NULL;
}

static void blocker(void *arg)
{
	int fd = pipes[(long)arg][0];
	char c;

	while (read(fd, &c, 1) == 1)	/* blocks: no goro_syscall_enter */
		atomic_fetch_add(&reads, 1);
	goro_wg_done(&wg);
}

static void compute(void *arg)
{
	volatile double x = (double)(long)arg;

	while (!atomic_load(&stop)) {
		for (int i = 0; i < 20000; i++)
			x = x * 1.0000001 + 1e-9;
		atomic_fetch_add(&work, 1);
		goro_preempt_point();
	}
	goro_wg_done(&wg);
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2, t0;
	pthread_t t;
	long i;

	for (i = 0; i < NBLOCK; i++)
		if (pipe(pipes[i]))
			return 1;
	printf("blocking: %d goroutines reading pipes, %d computing, %d Ps, "
	       "backend %s\n",
	       NBLOCK, NCOMPUTE, goro_numprocs(), goro_backend());
	fflush(stdout);
	t0 = now_s();
	goro_wg_add(&wg, NBLOCK + NCOMPUTE);
	for (i = 0; i < NBLOCK; i++)
		goro_go(blocker, (void *)i);
	for (i = 0; i < NCOMPUTE; i++)
		goro_go(compute, (void *)i);
	if (pthread_create(&t, NULL, feeder, &secs))
		return 1;
	goro_wg_wait(&wg);
	pthread_join(t, NULL);
	printf("blocking: %ld of %ld bytes read, %ld compute units in %.2f s\n",
	       atomic_load(&reads), atomic_load(&written), atomic_load(&work),
	       now_s() - t0);
	return 0;
}
