/* SPDX-License-Identifier: MIT */
/*
 * libgoro: the weighted semaphore (golang.org/x/sync/semaphore): weight
 * is never over-committed; waiters are served first come, first served,
 * a large one at the head holding back smaller ones; an acquire under a
 * context ends with the context's err when it is cancelled, and takes
 * nothing; releasing more than held aborts.
 */
#include <goro.h>
#include <pthread.h>
#include <stdatomic.h>

#include "kselftest_harness.h"
#include "util.h"

#define MS 1000000LL

PROCS_FIXTURE()
PROCS_VARIANT(1);
PROCS_VARIANT(4);

TEST(try_acquire_takes_what_is_free)
{
	goro_sema s = GORO_SEMA_INIT(10);

	ASSERT_TRUE(goro_sema_tryacquire(&s, 4));
	ASSERT_TRUE(goro_sema_tryacquire(&s, 6));
	ASSERT_FALSE(goro_sema_tryacquire(&s, 1));
	ASSERT_TRUE(goro_sema_tryacquire(&s, 0));
	goro_sema_release(&s, 6);
	ASSERT_FALSE(goro_sema_tryacquire(&s, 7));
	ASSERT_TRUE(goro_sema_tryacquire(&s, 6));
	ASSERT_FALSE(goro_sema_tryacquire(&s, -1));
	goro_sema_release(&s, 10);
	ASSERT_EQ(0, goro_sema_acquire(&s, 10, NULL));
	goro_sema_release(&s, 10);
}

TEST(bad_arguments)
{
	goro_sema s;

	ASSERT_EQ(-EINVAL, goro_sema_init(&s, -1));
	ASSERT_EQ(0, goro_sema_init(&s, 3));
	ASSERT_EQ(-EINVAL, goro_sema_acquire(&s, 4, NULL));
	ASSERT_EQ(-EINVAL, goro_sema_acquire(&s, -1, NULL));
	ASSERT_EQ(0, goro_sema_acquire(&s, 3, NULL));
	goro_sema_release(&s, 3);
}

/* ---- order ---- */

struct order {
	goro_sema s;
	goro_mutex mu;
	int got[8];		/* who acquired, in order */
	int n;
	goro_wg wg;
};

struct req {
	struct order *o;
	int id;
	int64_t w;
};

static void acquirer(void *arg)
{
	struct req *r = arg;

	goro_sema_acquire(&r->o->s, r->w, NULL);
	goro_mutex_lock(&r->o->mu);
	r->o->got[r->o->n++] = r->id;
	goro_mutex_unlock(&r->o->mu);
	goro_wg_done(&r->o->wg);
}

/* start r and let it queue (it runs until it parks) */
static void go_queue(struct req *r)
{
	goro_go(acquirer, r);
	goro_sleep(5 * MS);
}

TEST(a_large_waiter_at_the_head_holds_back_smaller_ones)
{
	static struct order o;
	struct req big = {&o, 1, 8}, small = {&o, 2, 1};

	memset(&o, 0, sizeof(o));
	goro_sema_init(&o.s, 10);
	goro_wg_add(&o.wg, 2);
	ASSERT_TRUE(goro_sema_tryacquire(&o.s, 5));	/* 5 of 10 left */
	go_queue(&big);		/* wants 8: waits */
	go_queue(&small);	/* wants 1, which is free: waits behind */
	ASSERT_EQ(0, o.n);
	/* nobody may jump the queue, not even a try */
	ASSERT_FALSE(goro_sema_tryacquire(&o.s, 1));
	goro_sema_release(&o.s, 3);	/* 8 free: big only */
	goro_sleep(5 * MS);
	ASSERT_EQ(1, o.n);
	ASSERT_EQ(1, o.got[0]);
	goro_sema_release(&o.s, 2);	/* 2 free: small */
	goro_wg_wait(&o.wg);
	ASSERT_EQ(2, o.n);
	ASSERT_EQ(2, o.got[1]);
	goro_sema_release(&o.s, 9);
	ASSERT_TRUE(goro_sema_tryacquire(&o.s, 10));
}

