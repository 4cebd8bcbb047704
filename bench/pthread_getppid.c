// SPDX-License-Identifier: MIT
/*
 * Cost of a non-blocking system call, getppid(), on a plain thread: the
 * baseline the same call on a goroutine's M is held to.
 */
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"

#define BATCHES 5

static long iters;
static double best = 1e18;

static void *caller(void *arg)
{
	long b, i;

	(void)arg;
	for (i = 0; i < iters / 10; i++)
		syscall(SYS_getppid);
	for (b = 0; b < BATCHES; b++) {
		uint64_t t0 = now_ns();
		double ns;

		for (i = 0; i < iters; i++)
			syscall(SYS_getppid);
		ns = (double)(now_ns() - t0) / (double)iters;
		if (ns < best)
			best = ns;
	}
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;

	iters = arg_count(argc, argv, 1, 200000);
	if (pthread_create(&t, NULL, caller, NULL))
		die("pthread_create");
	pthread_join(t, NULL);
	result("getppid", "pthread", best, "ns");
	return 0;
}
