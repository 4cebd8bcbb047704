/* SPDX-License-Identifier: MIT */
/*
 * libgoro: subprocesses. A child's exit status comes back from
 * goro_proc_wait; many children waited for by goroutines on one P leave
 * that P free (a ticker goroutine keeps ticking while they sleep); a
 * child's stdin and stdout go through pipes read and written with
 * goro_read/goro_write; a sleeping child is killed through its pidfd; a
 * wait ends with its context; bad input is refused. Only /bin/sh and
 * sleep are needed (busybox has both).
 */
#include <goro.h>
#include <pthread.h>
#include <stdatomic.h>

#include "kselftest_harness.h"
#include "util.h"

#define MS 1000000LL
#define SEC 1000000000LL

static goro_proc *sh(const char *cmd, const struct goro_proc_opts *o)
{
	char *argv[] = {(char *)"sh", (char *)"-c", (char *)cmd, NULL};

	return goro_proc_start("/bin/sh", argv, o);
}

TEST(exit_status_comes_back)
{
	goro_proc *p = sh("exit 3", NULL);
	int st;

	ASSERT_NE(NULL, p);
	ASSERT_GT(goro_proc_pid(p), 0);
	st = goro_proc_wait(p, NULL);
	ASSERT_GE(st, 0);
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(3, WEXITSTATUS(st));
	/* again, the same */
	ASSERT_EQ(st, goro_proc_wait(p, NULL));
	ASSERT_EQ(-ESRCH, goro_proc_signal(p, SIGTERM));
	goro_proc_free(p);
}

/* ---- many children, one P ---- */

#define NCHILD 16

struct many {
	goro_wg wg;
	atomic_int ok;
};

static void run_sleeper(void *arg)
{
	struct many *m = arg;
	goro_proc *p = sh("sleep 1; exit 7", NULL);

	if (p) {
		int st = goro_proc_wait(p, NULL);

		if (st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 7)
			atomic_fetch_add(&m->ok, 1);
		goro_proc_free(p);
	}
	goro_wg_done(&m->wg);
}

struct ticks {
	goro_ticker *t;
	goro_chan *stop;
	atomic_int n;
	goro_wg done;
};

static void ticking(void *arg)
{
	struct ticks *k = arg;
	int64_t v;
	struct goro_case c[] = {
		{GORO_RECV, goro_ticker_chan(k->t), &v, NULL},
		{GORO_RECV, k->stop, NULL, NULL},
	};

	while (goro_select(c, 2, true) == 0)
		atomic_fetch_add(&k->n, 1);
	goro_wg_done(&k->done);
}

TEST(many_children_on_one_p_do_not_stall_it)
{
	static struct many m = {GORO_WG_INIT, 0};
	static struct ticks k = {0};
	int64_t t0, wall;
	int i;

	goro_setprocs(1);
	k.t = goro_ticker_make(10 * MS);
	k.stop = goro_chan_make(0, 0);
	goro_wg_add(&k.done, 1);
	goro_go(ticking, &k);
	t0 = goro_now();
	goro_wg_add(&m.wg, NCHILD);
	for (i = 0; i < NCHILD; i++)
		goro_go(run_sleeper, &m);
	goro_wg_wait(&m.wg);
	wall = goro_now() - t0;
	goro_chan_close(k.stop);
	goro_wg_wait(&k.done);
	ASSERT_EQ(NCHILD, atomic_load(&m.ok));
	/* they slept together, not one after another */
	ASSERT_LT(wall, NCHILD / 2 * SEC) TH_LOG("%lld ms", (long long)(wall / MS));
	/* the one P ran the ticker meanwhile: ~100 ticks a second */
	ASSERT_GE(atomic_load(&k.n), 20) TH_LOG("%d ticks in %lld ms",
					       atomic_load(&k.n),
					       (long long)(wall / MS));
	goro_ticker_free(k.t);
	goro_chan_free(k.stop);
}

/* ---- pipes ---- */

