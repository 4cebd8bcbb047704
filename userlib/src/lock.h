/* SPDX-License-Identifier: MIT */
/*
 * goro: the runtime's internal lock: a three-state futex mutex (Drepper,
 * "Futexes Are Tricky") with a short spin. Held only for a few
 * instructions; never across a context switch except as a park's
 * after-switch unlock.
 *
 * On the kmod backend an M holding (or waiting for) a runtime lock must
 * keep its P when it blocks in the kernel, as Go's m.locks says: a holder
 * that lost its P would wait for one while the P holders wait for its
 * lock. goro__lock() and goro__unlock(), which keep that account, are in
 * internal.h (they need the M). For the same reason no libc allocator
 * call is made while one is held (an M that blocked in malloc may wait
 * for a P holding the allocator's lock).
 */
#ifndef GORO_LOCK_H
#define GORO_LOCK_H

#include <stdint.h>
#include "atomic.h"

void goro__lock_slow(uint32_t *l);
void goro__unlock_wake(uint32_t *l);
void goro__futex_wait(uint32_t *addr, uint32_t val, int64_t deadline_ns);
void goro__futex_wake(uint32_t *addr, int n);

/*
 * Without the accounting: only where the caller's M already has locks
 * set (between rt_enter and rt_leave, on g0) or the caller is no M (a
 * foreign thread, sysmon), and the lock is released before rt_leave. The
 * account costs a TLS read and a few stores, which the hot paths of spawn
 * and exit (the registry, the stack pool) need not pay.
 */
static inline void lock_rt(uint32_t *l)
{
	uint32_t z = 0;

	COUNT_RMW();
	if (__atomic_compare_exchange_n(l, &z, 1, false, __ATOMIC_ACQUIRE,
					__ATOMIC_RELAXED))
		return;
	goro__lock_slow(l);
}

static inline void unlock_rt(uint32_t *l)
{
	COUNT_RMW();
	if (__atomic_exchange_n(l, 0, __ATOMIC_RELEASE) == 2)
		goro__unlock_wake(l);
}

#endif
