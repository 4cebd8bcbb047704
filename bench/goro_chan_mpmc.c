// SPDX-License-Identifier: MIT
/*
 * Buffered channel throughput: 4 producer and 4 consumer goroutines on one
 * channel of capacity 128, 2 Ps; messages received per second. Same shape
 * as go/chanmpmc.go.
 */
#include <goro.h>

#include "common.h"

#define PAIRS 4

static goro_chan *ch;
static long per;

struct side {
	goro_wg wg;
	long got[PAIRS];
};

static void producer(void *arg)
{
	struct side *p = arg;
	long i;

	for (i = 0; i < per; i++)
		goro_chan_send(ch, &i);
	goro_wg_done(&p->wg);
}

struct cons {
	struct side *s;
	int i;
};

static void consumer(void *arg)
{
	struct cons *c = arg;
	long v, got = 0;

	while (goro_chan_recv(ch, &v))
		got++;
	c->s->got[c->i] = got;
	goro_wg_done(&c->s->wg);
}

/* Seconds to move n messages through the channel; checks they all came. */
static double run(long n)
{
	struct side prod = {GORO_WG_INIT, {0}}, cons = {GORO_WG_INIT, {0}};
	struct cons cs[PAIRS];
	uint64_t t0;
	long total = 0;
	int i;

	ch = goro_chan_make(sizeof(long), 128);
	if (!ch)
		die("goro_chan_make");
	per = n / PAIRS;
	t0 = now_ns();
	goro_wg_add(&prod.wg, PAIRS);
	goro_wg_add(&cons.wg, PAIRS);
	for (i = 0; i < PAIRS; i++) {
		cs[i].s = &cons;
		cs[i].i = i;
		goro_go(consumer, &cs[i]);
		goro_go(producer, &prod);
	}
	goro_wg_wait(&prod.wg);
	goro_chan_close(ch);
	goro_wg_wait(&cons.wg);
	t0 = now_ns() - t0;
	for (i = 0; i < PAIRS; i++)
		total += cons.got[i];
	expect_count("messages", total, per * PAIRS);
	goro_chan_free(ch);
	return (double)t0 / 1e9;
}

int main(int argc, char **argv)
{
	long n = arg_count(argc, argv, 1, 4000000);

	goro_setprocs(2);
	run(n / 10);
	result("chan_mpmc_2p", "goro", (double)n / run(n) / 1e6, "Mmsg/s");
	return 0;
}
