/* SPDX-License-Identifier: MIT */
/* Helpers shared by the libgoro tests. */
#ifndef GORO_TEST_UTIL_H
#define GORO_TEST_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static inline long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * A slow run, where the big tests take their small sizes: under a
 * sanitizer (GORO_VARIANT set by the Makefile for the check run), or
 * GORO_VARIANT=slow (the debug kernel's box: KASAN and lockdep under
 * emulation).
 */
static inline int sanitized(void)
{
	const char *v = getenv("GORO_VARIANT");

	return v && (strcmp(v, "asan") == 0 || strcmp(v, "tsan") == 0 ||
		     strcmp(v, "slow") == 0);
}

/* The debug kernel's box (GORO_VARIANT=slow): KASAN and lockdep, emulated. */
static inline int slow_box(void)
{
	const char *v = getenv("GORO_VARIANT");

	return v && strcmp(v, "slow") == 0;
}

/* Running under TSan, where each new goroutine costs milliseconds. */
static inline int tsan(void)
{
	const char *v = getenv("GORO_VARIANT");

	return v && strcmp(v, "tsan") == 0;
}

/*
 * The process's thread count as /proc/self/stat shows it (field 20), or
 * -1. libgoro's deadlock detector compares it with the threads it knows;
 * qemu-user 7.2 fakes that file and shows 0 there, so under it the detector
 * stays off and the tests that expect a deadlock report skip.
 */
static inline int stat_threads(void)
{
	char buf[1024], *p;
	FILE *f = fopen("/proc/self/stat", "r");
	size_t n;
	int i;

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	for (i = 2; i < 20 && p; i++)
		p = strchr(p + 1, ' ');
	return p ? atoi(p + 1) : -1;
}

#define SKIP_WITHOUT_THREAD_COUNT()                                            \
	do {                                                                   \
		if (stat_threads() <= 0)                                       \
			SKIP(return, "/proc/self/stat has no thread count "   \
				     "(qemu-user): no deadlock detection");   \
	} while (0)

/*
 * A test binary's child (a scenario, an example) runs the way the test
 * itself was started: GORO_TEST_RUNNER, when set and not empty, is the
 * program that runs it (qemu-aarch64 for a cross build, which cannot
 * start a foreign binary by itself).
 */
static inline void exec_child(char *const argv[])
{
	const char *runner = getenv("GORO_TEST_RUNNER");
	char *av[64];
	int i;

	if (!runner || !*runner) {
		execv(argv[0], argv);
		return;
	}
	av[0] = (char *)runner;
	for (i = 0; argv[i] && i < 62; i++)
		av[i + 1] = argv[i];
	av[i + 1] = NULL;
	execvp(runner, av);
}

/*
 * Run argv as a child with stdout and stderr into out (NUL-terminated,
 * truncated to size), killing it after timeout_s. Returns the wait status,
 * or -1 if it could not run. env: extra "K=V" assignments, one a line
 * ("K=" sets K empty, which libgoro reads as unset), or NULL.
 */
static inline int run_capture(char *const argv[], const char *env, char *out,
			      size_t size, int timeout_s)
{
	int fds[2], status = -1;
	size_t len = 0;
	long long deadline;
	pid_t pid;

	if (pipe(fds))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		if (env) {
			char *e = strdup(env), *save = NULL, *kv;

			for (kv = strtok_r(e, "\n", &save); kv;
			     kv = strtok_r(NULL, "\n", &save))
				putenv(kv);
		}
		exec_child(argv);
		_exit(127);
	}
	close(fds[1]);
	deadline = now_ns() + timeout_s * 1000000000LL;
	for (;;) {
		struct pollfd p = {fds[0], POLLIN, 0};
		long long left = (deadline - now_ns()) / 1000000;
		ssize_t n;
		char sink[4096];

		if (left <= 0) {
			kill(pid, SIGKILL);
			break;
		}
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		if (len + 1 < size)
			n = read(fds[0], out + len, size - 1 - len);
		else
			n = read(fds[0], sink, sizeof(sink));
		if (n <= 0)
			break;
		if (len + 1 < size)
			len += n;
	}
	close(fds[0]);
	out[len] = 0;
	waitpid(pid, &status, 0);
	return status;
}

/* Run this test binary's own scenario `name` (see child_main). */
static inline int run_scenario(const char *name, const char *env, char *out,
			       size_t size, int timeout_s)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *argv[] = {exe, (char *)"--scenario", (char *)name, NULL};

	if (n <= 0)
		return -1;
	exe[n] = 0;
	return run_capture(argv, env, out, size, timeout_s);
}

/*
 * main() of test files with scenarios: "--scenario NAME" runs NAME as the
 * whole program (so it is main, goroutine 1), else the harness.
 */
#define SCENARIO_MAIN(table)                                                   \
	int main(int argc, char **argv)                                        \
	{                                                                      \
		if (argc == 3 && strcmp(argv[1], "--scenario") == 0) {         \
			size_t i_;                                             \
			for (i_ = 0; i_ < sizeof(table) / sizeof(table[0]);   \
			     i_++)                                             \
				if (strcmp(table[i_].name, argv[2]) == 0)      \
					return table[i_].fn();                 \
			return 127;                                            \
		}                                                              \
		return test_harness_run(argc, argv);                           \
	}

struct scenario {
	const char *name;
	int (*fn)(void);
};

/*
 * The fixture of the tests that run at several GOMAXPROCS: each variant
 * sets goro_setprocs(nprocs) before the test. A file declares it with
 * PROCS_FIXTURE() and adds the counts it wants with PROCS_VARIANT(n)
 * (named pN); the harness runs each TEST_F(procs, ...) once per variant.
 */
#define PROCS_FIXTURE()                                                        \
	FIXTURE(procs) {                                                       \
		int dummy;                                                     \
	};                                                                     \
	FIXTURE_VARIANT(procs) {                                               \
		int nprocs;                                                    \
	};                                                                     \
	FIXTURE_SETUP(procs)                                                   \
	{                                                                      \
		goro_setprocs(variant->nprocs);                                \
	}                                                                      \
	FIXTURE_TEARDOWN(procs)                                                \
	{                                                                      \
	}

#define PROCS_VARIANT(n) FIXTURE_VARIANT_ADD(procs, p##n) { .nprocs = n }

/*
 * Run this file's scenario name (see SCENARIO_MAIN) as a child that must
 * die of a fatal error: exit status 2, msg in its output, and never get
 * to print after (what the scenario prints past the fatal call).
 */
#define expect_fatal(name, msg, after)                                         \
	expect_fatal_(_metadata, name, NULL, msg, after)
/* ... with env as run_capture's */
#define expect_fatal_env(name, env, msg, after)                                \
	expect_fatal_(_metadata, name, env, msg, after)

static inline void expect_fatal_(struct __test_metadata *_metadata,
				 const char *name, const char *env,
				 const char *msg, const char *after)
{
	char out[8192];
	int st = run_scenario(name, env, out, sizeof(out), 20);

	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("%s: status %#x: %s", name, st, out);
	ASSERT_EQ(2, WEXITSTATUS(st)) TH_LOG("%s: %s", name, out);
	ASSERT_NE(NULL, strstr(out, msg)) TH_LOG("%s: %s", name, out);
	ASSERT_EQ(NULL, strstr(out, after)) TH_LOG("%s: %s", name, out);
}

#endif
