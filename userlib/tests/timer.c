/* SPDX-License-Identifier: MIT */
/*
 * libgoro: goro_after (Go's time.After): timers fire never early, in the
 * order of their deadlines, serve as select timeouts, and survive their
 * channel being freed first.
 */
#include <goro.h>
#include <pthread.h>
#include <stdatomic.h>

#include "kselftest_harness.h"
#include "util.h"

#define MS 1000000LL

TEST(after_fires_never_early)
{
	long long ds[] = {1 * MS, 5 * MS, 20 * MS, 100000};
	unsigned i;

	for (i = 0; i < sizeof(ds) / sizeof(ds[0]); i++) {
		long long t0 = now_ns(), t1;
		goro_chan *c = goro_after(ds[i]);
		int64_t v = 0;

		ASSERT_NE(NULL, c);
		ASSERT_EQ(1u, goro_chan_cap(c));
		ASSERT_TRUE(goro_chan_recv(c, &v));
		t1 = now_ns();
		ASSERT_GE(t1 - t0, ds[i]);
		ASSERT_GE(v, t0 + ds[i]);	/* the firing time it sent */
		ASSERT_LE(v, t1);
		ASSERT_LT(t1 - t0, ds[i] + 500 * MS);	/* and not lost */
		goro_chan_free(c);
	}
}

TEST(after_zero_or_negative_is_ready_at_once)
{
	goro_chan *a = goro_after(0), *b = goro_after(-5);
	bool ok = false;
	int64_t v;

	ASSERT_EQ(0, goro_chan_tryrecv(a, &v, &ok));
	ASSERT_TRUE(ok);
	ASSERT_EQ(0, goro_chan_tryrecv(b, &v, &ok));
	ASSERT_TRUE(ok);
	goro_chan_free(a);
	goro_chan_free(b);
}

/*
 * Timers fire in deadline order: each sends the time it fired at, so the
 * firing times sorted by deadline must not decrease, and none is early.
 */
TEST(timers_fire_in_deadline_order)
{
	enum { N = 200 };
	goro_chan *c[N];
	long long when[N], hi[N];
	int64_t fired[N];
	int order[N], i, j;
	uint32_t seed = 12345;

	/* deadlines 250 us apart, in a shuffled order */
	for (i = 0; i < N; i++)
		order[i] = i;
	for (i = N - 1; i > 0; i--) {
		int x;

		seed = seed * 1103515245 + 12345;
		j = (int)((seed >> 8) % (uint32_t)(i + 1));
		x = order[i];
		order[i] = order[j];
		order[j] = x;
	}
	goro_chan_free(goro_after(1));	/* start the poller first */
	for (i = 0; i < N; i++) {
		long long d = (order[i] + 1) * 250000LL;

		when[i] = now_ns() + d;	/* its deadline is in [when, hi] */
		c[i] = goro_after(d);
		hi[i] = now_ns() + d;
		ASSERT_NE(NULL, c[i]);
		order[i] = i;
	}
	for (i = 0; i < N; i++) {
		ASSERT_TRUE(goro_chan_recv(c[i], &fired[i]));
		ASSERT_GE(fired[i], when[i]) TH_LOG("timer %d early", i);
	}
	/* sort by requested deadline (insertion sort) */
	for (i = 1; i < N; i++) {
		int x = order[i];

		for (j = i; j > 0 && when[order[j - 1]] > when[x]; j--)
			order[j] = order[j - 1];
		order[j] = x;
	}
	for (i = 1; i < N; i++)
		if (hi[order[i - 1]] < when[order[i]])	/* surely earlier */
			ASSERT_LE(fired[order[i - 1]], fired[order[i]]);
	for (i = 0; i < N; i++)
		goro_chan_free(c[i]);
}

TEST(after_as_select_timeout)
{
	goro_chan *never = goro_chan_make(sizeof(int), 0);
	goro_chan *t;
	struct goro_case k[2];
	long long t0 = now_ns();
	int64_t v;
	int w;

	t = goro_after(10 * MS);
	k[0] = (struct goro_case){GORO_RECV, never, &w, NULL};
	k[1] = (struct goro_case){GORO_RECV, t, &v, NULL};
	ASSERT_EQ(1, goro_select(k, 2, true));
	ASSERT_GE(now_ns() - t0, 10 * MS);
	goro_chan_free(t);
	goro_chan_free(never);
}

