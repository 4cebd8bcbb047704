/* SPDX-License-Identifier: MIT */
/* libgoro: WaitGroup, Mutex, RWMutex, Cond, Once. */
#include <goro.h>
#include <pthread.h>
#include <stdatomic.h>

#include "kselftest_harness.h"
#include "util.h"

#if defined(__SANITIZE_ADDRESS__)
/* frames on fake stacks: a use after return is reported */
const char *__asan_default_options(void)
{
	return "detect_stack_use_after_return=1";
}
#endif

PROCS_FIXTURE()
PROCS_VARIANT(1);
PROCS_VARIANT(4);

/* ---- WaitGroup ---- */

struct wgt {
	goro_wg outer, inner;
	atomic_int after;
	atomic_int early;
};

static void wg_worker(void *arg)
{
	struct wgt *t = arg;

	goro_wg_wait(&t->inner);
	atomic_fetch_add(&t->after, 1);
	goro_wg_done(&t->outer);
}

static void wg_releaser(void *arg)
{
	struct wgt *t = arg;

	goro_yield();
	if (atomic_load(&t->after))
		atomic_store(&t->early, 1);
	goro_wg_done(&t->inner);
}

TEST_F(procs, waitgroup_torture)
{
	/* 200 waiters on one group released by 50 dones, 20 rounds */
	int round, i;

	for (round = 0; round < 20; round++) {
		struct wgt t = {GORO_WG_INIT, GORO_WG_INIT, 0, 0};

		goro_wg_add(&t.inner, 50);
		goro_wg_add(&t.outer, 200);
		for (i = 0; i < 200; i++)
			goro_go(wg_worker, &t);
		for (i = 0; i < 50; i++)
			goro_go(wg_releaser, &t);
		goro_wg_wait(&t.outer);
		ASSERT_EQ(200, atomic_load(&t.after));
		ASSERT_EQ(0, atomic_load(&t.early));
	}
}

TEST(waitgroup_wait_at_zero_returns)
{
	goro_wg wg = GORO_WG_INIT;

	goro_wg_wait(&wg);
	goro_wg_add(&wg, 2);
	goro_wg_add(&wg, -2);
	goro_wg_wait(&wg);
}

static int sc_negative_wg(void)
{
	goro_wg wg = GORO_WG_INIT;

	goro_wg_add(&wg, 1);
	goro_wg_done(&wg);
	goro_wg_done(&wg);
	printf("not reached\n");
	return 0;
}

TEST(waitgroup_negative_counter_aborts)
{
	expect_fatal("negative_wg", "sync: negative WaitGroup counter",
		     "not reached");
}

/*
 * The last Done must not touch a WaitGroup whose waiter may already have
 * returned: the usual WaitGroup lives in the waiter's frame. Each round a
 * fresh frame holds the group; a goroutine spinning on the other P calls
 * Done at the moment the waiter enters Wait (both sides released by one
 * flag, the waiter after a varying delay to sweep the interleavings), and
 * the waiter returns and reuses the frame's stack at once. Under ASan
 * (frames on fake stacks, see __asan_default_options below) any access
 * after the return is reported; natively the reused frame turns it into
 * a crash. The window is narrow, so this is probabilistic: thousands of
 * rounds catch the old bug in practice.
 */
struct wg_uaf {
	_Atomic(goro_wg *) slot;
	atomic_int stop;
	atomic_long dones;
};

static void wg_uaf_doner(void *arg)
{
	struct wg_uaf *u = arg;

	while (!atomic_load(&u->stop)) {
		goro_wg *wg = atomic_exchange(&u->slot, NULL);

		if (!wg) {
			goro_yield();
			continue;
		}
		goro_wg_done(wg);
		atomic_fetch_add(&u->dones, 1);
	}
}

