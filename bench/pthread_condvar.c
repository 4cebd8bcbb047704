// SPDX-License-Identifier: MIT
/*
 * Condition-variable ping-pong between two threads: one round trip is
 * ping -> pong -> ping.  The OS-thread counterpart of an unbuffered
 * channel ping-pong.
 */
#include <pthread.h>

#include "common.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int turn;	/* 0: pinger's turn, 1: ponger's turn */
static long iters;

static void *ponger(void *arg)
{
	long i;

	(void)arg;
	pthread_mutex_lock(&mu);
	for (i = 0; i < iters; i++) {
		while (turn != 1)
			pthread_cond_wait(&cv, &mu);
		turn = 0;
		pthread_cond_signal(&cv);
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

static void ping(long n)
{
	long i;

	pthread_mutex_lock(&mu);
	for (i = 0; i < n; i++) {
		turn = 1;
		pthread_cond_signal(&cv);
		while (turn != 0)
			pthread_cond_wait(&cv, &mu);
	}
	pthread_mutex_unlock(&mu);
}

int main(int argc, char **argv)
{
	long n = arg_count(argc, argv, 1, 20000), warm = n / 10;
	pthread_t t;
	uint64_t t0;

	iters = warm + n;
	if (pthread_create(&t, NULL, ponger, NULL))
		die("pthread_create");
	ping(warm);
	t0 = now_ns();
	ping(n);
	result("chan_pingpong_1p", "condvar", (double)(now_ns() - t0) / (double)n,
	       "ns");
	pthread_join(t, NULL);
	return 0;
}
