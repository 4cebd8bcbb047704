/* SPDX-License-Identifier: MIT */
/*
 * libgoro: asynchronous preemption (GORO_SPAWN_ASYNC_PREEMPT). A goroutine
 * in a loop without any call, on the only P, must still let the others
 * run, and must find every register as it left it when it comes back.
 */
#include <goro.h>
#include <stdatomic.h>

#include "kselftest_harness.h"
#include "util.h"

static atomic_int stop, spinning, other_ran;

static void pure_loop_probe(void *arg)
{
	(void)arg;
}

static int64_t go_async(goro_fn fn, void *arg);

static void skip_reason(struct __test_metadata *_metadata, bool *skip)
{
	struct goro_spawn_opts o = {0};

	*skip = false;
	o.flags = GORO_SPAWN_ASYNC_PREEMPT;
	if (goro_go_opts(pure_loop_probe, NULL, &o) == -EOPNOTSUPP) {
		*skip = true;
		SKIP(return, "no asynchronous preemption here (static libc)");
	}
	if (tsan()) {
		/* TSan's own signal handling defers handlers to its next
		 * interceptor call: a loop without calls never takes it */
		*skip = true;
		SKIP(return, "TSan delivers signals only at intercepted calls");
	}
}

static void pure_loop(void *arg)
{
	volatile long *x = arg;

	atomic_store(&spinning, 1);
	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		(*x)++;
}

static void other(void *arg)
{
	(void)arg;
	atomic_store(&other_ran, 1);
}

static int64_t go_async(goro_fn fn, void *arg)
{
	struct goro_spawn_opts o = {0};

	o.flags = GORO_SPAWN_ASYNC_PREEMPT;
	return goro_go_opts(fn, arg, &o);
}

TEST(loop_without_calls_gives_up_its_only_p)
{
	static volatile long x;
	long long deadline;
	bool skip;

	skip_reason(_metadata, &skip);
	if (skip)
		return;
	goro_setprocs(1);
	ASSERT_LT(0, go_async(pure_loop, (void *)&x));
	/* the loop takes the P: main comes back only if it is preempted */
	goro_sleep(1000000);
	ASSERT_EQ(1, atomic_load(&spinning));
	goro_go(other, NULL);
	deadline = now_ns() + 10 * 1000000000LL;
	while (!atomic_load(&other_ran) && now_ns() < deadline)
		goro_sleep(1000000);
	atomic_store(&stop, 1);
	ASSERT_EQ(1, atomic_load(&other_ran));
	ASSERT_LT(0, x);
}

/*
 * Two goroutines computing in registers (integer and SSE) on one P, each
 * preempted many times in its loop: both results must match the same
 * computation done without preemption.
 */
struct calc {
	long n;
	double mul;
	unsigned long isum;
	double fsum;
	atomic_int done;
};

static __attribute__((noinline)) void calc_run(long n, double mul,
					       unsigned long *isum,
					       double *fsum)
{
	unsigned long a = 1, b = 0;
	double f = 0.5, g = 0;
	long i;

	for (i = 0; i < n; i++) {
		a = a * 6364136223846793005UL + 1442695040888963407UL;
		b += a >> 33;
		f = f * mul + 0.25;
		if (f > 1e6)
			f -= 1e6;
		g += f;
	}
	*isum = b;
	*fsum = g;
}

static void calc_g(void *arg)
{
	struct calc *c = arg;

	calc_run(c->n, c->mul, &c->isum, &c->fsum);
	atomic_store(&c->done, 1);
}

TEST(preempted_loops_keep_their_registers)
{
	struct calc c[2] = {{.n = 0, .mul = 1.0000001},
			    {.n = 0, .mul = 0.9999999}};
	unsigned long want_i[2];
	double want_f[2];
	long long t0, deadline;
	int k;
	bool skip;

	skip_reason(_metadata, &skip);
	if (skip)
		return;
	goro_setprocs(1);
	/* about 50 ms of work each, so each is preempted a few times */
	t0 = now_ns();
	calc_run(1000000, 1.0, &want_i[0], &want_f[0]);
	c[0].n = c[1].n = 50 * 1000000LL / (now_ns() - t0 + 1) * 1000000;
	if (c[0].n < 1000000)
		c[0].n = c[1].n = 1000000;
	for (k = 0; k < 2; k++)
		calc_run(c[k].n, c[k].mul, &want_i[k], &want_f[k]);
	for (k = 0; k < 2; k++)
		ASSERT_LT(0, go_async(calc_g, &c[k]));
	/* back before both finished: one of them was preempted */
	goro_sleep(1000000);
	EXPECT_FALSE(atomic_load(&c[0].done) && atomic_load(&c[1].done));
	deadline = now_ns() + 20 * 1000000000LL;
	while ((!atomic_load(&c[0].done) || !atomic_load(&c[1].done)) &&
	       now_ns() < deadline)
		goro_sleep(1000000);
	for (k = 0; k < 2; k++) {
		ASSERT_EQ(1, atomic_load(&c[k].done));
		EXPECT_EQ(want_i[k], c[k].isum);
		EXPECT_TRUE(want_f[k] == c[k].fsum)
			TH_LOG("%d: %.17g != %.17g", k, c[k].fsum, want_f[k]);
	}
}

TEST(unknown_spawn_flags_are_rejected)
{
	struct goro_spawn_opts o = {0};

	o.flags = 0x2;
	ASSERT_EQ(-EINVAL, goro_go_opts(other, NULL, &o));
}

TEST_HARNESS_MAIN
