// SPDX-License-Identifier: MIT
/*
 * Parallel fib(30), one goroutine per call above a cutoff of 10, joined
 * with a wait group; median time of several runs with 1 and 2 Ps.  Same
 * shape as go/fib.go and tbb_fib.cpp.
 */
#include <goro.h>

#include "common.h"

#define FIB_N	30
#define CUTOFF	10
#define WANT	832040

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
	return 0;
}
