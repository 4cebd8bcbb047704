// SPDX-License-Identifier: MIT
/*
 * Parallel fib(30), one goroutine per call above a cutoff of 10, joined
 * with a wait group; median time of several runs with 1 and 2 Ps.  Same
 * shape as go/fib.go and tbb_fib.cpp.
 *
 * The floor, measured in the same process after goro's runs: the leaves'
 * serial code on plain threads, one thread computing fib(30) twice
 * (impl=floor, fib30_1p) against two threads computing it once each
 * (fib30_2p): the speedup two CPUs deliver right now for this work, with
 * no scheduler and no spawn (bench/run's fib30_speedup row, impl=floor).
 */
#include <goro.h>
#include <pthread.h>

#include "common.h"

#define FIB_N	30
#define CUTOFF	10
#define WANT	832040
#define FLOOR_N	30
#define FLOOR_WANT WANT

struct fib_call {
	long n;
	long r;
	goro_wg *wg;
};

static long fib(long n);

static long serial_fib(long n)
{
	return n < 2 ? n : serial_fib(n - 1) + serial_fib(n - 2);
}

static void fib_goroutine(void *arg)
{
	struct fib_call *c = arg;

	c->r = fib(c->n);
	goro_wg_done(c->wg);
}

static long fib(long n)
{
	goro_wg wg = GORO_WG_INIT;
	struct fib_call c = { .n = n - 1, .wg = &wg };
	int64_t id;
	long y;

	if (n <= CUTOFF)
		return serial_fib(n);
	goro_wg_add(&wg, 1);
	id = goro_go(fib_goroutine, &c);
	if (id < 0)
		die_neg("goro_go", (long)id);
	y = fib(n - 2);
	goro_wg_wait(&wg);
	return c.r + y;
}

static double median_ms(int runs)
{
	uint64_t t[64], t0;
	int i;

	for (i = 0; i < runs; i++) {
		t0 = now_ns();
		if (fib(FIB_N) != WANT) {
			fprintf(stderr, "fib(30) is wrong\n");
			exit(1);
		}
		t[i] = now_ns() - t0;
	}
	qsort(t, (size_t)runs, sizeof(t[0]), cmp_u64);
	return (double)t[runs / 2] / 1e6;
}

static void *floor_thread(void *arg)
{
	if (serial_fib(FLOOR_N) != FLOOR_WANT) {
		fprintf(stderr, "serial fib(30) is wrong\n");
		exit(1);
	}
	return arg;
}

/* fib(30) twice on this thread (threads 1) or once on each of two (2) */
static double floor_ms(int threads, int runs)
{
	uint64_t t[64], t0;
	pthread_t th;
	int i;

	for (i = 0; i < runs; i++) {
		t0 = now_ns();
		if (threads == 2 && pthread_create(&th, NULL, floor_thread, NULL))
			die("pthread_create");
		if (threads == 1)
			floor_thread(NULL);
		floor_thread(NULL);
		if (threads == 2)
			pthread_join(th, NULL);
		t[i] = now_ns() - t0;
	}
	qsort(t, (size_t)runs, sizeof(t[0]), cmp_u64);
	return (double)t[runs / 2] / 1e6;
}

int main(int argc, char **argv)
{
	static const char *const name[] = { "", "fib30_1p", "fib30_2p" };
	long runs = arg_count(argc, argv, 1, 15);
	int procs;

	if (runs > 64)
		runs = 64;
	for (procs = 1; procs <= 2; procs++) {
		goro_setprocs(procs);
		median_ms(3);
		result(name[procs], "goro", median_ms((int)runs), "ms");
	}
	for (procs = 1; procs <= 2; procs++)
		result(name[procs], "floor", floor_ms(procs, (int)runs), "ms");
	return 0;
}