TEST(waiters_are_served_in_arrival_order)
{
	static struct order o;
	static const int64_t w[6] = {2, 1, 3, 1, 2, 1};
	struct req r[6];
	int i;

	memset(&o, 0, sizeof(o));
	goro_sema_init(&o.s, 3);
	goro_wg_add(&o.wg, 6);
	ASSERT_EQ(0, goro_sema_acquire(&o.s, 3, NULL));
	for (i = 0; i < 6; i++) {
		r[i] = (struct req){&o, i, w[i]};
		go_queue(&r[i]);
	}
	ASSERT_EQ(0, o.n);
	/* 3 free: 2 and 1 fit; the 3 behind them waits, and so do all */
	goro_sema_release(&o.s, 3);
	goro_sleep(5 * MS);
	ASSERT_EQ(2, o.n);
	goro_sema_release(&o.s, 3);	/* the 3 */
	goro_sleep(5 * MS);
	ASSERT_EQ(3, o.n);
	goro_sema_release(&o.s, 3);	/* 1 and 2 */
	goro_sleep(5 * MS);
	ASSERT_EQ(5, o.n);
	goro_sema_release(&o.s, 1);	/* the last 1 */
	goro_wg_wait(&o.wg);
	/* those let in by one release may record in either order */
	ASSERT_EQ(1, o.got[0] + o.got[1]);
	ASSERT_EQ(0, o.got[0] * o.got[1]);
	ASSERT_EQ(2, o.got[2]);
	ASSERT_EQ(7, o.got[3] + o.got[4]);
	ASSERT_EQ(12, o.got[3] * o.got[4]);
	ASSERT_EQ(5, o.got[5]);
	goro_sema_release(&o.s, 3);
	ASSERT_TRUE(goro_sema_tryacquire(&o.s, 3));
}

/* ---- contexts ---- */

struct cw {
	goro_sema *s;
	goro_ctx *ctx;
	int64_t w;
	int ret;
	atomic_int done;
};

static void ctx_acquirer(void *arg)
{
	struct cw *c = arg;

	c->ret = goro_sema_acquire(c->s, c->w, c->ctx);
	atomic_store(&c->done, 1);
}

TEST_F(procs, cancel_ends_an_acquire_and_lets_those_behind_in)
{
	goro_sema s = GORO_SEMA_INIT(4);
	goro_ctx *ctx = goro_ctx_make(NULL);
	struct cw big = {&s, ctx, 4, 99, 0}, small = {&s, NULL, 2, 99, 0};

	ASSERT_EQ(0, goro_sema_acquire(&s, 2, NULL));
	goro_go(ctx_acquirer, &big);	/* head: wants all 4 */
	goro_sleep(5 * MS);
	goro_go(ctx_acquirer, &small);	/* 2 are free, but behind big */
	goro_sleep(10 * MS);
	ASSERT_EQ(0, atomic_load(&big.done));
	ASSERT_EQ(0, atomic_load(&small.done));
	goro_ctx_cancel(ctx);
	while (!atomic_load(&big.done) || !atomic_load(&small.done))
		goro_sleep(1 * MS);
	ASSERT_EQ(-ECANCELED, big.ret);
	ASSERT_EQ(0, small.ret);	/* the head's leaving let it in */
	/* big took nothing: 2 + 2 held, nothing free */
	ASSERT_FALSE(goro_sema_tryacquire(&s, 1));
	goro_sema_release(&s, 4);
	ASSERT_TRUE(goro_sema_tryacquire(&s, 4));
	goro_ctx_free(ctx);
}

TEST(deadline_ends_an_acquire_with_etimedout)
{
	int64_t t0 = goro_now();
	goro_sema s = GORO_SEMA_INIT(1);
	goro_ctx *ctx = goro_ctx_make_timeout(NULL, 30 * MS);

	ASSERT_TRUE(goro_sema_tryacquire(&s, 1));
	ASSERT_EQ(-ETIMEDOUT, goro_sema_acquire(&s, 1, ctx));
	ASSERT_GE(goro_now() - t0, 30 * MS);
	ASSERT_GE(goro_now(), goro_ctx_deadline(ctx));
	goro_sema_release(&s, 1);
	ASSERT_TRUE(goro_sema_tryacquire(&s, 1));
	goro_ctx_free(ctx);
}

