/* SPDX-License-Identifier: MIT */
/* libgoro: the semantics of each goroutine call. */
#include <goro.h>
#include <pthread.h>
#include <stdatomic.h>

#include "kselftest_harness.h"
#include "util.h"

static void set_flag(void *arg)
{
	atomic_store((atomic_int *)arg, 1);
}

TEST(go_runs_the_function)
{
	atomic_int flag = 0;
	int64_t id = goro_go(set_flag, &flag);

	ASSERT_GT(id, 1);
	while (!atomic_load(&flag))
		goro_yield();
}

TEST(main_is_goroutine_1)
{
	ASSERT_EQ(1, goro_id());
	ASSERT_EQ(1, goro_numgoroutine());
}

static goro_wg ids_wg = GORO_WG_INIT;

static void record_id(void *arg)
{
	*(int64_t *)arg = goro_id();
	goro_wg_done(&ids_wg);
}

TEST(ids_are_distinct_and_returned)
{
	int64_t seen[16], ids[16];
	goro_wg wg = GORO_WG_INIT;
	int i, j;

	for (i = 0; i < 16; i++)
		seen[i] = 0;
	goro_wg_add(&ids_wg, 16);
	for (i = 0; i < 16; i++) {
		ids[i] = goro_go(record_id, &seen[i]);
		ASSERT_GT(ids[i], 1);
	}
	goro_wg_wait(&ids_wg);
	(void)wg;
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(ids[i], seen[i]);
		for (j = 0; j < i; j++)
			ASSERT_NE(ids[i], ids[j]);
	}
}

TEST(go_rejects_null_fn)
{
	ASSERT_EQ(-EINVAL, goro_go(NULL, NULL));
}

TEST(go_opts_validates)
{
	struct goro_spawn_opts o = {0};

	o.flags = 0x80000000U;	/* not a GORO_SPAWN_* flag */
	ASSERT_EQ(-EINVAL, goro_go_opts(set_flag, NULL, &o));
	o.flags = 0;
	o.resv[1] = 1;
	ASSERT_EQ(-EINVAL, goro_go_opts(set_flag, NULL, &o));
	o.resv[1] = 0;
	o.stack_size = (size_t)2 << 30;
	ASSERT_EQ(-EINVAL, goro_go_opts(set_flag, NULL, &o));
}

struct deep {
	int depth;
	long sum;
	goro_wg *wg;
};

static long recurse(volatile char *prev, int n)
{
	volatile char buf[1024];

	buf[0] = (char)n;
	buf[1023] = prev ? prev[0] : 0;
	if (n == 0)
		return buf[0];
	return recurse(buf, n - 1) + buf[1023] + 1;
}

static void deep_fn(void *arg)
{
	struct deep *d = arg;

	d->sum = recurse(NULL, d->depth);
	goro_wg_done(d->wg);
}

TEST(go_opts_big_stack_allows_deep_recursion)
{
	/* 2000 frames of >1 KiB: far beyond the 64 KiB default */
	struct goro_spawn_opts o = {0};
	goro_wg wg = GORO_WG_INIT;
	struct deep d = {2000, 0, &wg};

	o.stack_size = 8 << 20;
	o.name = "deep";
	goro_wg_add(&wg, 1);
	ASSERT_GT(goro_go_opts(deep_fn, &d, &o), 1);
	goro_wg_wait(&wg);
	ASSERT_GT(d.sum, 2000);
}

static void yielder(void *arg)
{
	int *log = arg;
	int i;

	for (i = 0; i < 3; i++) {
		log[log[0] + 1] = 2;
		log[0]++;
		goro_yield();
	}
}

TEST(yield_alternates_on_one_p)
{
	int log[16] = {0};
	int i;

	goro_setprocs(1);
	goro_go(yielder, log);
	for (i = 0; i < 3; i++) {
		goro_yield();
		log[log[0] + 1] = 1;
		log[0]++;
	}
	goro_yield();
	/* with one P, main and the goroutine take turns */
	ASSERT_EQ(6, log[0]);
	for (i = 0; i < 6; i++)
		ASSERT_EQ(i % 2 == 0 ? 2 : 1, log[i + 1]);
}

