/* SPDX-License-Identifier: MIT */
/*
 * libgoro: process-level behaviour, each run as its own program (a
 * scenario of this binary) so that main is goroutine 1: main returning
 * ends the process, deadlock detection, goroutine dumps, stack overflow.
 */
#include <goro.h>
#include <stdatomic.h>

#include "kselftest_harness.h"
#include "util.h"

/* ---- scenarios (run as the child's whole program) ---- */

static void late_printer(void *arg)
{
	goro_sleep(200 * 1000000);
	printf("goroutine outlived main\n");
	fflush(stdout);
}

static void spin_forever(void *arg)
{
	for (;;)
		goro_preempt_point();
}

static int sc_main_returns(void)
{
	int i;

	goro_go(late_printer, NULL);
	for (i = 0; i < 3; i++)
		goro_go(spin_forever, NULL);
	goro_yield();
	printf("main done\n");
	fflush(stdout);
	return 7;
}

static void wait_forever(void *arg)
{
	goro_wg_wait(arg);
}

static int sc_deadlock(void)
{
	static goro_wg wg = GORO_WG_INIT;

	goro_wg_add(&wg, 1);
	goro_go(wait_forever, &wg);
	goro_wg_wait(&wg);
	printf("not reached\n");
	return 0;
}

static void short_lived(void *arg)
{
	goro_sleep(10 * 1000000);
	printf("other goroutine finished\n");
	fflush(stdout);
}

static int sc_main_goexit(void)
{
	goro_go(short_lived, NULL);
	goro_exit();
	printf("not reached\n");
	return 0;
}

static int sc_sleep_is_not_deadlock(void)
{
	goro_sleep(30 * 1000000);
	return 5;
}

static long deep(volatile char *p, long n)
{
	volatile char buf[512];

	buf[0] = p ? p[0] + 1 : 0;
	if (n == 0)
		return buf[0];
	return deep(buf, n - 1) + buf[0];
}

/* overflow once main has printed our id (another P may run us at once) */
static void overflow(void *arg)
{
	goro_wg_wait(arg);
	printf("result %ld\n", deep(NULL, 1000000));
}

static int sc_stack_overflow(void)
{
	goro_wg printed = GORO_WG_INIT, never = GORO_WG_INIT;
	int64_t id;

	goro_go(spin_forever, NULL);	/* overflow is not the first goroutine */
	goro_wg_add(&printed, 1);
	id = goro_go(overflow, &printed);
	printf("overflow goroutine %lld\n", (long long)id);
	fflush(stdout);
	goro_wg_done(&printed);
	goro_wg_add(&never, 1);
	goro_wg_wait(&never);
	return 0;
}

static void named_sleeper(void *arg)
{
	goro_sleep(10LL * 1000000000);
}

static int sc_dump(void)
{
	struct goro_spawn_opts o = {0};
	char name[16];

	/* the name is copied at spawn: the caller's buffer may change */
	strcpy(name, "sleepy");
	o.name = name;
	goro_go_opts(named_sleeper, NULL, &o);
	strcpy(name, "overwritten");
	goro_yield();
	goro_dump();
	return 0;
}

static int sc_sigquit(void)
{
	goro_go(named_sleeper, NULL);
	goro_yield();
	raise(SIGQUIT);
	goro_sleep(5LL * 1000000000);
	return 0;
}

/* Prints to a buffered stdout (a pipe), then dies of a fatal error. */
static int sc_fatal_after_printf(void)
{
	goro_mutex mu = GORO_MUTEX_INIT;

	printf("printed before the fatal error\n");
	goro_mutex_unlock(&mu);
	printf("survived\n");
	return 0;
}

static const struct scenario scenarios[] = {
	{"main_returns", sc_main_returns},
	{"deadlock", sc_deadlock},
	{"main_goexit", sc_main_goexit},
	{"sleep_not_deadlock", sc_sleep_is_not_deadlock},
	{"stack_overflow", sc_stack_overflow},
	{"dump", sc_dump},
	{"sigquit", sc_sigquit},
	{"fatal_after_printf", sc_fatal_after_printf},
};

/* ---- tests ---- */

