/* SPDX-License-Identifier: MIT */
/*
 * libgoro: groups (golang.org/x/sync/errgroup): wait returns once all
 * are done, with the first error; the first error cancels the group's
 * context (its cause) and the others see it; the limit bounds the
 * goroutines running at once, TryGo refuses past it.
 */
#include <goro.h>
#include <stdatomic.h>

#include "kselftest_harness.h"
#include "util.h"

#define MS 1000000LL

PROCS_FIXTURE()
PROCS_VARIANT(1);
PROCS_VARIANT(4);

static atomic_int ran;

static int ok_fn(goro_ctx *ctx, void *arg)
{
	goro_sleep((int64_t)(intptr_t)arg * MS);
	atomic_fetch_add(&ran, 1);
	return 0;
}

TEST_F(procs, wait_returns_once_all_are_done)
{
	goro_group *g = goro_group_make(NULL);
	int i;

	ASSERT_NE(NULL, g);
	atomic_store(&ran, 0);
	for (i = 0; i < 50; i++)
		ASSERT_EQ(0, goro_group_go(g, ok_fn, (void *)(intptr_t)(i % 5)));
	ASSERT_EQ(0, goro_group_wait(g));
	ASSERT_EQ(50, atomic_load(&ran));
	/* wait ends the group's context, with no error as cause */
	ASSERT_EQ(-ECANCELED, goro_ctx_err(goro_group_ctx(g)));
	ASSERT_EQ(-ECANCELED, goro_ctx_cause(goro_group_ctx(g)));
	goro_group_free(g);
}

/* fails at once */
static int fail_fn(goro_ctx *ctx, void *arg)
{
	goro_sleep(2 * MS);
	return (int)(intptr_t)arg;
}

/* works until its context says stop: returns what the context said */
static int until_cancel(goro_ctx *ctx, void *arg)
{
	goro_chan_recv(goro_ctx_done(ctx), NULL);
	atomic_fetch_add(&ran, 1);
	return goro_ctx_err(ctx);
}

TEST_F(procs, first_error_is_returned_and_cancels_the_others)
{
	goro_group *g = goro_group_make(NULL);
	goro_ctx *ctx = goro_group_ctx(g);
	int i;

	atomic_store(&ran, 0);
	for (i = 0; i < 10; i++)
		goro_group_go(g, until_cancel, NULL);
	goro_group_go(g, fail_fn, (void *)(intptr_t)-EIO);
	ASSERT_EQ(-EIO, goro_group_wait(g));
	ASSERT_EQ(10, atomic_load(&ran));	/* woken by the cancel */
	ASSERT_EQ(-ECANCELED, goro_ctx_err(ctx));
	ASSERT_EQ(-EIO, goro_ctx_cause(ctx));
	goro_group_free(g);
}

static int late_fail(goro_ctx *ctx, void *arg)
{
	goro_chan_recv(goro_ctx_done(ctx), NULL);
	return -EPIPE;	/* after the first error: not kept */
}

TEST(only_the_first_error_is_kept)
{
	goro_group *g = goro_group_make(NULL);

	goro_group_go(g, late_fail, NULL);
	goro_group_go(g, late_fail, NULL);
	goro_group_go(g, fail_fn, (void *)(intptr_t)-ENOENT);
	ASSERT_EQ(-ENOENT, goro_group_wait(g));
	goro_group_free(g);
}

TEST(a_parents_cancel_reaches_the_group)
{
	goro_ctx *p = goro_ctx_make_timeout(NULL, 20 * MS);
	goro_group *g = goro_group_make(p);

	atomic_store(&ran, 0);
	goro_group_go(g, until_cancel, NULL);
	goro_group_go(g, until_cancel, NULL);
	/* each returns its context's err: the parent's deadline */
	ASSERT_EQ(-ETIMEDOUT, goro_group_wait(g));
	ASSERT_EQ(2, atomic_load(&ran));
	goro_group_free(g);
	goro_ctx_free(p);
}

/* ---- the limit ---- */

static atomic_int running, maxrunning, launched;

static int gated(goro_ctx *ctx, void *arg)
{
	int n = atomic_fetch_add(&running, 1) + 1, m;

	while ((m = atomic_load(&maxrunning)) < n &&
	       !atomic_compare_exchange_weak(&maxrunning, &m, n))
		;
	goro_chan_recv(arg, NULL);	/* until the gate opens */
	atomic_fetch_sub(&running, 1);
	return 0;
}

struct launch {
	goro_group *g;
	goro_chan *gate;
	goro_wg wg;
};

static void launcher(void *arg)
{
	struct launch *l = arg;
	int i;

	for (i = 0; i < 10; i++) {
		goro_group_go(l->g, gated, l->gate);
		atomic_fetch_add(&launched, 1);
	}
	goro_wg_done(&l->wg);
}

TEST_F(procs, limit_bounds_the_goroutines_running_at_once)
{
	struct launch l = {goro_group_make(NULL), goro_chan_make(0, 0),
			   GORO_WG_INIT};

	atomic_store(&running, 0);
	atomic_store(&maxrunning, 0);
	atomic_store(&launched, 0);
	ASSERT_EQ(0, goro_group_setlimit(l.g, 3));
	goro_wg_add(&l.wg, 1);
	goro_go(launcher, &l);
	while (atomic_load(&running) < 3)
		goro_sleep(1 * MS);
	goro_sleep(10 * MS);
	/* three run; the fourth go waits for one of them to end */
	ASSERT_EQ(3, atomic_load(&running));
	ASSERT_EQ(3, atomic_load(&launched));
	goro_chan_send(l.gate, NULL);	/* one ends: one more starts */
	while (atomic_load(&launched) < 4)
		goro_sleep(1 * MS);
	goro_sleep(10 * MS);
	ASSERT_EQ(4, atomic_load(&launched));
	goro_chan_close(l.gate);
	goro_wg_wait(&l.wg);
	ASSERT_EQ(0, goro_group_wait(l.g));
	ASSERT_EQ(3, atomic_load(&maxrunning));
	ASSERT_EQ(10, atomic_load(&launched));
	goro_group_free(l.g);
	goro_chan_free(l.gate);
}

static int blocked(goro_ctx *ctx, void *arg)
{
	goro_chan_recv(arg, NULL);
	return 0;
}

TEST(trygo_refuses_past_the_limit_and_setlimit_while_busy)
{
	goro_group *g = goro_group_make(NULL);
	goro_chan *gate = goro_chan_make(0, 0);

	ASSERT_EQ(-EINVAL, goro_group_setlimit(g, 0));
	ASSERT_EQ(0, goro_group_setlimit(g, 2));
	ASSERT_EQ(0, goro_group_trygo(g, blocked, gate));
	ASSERT_EQ(0, goro_group_trygo(g, blocked, gate));
	ASSERT_EQ(-EAGAIN, goro_group_trygo(g, blocked, gate));
	ASSERT_EQ(-EBUSY, goro_group_setlimit(g, 5));
	goro_chan_close(gate);
	ASSERT_EQ(0, goro_group_wait(g));
	ASSERT_EQ(0, goro_group_setlimit(g, -1));
	ASSERT_EQ(-EINVAL, goro_group_go(g, NULL, NULL));
	goro_group_free(g);
	goro_chan_free(gate);
}

TEST_HARNESS_MAIN
