// SPDX-License-Identifier: MIT
/*
 * Yield switch between two goroutines on one P: each calls goro_yield n
 * times; ns per switch = elapsed / 2n.  Same shape as go/yield.go.
 */
#include <goro.h>

#include "common.h"

static goro_wg wg = GORO_WG_INIT;
static long iters;

static void yielder(void *arg)
{
	long i;

	(void)arg;
	for (i = 0; i < iters; i++)
		goro_yield();
	goro_wg_done(&wg);
}

static uint64_t pingpong(long n)
{
	uint64_t t0 = now_ns();
	int64_t id;
	int i;

	iters = n;
	goro_wg_add(&wg, 2);
	for (i = 0; i < 2; i++) {
		id = goro_go(yielder, NULL);
		if (id < 0)
			die_neg("goro_go", (long)id);
	}
	goro_wg_wait(&wg);
	return now_ns() - t0;
}

int main(int argc, char **argv)
{
	long n = arg_count(argc, argv, 1, 2000000);

	goro_setprocs(1);
	pingpong(n / 10);
	result("yield_1p", "goro", (double)pingpong(n) / (double)(2 * n), "ns");
	return 0;
}
