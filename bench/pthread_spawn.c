// SPDX-License-Identifier: MIT
/*
 * Spawn + run + join of one OS thread per task: pthread_create of a thread
 * that does nothing, then pthread_join, one task at a time.  The competitor
 * of goroutine spawn + run + join.
 */
#include <pthread.h>

#include "common.h"

static void *task(void *arg)
{
	return arg;
}

static void spawn_join(long n)
{
	pthread_t t;
	long i;

	for (i = 0; i < n; i++) {
		if (pthread_create(&t, NULL, task, NULL))
			die("pthread_create");
		pthread_join(t, NULL);
	}
}

int main(int argc, char **argv)
{
	long n = arg_count(argc, argv, 1, 5000);
	uint64_t t0;

	spawn_join(n / 10);
	t0 = now_ns();
	spawn_join(n);
	result("spawn", "pthread", (double)(now_ns() - t0) / (double)n, "ns");
	return 0;
}