TEST(a_cancelled_context_wins_over_free_weight)
{
	goro_sema s = GORO_SEMA_INIT(5);
	goro_ctx *ctx = goro_ctx_make(NULL);

	goro_ctx_cancel(ctx);
	ASSERT_EQ(-ECANCELED, goro_sema_acquire(&s, 1, ctx));
	ASSERT_TRUE(goro_sema_tryacquire(&s, 5));	/* nothing taken */
	goro_ctx_free(ctx);
}

static void *thread_acquire(void *arg)
{
	struct cw *c = arg;

	c->ret = goro_sema_acquire(c->s, c->w, c->ctx);
	atomic_store(&c->done, 1);
	return NULL;
}

TEST(foreign_threads_wait_and_are_cancelled)
{
	goro_sema s = GORO_SEMA_INIT(2);
	goro_ctx *ctx = goro_ctx_make(NULL);
	struct cw a = {&s, NULL, 2, 99, 0}, b = {&s, ctx, 1, 99, 0};
	pthread_t ta, tb;

	ASSERT_TRUE(goro_sema_tryacquire(&s, 2));
	pthread_create(&ta, NULL, thread_acquire, &a);
	goro_sleep(5 * MS);
	pthread_create(&tb, NULL, thread_acquire, &b);
	goro_sleep(10 * MS);
	goro_ctx_cancel(ctx);
	pthread_join(tb, NULL);
	ASSERT_EQ(-ECANCELED, b.ret);
	ASSERT_EQ(0, atomic_load(&a.done));
	goro_sema_release(&s, 2);
	pthread_join(ta, NULL);
	ASSERT_EQ(0, a.ret);
	goro_sema_release(&s, 2);
	goro_ctx_free(ctx);
}

/* ---- never over-committed ---- */

struct load {
	goro_sema s;
	atomic_llong held;
	atomic_int over;
	goro_ctx *ctx;
	goro_wg wg;
	atomic_int cancelled;
};

static void worker(void *arg)
{
	struct load *l = arg;
	int i;

	for (i = 0; i < 300; i++) {
		int64_t w = 1 + (goro_id() + i) % 7;
		int r = goro_sema_acquire(&l->s, w, i % 5 ? NULL : l->ctx);

		if (r) {
			atomic_fetch_add(&l->cancelled, 1);
			continue;
		}
		if (atomic_fetch_add(&l->held, w) + w > 10)
			atomic_store(&l->over, 1);
		if (i % 3 == 0)
			goro_yield();
		atomic_fetch_sub(&l->held, w);
		goro_sema_release(&l->s, w);
	}
	goro_wg_done(&l->wg);
}

TEST_F(procs, weight_is_never_over_committed)
{
	static struct load l;
	int i;

	memset(&l, 0, sizeof(l));
	goro_sema_init(&l.s, 10);
	l.ctx = goro_ctx_make_timeout(NULL, 5 * MS);
	goro_wg_add(&l.wg, 16);
	for (i = 0; i < 16; i++)
		goro_go(worker, &l);
	goro_wg_wait(&l.wg);
	ASSERT_EQ(0, atomic_load(&l.over));
	ASSERT_EQ(0, atomic_load(&l.held));
	/* everything went back */
	ASSERT_TRUE(goro_sema_tryacquire(&l.s, 10));
	goro_ctx_free(l.ctx);
}

static int sc_over_release(void)
{
	goro_sema s = GORO_SEMA_INIT(3);

	goro_sema_acquire(&s, 2, NULL);
	goro_sema_release(&s, 3);
	printf("not reached\n");
	return 0;
}

TEST(releasing_more_than_held_aborts)
{
	expect_fatal("over_release", "semaphore: released more than held",
		     "not reached");
}

static const struct scenario scenarios[] = {
	{"over_release", sc_over_release},
};

SCENARIO_MAIN(scenarios)
