// SPDX-License-Identifier: MIT
/*
 * Resident memory per goroutine parked receiving on one channel: VmRSS
 * before and after n goroutines block; KiB per goroutine = delta / n.
 * Also the page tables' growth (VmPTE), which VmRSS does not count.
 * Same shape as `go_parked chan`.
 */
#include <goro.h>

#include "common.h"

static goro_chan *ch;
static goro_wg started = GORO_WG_INIT;
static goro_wg finished = GORO_WG_INIT;

static void parked(void *arg)
{
	(void)arg;
	goro_wg_done(&started);
	goro_chan_recv(ch, NULL);
	goro_wg_done(&finished);
}

int main(int argc, char **argv)
{
	long n = arg_count(argc, argv, 1, 1000000), i;
	long before, after, pte_before, pte_after;
	int64_t id;

	ch = goro_chan_make(1, 0);
	if (!ch)
		die("goro_chan_make");
	/* Start the runtime and its Ms before the first reading. */
	goro_wg_add(&started, 1);
	goro_wg_add(&finished, 1);
	id = goro_go(parked, NULL);
	if (id < 0)
		die_neg("goro_go", (long)id);
	goro_wg_wait(&started);
	goro_chan_send(ch, "x");
	goro_wg_wait(&finished);

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
	result("rss_1m_chan", "goro", (double)(after - before) / (double)n, "KiB");
	result("pte_1m_chan", "goro", (double)(pte_after - pte_before) / (double)n,
	       "KiB");

	goro_chan_close(ch);
	goro_wg_wait(&finished);
	return 0;
}
