// SPDX-License-Identifier: GPL-2.0
/*
 * goro_soak: a mixed libgoro workload for SECONDS (argument, else
 * GORO_SOAK_SECS, else 10), in rounds. Each round:
 *  - a spawn storm: many short goroutines, each marking its own item;
 *  - channel traffic: producers, a buffered and an unbuffered channel,
 *    workers, a results channel, and select with a goro_after timeout;
 *  - blocking syscalls: goroutines blocked in read() on pipes (bracketed
 *    with GORO_SYSCALL, so their P moves on) fed by writer goroutines;
 *  - timers: goroutines in goro_sleep and waiting on goro_after channels;
 *  - preemption: one spinner per P calling goro_preempt_point() while a
 *    goroutine that sleeps in a loop must still finish.
 * Every item has a counter that must end at exactly 1 (done once, never
 * lost, never twice); the totals printed at the end must add up. Exit 0
 * when everything did, 1 (with the first mismatch) otherwise. It checks
 * behaviour only: no timing is a pass criterion.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <goro.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STORM 2000
#define ITEMS 4000
#define NPIPES 8
#define PIPE_MSGS 64
#define NTIMERS 200

static atomic_int item[ITEMS];
static atomic_long tot_goroutines, tot_chan_items, tot_pipe_reads,
	tot_timers, tot_preempt_points, tot_rounds;
static atomic_int failed;
static char fail_msg[200];

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		if (!(cond) && !atomic_exchange(&failed, 1))                  \
			snprintf(fail_msg, sizeof(fail_msg), __VA_ARGS__);    \
	} while (0)

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void reset_items(int n)
{
	int i;

	for (i = 0; i < n; i++)
		atomic_store(&item[i], 0);
}

static void check_items(const char *what, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		int v = atomic_load(&item[i]);

		CHECK(v == 1, "%s: item %d done %d times", what, i, v);
		if (v != 1)
			return;
	}
}

/* ---- spawn storm ---- */

struct mark {
	int id;
	goro_wg *wg;
};

static struct mark marks[STORM];

static void mark_fn(void *arg)
{
	struct mark *m = arg;

	atomic_fetch_add(&item[m->id], 1);
	if (m->id % 7 == 0)
		goro_yield();
	atomic_fetch_add(&tot_goroutines, 1);
	goro_wg_done(m->wg);
}

static void storm(void)
{
	goro_wg wg = GORO_WG_INIT;
	int i;

	reset_items(STORM);
	goro_wg_add(&wg, STORM);
	for (i = 0; i < STORM; i++) {
		marks[i].id = i;
		marks[i].wg = &wg;
		while (goro_go(mark_fn, &marks[i]) == -ENOMEM)
			goro_yield();
	}
	goro_wg_wait(&wg);
	check_items("spawn storm", STORM);
}

/* ---- channel traffic ---- */

struct traffic {
	goro_chan *work;	/* buffered */
	goro_chan *hand;	/* unbuffered */
	goro_chan *results;
	goro_wg producers, workers;
	atomic_int next;	/* next item to produce */
	int nprod;
};

static void producer(void *arg)
{
	struct traffic *t = arg;
	int id;

	for (;;) {
		id = atomic_fetch_add(&t->next, 1);
		if (id >= ITEMS) {
			goro_wg_done(&t->producers);
			return;
		}
		goro_chan_send(id % 2 ? t->work : t->hand, &id);
	}
}

static void worker(void *arg)
{
	struct traffic *t = arg;
	goro_chan *a = t->work, *b = t->hand;
	int id;

	while (a || b) {
		bool ok;
		struct goro_case k[2] = {
			{GORO_RECV, a, &id, &ok},
			{GORO_RECV, b, &id, &ok},
		};
		int c = goro_select(k, 2, true);

		if (!ok) {	/* closed: a nil case from now on */
			if (c == 0)
				a = NULL;
			else
				b = NULL;
			continue;
		}
		atomic_fetch_add(&item[id], 1);
		goro_chan_send(t->results, &id);
	}
	goro_wg_done(&t->workers);
}

static void closer(void *arg)
{
	struct traffic *t = arg;

	goro_wg_wait(&t->producers);
	goro_chan_close(t->work);
	goro_chan_close(t->hand);
	goro_wg_wait(&t->workers);
	goro_chan_close(t->results);
}

