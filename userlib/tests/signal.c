/* SPDX-License-Identifier: MIT */
/*
 * libgoro: signals. A signal the program blocked before its first goro_
 * call stays blocked in every thread (the signalfd pattern survives);
 * goro_signal_notify delivers to channels, a select on one works, stop
 * stops it and gives the signal back its disposition (and its block);
 * the runtime's own signals and uncatchable ones are refused; waiting
 * only for a signal is no deadlock; SIGQUIT still dumps.
 */
#include <goro.h>
#include <dirent.h>
#include <sys/signalfd.h>

#include "kselftest_harness.h"
#include "util.h"

#define MS 1000000LL
#define SEC 1000000000LL

/* ---- helpers ---- */

static void busy(void *arg)
{
	int64_t end = goro_now() + 100 * MS;

	while (goro_now() < end)
		goro_preempt_point();
	goro_wg_done(arg);
}

/* keep 4 Ps busy for a while: every P gets an M */
static void start_ms(void)
{
	goro_wg wg = GORO_WG_INIT;
	int i;

	goro_setprocs(4);
	goro_wg_add(&wg, 8);
	for (i = 0; i < 8; i++)
		goro_go(busy, &wg);
	goro_wg_wait(&wg);
}

/*
 * Every thread of the process with sig blocked (SigBlk of
 * /proc/self/task/N/status): the number of threads, or minus the number
 * of those that let sig in.
 */
static int threads_blocking(int sig)
{
	char path[300], line[256];
	unsigned long long mask;
	int n = 0, bad = 0;
	struct dirent *e;
	DIR *d = opendir("/proc/self/task");

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status",
			 e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "SigBlk: %llx", &mask) == 1) {
				n++;
				if (!(mask & (1ULL << (sig - 1)))) {
					bad++;
					printf("thread %s lets signal %d in\n",
					       e->d_name, sig);
				}
			}
		fclose(f);
	}
	closedir(d);
	return bad ? -bad : n;
}

static void block(int sig)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, sig);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
}

/* read one signal from a signalfd through the netpoller: its number */
static int sfd_read(int fd)
{
	struct signalfd_siginfo si;
	ssize_t n = goro_read_deadline(fd, &si, sizeof(si),
				       goro_now() + 5 * SEC);

	return n == (ssize_t)sizeof(si) ? (int)si.ssi_signo : (int)n;
}

static void kill_self(void *arg)
{
	kill(getpid(), *(int *)arg);
}

/* ---- scenarios (run as the child's whole program) ---- */

/*
 * Block SIGUSR1, open a signalfd, then start the runtime and its Ms;
 * SIGUSR1 sent to the process from a goroutine waits in the signalfd.
 * The old runtime let it in on every M: the process died of it.
 */
static int sc_signalfd(void)
{
	int sfd, sig = SIGUSR1, n, i;
	sigset_t s;

	block(SIGUSR1);
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sfd = signalfd(-1, &s, SFD_CLOEXEC);
	if (sfd < 0)
		return 10;
	start_ms();
	n = threads_blocking(SIGUSR1);
	printf("threads blocking SIGUSR1: %d\n", n);
	for (i = 0; i < 3; i++) {
		goro_go(kill_self, &sig);
		goro_sleep(5 * MS);
		printf("signalfd read %d\n", sfd_read(sfd));
	}
	fflush(stdout);
	return 0;
}

/*
 * A signal blocked at start and wanted on a channel comes through the
 * runtime's signal thread; after stop it is blocked again (the signalfd
 * gets it, the process lives).
 */
static int sc_blocked_notify(void)
{
	goro_chan *c;
	int sfd, sig = 0;
	sigset_t s;

	block(SIGUSR1);
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sfd = signalfd(-1, &s, SFD_CLOEXEC);
	c = goro_chan_make(sizeof(int), 1);
	if (sfd < 0 || !c)
		return 10;
	start_ms();
	printf("notify %d\n", goro_signal_notify(c, SIGUSR1));
	kill(getpid(), SIGUSR1);
	if (goro_select(&(struct goro_case){GORO_RECV, c, &sig, NULL}, 1,
			true) == 0)
		printf("channel got %d\n", sig);
	goro_signal_stop(c);
	printf("threads blocking SIGUSR1 after stop: %d\n",
	       threads_blocking(SIGUSR1));
	kill(getpid(), SIGUSR1);
	printf("signalfd read %d\n", sfd_read(sfd));
	printf("channel after stop %d\n", goro_chan_tryrecv(c, &sig, NULL));
	fflush(stdout);
	return 0;
}

/* SIGQUIT's dump, with SIGUSR1 blocked and wanted on a channel */
static void sleeper(void *arg)
{
	goro_sleep(10 * SEC);
}

static int sc_sigquit(void)
{
	goro_chan *c;

	block(SIGUSR1);
	c = goro_chan_make(sizeof(int), 1);
	printf("notify %d\n", goro_signal_notify(c, SIGUSR1));
	fflush(stdout);
	goro_go(sleeper, NULL);
	goro_yield();
	raise(SIGQUIT);
	goro_sleep(5 * SEC);
	return 0;
}

