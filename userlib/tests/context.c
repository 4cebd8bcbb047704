/* SPDX-License-Identifier: MIT */
/*
 * libgoro: contexts (Go's context package): cancel closes the done
 * channel and sets err and cause; a cancel goes down the tree, never up;
 * deadlines cancel with -ETIMEDOUT, never early, a parent's earlier one
 * winning; references keep a context alive past its creator's free; and
 * cancelling while contexts are made and freed on other threads is
 * clean (run under ASan and TSan).
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

/* done's channel, without waiting: closed (true) or not */
static bool closed(goro_ctx *c)
{
	bool ok = true;

	if (goro_chan_tryrecv(goro_ctx_done(c), NULL, &ok) != 0)
		return false;
	return !ok;
}

TEST(background_is_never_cancelled)
{
	struct goro_case k = {GORO_RECV, goro_ctx_done(NULL), NULL, NULL};

	ASSERT_EQ(NULL, goro_ctx_done(NULL));
	ASSERT_EQ(0, goro_ctx_err(NULL));
	ASSERT_EQ(0, goro_ctx_cause(NULL));
	ASSERT_EQ(0, goro_ctx_deadline(NULL));
	ASSERT_EQ(-EAGAIN, goro_select(&k, 1, false));
	goro_ctx_cancel(NULL);
	goro_ctx_free(NULL);
}

TEST(cancel_closes_done_and_sets_err)
{
	goro_ctx *c = goro_ctx_make(NULL);

	ASSERT_NE(NULL, c);
	ASSERT_NE(NULL, goro_ctx_done(c));
	ASSERT_EQ(0, goro_ctx_err(c));
	ASSERT_FALSE(closed(c));
	goro_ctx_cancel(c);
	ASSERT_EQ(-ECANCELED, goro_ctx_err(c));
	ASSERT_EQ(-ECANCELED, goro_ctx_cause(c));
	ASSERT_TRUE(closed(c));
	/* a second cancel changes nothing, not even the cause */
	goro_ctx_cancel_cause(c, -EIO);
	ASSERT_EQ(-ECANCELED, goro_ctx_cause(c));
	goro_ctx_free(c);
}

TEST(cancel_cause_is_kept_and_inherited)
{
	goro_ctx *p = goro_ctx_make(NULL), *k = goro_ctx_make(p);

	goro_ctx_cancel_cause(p, -EPIPE);
	ASSERT_EQ(-ECANCELED, goro_ctx_err(p));
	ASSERT_EQ(-EPIPE, goro_ctx_cause(p));
	ASSERT_EQ(-ECANCELED, goro_ctx_err(k));
	ASSERT_EQ(-EPIPE, goro_ctx_cause(k));
	goro_ctx_free(k);
	goro_ctx_free(p);
}

TEST(cancel_goes_down_the_tree_not_up)
{
	goro_ctx *root = goro_ctx_make(NULL);
	goro_ctx *a = goro_ctx_make(root), *b = goro_ctx_make(root);
	goro_ctx *a1 = goro_ctx_make(a), *a2 = goro_ctx_make(a);
	goro_ctx *a11 = goro_ctx_make(a1);

	goro_ctx_cancel(a);
	ASSERT_EQ(0, goro_ctx_err(root));
	ASSERT_EQ(0, goro_ctx_err(b));
	ASSERT_EQ(-ECANCELED, goro_ctx_err(a));
	ASSERT_EQ(-ECANCELED, goro_ctx_err(a1));
	ASSERT_EQ(-ECANCELED, goro_ctx_err(a2));
	ASSERT_EQ(-ECANCELED, goro_ctx_err(a11));
	ASSERT_TRUE(closed(a11));
	ASSERT_FALSE(closed(b));
	goro_ctx_cancel(root);
	ASSERT_TRUE(closed(b));
	/* freed in any order */
	goro_ctx_free(root);
	goro_ctx_free(a1);
	goro_ctx_free(a);
	goro_ctx_free(a11);
	goro_ctx_free(b);
	goro_ctx_free(a2);
}

TEST(child_of_cancelled_parent_starts_cancelled)
{
	goro_ctx *p = goro_ctx_make(NULL), *k;

	goro_ctx_cancel_cause(p, -ENOSPC);
	k = goro_ctx_make_timeout(p, 1000 * MS);
	ASSERT_NE(NULL, k);
	ASSERT_EQ(-ECANCELED, goro_ctx_err(k));
	ASSERT_EQ(-ENOSPC, goro_ctx_cause(k));
	ASSERT_TRUE(closed(k));
	goro_ctx_free(p);
	goro_ctx_free(k);
}

struct many {
	goro_ctx *c;
	atomic_int woken;
	goro_wg wg;
};

