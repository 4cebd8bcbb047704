// SPDX-License-Identifier: MIT
/*
 * Contended mutex: 4 goroutines on 2 Ps each take and release one
 * goro_mutex n/4 times around an increment of the counter next to it; ns
 * per lock+unlock = elapsed / n. Same shape as go/mutex.go and
 * pthread_mutex.c.
 */
#include <goro.h>

#include "common.h"

#define WORKERS 4

static struct {
	goro_mutex mu;
	long n;
} s = {GORO_MUTEX_INIT, 0};
static goro_wg wg = GORO_WG_INIT;
static long per;

static void worker(void *arg)
{
	long i;

	(void)arg;
	for (i = 0; i < per; i++) {
		goro_mutex_lock(&s.mu);
		s.n++;
		goro_mutex_unlock(&s.mu);
	}
	goro_wg_done(&wg);
}

static uint64_t run(long n)
{
	uint64_t t0 = now_ns();
	int i;

	per = n / WORKERS;
	s.n = 0;
	goro_wg_add(&wg, WORKERS);
	for (i = 0; i < WORKERS; i++)
		if (goro_go(worker, NULL) < 0)
			die("goro_go");
	goro_wg_wait(&wg);
	t0 = now_ns() - t0;
	expect_count("increments", s.n, per * WORKERS);
	return t0;
}

int main(int argc, char **argv)
{
	long n = arg_count(argc, argv, 1, 4000000);

	goro_setprocs(2);
	run(n / 10);
	result("mutex_2p", "goro", (double)run(n) / (double)(per * WORKERS),
	       "ns");
	return 0;
}