/* main waits only for SIGALRM, which the kernel sends in 200 ms */
static int sc_wait_signal(void)
{
	goro_chan *c = goro_chan_make(sizeof(int), 1);
	int sig = 0;

	if (goro_signal_notify(c, SIGALRM))
		return 10;
	ualarm(200000, 0);
	goro_chan_recv(c, &sig);
	printf("got %d\n", sig);
	return 0;
}

static const struct scenario scenarios[] = {
	{"signalfd", sc_signalfd},
	{"blocked_notify", sc_blocked_notify},
	{"sigquit", sc_sigquit},
	{"wait_signal", sc_wait_signal},
};

/* ---- tests ---- */

static char out[1 << 16];

TEST(signalfd_pattern_survives)
{
	char want[64];
	int st = run_scenario("signalfd", NULL, out, sizeof(out), 30);

	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("status %#x: %s", st, out);
	ASSERT_EQ(0, WEXITSTATUS(st)) TH_LOG("%s", out);
	snprintf(want, sizeof(want), "signalfd read %d\nsignalfd read %d\n"
		 "signalfd read %d\n", SIGUSR1, SIGUSR1, SIGUSR1);
	ASSERT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);
}

TEST(blocked_signal_stays_blocked_in_every_thread)
{
	const char *p;
	int st = run_scenario("signalfd", NULL, out, sizeof(out), 30);

	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("status %#x: %s", st, out);
	p = strstr(out, "threads blocking SIGUSR1: ");
	ASSERT_NE(NULL, p) TH_LOG("%s", out);
	/* main, sysmon and the Ms of 4 Ps at least */
	ASSERT_GE(atoi(p + strlen("threads blocking SIGUSR1: ")), 4)
		TH_LOG("%s", out);
}

TEST(blocked_signal_notified_then_blocked_again)
{
	char want[64];
	const char *p;
	int st = run_scenario("blocked_notify", NULL, out, sizeof(out), 30);

	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("status %#x: %s", st, out);
	ASSERT_EQ(0, WEXITSTATUS(st)) TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "notify 0\n")) TH_LOG("%s", out);
	snprintf(want, sizeof(want), "channel got %d\n", SIGUSR1);
	ASSERT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);
	p = strstr(out, "after stop: ");
	ASSERT_NE(NULL, p) TH_LOG("%s", out);
	ASSERT_GE(atoi(p + strlen("after stop: ")), 4) TH_LOG("%s", out);
	snprintf(want, sizeof(want), "signalfd read %d\n", SIGUSR1);
	ASSERT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);
	snprintf(want, sizeof(want), "channel after stop %d\n", -EAGAIN);
	ASSERT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);
}

TEST(sigquit_still_dumps)
{
	int st = run_scenario("sigquit", NULL, out, sizeof(out), 30);

	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("status %#x: %s", st, out);
	ASSERT_EQ(2, WEXITSTATUS(st)) TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "notify 0\n")) TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "SIGQUIT: quit")) TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "goroutine 2 [sleep]")) TH_LOG("%s", out);
}

TEST(waiting_for_a_signal_is_not_a_deadlock)
{
	char want[32];
	int st = run_scenario("wait_signal", NULL, out, sizeof(out), 30);

	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("status %#x: %s", st, out);
	ASSERT_EQ(0, WEXITSTATUS(st)) TH_LOG("%s", out);
	snprintf(want, sizeof(want), "got %d\n", SIGALRM);
	ASSERT_NE(NULL, strstr(out, want)) TH_LOG("%s", out);
	ASSERT_EQ(NULL, strstr(out, "deadlock")) TH_LOG("%s", out);
}

TEST(notify_delivers_to_a_select)
{
	goro_chan *c = goro_chan_make(sizeof(int), 1);
	goro_chan *never = goro_chan_make(sizeof(int), 0);
	goro_chan *t = goro_after(10 * SEC);
	int sig = 0, i, who = SIGUSR1;
	int64_t v;
	struct goro_case k[] = {
		{GORO_RECV, never, &sig, NULL},
		{GORO_RECV, c, &sig, NULL},
		{GORO_RECV, t, &v, NULL},
	};

	ASSERT_EQ(0, goro_signal_notify(c, SIGUSR1));
	ASSERT_EQ(0, goro_signal_notify(c, SIGUSR1));	/* a set */
	for (i = 0; i < 3; i++) {
		/* from a goroutine, while main waits in the select */
		goro_go(kill_self, &who);
		ASSERT_EQ(1, goro_select(k, 3, true));
		ASSERT_EQ(SIGUSR1, sig);
	}
	/* kill() from this thread too */
	kill(getpid(), SIGUSR1);
	ASSERT_EQ(1, goro_select(k, 3, true));
	goro_signal_stop(c);
	goro_chan_free(c);
	goro_chan_free(never);
	goro_chan_free(t);
}

