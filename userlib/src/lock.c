/* SPDX-License-Identifier: MIT */
/* goro: futex wrappers and the slow paths of the internal lock. */
#include "internal.h"

#include <errno.h>
#include <sched.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* Sleep while *addr == val, until woken or the absolute deadline. */
void goro__futex_wait(uint32_t *addr, uint32_t val, int64_t deadline_ns)
{
	struct timespec ts, *tp = NULL;

	if (deadline_ns) {
		ts.tv_sec = deadline_ns / 1000000000;
		ts.tv_nsec = deadline_ns % 1000000000;
		tp = &ts;
	}
	/* FUTEX_BITSET takes an absolute CLOCK_MONOTONIC timeout */
	syscall(SYS_futex, addr, FUTEX_WAIT_BITSET | FUTEX_PRIVATE_FLAG, val,
		tp, NULL, FUTEX_BITSET_MATCH_ANY);
}

void goro__futex_wake(uint32_t *addr, int n)
{
	syscall(SYS_futex, addr, FUTEX_WAKE | FUTEX_PRIVATE_FLAG, n, NULL,
		NULL, 0);
}

/* Take l if it is free (0 -> 1). */
static inline bool try_lock(uint32_t *l)
{
	uint32_t z = 0;

	return ld_rlx(l) == 0 &&
	       __atomic_compare_exchange_n(l, &z, 1, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

/*
 * 0 free, 1 locked, 2 locked with (possible) sleepers. Spin, then give
 * the CPU away a few times (the holder may be waiting for one: Go's
 * passive spin, osyield), then sleep on the futex. Holders and waiters
 * keep their P on the kmod backend (locks set), so sched_yield is only a
 * yield of the thread.
 */
void goro__lock_slow(uint32_t *l)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (try_lock(l))
			return;
		cpu_relax();
	}
	for (i = 0; i < 4; i++) {
		sched_yield();
		if (try_lock(l))
			return;
	}
	while (__atomic_exchange_n(l, 2, __ATOMIC_ACQUIRE) != 0)
		goro__futex_wait(l, 2, 0);
}

void goro__unlock_wake(uint32_t *l)
{
	goro__futex_wake(l, 1);
}
