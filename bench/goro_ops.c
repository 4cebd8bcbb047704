// SPDX-License-Identifier: MIT
/*
 * What the scheduler's hot paths cost, counted rather than timed: locked
 * read-modify-writes (compare-and-swap, exchange, fetch-and-add, those of
 * the internal lock and the run queue included) and full fences per
 * operation, from libgoro's counting build (userlib SAN=count, atomic.h),
 * and ns per operation (on a loaded machine only a hint).
 *
 *   goro_ops [LOOP [N]]    every loop (or one), N operations each
 *
 * Loops: pingpong1, pingpong2 (unbuffered round trip, 1 and 2 Ps),
 * yield (2 goroutines, 1 P, per yield), buffered (a producer and a
 * consumer on a channel of 128, 1 P, per element), sendrecv (one
 * goroutine's send then receive on a channel of 1), select4 (bench/
 * goro_select.c's shape, per select), selwake (a select on 2 unbuffered
 * channels woken by a sender, 1 P, per select), spawn1, spawn2 (spawn +
 * run + join, per goroutine), join1 (a fork-join step as in goro_fib.c:
 * a wait group of one, a goroutine that calls Done, the spawner's Wait,
 * per goroutine, 1 P).
 *
 * Linked with the ordinary library it counts nothing and only times;
 * `make -C bench ops` builds both and also counts the instructions per
 * operation with valgrind's callgrind (a run of N and one of 2N: the
 * difference over N), where valgrind is installed.
 */
#include <goro.h>

#include "common.h"

/* the counting build's reader (userlib/src/lock.c); absent otherwise */
void goro__count_read(uint64_t *rmw, uint64_t *fence) __attribute__((weak));

#define WARM 2000

static goro_chan *c1, *c2;
static goro_chan *sc[4];
static volatile int stop;
static long sel_total;
static goro_wg wg = GORO_WG_INIT;

static void counts(uint64_t *rmw, uint64_t *fence)
{
	if (goro__count_read)
		goro__count_read(rmw, fence);
	else
		*rmw = *fence = 0;
}

static void ponger(void *arg)
{
	long v;

	(void)arg;
	while (goro_chan_recv(c1, &v))
		goro_chan_send(c2, &v);
	goro_wg_done(&wg);
}

static void pingpong(long n)
{
	long i, v;

	for (i = 0; i < n; i++) {
		goro_chan_send(c1, &i);
		goro_chan_recv(c2, &v);
	}
}

static void pingpong_setup(void)
{
	c1 = goro_chan_make(sizeof(long), 0);
	c2 = goro_chan_make(sizeof(long), 0);
	if (!c1 || !c2)
		die("goro_chan_make");
	goro_wg_add(&wg, 1);
	goro_go(ponger, NULL);
}

static void pingpong_done(void)
{
	goro_chan_close(c1);
	goro_wg_wait(&wg);
	goro_chan_free(c1);
	goro_chan_free(c2);
}

static void yielder(void *arg)
{
	(void)arg;
	while (!stop)
		goro_yield();
	goro_wg_done(&wg);
}

/* n yields: each of ours is answered by the yielder's */
static void yields(long n)
{
	long i;

	for (i = 0; i < n / 2; i++)
		goro_yield();
}

static void yield_setup(void)
{
	stop = 0;
	goro_wg_add(&wg, 1);
	goro_go(yielder, NULL);
}

static void yield_done(void)
{
	stop = 1;
	goro_wg_wait(&wg);
}

static void consumer(void *arg)
{
	long v;

	(void)arg;
	while (goro_chan_recv(c1, &v))
		;
	goro_wg_done(&wg);
}

static void produce(long n)
{
	long i;

	for (i = 0; i < n; i++)
		goro_chan_send(c1, &i);
}

static void buffered_setup(void)
{
	c1 = goro_chan_make(sizeof(long), 128);
	if (!c1)
		die("goro_chan_make");
	goro_wg_add(&wg, 1);
	goro_go(consumer, NULL);
}

static void buffered_done(void)
{
	goro_chan_close(c1);
	goro_wg_wait(&wg);
	goro_chan_free(c1);
}

static void sendrecv(long n)
{
	long i, v;

	for (i = 0; i < n; i++) {
		goro_chan_send(c1, &i);
		goro_chan_recv(c1, &v);
	}
}

static void sendrecv_setup(void)
{
	c1 = goro_chan_make(sizeof(long), 1);
	if (!c1)
		die("goro_chan_make");
}

static void sendrecv_done(void)
{
	goro_chan_free(c1);
}

static void sel_sender(void *arg)
{
	int k = (int)(intptr_t)arg;
	long i;

	for (i = 0; i < sel_total; i++)
		goro_chan_send(sc[i % k], &i);
	goro_wg_done(&wg);
}

