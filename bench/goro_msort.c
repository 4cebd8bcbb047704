// SPDX-License-Identifier: MIT
/*
 * Parallel merge sort of 16 M random ints (msort.h): above 64 K elements
 * a goroutine sorts one half while the caller sorts the other, a wait
 * group joins them, then the caller merges; at or below, the serial sort.
 * 1 and 2 Ps; the result is checked every time.  Same shape as
 * go/msort.go; tbb_msort.cpp runs tbb::parallel_sort on the same data.
 *
 * The floor, measured in the same process between goro's runs: the same
 * serial code on plain threads, one thread sorting both 8 M halves
 * (impl=floor, msort16m_1p) against two threads sorting a half each that
 * never meet (msort16m_2p): the speedup two CPUs deliver right now for
 * this work, with no scheduler and no final merge.
 *
 * Usage: goro_msort [runs]   (median of runs, default 1: bench/run
 *                            repeats the program)
 */
#include <goro.h>
#include <pthread.h>

#include "common.h"
#include "msort.h"

#define CUTOFF	(64u << 10)	/* a goroutine per half above this */

static int32_t *data, *scratch;
static uint64_t data_sum;

struct half {
	int32_t *a, *b;
	size_t n;
	int to_b;
	goro_wg *wg;
};

static void psort(int32_t *a, int32_t *b, size_t n, int to_b);

static void half_goroutine(void *arg)
{
	struct half *h = arg;

	psort(h->a, h->b, h->n, h->to_b);
	goro_wg_done(h->wg);
}

/* msort_serial with the first half on a new goroutine above CUTOFF */
static void psort(int32_t *a, int32_t *b, size_t n, int to_b)
{
	goro_wg wg = GORO_WG_INIT;
	size_t h = n / 2;
	struct half c = { a, b, h, !to_b, &wg };
	int64_t id;

	if (n <= CUTOFF) {
		msort_serial(a, b, n, to_b);
		return;
	}
	goro_wg_add(&wg, 1);
	id = goro_go(half_goroutine, &c);
	if (id < 0)
		die_neg("goro_go", (long)id);
	psort(a + h, b + h, n - h, !to_b);
	goro_wg_wait(&wg);
	if (to_b)
		msort_merge(a, h, a + h, n - h, b);
	else
		msort_merge(b, h, b + h, n - h, a);
}

static void check(const char *who, const int32_t *a, size_t n, uint64_t sum)
{
	if (!msort_check(a, n, sum)) {
		fprintf(stderr, "%s: the result is not sorted\n", who);
		exit(1);
	}
}

static uint64_t run_goro(int procs)
{
	uint64_t t0;

	goro_setprocs(procs);
	msort_fill(data);
	t0 = now_ns();
	psort(data, scratch, MSORT_N, 0);
	t0 = now_ns() - t0;
	check("goro", data, MSORT_N, data_sum);
	return t0;
}

static void *floor_thread(void *arg)
{
	size_t off = (size_t)(uintptr_t)arg;

	msort_serial(data + off, scratch + off, MSORT_N / 2, 0);
	return NULL;
}

/* Both halves on this thread (threads 1) or one each on two (2). */
static uint64_t run_floor(int threads)
{
	uint64_t t0, sum0, sum1;
	pthread_t t;
	size_t i;

	msort_fill(data);
	for (i = 0, sum0 = 0; i < MSORT_N / 2; i++)
		sum0 += (uint64_t)(int64_t)data[i];
	sum1 = data_sum - sum0;
	t0 = now_ns();
	if (threads == 2) {
		if (pthread_create(&t, NULL, floor_thread, (void *)0))
			die("pthread_create");
	} else {
		floor_thread((void *)0);
	}
	floor_thread((void *)(uintptr_t)(MSORT_N / 2));
	if (threads == 2)
		pthread_join(t, NULL);
	t0 = now_ns() - t0;
	check("floor", data, MSORT_N / 2, sum0);
	check("floor", data + MSORT_N / 2, MSORT_N / 2, sum1);
	return t0;
}

int main(int argc, char **argv)
{
	long runs = arg_count(argc, argv, 1, 1), r;
	uint64_t t[4][16];
	int k;

	if (runs > 16)
		runs = 16;
	data = malloc(MSORT_N * sizeof(*data));
	scratch = malloc(MSORT_N * sizeof(*scratch));
	if (!data || !scratch)
		die("malloc");
	memset(scratch, 0, MSORT_N * sizeof(*scratch));	/* fault it in */
	data_sum = msort_fill(data);
	/* warm up: the goroutines' stacks at both P counts */
	goro_setprocs(2);
	psort(data, scratch, MSORT_N / 8, 0);
	goro_setprocs(1);
	psort(data, scratch, MSORT_N / 8, 0);
	/* interleaved, so drift in the machine's load hits all four */
	for (r = 0; r < runs; r++) {
		t[0][r] = run_goro(1);
		t[1][r] = run_goro(2);
		t[2][r] = run_floor(1);
		t[3][r] = run_floor(2);
	}
	for (k = 0; k < 4; k++) {
		qsort(t[k], (size_t)runs, sizeof(t[k][0]), cmp_u64);
		result(k & 1 ? "msort16m_2p" : "msort16m_1p",
		       k < 2 ? "goro" : "floor",
		       (double)t[k][runs / 2] / 1e6, "ms");
	}
	return 0;
}
