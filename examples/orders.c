/* SPDX-License-Identifier: MIT */
/*
 * orders: 100 orders processed concurrently, each taking ~100 ms (a
 * sleep standing in for a slow service), joined with a WaitGroup. The
 * whole batch takes ~100 ms, not 10 s.
 */
#include <goro.h>
#include <stdio.h>
#include <time.h>

#define NORDERS 100

struct order {
	int id;
	int total;
};

static goro_wg wg = GORO_WG_INIT;
static goro_mutex mu = GORO_MUTEX_INIT;
static int processed;
static long revenue;

static void process(void *arg)
{
	struct order *o = arg;

	goro_sleep(100 * 1000000);	/* talk to the payment service */
	goro_mutex_lock(&mu);
	processed++;
	revenue += o->total;
	goro_mutex_unlock(&mu);
	goro_wg_done(&wg);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(void)
{
	static struct order orders[NORDERS];
	double t0 = now_s();
	int i;

	for (i = 0; i < NORDERS; i++) {
		orders[i].id = i + 1;
		orders[i].total = 10 * (i + 1);
		goro_wg_add(&wg, 1);
		goro_go(process, &orders[i]);
	}
	goro_wg_wait(&wg);
	printf("processed %d orders, revenue %ld, in %.0f ms\n", processed,
	       revenue, (now_s() - t0) * 1000);
	return processed == NORDERS ? 0 : 1;
}