static __attribute__((noinline)) void wg_uaf_round(struct wg_uaf *u,
						   unsigned delay)
{
	goro_wg wg = GORO_WG_INIT;
	unsigned i;

	goro_wg_add(&wg, 1);
	atomic_store(&u->slot, &wg);
	/* start with the doner: it has taken the group, Done is next */
	for (i = 1; atomic_load(&u->slot); i++)
		if (i % 64 == 0)
			goro_yield();	/* the doner may share our P */
	for (i = 0; i < delay; i++)
		__asm__ __volatile__("" ::: "memory");
	goro_wg_wait(&wg);
}

static __attribute__((noinline)) void wg_uaf_scribble(void)
{
	volatile unsigned char junk[512];
	size_t i;

	for (i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(0x5a ^ i);
}

TEST(waitgroup_waiter_frame_gone_after_wait)
{
	struct wg_uaf u = {NULL, 0, 0};
	int rounds = tsan() ? 1000 : sanitized() ? 5000 : 50000, r;
	int old = goro_setprocs(2);

	goro_go(wg_uaf_doner, &u);
	for (r = 0; r < rounds; r++) {
		wg_uaf_round(&u, (unsigned)(r * 7) % 64);
		wg_uaf_scribble();
	}
	/* the last Done may still be on its way out */
	for (r = 0; r < 10000 && atomic_load(&u.dones) < rounds; r++)
		goro_sleep(1000000);
	atomic_store(&u.stop, 1);
	ASSERT_EQ(rounds, atomic_load(&u.dones));
	goro_setprocs(old);
}

/*
 * Threads (futex sleepers) and goroutines wait on one group together; a
 * goroutine releases them with its last Done. Each round: none returns
 * before the release, all return after it.
 */
struct wg_mixed {
	goro_wg gate;
	atomic_int released;
	atomic_int early;
	atomic_int back;
};

static void wg_mixed_wait(struct wg_mixed *t)
{
	goro_wg_wait(&t->gate);
	if (!atomic_load(&t->released))
		atomic_store(&t->early, 1);
	atomic_fetch_add(&t->back, 1);
}

static void *wg_mixed_thread(void *arg)
{
	wg_mixed_wait(arg);
	return NULL;
}

static void wg_mixed_goroutine(void *arg)
{
	wg_mixed_wait(arg);
}

static void wg_mixed_releaser(void *arg)
{
	struct wg_mixed *t = arg;
	int i;

	for (i = 0; i < 20; i++)
		goro_yield();	/* let the waiters queue */
	atomic_store(&t->released, 1);
	goro_wg_done(&t->gate);
}

TEST(waitgroup_threads_and_goroutines_wait_together)
{
	int rounds = sanitized() ? 20 : 100, r, i, old = goro_setprocs(2);

	for (r = 0; r < rounds; r++) {
		struct wg_mixed t = {GORO_WG_INIT, 0, 0, 0};
		pthread_t th[3];

		goro_wg_add(&t.gate, 1);
		for (i = 0; i < 3; i++)
			ASSERT_EQ(0, pthread_create(&th[i], NULL,
						    wg_mixed_thread, &t));
		for (i = 0; i < 8; i++)
			goro_go(wg_mixed_goroutine, &t);
		goro_go(wg_mixed_releaser, &t);
		wg_mixed_wait(&t);
		for (i = 0; i < 3; i++)
			pthread_join(th[i], NULL);
		while (atomic_load(&t.back) < 12)
			goro_yield();
		ASSERT_EQ(0, atomic_load(&t.early));
	}
	goro_setprocs(old);
}

/* ---- Mutex ---- */

struct mt {
	goro_mutex mu;
	long counter;		/* protected by mu, deliberately not atomic */
	atomic_int inside;
	atomic_int overlap;
	goro_wg wg;
	int iters;
};

static void mutex_worker(void *arg)
{
	struct mt *t = arg;
	int i;

	for (i = 0; i < t->iters; i++) {
		goro_mutex_lock(&t->mu);
		if (atomic_fetch_add(&t->inside, 1) != 0)
			atomic_store(&t->overlap, 1);
		t->counter++;
		if (i % 16 == 0)
			goro_yield();	/* hold it across a switch */
		atomic_fetch_sub(&t->inside, 1);
		goro_mutex_unlock(&t->mu);
	}
	goro_wg_done(&t->wg);
}

TEST_F(procs, mutex_torture)
{
	static struct mt t;
	int i, n = 64;

	memset(&t, 0, sizeof(t));
	t.iters = sanitized() ? 500 : 3000;
	goro_wg_add(&t.wg, n);
	for (i = 0; i < n; i++)
		goro_go(mutex_worker, &t);
	goro_wg_wait(&t.wg);
	ASSERT_EQ((long)n * t.iters, t.counter);
	ASSERT_EQ(0, atomic_load(&t.overlap));
}

static void *mutex_thread(void *arg)
{
	struct mt *t = arg;
	int i;

	for (i = 0; i < t->iters; i++) {
		goro_mutex_lock(&t->mu);
		if (atomic_fetch_add(&t->inside, 1) != 0)
			atomic_store(&t->overlap, 1);
		t->counter++;
		atomic_fetch_sub(&t->inside, 1);
		goro_mutex_unlock(&t->mu);
	}
	return NULL;
}

TEST(mutex_shared_with_foreign_threads)
{
	static struct mt t;
	pthread_t th[2];
	int i;

	memset(&t, 0, sizeof(t));
	t.iters = 2000;
	goro_setprocs(2);
	goro_wg_add(&t.wg, 8);
	for (i = 0; i < 8; i++)
		goro_go(mutex_worker, &t);
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, mutex_thread, &t));
	goro_wg_wait(&t.wg);
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	ASSERT_EQ(10L * t.iters, t.counter);
	ASSERT_EQ(0, atomic_load(&t.overlap));
}