TEST(yield_alone_returns)
{
	goro_yield();
	ASSERT_EQ(1, goro_id());
}

static void exiter(void *arg)
{
	atomic_store((atomic_int *)arg, 1);
	goro_exit();
	atomic_store((atomic_int *)arg, 2);
}

TEST(exit_ends_goroutine)
{
	atomic_int v = 0;

	goro_go(exiter, &v);
	while (goro_numgoroutine() > 1)
		goro_yield();
	ASSERT_EQ(1, atomic_load(&v));
}

TEST(sleep_parks_for_at_least_ns)
{
	long long t0 = now_ns();

	ASSERT_EQ(0, goro_sleep(20 * 1000000));
	ASSERT_GE(now_ns() - t0, 20 * 1000000);
	ASSERT_EQ(0, goro_sleep(0));
	ASSERT_EQ(0, goro_sleep(-5));
}

struct sleepers {
	atomic_int asleep, most, done;
};

static void sleeper(void *arg)
{
	struct sleepers *s = arg;
	int n = atomic_fetch_add(&s->asleep, 1) + 1, m = atomic_load(&s->most);

	while (n > m && !atomic_compare_exchange_weak(&s->most, &m, n))
		;
	goro_sleep(50 * 1000000);
	atomic_fetch_sub(&s->asleep, 1);
	atomic_fetch_add(&s->done, 1);
}

TEST(sleep_does_not_hold_the_thread)
{
	/*
	 * 100 goroutines sleeping 50 ms on one P sleep together: a sleep
	 * that held the thread would let one in at a time (counted, not
	 * timed, so a slow machine cannot fail it)
	 */
	struct sleepers s = { 0 };
	int i;

	goro_setprocs(1);
	for (i = 0; i < 100; i++)
		goro_go(sleeper, &s);
	while (atomic_load(&s.done) < 100)
		goro_sleep(1000000);
	ASSERT_LE(10, atomic_load(&s.most));
}

TEST(setprocs_returns_previous_and_validates)
{
	int n = goro_numprocs();

	ASSERT_GE(n, 1);
	ASSERT_EQ(n, goro_setprocs(0));
	ASSERT_EQ(n, goro_setprocs(3));
	ASSERT_EQ(3, goro_numprocs());
	ASSERT_EQ(3, goro_setprocs(1));
	ASSERT_EQ(1, goro_numprocs());
	ASSERT_EQ(-EINVAL, goro_setprocs(GORO_MAX_PROCS + 1));
	ASSERT_EQ(1, goro_numprocs());
}

TEST(numprocs_follows_env)
{
	char out[256];
	int st = run_scenario("numprocs", "GORO_PROCS=3", out, sizeof(out), 20);

	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(3, WEXITSTATUS(st));
	st = run_scenario("numprocs", "GOMAXPROCS=5", out, sizeof(out), 20);
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(5, WEXITSTATUS(st));
}

static void block_on_wg(void *arg)
{
	goro_wg_wait(arg);
}

TEST(numgoroutine_counts_live_goroutines)
{
	goro_wg wg = GORO_WG_INIT;
	int i;

	goro_wg_add(&wg, 1);
	for (i = 0; i < 10; i++)
		goro_go(block_on_wg, &wg);
	ASSERT_EQ(11, goro_numgoroutine());
	goro_wg_done(&wg);
	while (goro_numgoroutine() > 1)
		goro_yield();
	ASSERT_EQ(1, goro_numgoroutine());
}

/* goroutines= of /proc/goro/<pid>/sched, or -1 */
static long proc_goroutines(void)
{
	char path[64], buf[4096], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/goro/%d/sched", (int)getpid());
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strstr(buf, " goroutines=");
	return p ? strtol(p + 12, NULL, 10) : -1;
}

