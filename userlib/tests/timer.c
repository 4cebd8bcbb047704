/* SPDX-License-Identifier: MIT */
/*
 * libgoro: goro_after (Go's time.After): timers fire never early, in the
 * order of their deadlines, serve as select timeouts, and survive their
 * channel being freed first. Timers, tickers and afterfuncs (Go's
 * time.Timer, Ticker, AfterFunc): once, periodically, stopped, reset,
 * racing their own firing, and leaving nothing behind.
 */
#include <goro.h>
#include <pthread.h>
#include <stdatomic.h>

#include "kselftest_harness.h"
#include "util.h"

#define MS 1000000LL

/* timers on every P's heap (timer.c; libgoro.a exports it to its tests) */
int64_t goro__timers_pending(void);

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

/* ---- goro_timer, goro_ticker, goro_afterfunc -------------------------- */

TEST(now_is_the_monotonic_clock)
{
	long long a = now_ns(), n = goro_now(), b = now_ns();

	ASSERT_LE(a, n);
	ASSERT_LE(n, b);
	ASSERT_LE(n, goro_now());
}

TEST(timer_delivers_once_never_early)
{
	long long t0 = now_ns();
	goro_timer *t = goro_timer_make(5 * MS);
	goro_chan *c = goro_timer_chan(t);
	int64_t v = 0;

	ASSERT_NE(NULL, t);
	ASSERT_NE(NULL, c);
	ASSERT_TRUE(goro_chan_recv(c, &v));
	ASSERT_GE(now_ns() - t0, 5 * MS);
	ASSERT_GE(v, t0 + 5 * MS);
	ASSERT_LE(v, goro_now());
	goro_sleep(20 * MS);
	ASSERT_EQ(-EAGAIN, goro_chan_tryrecv(c, &v, NULL));	/* once */
	ASSERT_FALSE(goro_timer_stop(t));	/* it had delivered */
	goro_timer_free(t);
}

TEST(timer_zero_is_ready_at_once)
{
	goro_timer *t = goro_timer_make(0);
	int64_t v;
	bool ok = false;

	ASSERT_EQ(0, goro_chan_tryrecv(goro_timer_chan(t), &v, &ok));
	ASSERT_TRUE(ok);
	goro_timer_free(t);
}

TEST(timer_stop_before_it_fires)
{
	goro_timer *t = goro_timer_make(30 * MS);
	int64_t v;

	ASSERT_TRUE(goro_timer_stop(t));
	goro_sleep(60 * MS);
	ASSERT_EQ(-EAGAIN, goro_chan_tryrecv(goro_timer_chan(t), &v, NULL));
	ASSERT_FALSE(goro_timer_stop(t));	/* already stopped */
	goro_timer_free(t);
}

/* Go 1.23: a value not yet received counts as not delivered */
TEST(timer_stop_drops_a_value_not_received)
{
	goro_timer *t = goro_timer_make(1 * MS);
	int64_t v;

	goro_sleep(20 * MS);
	ASSERT_EQ(1u, goro_chan_len(goro_timer_chan(t)));
	ASSERT_TRUE(goro_timer_stop(t));
	ASSERT_EQ(-EAGAIN, goro_chan_tryrecv(goro_timer_chan(t), &v, NULL));
	goro_timer_free(t);
}