struct barge {
	goro_mutex mu;
	goro_wg wg;
	atomic_int parked, got;
};

static void barge_waiter(void *arg)
{
	struct barge *b = arg;

	atomic_store(&b->parked, 1);
	goro_mutex_lock(&b->mu);
	atomic_store(&b->got, 1);
	goro_mutex_unlock(&b->mu);
	goro_wg_done(&b->wg);
}

/*
 * Go's normal mode: an unlock wakes the waiter but does not hand it the
 * mutex, so the goroutine that runs may take it again at once (a
 * hand-off at every unlock makes each contended lock a switch).
 */
TEST(mutex_unlock_lets_the_running_goroutine_take_it_again)
{
	static struct barge b;
	int old = goro_setprocs(1), i;

	memset(&b, 0, sizeof(b));
	goro_mutex_lock(&b.mu);
	goro_wg_add(&b.wg, 1);
	goro_go(barge_waiter, &b);
	/* one P: the waiter runs when we yield, spins, parks */
	for (i = 0; i < 20 || !atomic_load(&b.parked); i++)
		goro_yield();
	goro_mutex_unlock(&b.mu);
	EXPECT_TRUE(goro_mutex_trylock(&b.mu));
	EXPECT_EQ(0, atomic_load(&b.got));
	goro_mutex_unlock(&b.mu);
	goro_wg_wait(&b.wg);
	EXPECT_EQ(1, atomic_load(&b.got));
	goro_setprocs(old);
}

struct hammer {
	goro_mutex mu;
	goro_wg wg;
	atomic_int stop;
	atomic_long rounds;
	int64_t waited;
};

static void hammer_loop(void *arg)
{
	struct hammer *h = arg;
	int64_t end = goro_now() + 3000000000LL;

	/* it yields holding the mutex, and takes it again at once */
	while (!atomic_load(&h->stop) && goro_now() < end) {
		goro_mutex_lock(&h->mu);
		atomic_fetch_add(&h->rounds, 1);
		goro_yield();
		goro_mutex_unlock(&h->mu);
	}
	goro_wg_done(&h->wg);
}

static void hammer_waiter(void *arg)
{
	struct hammer *h = arg;
	int64_t t0;

	while (!atomic_load(&h->rounds))	/* the hammer holds it */
		goro_yield();
	t0 = goro_now();
	goro_mutex_lock(&h->mu);
	h->waited = goro_now() - t0;
	goro_mutex_unlock(&h->mu);
	atomic_store(&h->stop, 1);
	goro_wg_done(&h->wg);
}

