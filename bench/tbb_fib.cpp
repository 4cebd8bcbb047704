// SPDX-License-Identifier: MIT
/*
 * Parallel fib(30) with tbb::task_group, one task per call above a cutoff
 * of 10: the same shape as the goroutine version.  Median time of several
 * runs with 1 and 2 worker threads (tbb::global_control).
 */
#include <tbb/global_control.h>
#include <tbb/task_group.h>
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <vector>

enum { FIB_N = 30, CUTOFF = 10, WANT = 832040 };

static uint64_t now_ns()
{
	timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return uint64_t(ts.tv_sec) * 1000000000u + uint64_t(ts.tv_nsec);
}

static long serial_fib(long n)
{
	return n < 2 ? n : serial_fib(n - 1) + serial_fib(n - 2);
}

static long fib(long n)
{
	long x, y;
	tbb::task_group g;

	if (n <= CUTOFF)
		return serial_fib(n);
	g.run([&] { x = fib(n - 1); });
	y = fib(n - 2);
	g.wait();
	return x + y;
}

static double median_ms(int runs)
{
	std::vector<uint64_t> ts(runs);

	for (auto &t : ts) {
		uint64_t t0 = now_ns();

		if (fib(FIB_N) != WANT) {
			std::fprintf(stderr, "fib(30) is wrong\n");
			std::exit(1);
		}
		t = now_ns() - t0;
	}
	std::sort(ts.begin(), ts.end());
	return double(ts[runs / 2]) / 1e6;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? std::atoi(argv[1]) : 15;

	if (runs <= 0) {
		std::fprintf(stderr, "%s: bad count '%s'\n", argv[0], argv[1]);
		return 2;
	}
	for (int procs = 1; procs <= 2; procs++) {
		tbb::global_control gc(tbb::global_control::max_allowed_parallelism,
				       procs);

		median_ms(3);
		std::printf("RESULT bench=fib30_%dp impl=tbb value=%.3f unit=ms\n",
			    procs, median_ms(runs));
	}
	return 0;
}