TEST(stdout_through_a_pipe)
{
	struct goro_proc_opts o = {0};
	char buf[256];
	size_t len = 0;
	ssize_t n;
	int fds[2], st;
	goro_proc *p;

	ASSERT_EQ(0, pipe2(fds, O_CLOEXEC));
	o.fd[1] = fds[1];
	o.flags = GORO_PROC_STDOUT;
	p = sh("echo hello; sleep 0; echo world", &o);
	ASSERT_NE(NULL, p);
	close(fds[1]);
	while ((n = goro_read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	ASSERT_EQ(0, n);
	buf[len] = 0;
	ASSERT_STREQ("hello\nworld\n", buf);
	st = goro_proc_wait(p, NULL);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	goro_proc_free(p);
	goro_close(fds[0]);
}

TEST(stdin_and_stderr_redirected)
{
	struct goro_proc_opts o = {0};
	char buf[64];
	ssize_t n;
	int in[2], err[2], st;
	goro_proc *p;

	ASSERT_EQ(0, pipe2(in, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(err, O_CLOEXEC));
	o.fd[0] = in[0];
	o.fd[2] = err[1];
	o.flags = GORO_PROC_STDIN | GORO_PROC_STDERR;
	p = sh("read x; echo got $x >&2; exit $x", &o);
	ASSERT_NE(NULL, p);
	close(in[0]);
	close(err[1]);
	ASSERT_EQ(2, goro_write(in[1], "5\n", 2));
	n = goro_read(err[0], buf, sizeof(buf) - 1);
	ASSERT_GT(n, 0);
	buf[n] = 0;
	ASSERT_STREQ("got 5\n", buf);
	st = goro_proc_wait(p, NULL);
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(5, WEXITSTATUS(st));
	goro_proc_free(p);
	goro_close(in[1]);
	goro_close(err[0]);
}

/*
 * The child's stdout is the caller's fd 2 and its stderr the caller's fd
 * 1: each source is one of the other's targets.
 */
static void read_all(int fd, char *buf, size_t size)
{
	size_t len = 0;
	ssize_t n;

	while (len + 1 < size &&
	       (n = goro_read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	buf[len] = 0;
}

TEST(swapped_standard_descriptors)
{
	struct goro_proc_opts o = {0};
	char a[64], b[64];
	int pa[2], pb[2], save1, save2, st;
	goro_proc *p;

	ASSERT_EQ(0, pipe2(pa, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(pb, O_CLOEXEC));
	fflush(stdout);
	save1 = dup(1);
	save2 = dup(2);
	dup2(pa[1], 1);
	dup2(pb[1], 2);
	o.fd[1] = 2;
	o.fd[2] = 1;
	o.flags = GORO_PROC_STDOUT | GORO_PROC_STDERR;
	p = sh("echo out; echo err >&2", &o);
	dup2(save1, 1);
	dup2(save2, 2);
	close(save1);
	close(save2);
	close(pa[1]);
	close(pb[1]);
	ASSERT_NE(NULL, p);
	read_all(pa[0], a, sizeof(a));
	read_all(pb[0], b, sizeof(b));
	ASSERT_STREQ("err\n", a);
	ASSERT_STREQ("out\n", b);
	st = goro_proc_wait(p, NULL);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	goro_proc_free(p);
	goro_close(pa[0]);
	goro_close(pb[0]);
	o.fd[1] = 1000;
	errno = 0;
	ASSERT_EQ(NULL, sh("exit 0", &o));
	ASSERT_EQ(EBADF, errno);
}

/* ---- signals, contexts, errors ---- */

TEST(kill_of_a_sleeping_child)
{
	struct goro_proc_opts o = {.flags = GORO_PROC_PATH};
	char *argv[] = {(char *)"sleep", (char *)"30", NULL};
	int64_t t0 = goro_now();
	goro_proc *p = goro_proc_start("sleep", argv, &o);
	int st;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(0, goro_proc_signal(p, 0));
	ASSERT_EQ(0, goro_proc_signal(p, SIGKILL));
	st = goro_proc_wait(p, NULL);
	ASSERT_TRUE(WIFSIGNALED(st));
	ASSERT_EQ(SIGKILL, WTERMSIG(st));
	ASSERT_LT(goro_now() - t0, 20 * SEC);
	ASSERT_EQ(-ESRCH, goro_proc_signal(p, SIGKILL));
	goro_proc_free(p);
}

TEST(wait_ends_with_its_context)
{
	goro_ctx *ctx = goro_ctx_make_timeout(NULL, 50 * MS);
	goro_proc *p = sh("exec sleep 30", NULL);
	int st;

	ASSERT_NE(NULL, p);
	ASSERT_EQ(-ETIMEDOUT, goro_proc_wait(p, ctx));
	/* still running: kill it, then the wait gets the status */
	ASSERT_EQ(0, goro_proc_signal(p, SIGTERM));
	st = goro_proc_wait(p, NULL);
	ASSERT_TRUE(WIFSIGNALED(st));
	ASSERT_EQ(SIGTERM, WTERMSIG(st));
	goro_ctx_free(ctx);
	goro_proc_free(p);
}

static void wait_one(void *arg)
{
	void **a = arg;
	goro_proc *p = a[0];

	*(int *)a[1] = goro_proc_wait(p, NULL);
	goro_wg_done(a[2]);
}

TEST(several_waiters_see_one_status)
{
	goro_wg wg = GORO_WG_INIT;
	goro_proc *p = sh("sleep 0; exit 9", NULL);
	int st[3], i;
	void *a[3][3];

	ASSERT_NE(NULL, p);
	goro_wg_add(&wg, 3);
	for (i = 0; i < 3; i++) {
		a[i][0] = p;
		a[i][1] = &st[i];
		a[i][2] = &wg;
		goro_go(wait_one, a[i]);
	}
	goro_wg_wait(&wg);
	for (i = 0; i < 3; i++) {
		ASSERT_TRUE(WIFEXITED(st[i]));
		ASSERT_EQ(9, WEXITSTATUS(st[i]));
	}
	goro_proc_free(p);
}

TEST(start_errors)
{
	char *argv[] = {(char *)"x", NULL};
	struct goro_proc_opts o = {0};

	/*
	 * qemu-user (GORO_TEST_RUNNER) runs posix_spawn's CLONE_VFORK child
	 * as a fork: an execve that fails there is not seen by the parent
	 */
	if (!getenv("GORO_TEST_RUNNER") || !*getenv("GORO_TEST_RUNNER")) {
		errno = 0;
		ASSERT_EQ(NULL, goro_proc_start("/nonexistent/goro-test", argv,
						NULL));
		ASSERT_EQ(ENOENT, errno);
	}
	ASSERT_EQ(NULL, goro_proc_start(NULL, argv, NULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(NULL, goro_proc_start("/bin/sh", NULL, NULL));
	ASSERT_EQ(EINVAL, errno);
	o.flags = 0x100;
	ASSERT_EQ(NULL, goro_proc_start("/bin/sh", argv, &o));
	ASSERT_EQ(EINVAL, errno);
	o.flags = 0;
	o.resv[1] = 1;
	ASSERT_EQ(NULL, goro_proc_start("/bin/sh", argv, &o));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-EINVAL, goro_proc_wait(NULL, NULL));
	ASSERT_EQ(-EINVAL, goro_proc_signal(NULL, 0));
	goro_proc_free(NULL);
}

/* a foreign thread waits too (in poll) */
static void *foreign_wait(void *arg)
{
	goro_proc *p = sh("exit 4", NULL);
	intptr_t st = -1;

	if (p) {
		st = goro_proc_wait(p, NULL);
		goro_proc_free(p);
	}
	return (void *)st;
}

TEST(foreign_thread_waits)
{
	pthread_t t;
	void *r;

	goro_yield();	/* the runtime runs, main is goroutine 1 */
	ASSERT_EQ(0, pthread_create(&t, NULL, foreign_wait, NULL));
	ASSERT_EQ(0, pthread_join(t, &r));
	ASSERT_TRUE(WIFEXITED((int)(intptr_t)r));
	ASSERT_EQ(4, WEXITSTATUS((int)(intptr_t)r));
}

TEST_HARNESS_MAIN
