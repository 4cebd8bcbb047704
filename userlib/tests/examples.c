/* SPDX-License-Identifier: MIT */
/* libgoro: the seed programs in examples/ run and do what they say. */
#include "kselftest_harness.h"
#include "util.h"

static char out[1 << 16];

static const char *bin(const char *name, char *buf, size_t size)
{
	const char *dir = getenv("GORO_EXAMPLES_BIN");
	char exe[2048];
	ssize_t n;

	if (dir) {
		snprintf(buf, size, "%s/%s", dir, name);
		return buf;
	}
	/* build/<variant>/tests/examples -> build/<variant>/examples/name */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = 0;
	if (strrchr(exe, '/'))
		*strrchr(exe, '/') = 0;
	snprintf(buf, size, "%s/../examples/%s", exe, name);
	return buf;
}

TEST(hello_interleaves_hello_and_world)
{
	char path[4096];
	char *argv[] = {(char *)bin("hello", path, sizeof(path)), NULL};
	int st = run_capture(argv, NULL, out, sizeof(out), 20);
	int hello = 0, world = 0;
	char *p;

	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(0, WEXITSTATUS(st));
	for (p = out; (p = strstr(p, "hello\n")); p++)
		hello++;
	for (p = out; (p = strstr(p, "world\n")); p++)
		world++;
	ASSERT_EQ(5, hello);
	/*
	 * main returning ends the program: "world" may miss its last line,
	 * or two when a loaded box wakes its 10 ms sleeps late
	 */
	ASSERT_GE(world, 3);
	ASSERT_LE(world, 5);
	/* the two goroutines ran concurrently: world before the last hello */
	ASSERT_LT(strstr(out, "world"), strrchr(out, 'h'));
}

TEST(orders_take_100ms_not_10s)
{
	char path[4096];
	char *argv[] = {(char *)bin("orders", path, sizeof(path)), NULL};
	long long t0 = now_ns(), dt;
	int st = run_capture(argv, NULL, out, sizeof(out), 30);
	const char *p;

	dt = now_ns() - t0;
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(0, WEXITSTATUS(st));
	ASSERT_NE(NULL, strstr(out, "processed 100 orders, revenue 50500"));
	/*
	 * The program's own measure of the batch (sequential would be 10 s;
	 * a generous bound for loaded machines), and the whole run including
	 * process start-up (slow under sanitizers).
	 */
	p = strstr(out, ", in ");
	ASSERT_NE(NULL, p);
	/* the debug kernel's box runs everything several times slower */
	ASSERT_LT(atol(p + 5), slow_box() ? 8000 : 2000);
	ASSERT_GE(atol(p + 5), 100);
	ASSERT_LT(dt, 20000LL * 1000000);
}

TEST(blocking_reads_and_computes_to_the_end)
{
	char path[4096];
	char *argv[] = {(char *)bin("blocking", path, sizeof(path)), "0.5",
			NULL};
	int st = run_capture(argv, NULL, out, sizeof(out), 60);
	const char *p;

	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(0, WEXITSTATUS(st));
	p = strstr(out, "blocking: ");
	ASSERT_NE(NULL, p);
	p = strstr(p + 1, "blocking: ");
	ASSERT_NE(NULL, p) TH_LOG("%s", out);
	/* every byte the feeder wrote was read; the others computed */
	ASSERT_GT(atol(p + 10), 0);
	ASSERT_EQ(atol(p + 10), atol(strstr(p, " of ") + 4));
	p = strstr(p, "read, ");
	ASSERT_NE(NULL, p);
	ASSERT_GT(atol(p + 6), 0);
}

TEST(timeouts_times_out_the_slow_job_only)
{
	char path[4096];
	char *argv[] = {(char *)bin("timeouts", path, sizeof(path)), NULL};
	int st = run_capture(argv, NULL, out, sizeof(out), 30);
	const char *p;

	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(0, WEXITSTATUS(st)) TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "job 1: done in ")) TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "job 2: done in ")) TH_LOG("%s", out);
	p = strstr(out, "job 3: timed out after ");
	ASSERT_NE(NULL, p) TH_LOG("%s", out);
	ASSERT_GE(atol(p + 23), 200);	/* never early */
	/* 200 ms of waiting at 20 ms a tick: the ticker ticked */
	p = strstr(p, "\njob 3: ");
	ASSERT_NE(NULL, p) TH_LOG("%s", out);
	ASSERT_GT(atol(p + 8), 0) TH_LOG("%s", out);
	ASSERT_EQ(0, strncmp(p + 8 + strspn(p + 8, "0123456789"),
			     " ticks while waiting", 20)) TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "watchdog stopped")) TH_LOG("%s", out);
}

TEST(deadline_cuts_the_slow_request_and_an_error_the_rest)
{
	char path[4096];
	char *argv[] = {(char *)bin("deadline", path, sizeof(path)), NULL};
	int st;
	const char *p, *r2;

	/* its servers answer in 50 to 1000 ms against deadlines of 300 ms */
	if (slow_box())
		SKIP(return, "the example's timings assume a box at most a few times slower");
	st = run_capture(argv, NULL, out, sizeof(out), 30);

	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(0, WEXITSTATUS(st)) TH_LOG("%s", out);
	r2 = strstr(out, "round 1: ");
	ASSERT_NE(NULL, r2) TH_LOG("%s", out);
	/* round 1: three answers, the fourth cut by the deadline, not early */
	ASSERT_NE(NULL, strstr(out, "request 1: \"one\" in ")) TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "request 3: \"three\" in ")) TH_LOG("%s", out);
	p = strstr(out, "request 4: timed out after ");
	ASSERT_NE(NULL, p) TH_LOG("%s", out);
	ASSERT_LT(p, r2);
	ASSERT_GE(atol(p + 27), 150);
	ASSERT_EQ(0, strncmp(r2, "round 1: deadline exceeded (-110)", 33))
		TH_LOG("%s", out);
	/* round 2: the error cancels the two still waiting, at once */
	r2 = strstr(out, "round 2: ");
	ASSERT_NE(NULL, r2) TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "request 2: server error")) TH_LOG("%s", out);
	p = strstr(out, "request 3: cancelled after ");
	ASSERT_NE(NULL, p) TH_LOG("%s", out);
	/* by the error, not by its server (1000 ms) or the deadline (2 s) */
	ASSERT_LT(atol(p + 27), 1000);
	ASSERT_NE(NULL, strstr(out, "request 4: cancelled after "))
		TH_LOG("%s", out);
	ASSERT_EQ(0, strncmp(r2, "round 2: failed (-5)", 20)) TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(r2, "; cause -5")) TH_LOG("%s", out);
}