static void traffic(void)
{
	struct traffic t = {0};
	goro_chan *tick;
	int i, id, n = 0, nworkers = 8;

	reset_items(ITEMS);
	t.work = goro_chan_make(sizeof(int), 16);
	t.hand = goro_chan_make(sizeof(int), 0);
	t.results = goro_chan_make(sizeof(int), 4);
	t.nprod = 4;
	goro_wg_add(&t.producers, t.nprod);
	goro_wg_add(&t.workers, nworkers);
	for (i = 0; i < t.nprod; i++)
		goro_go(producer, &t);
	for (i = 0; i < nworkers; i++)
		goro_go(worker, &t);
	goro_go(closer, &t);
	/* results, with a select on a timer channel beside them */
	tick = goro_after(1000000);
	for (;;) {
		int64_t when;
		bool ok;
		struct goro_case k[2] = {
			{GORO_RECV, t.results, &id, &ok},
			{GORO_RECV, tick, &when, NULL},
		};
		int c = goro_select(k, 2, true);

		if (c == 1) {
			goro_chan_free(tick);
			tick = NULL;	/* fired once: a nil case now */
			atomic_fetch_add(&tot_timers, 1);
			continue;
		}
		if (!ok)
			break;
		n++;
	}
	goro_chan_free(tick);
	CHECK(n == ITEMS, "channel traffic: %d results, want %d", n, ITEMS);
	check_items("channel traffic", ITEMS);
	atomic_fetch_add(&tot_chan_items, n);
	goro_chan_free(t.work);
	goro_chan_free(t.hand);
	goro_chan_free(t.results);
}

/* ---- blocking syscalls ---- */

struct piper {
	int fd[2];
	int base;
	goro_wg *wg;
};

static void pipe_reader(void *arg)
{
	struct piper *p = arg;
	int i;

	for (i = 0; i < PIPE_MSGS; i++) {
		int v;
		ssize_t n = GORO_SYSCALL(read(p->fd[0], &v, sizeof(v)));

		CHECK(n == sizeof(v), "pipe read: %zd", n);
		if (n != sizeof(v))
			break;
		CHECK(v >= 0 && v < NPIPES * PIPE_MSGS, "pipe value %d", v);
		if (v >= 0 && v < NPIPES * PIPE_MSGS)
			atomic_fetch_add(&item[v], 1);
		atomic_fetch_add(&tot_pipe_reads, 1);
	}
	goro_wg_done(p->wg);
}

static void pipe_writer(void *arg)
{
	struct piper *p = arg;
	int i;

	for (i = 0; i < PIPE_MSGS; i++) {
		int v = p->base + i;

		if (i % 8 == 0)
			goro_sleep(100000);	/* the reader blocks meanwhile */
		CHECK(GORO_SYSCALL(write(p->fd[1], &v, sizeof(v))) ==
			      sizeof(v),
		      "pipe write");
	}
	goro_wg_done(p->wg);
}

static void pipes(void)
{
	struct piper p[NPIPES];
	goro_wg wg = GORO_WG_INIT;
	int i;

	reset_items(NPIPES * PIPE_MSGS);
	goro_wg_add(&wg, 2 * NPIPES);
	for (i = 0; i < NPIPES; i++) {
		if (pipe(p[i].fd)) {
			CHECK(0, "pipe: %s", strerror(errno));
			return;
		}
		p[i].base = i * PIPE_MSGS;
		p[i].wg = &wg;
		goro_go(pipe_reader, &p[i]);
		goro_go(pipe_writer, &p[i]);
	}
	goro_wg_wait(&wg);
	check_items("blocking reads", NPIPES * PIPE_MSGS);
	for (i = 0; i < NPIPES; i++) {
		close(p[i].fd[0]);
		close(p[i].fd[1]);
	}
}

/* ---- timers ---- */

struct timer_arg {
	int id;
	uint64_t seed;
	goro_wg *wg;
};

static struct timer_arg targs[NTIMERS];

static void timer_fn(void *arg)
{
	struct timer_arg *t = arg;
	int64_t ns = (int64_t)(rnd(&t->seed) % 2000000), start = now_ns();

	if (t->id % 2) {
		goro_sleep(ns);
	} else {
		goro_chan *c = goro_after(ns);
		int64_t when = 0;

		CHECK(goro_chan_recv(c, &when), "goro_after: closed");
		CHECK(when >= start + ns, "goro_after fired early");
		goro_chan_free(c);
	}
	CHECK(now_ns() >= start + ns, "timer %d returned early", t->id);
	atomic_fetch_add(&item[t->id], 1);
	atomic_fetch_add(&tot_timers, 1);
	goro_wg_done(t->wg);
}

