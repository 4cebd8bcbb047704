// SPDX-License-Identifier: MIT
/*
 * Spawn + run + join per goroutine: batches of 1000 goroutines that each
 * call goro_wg_done, joined with goro_wg_wait; with 1 and 2 Ps.  Same
 * shape as go/spawn.go.
 */
#include <goro.h>

#include "common.h"

#define BATCH 1000

static goro_wg wg = GORO_WG_INIT;

static void task(void *arg)
{
	(void)arg;
	goro_wg_done(&wg);
}

static uint64_t spawn(long n)
{
	uint64_t t0 = now_ns();
	long done, i;
	int64_t id;

	for (done = 0; done < n; done += BATCH) {
		goro_wg_add(&wg, BATCH);
		for (i = 0; i < BATCH; i++) {
			id = goro_go(task, NULL);
			if (id < 0)
				die_neg("goro_go", (long)id);
		}
		goro_wg_wait(&wg);
	}
	return now_ns() - t0;
}

int main(int argc, char **argv)
{
	long n = arg_count(argc, argv, 1, 1000000) / BATCH * BATCH;
	static const char *const name[] = { "", "spawn_1p", "spawn_2p" };
	int procs;

	for (procs = 1; procs <= 2; procs++) {
		goro_setprocs(procs);
		spawn(n / 10);
		result(name[procs], "goro", (double)spawn(n) / (double)n, "ns");
	}
	return 0;
}
