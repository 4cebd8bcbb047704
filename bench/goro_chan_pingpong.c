// SPDX-License-Identifier: MIT
/*
 * Unbuffered channel ping-pong between two goroutines on one P; one round
 * trip is ping -> pong -> ping.  Same shape as go/chan.go.
 */
#include <goro.h>

#include "common.h"

static goro_chan *ping, *pong;

static void ponger(void *arg)
{
	long v;

	(void)arg;
	while (goro_chan_recv(ping, &v))
		goro_chan_send(pong, &v);
}

static uint64_t rounds(long n)
{
	uint64_t t0 = now_ns();
	long i, v;

	for (i = 0; i < n; i++) {
		goro_chan_send(ping, &i);
		goro_chan_recv(pong, &v);
	}
	return now_ns() - t0;
}

int main(int argc, char **argv)
{
	long n = arg_count(argc, argv, 1, 1000000);
	int64_t id;

	goro_setprocs(1);
	ping = goro_chan_make(sizeof(long), 0);
	pong = goro_chan_make(sizeof(long), 0);
	if (!ping || !pong)
		die("goro_chan_make");
	id = goro_go(ponger, NULL);
	if (id < 0)
		die_neg("goro_go", (long)id);
	rounds(n / 10);
	result("chan_pingpong_1p", "goro", (double)rounds(n) / (double)n, "ns");
	goro_chan_close(ping);
	return 0;
}
