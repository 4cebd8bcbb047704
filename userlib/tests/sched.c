/* SPDX-License-Identifier: MIT */
/* libgoro: scheduling: scale, run-exactly-once under stealing, handoff. */
#include <goro.h>
#include <pthread.h>
#include <stdatomic.h>

#include "kselftest_harness.h"
#include "util.h"

static void count_and_done(void *arg)
{
	goro_wg *wg = arg;

	goro_wg_done(wg);
}

TEST(million_goroutines_created_and_joined)
{
	/*
	 * 10^6 natively; 10^5 under sanitizers (each switch costs ~1 us).
	 * Main yields every 4096 spawns, so that goroutines end and their
	 * stacks are reused: a million alive at once is 4 GB of stack
	 * pages, more than the test box's 2 GB (a P that falls behind
	 * because the box's vCPUs are starved got it OOM-killed there);
	 * under TSan every 64, since each slot's TSan fiber takes
	 * milliseconds to create.
	 */
	long n = sanitized() ? 100000 : 1000000, i;
	goro_wg wg = GORO_WG_INIT;

	goro_wg_add(&wg, n);
	for (i = 0; i < n; i++) {
		ASSERT_GT(goro_go(count_and_done, &wg), 1);
		if (i % (tsan() ? 64 : 4096) == (tsan() ? 63 : 4095))
			goro_yield();
	}
	goro_wg_wait(&wg);
	while (goro_numgoroutine() > 1)
		goro_yield();
	ASSERT_EQ(1, goro_numgoroutine());
}

#define NRUN 20000	/* 2000 under TSan (see million_goroutines) */
static int nrun;

struct once_run {
	atomic_int runs[NRUN];
	atomic_int ms_seen;
	goro_wg wg;
};

static struct once_run *R;

static void leaf(void *arg)
{
	long i = (long)arg;

	atomic_fetch_add(&R->runs[i], 1);
	if (i % 7 == 0)
		goro_yield();
	goro_wg_done(&R->wg);
}

/* each spawner floods its own P, so idle Ps must steal */
static void spawner(void *arg)
{
	long base = (long)arg, i;

	for (i = 0; i < nrun / 10; i++)
		goro_go(leaf, (void *)(base + i));
	goro_wg_done(&R->wg);
}

PROCS_FIXTURE()
PROCS_VARIANT(1);
PROCS_VARIANT(2);
PROCS_VARIANT(4);
PROCS_VARIANT(8);

TEST_F(procs, every_goroutine_runs_exactly_once)
{
	static struct once_run r;
	int round, i;

	R = &r;
	nrun = tsan() || slow_box() ? NRUN / 10 : NRUN;
	ASSERT_EQ(variant->nprocs, goro_numprocs());
	for (round = 0; round < 3; round++) {
		for (i = 0; i < nrun; i++)
			atomic_store(&r.runs[i], 0);
		goro_wg_add(&r.wg, nrun + 10);
		for (i = 0; i < 10; i++)
			goro_go(spawner, (void *)(long)(i * (nrun / 10)));
		goro_wg_wait(&r.wg);
		for (i = 0; i < nrun; i++)
			ASSERT_EQ(1, atomic_load(&r.runs[i]));
	}
}

struct par {
	atomic_int running;
	atomic_int maxrunning;
	int seconds;
	goro_wg wg;
};

/*
 * Spin in 100 us slices; `running` counts goroutines inside a slice,
 * where no scheduling point is, so it counts goroutines running at the
 * same instant (on different threads), not merely started ones. Spin until
 * two ran at once, or 20 ms when p->seconds is 0; a busy host may keep
 * one of the threads off its CPU for a while, so that is bounded by
 * p->seconds instead of a fixed short time.
 */
static void busy(void *arg)
{
	struct par *p = arg;
	long long t0 = now_ns();
	long long limit = p->seconds ? p->seconds * 1000000000LL : 20000000LL;

	while (now_ns() - t0 < limit &&
	       !(p->seconds && atomic_load(&p->maxrunning) >= 2)) {
		int now = atomic_fetch_add(&p->running, 1) + 1, m;
		long long s0 = now_ns();

		while ((m = atomic_load(&p->maxrunning)) < now &&
		       !atomic_compare_exchange_weak(&p->maxrunning, &m, now))
			;
		while (now_ns() - s0 < 100000)
			;
		atomic_fetch_sub(&p->running, 1);
		goro_preempt_point();
	}
	goro_wg_done(&p->wg);
}

TEST(two_ps_run_goroutines_in_parallel)
{
	struct par p = {.seconds = 10};
	int i;

	goro_setprocs(2);
	goro_wg_add(&p.wg, 4);
	for (i = 0; i < 4; i++)
		goro_go(busy, &p);
	goro_wg_wait(&p.wg);
	ASSERT_GE(atomic_load(&p.maxrunning), 2);
}