/* Poll for up to 2 s (the count is published every <= 10 ms). */
static long proc_goroutines_becomes(long want)
{
	long got = -1;
	int i;

	for (i = 0; i < 200; i++) {
		got = proc_goroutines();
		if (got == want)
			break;
		goro_sleep(10 * 1000 * 1000);
	}
	return got;
}

/* kmod: goro.ko's /proc shows the live goroutines, as they come and go */
TEST(proc_shows_the_live_goroutines)
{
	goro_wg wg = GORO_WG_INIT;
	int i;

	if (strcmp(goro_backend(), "kmod"))
		SKIP(return, "backend %s: no /proc/goro", goro_backend());
	goro_wg_add(&wg, 1);
	for (i = 0; i < 40; i++)
		ASSERT_LT(0, goro_go(block_on_wg, &wg));
	ASSERT_EQ(41, proc_goroutines_becomes(41));
	goro_wg_done(&wg);
	ASSERT_EQ(1, proc_goroutines_becomes(1));
}

/* GORO_BACKEND forces one; else kmod exactly when /dev/goro is there. */
TEST(backend_is_the_one_asked_for_or_found)
{
	const char *want = getenv("GORO_BACKEND");

	if (want && *want) {
		ASSERT_STREQ(want, goro_backend());
	} else if (access("/dev/goro", R_OK | W_OK) == 0) {
		ASSERT_STREQ("kmod", goro_backend());
	} else {
		ASSERT_STREQ("user", goro_backend());
	}
}

static void spin_with_preempt_points(void *arg)
{
	while (!atomic_load((atomic_int *)arg))
		goro_preempt_point();
}

TEST(preempt_point_lets_others_run_on_one_p)
{
	/* a spinning goroutine must not starve main on one P */
	atomic_int stop = 0;

	goro_setprocs(1);
	goro_go(spin_with_preempt_points, &stop);
	goro_yield();	/* the spinner now holds the P until preempted */
	atomic_store(&stop, 1);
	while (goro_numgoroutine() > 1)
		goro_yield();
}

/* ---- foreign threads ---- */

struct foreign {
	int64_t id;
	int64_t spawned;
	int exit_errno;
	goro_wg *wg;
	atomic_int *flag;
};

static void *foreign_thread(void *arg)
{
	struct foreign *f = arg;

	f->id = goro_id();
	errno = 0;
	goro_exit();
	f->exit_errno = errno;
	f->spawned = goro_go(set_flag, f->flag);
	goro_yield();
	goro_sleep(1000);
	goro_wg_done(f->wg);
	return NULL;
}

TEST(foreign_thread_calls_work_or_fail_clearly)
{
	atomic_int flag = 0;
	goro_wg wg = GORO_WG_INIT;
	struct foreign f = {0};
	pthread_t t;

	f.wg = &wg;
	f.flag = &flag;
	goro_wg_add(&wg, 1);
	ASSERT_EQ(0, pthread_create(&t, NULL, foreign_thread, &f));
	goro_wg_wait(&wg);	/* released by the foreign thread */
	pthread_join(t, NULL);
	ASSERT_EQ(0, f.id);
	ASSERT_EQ(EPERM, f.exit_errno);
	ASSERT_GT(f.spawned, 1);
	while (!atomic_load(&flag))
		goro_yield();
}

static void *foreign_waiter(void *arg)
{
	goro_wg_wait(arg);	/* blocks this thread on a futex */
	return NULL;
}

static void finish_later(void *arg)
{
	goro_sleep(10 * 1000000);
	goro_wg_done(arg);
}

TEST(foreign_thread_can_wait_on_goroutines)
{
	goro_wg wg = GORO_WG_INIT;
	pthread_t t;

	goro_wg_add(&wg, 1);
	goro_go(finish_later, &wg);
	ASSERT_EQ(0, pthread_create(&t, NULL, foreign_waiter, &wg));
	ASSERT_EQ(0, pthread_join(t, NULL));
}

static int sc_numprocs(void)
{
	return goro_numprocs();
}

static const struct scenario scenarios[] = {
	{"numprocs", sc_numprocs},
};

SCENARIO_MAIN(scenarios)