TEST(timer_reset_rearms)
{
	goro_timer *t = goro_timer_make(1 * MS);
	goro_chan *c = goro_timer_chan(t);
	long long t0;
	int64_t v;

	ASSERT_TRUE(goro_chan_recv(c, &v));
	/* fired and received: re-armed, the stop stopped nothing */
	t0 = now_ns();
	ASSERT_EQ(0, goro_timer_reset(t, 5 * MS));
	ASSERT_TRUE(goro_chan_recv(c, &v));
	ASSERT_GE(now_ns() - t0, 5 * MS);
	/* still pending: moved, no value from the first arming */
	ASSERT_EQ(0, goro_timer_reset(t, 10000 * MS));
	t0 = now_ns();
	ASSERT_EQ(1, goro_timer_reset(t, 5 * MS));
	ASSERT_TRUE(goro_chan_recv(c, &v));
	ASSERT_GE(now_ns() - t0, 5 * MS);
	ASSERT_LT(now_ns() - t0, 5000 * MS);
	/* fired, not received: the value is dropped, 1 as Go 1.23 says */
	ASSERT_EQ(0, goro_timer_reset(t, 1 * MS));
	goro_sleep(10 * MS);
	ASSERT_EQ(1, goro_timer_reset(t, 50 * MS));
	ASSERT_EQ(-EAGAIN, goro_chan_tryrecv(c, &v, NULL));
	goro_timer_free(t);
	ASSERT_EQ(-EINVAL, goro_timer_reset(NULL, 1));
	ASSERT_FALSE(goro_timer_stop(NULL));
	ASSERT_EQ(NULL, goro_timer_chan(NULL));
	goro_timer_free(NULL);
}

struct afunc_rec {
	atomic_int runs;
	atomic_llong id;
	atomic_llong at;
	goro_chan *done;	/* NULL: do not signal */
};

static void afunc_record(void *arg)
{
	struct afunc_rec *r = arg;

	atomic_store(&r->id, goro_id());
	atomic_store(&r->at, now_ns());
	atomic_fetch_add(&r->runs, 1);
	if (r->done)
		goro_chan_send(r->done, NULL);
}

TEST(afterfunc_runs_in_its_own_goroutine)
{
	struct afunc_rec r = {0};
	long long t0 = now_ns();
	goro_timer *t;

	r.done = goro_chan_make(0, 1);
	t = goro_afterfunc(5 * MS, afunc_record, &r);
	ASSERT_NE(NULL, t);
	ASSERT_EQ(NULL, goro_timer_chan(t));
	ASSERT_TRUE(goro_chan_recv(r.done, NULL));
	ASSERT_GE(atomic_load(&r.at) - t0, 5 * MS);
	ASSERT_GT(atomic_load(&r.id), 1);	/* a goroutine, not main */
	ASSERT_NE(goro_id(), atomic_load(&r.id));
	ASSERT_FALSE(goro_timer_stop(t));
	/* reset re-arms it: it runs once more */
	ASSERT_EQ(0, goro_timer_reset(t, 1 * MS));
	ASSERT_TRUE(goro_chan_recv(r.done, NULL));
	ASSERT_EQ(2, atomic_load(&r.runs));
	goro_timer_free(t);
	goro_chan_free(r.done);
	errno = 0;
	ASSERT_EQ(NULL, goro_afterfunc(1, NULL, NULL));
	ASSERT_EQ(EINVAL, errno);
}

TEST(afterfunc_stopped_never_runs)
{
	struct afunc_rec r = {0};
	goro_timer *t = goro_afterfunc(30 * MS, afunc_record, &r);

	ASSERT_TRUE(goro_timer_stop(t));
	goro_sleep(60 * MS);
	ASSERT_EQ(0, atomic_load(&r.runs));
	/* freed while armed: it never runs either */
	goro_timer_free(goro_afterfunc(10 * MS, afunc_record, &r));
	goro_sleep(40 * MS);
	ASSERT_EQ(0, atomic_load(&r.runs));
	goro_timer_free(t);
}

/*
 * Stop against the firing, on 2 Ps: every afterfunc either runs or is
 * stopped (true), never both and never neither; a channel timer that was
 * not received from is always stopped (true) and its channel then stays
 * empty. Reset against the firing, on one handle: each arming runs once
 * unless its stop said so.
 */