/*
 * On one P, a goroutine takes the mutex, yields holding it, unlocks and
 * takes it again, for up to 3 s. The waiter runs only while the mutex is
 * held; each unlock wakes it, but the hammer takes the mutex again
 * before it runs: in normal mode alone it would wait the 3 s. After 1 ms
 * of waiting it is handed the mutex instead (Go's starvation mode).
 */
TEST(mutex_waiter_is_served_while_another_hammers_it)
{
	static struct hammer h;
	int old = goro_setprocs(1);

	memset(&h, 0, sizeof(h));
	goro_wg_add(&h.wg, 2);
	goro_go(hammer_loop, &h);
	goro_go(hammer_waiter, &h);
	goro_wg_wait(&h.wg);
	TH_LOG("waited %lld us, %ld rounds of the hammer",
	       (long long)h.waited / 1000, atomic_load(&h.rounds));
	EXPECT_EQ(1, atomic_load(&h.stop));
	EXPECT_LT(h.waited, 1000000000LL);
	goro_setprocs(old);
}

TEST(mutex_trylock)
{
	goro_mutex mu = GORO_MUTEX_INIT;

	ASSERT_TRUE(goro_mutex_trylock(&mu));
	ASSERT_FALSE(goro_mutex_trylock(&mu));
	goro_mutex_unlock(&mu);
	ASSERT_TRUE(goro_mutex_trylock(&mu));
	goro_mutex_unlock(&mu);
}

static int sc_unlock_unlocked(void)
{
	goro_mutex mu = GORO_MUTEX_INIT;

	goro_mutex_unlock(&mu);
	printf("not reached\n");
	return 0;
}

TEST(mutex_unlock_of_unlocked_aborts)
{
	expect_fatal("unlock_unlocked", "sync: unlock of unlocked mutex",
		     "not reached");
}

/* ---- RWMutex ---- */

struct rwt {
	goro_rwmutex rw;
	atomic_int readers, writers, bad;
	long value;
	goro_wg wg;
};

static void rw_reader(void *arg)
{
	struct rwt *t = arg;
	int i;

	for (i = 0; i < 200; i++) {
		goro_rwmutex_rlock(&t->rw);
		atomic_fetch_add(&t->readers, 1);
		if (atomic_load(&t->writers))
			atomic_store(&t->bad, 1);
		if (i % 8 == 0)
			goro_yield();
		atomic_fetch_sub(&t->readers, 1);
		goro_rwmutex_runlock(&t->rw);
	}
	goro_wg_done(&t->wg);
}

static void rw_writer(void *arg)
{
	struct rwt *t = arg;
	int i;

	for (i = 0; i < 100; i++) {
		goro_rwmutex_lock(&t->rw);
		if (atomic_fetch_add(&t->writers, 1) != 0 ||
		    atomic_load(&t->readers))
			atomic_store(&t->bad, 1);
		t->value++;
		if (i % 8 == 0)
			goro_yield();
		atomic_fetch_sub(&t->writers, 1);
		goro_rwmutex_unlock(&t->rw);
	}
	goro_wg_done(&t->wg);
}

TEST_F(procs, rwmutex_excludes_writers)
{
	static struct rwt t;
	int i;

	memset(&t, 0, sizeof(t));
	goro_wg_add(&t.wg, 24);
	for (i = 0; i < 20; i++)
		goro_go(rw_reader, &t);
	for (i = 0; i < 4; i++)
		goro_go(rw_writer, &t);
	goro_wg_wait(&t.wg);
	ASSERT_EQ(400, t.value);
	ASSERT_EQ(0, atomic_load(&t.bad));
}

