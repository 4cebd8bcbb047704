/* SPDX-License-Identifier: MIT */
/*
 * libgoro: the settings. Every environment variable libgoro reads is
 * checked at start-up: a bad value is named on stderr and is fatal
 * (status 2) before the program gets to run; good values are taken;
 * GORO_DEBUG=1 prints the settings in effect and where they came from.
 */
#include <goro.h>

#include "kselftest_harness.h"
#include "util.h"

/* start the runtime, say so, report the settings as the exit status */
static int start(void)
{
	int n = goro_numprocs();

	printf("survived\n");
	fflush(stdout);
	return n;
}

/* a goroutine on the configured stack, deeper than the default 64 KiB */
static void deep(void *arg)
{
	volatile char buf[200 << 10];

	buf[0] = 1;
	buf[sizeof(buf) - 1] = 1;
	goro_chan_send(arg, NULL);
}

static int start_deep(void)
{
	goro_chan *c = goro_chan_make(0, 1);

	goro_go(deep, c);
	goro_chan_recv(c, NULL);
	goro_chan_free(c);
	printf("survived\n");
	return 0;
}

static const struct scenario scenarios[] = {
	{"start", start},
	{"start_deep", start_deep},
};

/* one bad value: fatal, named, before the program runs on */
#define bad(env, msg) expect_fatal_env("start", env, msg, "survived")

TEST(bad_procs_is_fatal)
{
	bad("GORO_PROCS=abc", "goro: GORO_PROCS=abc: not a number in 1..256");
	bad("GORO_PROCS=0", "goro: GORO_PROCS=0: not a number in 1..256");
	bad("GORO_PROCS=257", "goro: GORO_PROCS=257: not a number in 1..256");
	bad("GORO_PROCS=2x", "goro: GORO_PROCS=2x: not a number in 1..256");
	bad("GORO_PROCS=99999999999999999999",
	    "goro: GORO_PROCS=99999999999999999999: not a number in 1..256");
}

TEST(bad_gomaxprocs_is_fatal)
{
	bad("GORO_PROCS=\nGOMAXPROCS=-1",
	    "goro: GOMAXPROCS=-1: not a number in 1..256");
}

TEST(bad_stack_is_fatal)
{
	bad("GORO_STACK=64k",
	    "goro: GORO_STACK=64k: not a number in 4096..1073741824");
	bad("GORO_STACK=12",
	    "goro: GORO_STACK=12: not a number in 4096..1073741824");
	bad("GORO_STACK=2147483648",
	    "goro: GORO_STACK=2147483648: not a number in 4096..1073741824");
}

TEST(bad_maxthreads_is_fatal)
{
	bad("GORO_MAXTHREADS=0",
	    "goro: GORO_MAXTHREADS=0: not a number in 1..2147483647");
	bad("GORO_MAXTHREADS=many",
	    "goro: GORO_MAXTHREADS=many: not a number in 1..2147483647");
}

TEST(bad_backend_is_fatal)
{
	bad("GORO_BACKEND=fast", "goro: GORO_BACKEND=fast: not user or kmod");
}

TEST(bad_debug_is_fatal)
{
	bad("GORO_DEBUG=yes", "goro: GORO_DEBUG=yes: not a number in 0..1");
	bad("GORO_DEBUG=2", "goro: GORO_DEBUG=2: not a number in 0..1");
}

TEST(bad_cgroup_root_is_fatal)
{
	bad("GORO_CGROUP_ROOT=sys/fs/cgroup",
	    "goro: GORO_CGROUP_ROOT=sys/fs/cgroup: not an absolute path to a "
	    "directory");
	bad("GORO_CGROUP_ROOT=/nonexistent/goro",
	    "goro: GORO_CGROUP_ROOT=/nonexistent/goro: not an absolute path "
	    "to a directory");
}

/* run "start" with env: its exit status, its output in out */
static int run_start(struct __test_metadata *_metadata, const char *env,
		     char *out, size_t size)
{
	int st = run_scenario("start", env, out, size, 20);

	EXPECT_TRUE(WIFEXITED(st)) TH_LOG("%s: %s", env, out);
	EXPECT_NE(NULL, strstr(out, "survived")) TH_LOG("%s: %s", env, out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(good_values_are_taken)
{
	char out[4096];

	ASSERT_EQ(7, run_start(_metadata, "GORO_PROCS=7", out, sizeof(out)));
	ASSERT_EQ(200, run_start(_metadata, "GORO_PROCS=200", out,
				 sizeof(out)));
	ASSERT_EQ(5, run_start(_metadata, "GORO_PROCS=\nGOMAXPROCS=5", out,
			       sizeof(out)));
	/* GORO_PROCS wins; the GOMAXPROCS it hides is not read */
	ASSERT_EQ(3, run_start(_metadata, "GORO_PROCS=3\nGOMAXPROCS=junk", out,
			       sizeof(out)));
	/* empty is unset */
	ASSERT_LE(1, run_start(_metadata, "GORO_PROCS=\nGOMAXPROCS=\n"
			       "GORO_STACK=\nGORO_DEBUG=", out, sizeof(out)));
	/* GORO_DEBUG=0: nothing printed */
	run_start(_metadata, "GORO_DEBUG=0", out, sizeof(out));
	ASSERT_EQ(NULL, strstr(out, "goro:")) TH_LOG("%s", out);
	ASSERT_EQ(1, run_start(_metadata, "GORO_MAXTHREADS=1000\n"
			       "GORO_PROCS=1", out, sizeof(out)));
}

/* a stack setting is the stack goroutines get: 200 KiB fit in 1 MiB */
TEST(stack_setting_is_the_goroutines_stack)
{
	char out[4096];
	int st = run_scenario("start_deep", "GORO_STACK=1048576", out,
			      sizeof(out), 20);

	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("%s", out);
	ASSERT_EQ(0, WEXITSTATUS(st)) TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "survived"));
}

TEST(debug_prints_the_settings_in_effect)
{
	char out[8192];

	run_start(_metadata, "GORO_DEBUG=1\nGORO_PROCS=3\nGORO_STACK=131072",
		  out, sizeof(out));
	ASSERT_NE(NULL, strstr(out, "goro: backend ")) TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "goro: procs 3 (GORO_PROCS=3; fixed)"))
		TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "goro: stack 131072 bytes (GORO_STACK)"))
		TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "goro: maxthreads 10000 (default)"))
		TH_LOG("%s", out);
	/* the machine's number, and why */
	run_start(_metadata, "GORO_DEBUG=1\nGORO_PROCS=\nGOMAXPROCS=", out,
		  sizeof(out));
	ASSERT_NE(NULL, strstr(out, "CPUs in the affinity mask"))
		TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "goro: stack 65536 bytes (default)"))
		TH_LOG("%s", out);
	run_start(_metadata, "GORO_DEBUG=1\nGORO_PROCS=\nGOMAXPROCS=2", out,
		  sizeof(out));
	ASSERT_NE(NULL, strstr(out, "goro: procs 2 (GOMAXPROCS=2; fixed)"))
		TH_LOG("%s", out);
}

SCENARIO_MAIN(scenarios)