TEST(after_channel_freed_before_it_fires)
{
	int i;

	for (i = 0; i < 100; i++)
		goro_chan_free(goro_after((i % 10) * MS / 2));
	goro_sleep(20 * MS);	/* they fire into freed-by-us channels */
}

struct many {
	int n;
	atomic_int early;
	goro_chan *done;
};

static void many_waiter(void *arg)
{
	struct many *m = arg;
	long long d = (goro_id() * 7919) % (30 * MS);
	long long t0 = now_ns();
	goro_chan *c = goro_after(d);
	int64_t v;

	goro_chan_recv(c, &v);
	if (now_ns() - t0 < d)
		atomic_fetch_add(&m->early, 1);
	goro_chan_free(c);
	goro_chan_send(m->done, NULL);
}

/* 10,000 goroutines (1,000 sanitized) run fn at once; none is early. */
static void many_at_once(struct __test_metadata *_metadata, goro_fn fn)
{
	struct many m;
	int i;

	m.n = sanitized() ? 1000 : 10000;
	atomic_store(&m.early, 0);
	m.done = goro_chan_make(0, m.n);
	for (i = 0; i < m.n; i++)
		ASSERT_GT(goro_go(fn, &m), 0);
	for (i = 0; i < m.n; i++)
		goro_chan_recv(m.done, NULL);
	ASSERT_EQ(0, atomic_load(&m.early));
	goro_chan_free(m.done);
}

TEST(ten_thousand_goroutines_waiting_on_timers)
{
	many_at_once(_metadata, many_waiter);
}

static void many_sleeper(void *arg)
{
	struct many *m = arg;
	long long d = (goro_id() * 7919) % (30 * MS);
	long long t0 = now_ns();

	/* an error counts as early: the test wants none of either */
	if (goro_sleep(d) || now_ns() - t0 < d)
		atomic_fetch_add(&m->early, 1);
	goro_chan_send(m->done, NULL);
}

/*
 * The same with goro_sleep on 2 Ps: the per-P heaps grow (with their
 * lock dropped, while the sleeper may move to the other P) and every
 * sleeper wakes, none early.
 */
TEST(ten_thousand_goroutines_sleeping_on_two_ps)
{
	ASSERT_LE(0, goro_setprocs(2));
	many_at_once(_metadata, many_sleeper);
}

static void *thread_after(void *arg)
{
	long long t0 = now_ns();
	goro_chan *c = goro_after(5 * MS);
	int64_t v;

	goro_chan_recv(c, &v);
	*(long long *)arg = now_ns() - t0;
	goro_chan_free(c);
	return NULL;
}

TEST(after_from_a_foreign_thread)
{
	pthread_t t;
	long long took = 0;

	pthread_create(&t, NULL, thread_after, &took);
	pthread_join(t, NULL);
	ASSERT_GE(took, 5 * MS);
}

struct idle_p {
	atomic_int woke;	/* the sleeper is back */
	atomic_int busy_saw;	/* the busy goroutine saw it while busy */
	long long slept;	/* how long the sleeper slept */
	goro_chan *done;
};

static void busy_until_woken(void *arg)
{
	struct idle_p *s = arg;
	long long t0 = now_ns();

	/* never a scheduling point: this P does not run timers */
	while (!atomic_load(&s->woke) && now_ns() - t0 < 5000 * MS)
		;
	atomic_store(&s->busy_saw, atomic_load(&s->woke));
	goro_chan_send(s->done, NULL);
}

static void sleeper(void *arg)
{
	struct idle_p *s = arg;
	long long t0 = now_ns();

	goro_sleep(10 * MS);
	s->slept = now_ns() - t0;
	atomic_store(&s->woke, 1);
	goro_chan_send(s->done, NULL);
}

/*
 * A sleeper's timer sits on the heap of the P it slept on; that P then
 * goes idle (or runs a goroutine that never yields): the timer still
 * fires, by the idle M's deadline and another P's check of the heaps.
 */
TEST(sleep_fires_while_its_p_is_idle_and_the_other_busy)
{
	struct idle_p s = {0};

	ASSERT_LE(0, goro_setprocs(2));
	s.done = goro_chan_make(0, 2);
	ASSERT_GT(goro_go(busy_until_woken, &s), 0);
	ASSERT_GT(goro_go(sleeper, &s), 0);
	goro_chan_recv(s.done, NULL);
	goro_chan_recv(s.done, NULL);
	ASSERT_EQ(1, atomic_load(&s.busy_saw));
	ASSERT_GE(s.slept, 10 * MS);
	goro_chan_free(s.done);
}

TEST_HARNESS_MAIN