static char out[1 << 16];

TEST(main_return_ends_process_with_goroutines_alive)
{
	int st = run_scenario("main_returns", NULL, out, sizeof(out), 20);

	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(7, WEXITSTATUS(st));
	ASSERT_NE(NULL, strstr(out, "main done"));
	ASSERT_EQ(NULL, strstr(out, "outlived"));
}

TEST(deadlock_is_reported_with_exit_2)
{
	int st;

	SKIP_WITHOUT_THREAD_COUNT();
	st = run_scenario("deadlock", NULL, out, sizeof(out), 20);
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(2, WEXITSTATUS(st));
	ASSERT_NE(NULL, strstr(out, "fatal error: all goroutines are asleep "
				    "- deadlock!"));
	/* the dump lists both goroutines and what they wait on */
	ASSERT_NE(NULL, strstr(out, "goroutine 1 [sync.WaitGroup.Wait]"));
	ASSERT_NE(NULL, strstr(out, "goroutine 2 [sync.WaitGroup.Wait]"));
	ASSERT_NE(NULL, strstr(out, "wait_forever"));
	ASSERT_EQ(NULL, strstr(out, "not reached"));
}

TEST(main_goexit_runs_others_then_reports)
{
	int st;

	SKIP_WITHOUT_THREAD_COUNT();
	st = run_scenario("main_goexit", NULL, out, sizeof(out), 20);
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(2, WEXITSTATUS(st));
	ASSERT_NE(NULL, strstr(out, "other goroutine finished"));
	ASSERT_NE(NULL, strstr(out, "deadlock!"));
	ASSERT_EQ(NULL, strstr(out, "not reached"));
}

TEST(sleeping_main_is_not_a_deadlock)
{
	int st = run_scenario("sleep_not_deadlock", NULL, out, sizeof(out), 20);

	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(5, WEXITSTATUS(st));
	ASSERT_EQ(NULL, strstr(out, "deadlock"));
}

TEST(stack_overflow_is_reported)
{
	char want[64];
	long long id = 0;
	const char *p;
	int st;

	if (sanitized())
		SKIP(return, "sanitizers report stack overflows their own way");
	st = run_scenario("stack_overflow", NULL, out, sizeof(out), 20);
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(2, WEXITSTATUS(st));
	p = strstr(out, "overflow goroutine ");
	ASSERT_NE(NULL, p);
	id = atoll(p + strlen("overflow goroutine "));
	ASSERT_GT(id, 1);
	snprintf(want, sizeof(want), "goroutine %lld: stack overflow", id);
	ASSERT_NE(NULL, strstr(out, want));
	/* and what sets the size */
	ASSERT_NE(NULL, strstr(out, "GORO_STACK")) TH_LOG("%s", out);
	ASSERT_EQ(NULL, strstr(out, "result"));
}

/* A fatal error keeps what the program printed before it. */
TEST(fatal_error_flushes_stdout_first)
{
	int st = run_scenario("fatal_after_printf", NULL, out, sizeof(out), 20);

	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 2) TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "unlock of unlocked mutex")) TH_LOG("%s", out);
	ASSERT_EQ(NULL, strstr(out, "survived"));
	ASSERT_NE(NULL, strstr(out, "printed before the fatal error"))
		TH_LOG("%s", out);
}

TEST(dump_lists_goroutines)
{
	int st = run_scenario("dump", NULL, out, sizeof(out), 20);

	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(0, WEXITSTATUS(st));
	ASSERT_NE(NULL, strstr(out, "goroutine 1 [running]"));
	ASSERT_NE(NULL, strstr(out, "goroutine 2 [sleep]"));
	ASSERT_NE(NULL, strstr(out, "\"sleepy\""));
}

TEST(sigquit_dumps_and_exits_2)
{
	int st = run_scenario("sigquit", NULL, out, sizeof(out), 20);

	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(2, WEXITSTATUS(st));
	ASSERT_NE(NULL, strstr(out, "SIGQUIT: quit"));
	ASSERT_NE(NULL, strstr(out, "goroutine 2 [sleep]"));
}

SCENARIO_MAIN(scenarios)
