// SPDX-License-Identifier: MIT
/*
 * Contended mutex, the thread version of goro_mutex.c: 4 threads (on
 * this machine's CPUs) take and release one pthread mutex n/4 times
 * around an increment; ns per lock+unlock = elapsed / n.
 */
#include <pthread.h>

#include "common.h"

#define WORKERS 4

static struct {
	pthread_mutex_t mu;
	long n;
} s = {PTHREAD_MUTEX_INITIALIZER, 0};
static long per;

static void *worker(void *arg)
{
	long i;

	(void)arg;
	for (i = 0; i < per; i++) {
		pthread_mutex_lock(&s.mu);
		s.n++;
		pthread_mutex_unlock(&s.mu);
	}
	return NULL;
}

static uint64_t run(long n)
{
	pthread_t t[WORKERS];
	uint64_t t0 = now_ns();
	int i;

	per = n / WORKERS;
	s.n = 0;
	for (i = 0; i < WORKERS; i++)
		if (pthread_create(&t[i], NULL, worker, NULL))
			die("pthread_create");
	for (i = 0; i < WORKERS; i++)
		pthread_join(t[i], NULL);
	t0 = now_ns() - t0;
	expect_count("increments", s.n, per * WORKERS);
	return t0;
}

int main(int argc, char **argv)
{
	long n = arg_count(argc, argv, 1, 4000000);

	run(n / 10);
	result("mutex_2p", "pthread", (double)run(n) / (double)(per * WORKERS),
	       "ns");
	return 0;
}