TEST(setprocs_lowered_runs_at_most_that_many)
{
	struct par p = {0};
	int i;

	goro_setprocs(4);
	goro_setprocs(1);
	goro_wg_add(&p.wg, 4);
	for (i = 0; i < 4; i++)
		goro_go(busy, &p);
	goro_wg_wait(&p.wg);
	ASSERT_EQ(1, atomic_load(&p.maxrunning));
}

static void blocker(void *arg)
{
	int *fds = arg;
	char c;

	goro_syscall_enter();
	fds[3] = read(fds[0], &c, 1);	/* blocks its thread */
	goro_syscall_exit();
}

static void writer(void *arg)
{
	int *fds = arg;

	fds[2] = 1;	/* ran while the reader's thread was blocked */
	fds[4] = write(fds[1], "x", 1);
}

TEST(blocking_call_hands_off_the_p)
{
	/*
	 * One P: a goroutine blocks in read() inside goro_syscall_enter/exit;
	 * only a handoff of its P lets the writer goroutine run.
	 */
	int fds[5] = {0};

	goro_setprocs(1);
	ASSERT_EQ(0, pipe(fds));
	goro_go(blocker, fds);
	goro_go(writer, fds);
	while (goro_numgoroutine() > 1)
		goro_sleep(1000000);
	ASSERT_EQ(1, fds[2]);
	ASSERT_EQ(1, fds[3]);
	ASSERT_EQ(1, fds[4]);
	close(fds[0]);
	close(fds[1]);
}

struct shortcalls {
	atomic_int incall;	/* the caller is inside a blocking call */
	atomic_int ran;		/* the other goroutine ran */
	atomic_int ran_incall;	/* ...while the caller was in a call */
};

static void notes_the_caller(void *arg)
{
	struct shortcalls *sc = arg;

	atomic_store(&sc->ran_incall, atomic_load(&sc->incall));
	atomic_store(&sc->ran, 1);
}

/*
 * One P, a goroutine that never yields and makes short blocking calls
 * (1 ms, bracketed) with a little compute between them: the monitor sees
 * a new syscall count at each look, yet it must take the P away once the
 * goroutine has held it for 10 ms (Go's sysretake), so the other goroutine
 * runs while the caller is inside a call, not only when it stops. The
 * monitor has backed off to its longest period first (an idle start).
 */
TEST(short_blocking_calls_lose_the_p_after_10ms)
{
	struct timespec ms = { 0, 1000000 }, idle = { 0, 60000000 };
	struct shortcalls sc = { 0 };
	long long t0;
	int i;

	goro_setprocs(1);
	nanosleep(&idle, NULL);	/* the monitor backs off to 10 ms */
	goro_go(notes_the_caller, &sc);
	for (i = 0; i < 2000 && !atomic_load(&sc.ran); i++) {
		t0 = now_ns();
		while (now_ns() - t0 < 200000)
			;
		atomic_store(&sc.incall, 1);
		goro_syscall_enter();
		nanosleep(&ms, NULL);
		goro_syscall_exit();
		atomic_store(&sc.incall, 0);
	}
	TH_LOG("the other goroutine ran after %d calls", i);
	while (goro_numgoroutine() > 1)
		goro_yield();
	ASSERT_EQ(1, atomic_load(&sc.ran));
	ASSERT_EQ(1, atomic_load(&sc.ran_incall));
}

TEST(syscall_macro_preserves_errno_and_value)
{
	char c;
	intptr_t r;

	errno = 0;
	r = GORO_SYSCALL(read(-1, &c, 1));
	ASSERT_EQ(-1, r);
	ASSERT_EQ(EBADF, errno);
}

/*
 * errno is per thread, and the compiler may keep its address across a
 * call: reach it afresh, as code that runs after a switch must.
 */
static __attribute__((noinline)) int errno_now(void)
{
	return errno;
}

static __attribute__((noinline)) void errno_set(int e)
{
	errno = e;
}

static void spins_50ms(void *arg)
{
	long long t0 = now_ns();

	errno_set(777);		/* this thread's errno */
	atomic_store((atomic_int *)arg, 1);
	while (now_ns() - t0 < 50000000)
		;		/* holds the only P: no preempt point */
}

/*
 * One P: main's P goes to another thread during a bracketed sleep and
 * runs a goroutine that holds it for 50 ms, so goro_syscall_exit
 * must wait and main resumes on that other thread. errno set before
 * goro_syscall_exit is what main sees after it, on the new thread (the
 * library once wrote it through the old thread's errno address).
 */
