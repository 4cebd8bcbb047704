// SPDX-License-Identifier: MIT
/*
 * select over 4 buffered channels on 1 P: a sender goroutine fills them in
 * turn, the receiver selects on all four; ns per select (the send it waits
 * on included). Same shape as go/select.go.
 */
#include <goro.h>

#include "common.h"

#define NCH 4

static goro_chan *chs[NCH];
static long count;

static void sender(void *arg)
{
	long i;

	(void)arg;
	for (i = 0; i < count; i++)
		goro_chan_send(chs[i % NCH], &i);
}

static double run(long n)
{
	struct goro_case cs[NCH];
	uint64_t t0;
	long v, i;
	int k;

	count = n;
	for (k = 0; k < NCH; k++) {
		cs[k].dir = GORO_RECV;
		cs[k].chan = chs[k];
		cs[k].elem = &v;
		cs[k].ok = NULL;
	}
	goro_go(sender, NULL);
	t0 = now_ns();
	for (i = 0; i < n; i++)
		if (goro_select(cs, NCH, true) < 0)
			die("goro_select");
	return (double)(now_ns() - t0) / (double)n;
}

int main(int argc, char **argv)
{
	long n = arg_count(argc, argv, 1, 2000000);
	int k;

	goro_setprocs(1);
	for (k = 0; k < NCH; k++) {
		chs[k] = goro_chan_make(sizeof(long), 16);
		if (!chs[k])
			die("goro_chan_make");
	}
	run(n / 10);
	result("select4_1p", "goro", run(n), "ns");
	return 0;
}