static void many_waiter(void *arg)
{
	struct many *m = arg;
	int64_t v;
	struct goro_case k[] = {
		{GORO_RECV, goro_ctx_done(m->c), NULL, NULL},
		{GORO_RECV, NULL, &v, NULL},
	};

	/* in a select, as a program waits for work or cancel */
	if (goro_select(k, 2, true) == 0)
		atomic_fetch_add(&m->woken, 1);
	goro_wg_done(&m->wg);
}

TEST_F(procs, cancel_wakes_every_goroutine_waiting_on_done)
{
	struct many m = {goro_ctx_make(NULL), 0, GORO_WG_INIT};
	goro_ctx *k = goro_ctx_make(m.c);
	int i;

	goro_wg_add(&m.wg, 100);
	for (i = 0; i < 100; i++)
		goro_go(many_waiter, &m);
	goro_sleep(10 * MS);
	ASSERT_EQ(0, atomic_load(&m.woken));
	goro_ctx_cancel(m.c);
	goro_wg_wait(&m.wg);
	ASSERT_EQ(100, atomic_load(&m.woken));
	ASSERT_TRUE(closed(k));
	goro_ctx_free(k);
	goro_ctx_free(m.c);
}

static void *thread_wait(void *arg)
{
	goro_chan_recv(goro_ctx_done(arg), NULL);
	return NULL;
}

TEST(foreign_thread_waits_on_done)
{
	goro_ctx *c = goro_ctx_make(NULL);
	pthread_t t;

	pthread_create(&t, NULL, thread_wait, c);
	goro_sleep(10 * MS);
	goro_ctx_cancel(c);
	pthread_join(t, NULL);
	goro_ctx_free(c);
}

TEST(deadline_cancels_with_etimedout_never_early)
{
	int64_t t0 = goro_now();
	goro_ctx *c = goro_ctx_make_timeout(NULL, 50 * MS);
	int64_t dl = goro_ctx_deadline(c);

	ASSERT_NE(NULL, c);
	ASSERT_GE(dl, t0 + 50 * MS);
	ASSERT_LE(dl, goro_now() + 50 * MS);
	ASSERT_EQ(0, goro_ctx_err(c));
	goro_chan_recv(goro_ctx_done(c), NULL);
	ASSERT_GE(goro_now(), dl);
	ASSERT_EQ(-ETIMEDOUT, goro_ctx_err(c));
	ASSERT_EQ(-ETIMEDOUT, goro_ctx_cause(c));
	goro_ctx_free(c);
}

TEST(past_deadline_is_cancelled_at_once)
{
	goro_ctx *c = goro_ctx_make_timeout(NULL, 0);
	goro_ctx *d = goro_ctx_make_deadline(NULL, 1);

	ASSERT_EQ(-ETIMEDOUT, goro_ctx_err(c));
	ASSERT_EQ(-ETIMEDOUT, goro_ctx_err(d));
	ASSERT_TRUE(closed(c));
	ASSERT_EQ(NULL, goro_ctx_make_deadline(NULL, -1));
	ASSERT_EQ(EINVAL, errno);
	goro_ctx_free(c);
	goro_ctx_free(d);
}

TEST(parents_earlier_deadline_wins)
{
	/* room for k2's wake-up before p's deadline, also when emulated */
	goro_ctx *p = goro_ctx_make_timeout(NULL, (sanitized() ? 500 : 30) * MS);
	goro_ctx *k = goro_ctx_make_timeout(p, 10000 * MS);
	goro_ctx *k2 = goro_ctx_make_timeout(p, 1 * MS);

	ASSERT_EQ(goro_ctx_deadline(p), goro_ctx_deadline(k));
	ASSERT_LT(goro_ctx_deadline(k2), goro_ctx_deadline(p));
	goro_chan_recv(goro_ctx_done(k2), NULL);
	ASSERT_EQ(0, goro_ctx_err(p));
	goro_chan_recv(goro_ctx_done(k), NULL);
	ASSERT_EQ(-ETIMEDOUT, goro_ctx_err(k));
	/* a cancel publishes the subtree first, then p: wait for p too */
	goro_chan_recv(goro_ctx_done(p), NULL);
	ASSERT_EQ(-ETIMEDOUT, goro_ctx_err(p));
	ASSERT_GE(goro_now(), goro_ctx_deadline(p));
	goro_ctx_free(k2);
	goro_ctx_free(k);
	goro_ctx_free(p);
}

/* the runtime's timers, all Ps (timer.c): for the tests */
int64_t goro__timers_pending(void);