TEST(stop_and_reset_race_the_firing)
{
	int n = sanitized() ? 1000 : 10000, i, stopped = 0, resets = 0;
	struct afunc_rec r = {0};
	goro_timer *h;

	ASSERT_LE(0, goro_setprocs(2));
	for (i = 0; i < n; i++) {
		goro_timer *a = goro_afterfunc(i % 50 * 1000, afunc_record, &r);
		goro_timer *t = goro_timer_make(i % 50 * 1000);
		int64_t v;
		long long t0 = now_ns();

		ASSERT_NE(NULL, a);
		ASSERT_NE(NULL, t);
		while (now_ns() - t0 < i % 60 * 1000)
			;
		if (i % 7 == 0)
			goro_yield();	/* let this P run its heap */
		stopped += goro_timer_stop(a);
		ASSERT_TRUE(goro_timer_stop(t)) TH_LOG("timer %d", i);
		ASSERT_EQ(-EAGAIN, goro_chan_tryrecv(goro_timer_chan(t), &v,
						     NULL));
		goro_timer_free(a);
		goro_timer_free(t);
	}
	h = goro_afterfunc(1000, afunc_record, &r);
	for (i = 0; i < n; i++) {
		int was = goro_timer_reset(h, i % 40 * 1000);

		ASSERT_LE(0, was);
		resets += was;	/* the arming before did not run */
		if (i % 5 == 0)
			goro_yield();
	}
	resets += goro_timer_stop(h);
	goro_timer_free(h);
	/* every goroutine started has run within 5 s */
	for (i = 0; i < 500 && atomic_load(&r.runs) < 2 * n + 1 - stopped -
						      resets; i++)
		goro_sleep(10 * MS);
	goro_sleep(20 * MS);
	ASSERT_EQ(2 * n + 1 - stopped - resets, atomic_load(&r.runs))
		TH_LOG("stopped %d, resets %d", stopped, resets);
}

TEST(ticker_ticks_in_rhythm)
{
	long long t0 = now_ns();
	goro_ticker *k = goro_ticker_make(5 * MS);
	goro_chan *c = goro_ticker_chan(k);
	int64_t v, last = 0;
	int i;

	ASSERT_NE(NULL, k);
	ASSERT_EQ(1u, goro_chan_cap(c));
	for (i = 1; i <= 10; i++) {
		ASSERT_TRUE(goro_chan_recv(c, &v));
		ASSERT_GT(v, last);
		last = v;
	}
	/* 10 ticks of 5 ms: never early, and not all lost */
	ASSERT_GE(now_ns() - t0, 50 * MS);
	ASSERT_LT(now_ns() - t0, 5000 * MS);
	goro_ticker_stop(k);
	goro_sleep(20 * MS);
	ASSERT_EQ(-EAGAIN, goro_chan_tryrecv(c, &v, NULL));
	/* reset after stop starts it again */
	ASSERT_EQ(0, goro_ticker_reset(k, 2 * MS));
	ASSERT_TRUE(goro_chan_recv(c, &v));
	goro_ticker_free(k);
}

TEST(ticker_drops_ticks_for_a_slow_receiver)
{
	goro_ticker *k = goro_ticker_make(1 * MS);
	goro_chan *c = goro_ticker_chan(k);
	int64_t v, first;
	long long t0;

	t0 = now_ns();
	goro_sleep(50 * MS);	/* ~50 ticks, room for one */
	ASSERT_EQ(1u, goro_chan_len(c));
	ASSERT_TRUE(goro_chan_recv(c, &first));
	/*
	 * the next tick is a new one, not a second one kept from the
	 * start of the sleep: it fired once there was room, 50 ms on (its
	 * time may be taken a little before its send finds the room, so it
	 * is compared with the sleep, with a margin, not with the receive)
	 */
	ASSERT_TRUE(goro_chan_recv(c, &v));
	ASSERT_GE(v - t0, 40 * MS) TH_LOG("first %lld, next %lld ns after the start",
					   (long long)(first - t0), (long long)(v - t0));
	goro_ticker_free(k);
}

