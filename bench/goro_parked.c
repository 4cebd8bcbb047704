// SPDX-License-Identifier: MIT
/*
 * Resident memory per parked goroutine: VmRSS before and after n
 * goroutines block on one wait group; KiB per goroutine = delta / n.
 * Also the page tables' growth (VmPTE), which VmRSS does not count.
 * The Go counterpart is `go_parked wg`; goro_chan_parked.c parks on a
 * channel instead.
 */
#include <goro.h>

#include "common.h"

static goro_wg gate = GORO_WG_INIT;
static goro_wg started = GORO_WG_INIT;
static goro_wg finished = GORO_WG_INIT;

static void parked(void *arg)
{
	(void)arg;
	goro_wg_done(&started);
	goro_wg_wait(&gate);
	goro_wg_done(&finished);
}

int main(int argc, char **argv)
{
	long n = arg_count(argc, argv, 1, 1000000), i;
	long before, after, pte_before, pte_after;
	int64_t id;

	/* Start the runtime and its Ms before the first reading. */
	goro_wg_add(&started, 1);
	goro_wg_add(&finished, 1);
	id = goro_go(parked, NULL);
	if (id < 0)
		die_neg("goro_go", (long)id);
	goro_wg_wait(&started);
	goro_wg_wait(&finished);

	goro_wg_add(&gate, 1);
	goro_wg_add(&started, n);
	goro_wg_add(&finished, n);
	before = rss_kib();
	pte_before = status_kib("VmPTE");
	for (i = 0; i < n; i++) {
		id = goro_go(parked, NULL);
		if (id < 0)
			die_neg("goro_go", (long)id);
	}
	goro_wg_wait(&started);
	after = rss_kib();
	pte_after = status_kib("VmPTE");
	result("rss_1m_wg", "goro", (double)(after - before) / (double)n, "KiB");
	result("pte_1m_wg", "goro", (double)(pte_after - pte_before) / (double)n,
	       "KiB");

	goro_wg_done(&gate);
	goro_wg_wait(&finished);
	return 0;
}