TEST(syscall_exit_keeps_errno_on_another_thread)
{
	struct timespec ms = { 0, 1000000 };
	atomic_int started = 0;
	pid_t before, after;
	int e, i;

	goro_setprocs(1);
	goro_go(spins_50ms, &started);
	before = gettid();
	goro_syscall_enter();
	for (i = 0; i < 5000 && !atomic_load(&started); i++)
		nanosleep(&ms, NULL);	/* until the P went to the spinner */
	errno_set(1234);
	goro_syscall_exit();
	e = errno_now();
	after = gettid();
	ASSERT_EQ(1, atomic_load(&started));
	if (after == before)
		SKIP(return, "resumed on the same thread");
	ASSERT_EQ(1234, e);
}

static void spinner(void *arg)
{
	atomic_int *stop = arg;

	while (!atomic_load(stop))
		goro_preempt_point();
}

TEST(monitor_preempts_after_10ms)
{
	/* main sleeps on the only P's timer while a goroutine spins */
	atomic_int stop = 0;
	long long t0;

	goro_setprocs(1);
	goro_go(spinner, &stop);
	t0 = now_ns();
	goro_sleep(1000000);	/* needs the spinner preempted */
	ASSERT_LT(now_ns() - t0, 1000LL * 1000000);
	atomic_store(&stop, 1);
	while (goro_numgoroutine() > 1)
		goro_yield();
}

static void fairness_spinner(void *arg)
{
	for (;;)
		goro_yield();
}

static goro_wg fair_wg = GORO_WG_INIT;

static void fair_target(void *arg)
{
	goro_wg_done(&fair_wg);
}

static void *foreign_spawn(void *arg)
{
	goro_go(fair_target, NULL);	/* from a foreign thread: global queue */
	return NULL;
}

TEST(global_queue_is_not_starved)
{
	/*
	 * Two goroutines yield to each other forever on one P: the local
	 * queue is never empty, so only the every-61-ticks look at the
	 * global queue lets a goroutine queued there run.
	 */
	pthread_t t;

	goro_setprocs(1);
	goro_go(fairness_spinner, NULL);
	goro_go(fairness_spinner, NULL);
	goro_wg_add(&fair_wg, 1);
	ASSERT_EQ(0, pthread_create(&t, NULL, foreign_spawn, NULL));
	pthread_join(t, NULL);
	goro_wg_wait(&fair_wg);	/* the harness timeout catches a hang */
}

/*
 * One P, one goroutine at a time: each new goroutine gets the stack slot
 * the previous one just left, 20000 times over. Under TSan the slot's
 * fiber keeps records of frames its goroutines never returned from; this
 * checks they do not pile up until the TSan runtime crashes.
 */
TEST(one_stack_slot_reused_20000_times)
{
	long i, n = 20000;

	goro_setprocs(1);
	for (i = 0; i < n; i++) {
		goro_wg wg = GORO_WG_INIT;

		goro_wg_add(&wg, 1);
		ASSERT_GT(goro_go(count_and_done, &wg), 1);
		goro_wg_wait(&wg);
	}
	while (goro_numgoroutine() > 1)
		goro_yield();
	ASSERT_EQ(1, goro_numgoroutine());
}

static atomic_int deep_exits;

/* Leaves the goroutine; noipa: opaque, so the recursion below may return */
static __attribute__((noipa)) void leave(goro_wg *wg)
{
	atomic_fetch_add(&deep_exits, 1);
	goro_wg_done(wg);
	goro_exit();
	atomic_fetch_add(&deep_exits, 1000000);	/* never */
}

/* Recurse depth frames down (no tail call), then leave by goro_exit. */
static __attribute__((noipa)) void exit_from_depth(goro_wg *wg, int depth)
{
	volatile int keep = depth;

	if (depth > 0)
		exit_from_depth(wg, depth - 1);
	else
		leave(wg);
	keep++;
}

static void deep_exiter(void *arg)
{
	exit_from_depth(arg, 200);
}

TEST(goro_exit_from_deep_frames_reusing_one_slot)
{
	/* 400 x 200 abandoned frames on one slot: more than TSan's 64K */
	int i, n = 400;

	goro_setprocs(1);
	for (i = 0; i < n; i++) {
		goro_wg wg = GORO_WG_INIT;

		goro_wg_add(&wg, 1);
		ASSERT_GT(goro_go(deep_exiter, &wg), 1);
		goro_wg_wait(&wg);
	}
	while (goro_numgoroutine() > 1)
		goro_yield();
	ASSERT_EQ(n, atomic_load(&deep_exits));
	ASSERT_EQ(1, goro_numgoroutine());
}

TEST_HARNESS_MAIN