TEST(ticker_reset_changes_the_period)
{
	goro_ticker *k = goro_ticker_make(10000 * MS);
	long long t0 = now_ns();
	int64_t v;

	ASSERT_EQ(0, goro_ticker_reset(k, 2 * MS));
	ASSERT_TRUE(goro_chan_recv(goro_ticker_chan(k), &v));
	ASSERT_TRUE(goro_chan_recv(goro_ticker_chan(k), &v));
	ASSERT_GE(now_ns() - t0, 4 * MS);
	ASSERT_LT(now_ns() - t0, 5000 * MS);
	ASSERT_EQ(-EINVAL, goro_ticker_reset(k, 0));
	goro_ticker_free(k);
}

TEST(ticker_rejects_a_period_not_positive)
{
	errno = 0;
	ASSERT_EQ(NULL, goro_ticker_make(0));
	ASSERT_EQ(EINVAL, errno);
	errno = 0;
	ASSERT_EQ(NULL, goro_ticker_make(-1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-EINVAL, goro_ticker_reset(NULL, 1));
	goro_ticker_stop(NULL);
	goro_ticker_free(NULL);
}

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define leak_check() __lsan_do_recoverable_leak_check()
#else
#define leak_check() 0
#endif

/*
 * 100,000 armed timers, afterfuncs and tickers on 2 Ps take 100,000 heap
 * slots; stopped, none; freed, nothing is left (LSan under ASan).
 */
TEST(hundred_thousand_timers_stopped_leave_nothing)
{
	enum { N = 100000 };
	goro_timer **t = calloc(N, sizeof(*t));
	goro_ticker **k = calloc(N / 10, sizeof(*k));
	struct afunc_rec r = {0};
	int i;

	ASSERT_LE(0, goro_setprocs(2));
	ASSERT_EQ(0, goro__timers_pending());
	for (i = 0; i < N; i++) {
		t[i] = i % 2 ? goro_timer_make(3600000 * MS + i)
			     : goro_afterfunc(3600000 * MS + i, afunc_record,
					      &r);
		ASSERT_NE(NULL, t[i]);
		if (i % 10 == 0) {
			k[i / 10] = goro_ticker_make(3600000 * MS);
			ASSERT_NE(NULL, k[i / 10]);
		}
		if (i % 1000 == 0)
			goro_yield();	/* now and then on the other P */
	}
	ASSERT_EQ(N + N / 10, goro__timers_pending());
	for (i = 0; i < N; i++) {
		ASSERT_TRUE(goro_timer_stop(t[i]));
		if (i % 10 == 0)
			goro_ticker_stop(k[i / 10]);
	}
	ASSERT_EQ(0, goro__timers_pending());
	/* re-armed, then freed while armed: gone from the heaps too */
	for (i = 0; i < N; i++) {
		ASSERT_EQ(0, goro_timer_reset(t[i], 3600000 * MS));
		if (i % 10 == 0)
			ASSERT_EQ(0, goro_ticker_reset(k[i / 10], MS * 1000));
	}
	ASSERT_EQ(N + N / 10, goro__timers_pending());
	for (i = 0; i < N; i++) {
		goro_timer_free(t[i]);
		if (i % 10 == 0)
			goro_ticker_free(k[i / 10]);
	}
	ASSERT_EQ(0, goro__timers_pending());
	ASSERT_EQ(0, atomic_load(&r.runs));
	free(t);
	free(k);
	ASSERT_EQ(0, leak_check());
}

static void *thread_timer(void *arg)
{
	long long t0 = now_ns();
	goro_timer *t = goro_timer_make(5 * MS);
	int64_t v;

	goro_chan_recv(goro_timer_chan(t), &v);
	*(long long *)arg = now_ns() - t0;
	goro_timer_free(t);
	return NULL;
}

TEST(timer_from_a_foreign_thread)
{
	pthread_t t;
	long long took = 0;

	pthread_create(&t, NULL, thread_timer, &took);
	pthread_join(t, NULL);
	ASSERT_GE(took, 5 * MS);
}

TEST_HARNESS_MAIN