static void timers(uint64_t *seed)
{
	goro_wg wg = GORO_WG_INIT;
	int i;

	reset_items(NTIMERS);
	goro_wg_add(&wg, NTIMERS);
	for (i = 0; i < NTIMERS; i++) {
		targs[i].id = i;
		targs[i].seed = rnd(seed) | 1;
		targs[i].wg = &wg;
		goro_go(timer_fn, &targs[i]);
	}
	goro_wg_wait(&wg);
	check_items("timers", NTIMERS);
}

/* ---- preemption ---- */

struct spin {
	atomic_int *stop;
	goro_wg *wg;
};

static void spinner(void *arg)
{
	struct spin *s = arg;
	long n = 0;

	while (!atomic_load(s->stop)) {
		goro_preempt_point();
		n++;
	}
	atomic_fetch_add(&tot_preempt_points, n);
	goro_wg_done(s->wg);
}

static void sleeper(void *arg)
{
	struct spin *s = arg;
	int i;

	for (i = 0; i < 10; i++)
		goro_sleep(1000000);
	atomic_store(s->stop, 1);	/* it ran although every P spins */
	goro_wg_done(s->wg);
}

static void preempt(void)
{
	goro_wg wg = GORO_WG_INIT;
	atomic_int stop = 0;
	struct spin s = {&stop, &wg};
	int i, n = goro_numprocs();

	goro_wg_add(&wg, n + 1);
	for (i = 0; i < n; i++)
		goro_go(spinner, &s);
	goro_go(sleeper, &s);
	goro_wg_wait(&wg);
	CHECK(atomic_load(&stop) == 1, "preemption: the sleeper never ran");
}

int main(int argc, char **argv)
{
	const char *e = getenv("GORO_SOAK_SECS");
	long secs = argc > 1 ? atol(argv[1]) : e ? atol(e) : 10;
	uint64_t seed = (uint64_t)now_ns() | 1;
	int64_t start = now_ns(), end;

	if (secs <= 0)
		secs = 10;
	end = start + secs * 1000000000LL;
	printf("goro_soak: %ld s, backend %s, %d Ps, seed %#llx\n", secs,
	       goro_backend(), goro_numprocs(), (unsigned long long)seed);
	fflush(stdout);
	while (now_ns() < end && !atomic_load(&failed)) {
		storm();
		if (!atomic_load(&failed))
			traffic();
		if (!atomic_load(&failed))
			pipes();
		if (!atomic_load(&failed))
			timers(&seed);
		if (!atomic_load(&failed))
			preempt();
		atomic_fetch_add(&tot_rounds, 1);
	}
	/* the totals add up to what the rounds should have done */
	CHECK(atomic_load(&tot_goroutines) == atomic_load(&tot_rounds) * STORM ||
		      atomic_load(&failed),
	      "storm total %ld for %ld rounds", atomic_load(&tot_goroutines),
	      atomic_load(&tot_rounds));
	CHECK(atomic_load(&tot_chan_items) ==
			      atomic_load(&tot_rounds) * ITEMS ||
		      atomic_load(&failed),
	      "channel total %ld", atomic_load(&tot_chan_items));
	CHECK(atomic_load(&tot_pipe_reads) ==
			      atomic_load(&tot_rounds) * NPIPES * PIPE_MSGS ||
		      atomic_load(&failed),
	      "pipe total %ld", atomic_load(&tot_pipe_reads));
	printf("goro_soak: %.1f s, %ld rounds: %ld goroutines spawned, %ld channel items, %ld blocking reads, %ld timers, %ld preempt points\n",
	       (double)(now_ns() - start) / 1e9, atomic_load(&tot_rounds),
	       atomic_load(&tot_goroutines), atomic_load(&tot_chan_items),
	       atomic_load(&tot_pipe_reads), atomic_load(&tot_timers),
	       atomic_load(&tot_preempt_points));
	if (atomic_load(&failed)) {
		printf("goro_soak: FAIL: %s\n", fail_msg);
		return 1;
	}
	printf("goro_soak: every item done exactly once\n");
	return 0;
}
