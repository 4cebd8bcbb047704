// SPDX-License-Identifier: MIT
/*
 * Cost of a non-blocking system call, getppid(), made by a goroutine: with
 * the kernel module the M is attached and watched by the handoff hook; the
 * goal is no extra cost over a plain thread (pthread_getppid.c).
 */
#include <goro.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"

#define BATCHES 5

static goro_wg wg = GORO_WG_INIT;
static long iters;
static double best = 1e18;

static void caller(void *arg)
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
	goro_wg_done(&wg);
}

int main(int argc, char **argv)
{
	int64_t id;

	iters = arg_count(argc, argv, 1, 200000);
	goro_wg_add(&wg, 1);
	id = goro_go(caller, NULL);
	if (id < 0)
		die_neg("goro_go", (long)id);
	goro_wg_wait(&wg);
	printf("# goro_getppid: backend %s\n", goro_backend());
	result("getppid", "goro", best, "ns");
	return 0;
}