TEST(cancel_and_free_take_the_deadlines_timer_off)
{
	int64_t base = goro__timers_pending();
	goro_ctx *c = goro_ctx_make_timeout(NULL, 10000 * MS);
	goro_ctx *k = goro_ctx_make_timeout(c, 5000 * MS);
	goro_ctx *k2 = goro_ctx_make_timeout(c, 5000 * MS);

	ASSERT_EQ(base + 3, goro__timers_pending());
	goro_ctx_cancel(c);	/* c's own timer goes at once */
	ASSERT_EQ(base + 2, goro__timers_pending());
	ASSERT_EQ(-ECANCELED, goro_ctx_err(k));
	goro_ctx_free(k);	/* a child's goes with its free */
	ASSERT_EQ(base + 1, goro__timers_pending());
	goro_ctx_cancel(k2);
	ASSERT_EQ(base, goro__timers_pending());
	ASSERT_EQ(-ECANCELED, goro_ctx_err(c));
	ASSERT_EQ(-ECANCELED, goro_ctx_cause(c));
	goro_ctx_free(k2);
	goro_ctx_free(c);
}

TEST(a_reference_outlives_the_creators_free)
{
	goro_ctx *c = goro_ctx_make_timeout(NULL, 10000 * MS);
	goro_ctx *r = goro_ctx_ref(c);

	ASSERT_EQ(c, r);
	goro_ctx_free(c);	/* cancels; r still holds it */
	ASSERT_EQ(-ECANCELED, goro_ctx_err(r));
	ASSERT_TRUE(closed(r));
	goro_ctx_unref(r);
}

TEST(unref_does_not_cancel_until_the_last)
{
	goro_ctx *p = goro_ctx_make(NULL), *k = goro_ctx_make(p);

	goro_ctx_ref(p);
	goro_ctx_unref(p);
	ASSERT_EQ(0, goro_ctx_err(p));
	/* the creator drops its reference: the child keeps p alive, live */
	goro_ctx_unref(p);
	ASSERT_EQ(0, goro_ctx_err(k));
	goro_ctx_free(k);	/* the last holder of p: p goes too */
}

/* ---- concurrency: cancels racing with makes and frees ---- */

struct churn {
	goro_ctx *root;
	goro_wg wg;
	atomic_int bad;
};

static void churner(void *arg)
{
	struct churn *ch = arg;
	int i;

	for (i = 0; i < 200; i++) {
		goro_ctx *a = goro_ctx_make(ch->root);
		goro_ctx *b = goro_ctx_make_timeout(a, (i % 3) * MS);
		goro_ctx *c = goro_ctx_make(b);

		if (!a || !b || !c) {
			atomic_store(&ch->bad, 1);
			break;
		}
		if (i % 2)
			goro_ctx_cancel(a);
		if (goro_ctx_err(a) && !goro_ctx_err(c))
			atomic_store(&ch->bad, 2);	/* a child lags behind */
		goro_ctx_free(i % 4 ? a : c);
		goro_ctx_free(b);
		goro_ctx_free(i % 4 ? c : a);
		if (i % 16 == 0)
			goro_yield();
	}
	goro_wg_done(&ch->wg);
}

TEST_F(procs, cancels_race_with_makes_and_frees)
{
	int round, i;

	for (round = 0; round < 5; round++) {
		struct churn ch = {goro_ctx_make(NULL), GORO_WG_INIT, 0};

		goro_wg_add(&ch.wg, 8);
		for (i = 0; i < 8; i++)
			goro_go(churner, &ch);
		goro_sleep(1 * MS);
		goro_ctx_cancel(ch.root);
		goro_wg_wait(&ch.wg);
		ASSERT_EQ(0, atomic_load(&ch.bad));
		goro_ctx_free(ch.root);
	}
}

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>

static int leak_member(goro_ctx *ctx, void *arg)
{
	goro_sema *s = arg;
	int err = goro_sema_acquire(s, 2, ctx);

	if (!err) {
		goro_sleep(1 * MS);
		goro_sema_release(s, 2);
	}
	return goro_id() % 5 ? 0 : -EIO;
}

/*
 * Nothing of contexts, groups and semaphores stays allocated once they
 * are freed: deadlines that fired and that did not, subtrees freed in
 * any order, groups cancelled by an error. (The harness ends each test
 * with _exit, past LeakSanitizer's own check at exit: ask it here.)
 */
TEST(nothing_leaks)
{
	goro_sema s = GORO_SEMA_INIT(3);
	int round, i;

	for (round = 0; round < 20; round++) {
		goro_ctx *root = goro_ctx_make_timeout(NULL, (round % 4) * MS);
		goro_ctx *a = goro_ctx_make_timeout(root, 100000 * MS);
		goro_ctx *b = goro_ctx_make(a);
		goro_group *g = goro_group_make(b);

		goro_group_setlimit(g, 4);
		for (i = 0; i < 10; i++)
			goro_group_go(g, leak_member, &s);
		goro_group_wait(g);
		goro_group_free(g);
		goro_ctx_free(round % 2 ? a : b);
		goro_ctx_free(root);
		goro_ctx_free(round % 2 ? b : a);
	}
	goro_sleep(5 * MS);	/* the fired timers' releases have run */
	ASSERT_EQ(0, __lsan_do_recoverable_leak_check());
}
#endif

TEST_HARNESS_MAIN
