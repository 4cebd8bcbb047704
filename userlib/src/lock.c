/* SPDX-License-Identifier: MIT */
/*
 * goro: the runtime's lowest layer, which every file may call and which
 * calls none of them: futex wrappers, the slow paths of the internal
 * lock, the clock, and the fatal exit (which stops the world first).
 */
#include "internal.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
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

	return ld_rlx(l) == 0 && (COUNT_RMW(), true) &&
	       __atomic_compare_exchange_n(l, &z, 1, false, __ATOMIC_ACQUIRE,
					   __ATOMIC_RELAXED);
}

/*
 * 0 free, 1 locked, 2 locked with (possible) sleepers. Spin, looking at
 * the word only 4 times, 30 pauses apart (Go's active_spin and
 * procyield): a waiter that reads it at every pause keeps taking its
 * cache line from the holder, which writes there and next to it (a
 * channel's count and indexes), and a contended buffered channel ran at
 * a quarter of the speed. Then give the CPU away a few times (the holder
 * may be waiting for one: Go's passive spin, osyield), then sleep on the
 * futex. Holders and waiters
 * keep their P on the kmod backend (locks set), so sched_yield is only a
 * yield of the thread.
 */
void goro__lock_slow(uint32_t *l)
{
	int i;

	for (i = 0; i < 4; i++) {
		int j;

		if (try_lock(l))
			return;
		for (j = 0; j < 30; j++)
			cpu_relax();
	}
	for (i = 0; i < 4; i++) {
		sched_yield();
		if (try_lock(l))
			return;
	}
	while (COUNT_RMW(), __atomic_exchange_n(l, 2, __ATOMIC_ACQUIRE) != 0)
		goro__futex_wait(l, 2, 0);
}

void goro__unlock_wake(uint32_t *l)
{
	goro__futex_wake(l, 1);
}

#ifdef GORO_COUNT_ATOMICS
/*
 * The counting build's counters (atomic.h): one set per thread, linked
 * once into a list the reader sums; plain increments by their thread
 * only, read racily (the reader reads between measured loops).
 */
struct count {
	uint64_t rmw, fence;
	struct count *next;
};
static __thread struct count count_self;
static __thread bool count_linked;
static struct count *count_all;

/* not inlined: the thread is looked up at every call (a goroutine moves) */
static __attribute__((noinline)) struct count *count_get(void)
{
	struct count *c = &count_self;

	if (!count_linked) {
		count_linked = true;
		c->next = ld_acq(&count_all);
		while (!__atomic_compare_exchange_n(&count_all, &c->next, c,
						    false, __ATOMIC_RELEASE,
						    __ATOMIC_ACQUIRE))
			;
	}
	return c;
}

void goro__count_rmw(void)
{
	struct count *c = count_get();

	st_rlx(&c->rmw, c->rmw + 1);
}

void goro__count_fence(void)
{
	struct count *c = count_get();

	st_rlx(&c->fence, c->fence + 1);
}

void goro__count_read(uint64_t *rmw, uint64_t *fence)
{
	struct count *c;

	*rmw = *fence = 0;
	for (c = ld_acq(&count_all); c; c = c->next) {
		*rmw += ld_rlx(&c->rmw);
		*fence += ld_rlx(&c->fence);
	}
}
#endif

/* goro__lock()/goro__unlock() keep the M's lock account (internal.h): kmod */
uint32_t goro__lock_hooks;

int64_t nanotime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * The process is exiting (main returned, or exit() was called): like Go,
 * no goroutine gets to run any more. Ms other than the exiting thread
 * stop here for good.
 */
void goro__exit_stop(void)
{
	uint32_t never = 0;

	if (ld_rlx(&goro__sched.exit_tid) == (pid_t)syscall(SYS_gettid))
		return;
	for (;;)
		goro__futex_wait(&never, 0, 0);
}

void goro__on_exit_stop(void)
{
	st_rlx(&goro__sched.exit_tid, (pid_t)syscall(SYS_gettid));
	st_sc(&goro__sched.exiting, 1);
}

static void flush_if_free(FILE *f)
{
	if (ftrylockfile(f))
		return;
	fflush_unlocked(f);
	funlockfile(f);
}

void goro__fatal(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	/* a fatal error stops the world: no goroutine runs while we exit */
	goro__on_exit_stop();
	/*
	 * what the program printed comes before the error, as it would with
	 * exit(): stdout and stderr are flushed unless a stopped thread holds
	 * their lock (waiting for it could hang the exit)
	 */
	flush_if_free(stdout);
	flush_if_free(stderr);
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	if (write(2, buf, n) < 0)
		_exit(2);
	_exit(2);
}

void goro__throw(const char *msg)
{
	goro__fatal("fatal error: %s\n", msg);
}