TEST(rwmutex_try)
{
	goro_rwmutex rw = GORO_RWMUTEX_INIT;

	ASSERT_TRUE(goro_rwmutex_tryrlock(&rw));
	ASSERT_TRUE(goro_rwmutex_tryrlock(&rw));
	ASSERT_FALSE(goro_rwmutex_trylock(&rw));
	goro_rwmutex_runlock(&rw);
	goro_rwmutex_runlock(&rw);
	ASSERT_TRUE(goro_rwmutex_trylock(&rw));
	ASSERT_FALSE(goro_rwmutex_tryrlock(&rw));
	goro_rwmutex_unlock(&rw);
}

/* ---- Cond ---- */

struct ct {
	goro_mutex mu;
	goro_cond cv;
	int ready;
	int woken;
	goro_wg wg;
};

static void cond_waiter(void *arg)
{
	struct ct *t = arg;

	goro_mutex_lock(&t->mu);
	while (!t->ready)
		goro_cond_wait(&t->cv, &t->mu);
	t->woken++;
	goro_mutex_unlock(&t->mu);
	goro_wg_done(&t->wg);
}

TEST_F(procs, cond_broadcast_wakes_all)
{
	struct ct t = {GORO_MUTEX_INIT, GORO_COND_INIT, 0, 0, GORO_WG_INIT};
	int i;

	goro_wg_add(&t.wg, 50);
	for (i = 0; i < 50; i++)
		goro_go(cond_waiter, &t);
	goro_sleep(5 * 1000000);
	goro_mutex_lock(&t.mu);
	t.ready = 1;
	goro_cond_broadcast(&t.cv);
	goro_mutex_unlock(&t.mu);
	goro_wg_wait(&t.wg);
	ASSERT_EQ(50, t.woken);
}

struct pc {
	goro_mutex mu;
	goro_cond cv;
	int items;
	int consumed;
	goro_wg wg;
};

static void consumer(void *arg)
{
	struct pc *t = arg;
	int i;

	for (i = 0; i < 100; i++) {
		goro_mutex_lock(&t->mu);
		while (t->items == 0)
			goro_cond_wait(&t->cv, &t->mu);
		t->items--;
		t->consumed++;
		goro_mutex_unlock(&t->mu);
	}
	goro_wg_done(&t->wg);
}

TEST_F(procs, cond_signal_hands_items_one_by_one)
{
	struct pc t = {GORO_MUTEX_INIT, GORO_COND_INIT, 0, 0, GORO_WG_INIT};
	int i;

	goro_wg_add(&t.wg, 10);
	for (i = 0; i < 10; i++)
		goro_go(consumer, &t);
	for (i = 0; i < 1000; i++) {
		goro_mutex_lock(&t.mu);
		t.items++;
		goro_cond_signal(&t.cv);
		goro_mutex_unlock(&t.mu);
		if (i % 10 == 0)
			goro_yield();
	}
	goro_wg_wait(&t.wg);
	ASSERT_EQ(1000, t.consumed);
	ASSERT_EQ(0, t.items);
}

/* ---- Once ---- */

struct ot {
	goro_once once;
	atomic_int calls;
	atomic_int saw_unfinished;
	int done;
	goro_wg wg;
};

static void once_body(void *arg)
{
	struct ot *t = arg;

	atomic_fetch_add(&t->calls, 1);
	goro_sleep(2 * 1000000);	/* others must wait for this */
	t->done = 1;
}

static void once_caller(void *arg)
{
	struct ot *t = arg;

	goro_once_do(&t->once, once_body, t);
	if (!t->done)
		atomic_store(&t->saw_unfinished, 1);
	goro_wg_done(&t->wg);
}

TEST_F(procs, once_runs_once_and_others_wait)
{
	static struct ot t;
	int i;

	memset(&t, 0, sizeof(t));
	goro_wg_add(&t.wg, 100);
	for (i = 0; i < 100; i++)
		goro_go(once_caller, &t);
	goro_wg_wait(&t.wg);
	ASSERT_EQ(1, atomic_load(&t.calls));
	ASSERT_EQ(0, atomic_load(&t.saw_unfinished));
}

static const struct scenario scenarios[] = {
	{"negative_wg", sc_negative_wg},
	{"unlock_unlocked", sc_unlock_unlocked},
};

SCENARIO_MAIN(scenarios)
