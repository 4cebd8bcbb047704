/* SPDX-License-Identifier: MIT */
/*
 * libgoro: preemption at function entry. This file is built with
 * -finstrument-functions and linked with libgoro_instrument.a: a goroutine
 * looping through calls of a tiny function, with no goro_ call in its loop,
 * must still give its only P to the others.
 */
#include <goro.h>
#include <stdatomic.h>

#include "kselftest_harness.h"
#include "util.h"

static atomic_int stop, spinning, other_ran;

static __attribute__((noinline)) void step(volatile long *x)
{
	(*x)++;
}

static void spinner(void *arg)
{
	volatile long x = 0;

	(void)arg;
	atomic_store(&spinning, 1);
	while (!atomic_load_explicit(&stop, memory_order_relaxed))
		step(&x);
}

static void other(void *arg)
{
	(void)arg;
	atomic_store(&other_ran, 1);
}

TEST(instrumented_loop_yields_its_only_p)
{
	long long deadline;

	goro_setprocs(1);
	goro_go(spinner, NULL);
	/* the spinner takes the P; main comes back only if it yields */
	goro_sleep(1000000);
	ASSERT_EQ(1, atomic_load(&spinning));
	goro_go(other, NULL);
	deadline = now_ns() + 10 * 1000000000LL;
	while (!atomic_load(&other_ran) && now_ns() < deadline)
		goro_sleep(1000000);
	atomic_store(&stop, 1);
	ASSERT_EQ(1, atomic_load(&other_ran));
}

TEST_HARNESS_MAIN