/* an example whose libraries this build lacks is not built (libs.mk) */
#define SKIP_IF_NOT_BUILT(path)                                                \
	do {                                                                   \
		if (access(path, X_OK))                                        \
			SKIP(return, "not built: its libraries are "           \
				     "missing (examples/libs.mk)");           \
	} while (0)

TEST(tls_echo_echoes_every_byte_over_tls)
{
	char path[4096];
	char *argv[] = {(char *)bin("tls_echo", path, sizeof(path)),
			sanitized() ? "8" : "32", sanitized() ? "5" : "20",
			NULL};
	int st;
	const char *p;

	SKIP_IF_NOT_BUILT(path);
	st = run_capture(argv, NULL, out, sizeof(out), 120);
	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("%s", out);
	ASSERT_EQ(0, WEXITSTATUS(st)) TH_LOG("%s", out);
	p = strstr(out, "tls_echo: ");
	ASSERT_NE(NULL, p) TH_LOG("%s", out);
	ASSERT_EQ(0, strncmp(p, sanitized() ? "tls_echo: 8 clients, 5 messages"
					     : "tls_echo: 32 clients, 20 messages",
			     sanitized() ? 31 : 33)) TH_LOG("%s", out);
	/* bytes verified by the clients, over TLS, no error */
	p = strstr(p, " each, ");
	ASSERT_NE(NULL, p) TH_LOG("%s", out);
	ASSERT_GT(atol(p + 7), 0);
	ASSERT_NE(NULL, strstr(p, " bytes echoed and verified (TLSv1."))
		TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(p, "), 0 errors, in ")) TH_LOG("%s", out);
}

/* one P: the ticker, and the other connections, run while one blocks */
TEST(sqlite_counts_every_row_of_every_goroutine)
{
	char path[4096];
	const char *w = sanitized() ? "6" : "12", *t = sanitized() ? "6" : "10";
	char *argv[] = {(char *)bin("sqlite", path, sizeof(path)), (char *)w,
			(char *)t, NULL};
	char want[128];
	int st, rows = atoi(w) * atoi(t) * 8;
	const char *p;

	SKIP_IF_NOT_BUILT(path);
	st = run_capture(argv, "GORO_PROCS=1", out, sizeof(out), 180);
	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("%s", out);
	ASSERT_EQ(0, WEXITSTATUS(st)) TH_LOG("%s", out);
	p = strstr(out, "sqlite: ");
	ASSERT_NE(NULL, p) TH_LOG("%s", out);
	snprintf(want, sizeof(want), "%d rows inserted in %d transactions, "
		 "%d queries, %d rows counted from %s workers, 0 errors",
		 rows, rows / 8, rows / 8, rows, w);
	ASSERT_NE(NULL, strstr(p, want)) TH_LOG("%s", out);
	/* bracketed on the user backend, plain on kmod, as goro.h says */
	ASSERT_NE(NULL, strstr(p, strstr(p, "(kmod backend)") ?
			       "plain calls" : "bracketed calls (user"))
		TH_LOG("%s", out);
}

/*
 * supervisor: SIGTERM once its workers run stops each as its kind
 * allows (killed by the SIGTERM, trapped it and exited 3, ignored it
 * and got SIGKILL three seconds later), and it exits 0.
 */
TEST(supervisor_stops_its_workers_on_sigterm)
{
	char path[4096];
	char *argv[] = {(char *)bin("supervisor", path, sizeof(path)), "3",
			NULL};
	int fds[2], st;
	size_t len = 0;
	long long deadline = now_ns() + 60 * 1000000000LL;
	bool sent = false;
	pid_t pid;

	SKIP_IF_NOT_BUILT(path);
	ASSERT_EQ(0, pipe(fds));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		exec_child(argv);
		_exit(127);
	}
	close(fds[1]);
	while (now_ns() < deadline) {
		struct pollfd p = {fds[0], POLLIN, 0};
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(fds[0], out + len, sizeof(out) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		out[len] = 0;
		if (!sent && strstr(out, "3 workers running")) {
			ASSERT_EQ(0, kill(pid, SIGTERM));
			sent = true;
		}
	}
	close(fds[0]);
	if (now_ns() >= deadline)
		kill(pid, SIGKILL);
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	ASSERT_TRUE(sent) TH_LOG("%s", out);
	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("%s", out);
	ASSERT_EQ(0, WEXITSTATUS(st)) TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "supervisor: Terminated, stopping"))
		TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "worker 0: killed by signal 15\n"))
		TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "worker 1: stopping\n")) TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "worker 1: exited with status 3\n"))
		TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "worker 2: still running after 3 s"))
		TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "worker 2: killed by signal 9\n"))
		TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "supervisor: all 3 workers stopped\n"))
		TH_LOG("%s", out);
}

TEST_HARNESS_MAIN
