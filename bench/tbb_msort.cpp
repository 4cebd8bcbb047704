// SPDX-License-Identifier: MIT
/*
 * The merge sort benchmark's entry for TBB: tbb::parallel_sort of the
 * same 16 M random ints (msort.h), what a C++ user reaches for, beside
 * goro_msort.c and go/msort.go (a merge sort with a task per half above
 * 64 K elements).  TBB's is a parallel quicksort with std::sort below its
 * grain, so the times compare what users get, and the 2-over-1 speedups
 * how each scales.  Median time of runs (argv[1], default 1: bench/run
 * repeats the program) with 1 and 2 worker threads (tbb::global_control);
 * the result is checked every time.
 */
#include <tbb/global_control.h>
#include <tbb/parallel_sort.h>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "common.h"
#include "msort.h"

int main(int argc, char **argv)
{
	long runs = arg_count(argc, argv, 1, 1);
	std::vector<int32_t> a(MSORT_N);
	uint64_t sum = msort_fill(a.data());

	for (int procs = 1; procs <= 2; procs++) {
		tbb::global_control gc(tbb::global_control::max_allowed_parallelism,
				       procs);
		std::vector<uint64_t> ts(runs);

		msort_fill(a.data());	/* warm up the workers */
		tbb::parallel_sort(a.begin(), a.begin() + MSORT_N / 8);
		for (auto &t : ts) {
			msort_fill(a.data());
			uint64_t t0 = now_ns();
			tbb::parallel_sort(a.begin(), a.end());
			t = now_ns() - t0;
			if (!msort_check(a.data(), MSORT_N, sum)) {
				std::fprintf(stderr, "tbb: the result is not sorted\n");
				return 1;
			}
		}
		std::sort(ts.begin(), ts.end());
		std::printf("RESULT bench=msort16m_%dp impl=tbb value=%.3f unit=ms\n",
			    procs, double(ts[runs / 2]) / 1e6);
	}
	return 0;
}
