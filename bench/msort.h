/* SPDX-License-Identifier: MIT */
/*
 * The merge sort programs' data and serial code (goro_msort.c; the data
 * and the check also tbb_msort.cpp; go/msort.go has the same in Go): 16 M
 * random 32-bit ints from a fixed seed, a top-down merge sort that
 * alternates between the array and a scratch array of the same size
 * (no copy back), and the check that the result is sorted and still holds
 * the same values.
 */
#ifndef GORO_BENCH_MSORT_H
#define GORO_BENCH_MSORT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define MSORT_N		(16u << 20)	/* elements */
#define MSORT_SEED	0x9e3779b97f4a7c15ull
#define MSORT_SMALL	16		/* insertion sort at or below */

/* Fill @a with MSORT_N values of splitmix64; returns their sum. */
static inline uint64_t msort_fill(int32_t *a)
{
	uint64_t s = MSORT_SEED, sum = 0;
	size_t i;

	for (i = 0; i < MSORT_N; i++) {
		uint64_t z = (s += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		a[i] = (int32_t)(uint32_t)(z >> 32);
		sum += (uint64_t)(int64_t)a[i];
	}
	return sum;
}

/* 1 when a[0..n) is in order and sums to @sum, else 0. */
static inline int msort_check(const int32_t *a, size_t n, uint64_t sum)
{
	uint64_t s = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (i && a[i - 1] > a[i])
			return 0;
		s += (uint64_t)(int64_t)a[i];
	}
	return s == sum;
}

static inline void msort_insertion(int32_t *a, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++) {
		int32_t v = a[i];

		for (j = i; j > 0 && a[j - 1] > v; j--)
			a[j] = a[j - 1];
		a[j] = v;
	}
}

/*
 * x[0..nx) and y[0..ny), each sorted, into out (stable). Written without
 * a branch on the comparison (a conditional move), which random data
 * would mispredict half the time.
 */
static inline void msort_merge(const int32_t *x, size_t nx, const int32_t *y,
			       size_t ny, int32_t *out)
{
	size_t i = 0, j = 0;

	while (i < nx && j < ny) {
		int32_t xv = x[i], yv = y[j];
		size_t take_y = yv < xv;

		*out++ = take_y ? yv : xv;
		j += take_y;
		i += 1 - take_y;
	}
	memcpy(out, x + i, (nx - i) * sizeof(*x));
	memcpy(out + (nx - i), y + j, (ny - j) * sizeof(*y));
}

/*
 * Sort the n elements of a, b[0..n) as scratch; the result in b when
 * to_b, else in a. Each half goes to the other array, then the merge
 * comes back.
 */
static inline void msort_serial(int32_t *a, int32_t *b, size_t n, int to_b)
{
	size_t h = n / 2;

	if (n <= MSORT_SMALL) {
		msort_insertion(a, n);
		if (to_b)
			memcpy(b, a, n * sizeof(*a));
		return;
	}
	msort_serial(a, b, h, !to_b);
	msort_serial(a + h, b + h, n - h, !to_b);
	if (to_b)
		msort_merge(a, h, a + h, n - h, b);
	else
		msort_merge(b, h, b + h, n - h, a);
}

#endif