static void selects(long n, int k)
{
	struct goro_case cs[4];
	long i, v;
	int j;

	for (j = 0; j < k; j++) {
		cs[j].dir = GORO_RECV;
		cs[j].chan = sc[j];
		cs[j].elem = &v;
		cs[j].ok = NULL;
	}
	for (i = 0; i < n; i++)
		if (goro_select(cs, k, true) < 0)
			die("goro_select");
}

static void select4(long n)
{
	selects(n, 4);
}

static void selwake(long n)
{
	selects(n, 2);
}

/* the sender sends exactly what the loops receive: WARM + n */
static void sel_setup(int k, size_t cap)
{
	int j;

	for (j = 0; j < k; j++) {
		sc[j] = goro_chan_make(sizeof(long), cap);
		if (!sc[j])
			die("goro_chan_make");
	}
	goro_wg_add(&wg, 1);
	goro_go(sel_sender, (void *)(intptr_t)k);
}

static void sel_done(int k)
{
	int j;

	goro_wg_wait(&wg);
	for (j = 0; j < k; j++)
		goro_chan_free(sc[j]);
}

static void select4_setup(void)
{
	sel_setup(4, 16);
}

static void select4_done(void)
{
	sel_done(4);
}

static void selwake_setup(void)
{
	sel_setup(2, 0);
}

static void selwake_done(void)
{
	sel_done(2);
}

static goro_wg swg = GORO_WG_INIT;

static void task(void *arg)
{
	(void)arg;
	goro_wg_done(&swg);
}

static void spawns(long n)
{
	long i, k;

	for (i = 0; i < n; i += 100) {
		goro_wg_add(&swg, 100);
		for (k = 0; k < 100; k++)
			if (goro_go(task, NULL) < 0)
				die("goro_go");
		goro_wg_wait(&swg);
	}
}

static void done_one(void *arg)
{
	goro_wg_done(arg);
}

static void joins(long n)
{
	long i;

	for (i = 0; i < n; i++) {
		goro_wg one = GORO_WG_INIT;

		goro_wg_add(&one, 1);
		if (goro_go(done_one, &one) < 0)
			die("goro_go");
		goro_wg_wait(&one);
	}
}

static void nothing(void)
{
}

struct loop {
	const char *name;
	int procs;
	void (*setup)(void);
	void (*run)(long n);
	void (*done)(void);
	int per;	/* operations per iteration of run */
	const char *unit;
};

static const struct loop loops[] = {
	{ "pingpong1", 1, pingpong_setup, pingpong, pingpong_done, 1,
	  "round trip" },
	{ "pingpong2", 2, pingpong_setup, pingpong, pingpong_done, 1,
	  "round trip" },
	{ "yield", 1, yield_setup, yields, yield_done, 1, "yield" },
	{ "buffered", 1, buffered_setup, produce, buffered_done, 1,
	  "send+recv" },
	{ "sendrecv", 1, sendrecv_setup, sendrecv, sendrecv_done, 1,
	  "send+recv" },
	{ "select4", 1, select4_setup, select4, select4_done, 1, "select" },
	{ "selwake", 1, selwake_setup, selwake, selwake_done, 1, "select" },
	{ "spawn1", 1, nothing, spawns, nothing, 1, "goroutine" },
	{ "spawn2", 2, nothing, spawns, nothing, 1, "goroutine" },
	{ "join1", 1, nothing, joins, nothing, 1, "goroutine" },
};

static void measure(const struct loop *l, long n)
{
	uint64_t r0, f0, r1, f1, t0, t1;
	double ops = (double)n * l->per;

	goro_setprocs(l->procs);
	sel_total = WARM + n;
	l->setup();
	l->run(WARM);
	counts(&r0, &f0);
	t0 = now_ns();
	l->run(n);
	t1 = now_ns();
	counts(&r1, &f1);
	l->done();
	printf("%-10s %d P  %7.2f rmw  %5.2f fence  %8.1f ns  per %s\n",
	       l->name, l->procs, (double)(r1 - r0) / ops,
	       (double)(f1 - f0) / ops, (double)(t1 - t0) / ops, l->unit);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *which = argc > 1 ? argv[1] : NULL;
	long n = arg_count(argc, argv, 2, 200000);
	size_t i;
	int found = 0;

	if (n % 100)
		n += 100 - n % 100;	/* spawn runs batches of 100 */
	if (!goro__count_read)
		printf("(not the counting build: rmw and fence read 0)\n");
	for (i = 0; i < sizeof(loops) / sizeof(loops[0]); i++) {
		if (which && strcmp(which, "all") &&
		    strcmp(which, loops[i].name))
			continue;
		measure(&loops[i], n);
		found = 1;
	}
	if (!found) {
		fprintf(stderr, "goro_ops: no loop %s\n", which);
		return 2;
	}
	return 0;
}