TEST(every_channel_gets_it_and_stop_stops)
{
	goro_chan *a = goro_chan_make(sizeof(int), 1);
	goro_chan *b = goro_chan_make(sizeof(int), 4);
	struct sigaction sa;
	int sig = 0;

	ASSERT_EQ(0, goro_signal_notify(a, SIGUSR2));
	ASSERT_EQ(0, goro_signal_notify(b, SIGUSR2));
	ASSERT_EQ(0, goro_signal_notify(b, SIGHUP));
	kill(getpid(), SIGUSR2);
	ASSERT_TRUE(goro_chan_recv(a, &sig));
	ASSERT_EQ(SIGUSR2, sig);
	ASSERT_TRUE(goro_chan_recv(b, &sig));
	ASSERT_EQ(SIGUSR2, sig);
	kill(getpid(), SIGHUP);
	ASSERT_TRUE(goro_chan_recv(b, &sig));
	ASSERT_EQ(SIGHUP, sig);
	ASSERT_EQ(-EAGAIN, goro_chan_tryrecv(a, &sig, NULL));

	/* a stopped: b still gets SIGUSR2, a nothing */
	goro_signal_stop(a);
	kill(getpid(), SIGUSR2);
	ASSERT_TRUE(goro_chan_recv(b, &sig));
	ASSERT_EQ(SIGUSR2, sig);
	goro_sleep(20 * MS);
	ASSERT_EQ(-EAGAIN, goro_chan_tryrecv(a, &sig, NULL));

	/* nobody wants them: the default disposition is back */
	goro_signal_stop(b);
	ASSERT_EQ(0, sigaction(SIGUSR2, NULL, &sa));
	ASSERT_TRUE(sa.sa_handler == SIG_DFL);
	ASSERT_EQ(0, sigaction(SIGHUP, NULL, &sa));
	ASSERT_TRUE(sa.sa_handler == SIG_DFL);
	goro_signal_stop(b);	/* again: nothing */
	goro_signal_stop(NULL);
	goro_chan_free(a);
	goro_chan_free(b);
}

/* a full channel drops the delivery; the next one with room gets it */
TEST(delivery_never_blocks)
{
	goro_chan *c = goro_chan_make(sizeof(int), 1);
	int sig = 0;

	ASSERT_EQ(0, goro_signal_notify(c, SIGUSR1));
	kill(getpid(), SIGUSR1);
	goro_sleep(50 * MS);
	kill(getpid(), SIGUSR1);
	goro_sleep(50 * MS);
	ASSERT_EQ(1, (int)goro_chan_len(c));
	ASSERT_TRUE(goro_chan_recv(c, &sig));
	kill(getpid(), SIGUSR1);
	ASSERT_TRUE(goro_chan_recv(c, &sig));
	ASSERT_EQ(SIGUSR1, sig);
	goro_signal_stop(c);
	goro_chan_free(c);
}

TEST(refused_signals)
{
	goro_chan *c = goro_chan_make(sizeof(int), 1);
	goro_chan *wide = goro_chan_make(sizeof(int64_t), 1);
	struct sigaction before, sa;

	ASSERT_EQ(0, sigaction(SIGFPE, NULL, &before));
	ASSERT_EQ(-EINVAL, goro_signal_notify(NULL, SIGUSR1));
	ASSERT_EQ(-EINVAL, goro_signal_notify(wide, SIGUSR1));
	ASSERT_EQ(-EINVAL, goro_signal_notify(c, 0));
	ASSERT_EQ(-EINVAL, goro_signal_notify(c, 65));
	ASSERT_EQ(-EINVAL, goro_signal_notify(c, -1));
	ASSERT_EQ(-EINVAL, goro_signal_notify(c, SIGKILL));
	ASSERT_EQ(-EINVAL, goro_signal_notify(c, SIGSTOP));
	ASSERT_EQ(-EINVAL, goro_signal_notify(c, SIGFPE));
	ASSERT_EQ(-EINVAL, goro_signal_notify(c, 32));
	ASSERT_EQ(-EBUSY, goro_signal_notify(c, SIGURG));
	ASSERT_EQ(-EBUSY, goro_signal_notify(c, SIGSEGV));
	ASSERT_EQ(-EBUSY, goro_signal_notify(c, SIGBUS));
	ASSERT_EQ(-EBUSY, goro_signal_notify(c, SIGQUIT));
	/* nothing was installed */
	ASSERT_EQ(0, sigaction(SIGFPE, NULL, &sa));
	ASSERT_TRUE(sa.sa_handler == before.sa_handler);
	/* real-time signals are fine */
	ASSERT_EQ(0, goro_signal_notify(c, SIGRTMIN + 1));
	goro_signal_stop(c);
	goro_chan_free(c);
	goro_chan_free(wide);
}

SCENARIO_MAIN(scenarios)
