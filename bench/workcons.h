/* SPDX-License-Identifier: MIT */
/*
 * The work-conservation programs' compute chunk (goro_workcons.c,
 * pthread_workcons.c): CHUNK_NS of integer work, calibrated at start.
 */
#ifndef GORO_BENCH_WORKCONS_H
#define GORO_BENCH_WORKCONS_H

#include <stdint.h>

#include "common.h"

#define CHUNK_NS	200000ull
#define SLEEP_NS	1000000l

static volatile uint64_t sink;

static inline void compute(long iters)
{
	uint64_t x = sink + 1;
	long i;

	for (i = 0; i < iters; i++)
		x = x * 6364136223846793005ull + 1442695040888963407ull;
	sink = x;
}

/* Shortest of 9 runs of @iters: the chunk's cost without interference. */
static inline uint64_t time_chunk(long iters)
{
	uint64_t best = UINT64_MAX, t0;
	int i;

	for (i = 0; i < 9; i++) {
		t0 = now_ns();
		compute(iters);
		t0 = now_ns() - t0;
		best = t0 < best ? t0 : best;
	}
	return best;
}

/* Iterations that take CHUNK_NS here; *chunk_ns: their shortest time. */
static inline long calibrate(uint64_t *chunk_ns)
{
	long iters = 1000;
	uint64_t t;

	while ((t = time_chunk(iters)) < 2000000)
		iters *= 2;
	iters = (long)((double)iters * (double)CHUNK_NS / (double)t);
	*chunk_ns = time_chunk(iters);
	return iters;
}

#endif /* GORO_BENCH_WORKCONS_H */
