// SPDX-License-Identifier: GPL-2.0
/*
 * A process dies (SIGKILL, exec) in the middle of each scheduler path:
 * afterwards no instance and no M is left (the live counters in
 * /proc/goro/stats return to zero) and the kernel logged nothing.
 */
#include "goro_test.h"

#include <signal.h>

struct child {
	struct goro_ctx c;
	int fd;
	int pfd[2];
};

static void *park_forever(void *arg)
{
	struct child *ch = arg;
	struct goro_park pk = { 0 };

	if (goro_attach_m(ch->fd, 0, 0, NULL))
		return NULL;
	for (;;)
		goro_park_m(ch->fd, 0, &pk);
	return NULL;
}

static void *block_with_work(void *arg)
{
	struct child *ch = arg;
	char c;

	if (goro_attach_m(ch->fd, 1, 0, NULL))
		return NULL;
	goro_runq_put_batch(goro_p_of(&ch->c, 0), (__u64[]){ 1, 2, 3 }, 3);
	if (read(ch->pfd[0], &c, 1) < 0)
		return NULL;
	/* back with a P (after waiting for one): stay */
	for (;;)
		pause();
	return NULL;
}

/* Take a P whatever way, then sit on it with locks = 1. */
static void *park_then_hold(void *arg)
{
	struct child *ch = arg;
	struct goro_park pk = { 0 };
	unsigned int m;

	if (goro_attach_m(ch->fd, 0, 0, &m))
		return NULL;
	do
		goro_park_m(ch->fd, 0, &pk);
	while (pk.p == GORO_NONE);
	goro_m_of(&ch->c, m)->locks = 1;
	for (;;)
		pause();
	return NULL;
}

enum scenario { PARKED, HANDED_OFF, WAITING_FOR_P, STRESS, EXEC };

static void *stress_m(void *arg)
{
	struct child *ch = arg;
	struct goro_park pk = { 0 };
	__u64 g = 1;

	if (goro_attach_m(ch->fd, 0, 0, NULL))
		return NULL;
	for (;;) {
		if (goro_park_m(ch->fd, 0, &pk) || pk.p == GORO_NONE)
			continue;
		goro_runq_put_batch(goro_p_of(&ch->c, pk.p), &g, 1);
		g++;
		goro_wake_m(ch->fd);
		usleep(100);
	}
	return NULL;
}

/* In the child: set the scenario up, tell the parent, wait to be killed. */
static void child_run(enum scenario sc, int ready)
{
	struct child *ch = calloc(1, sizeof(*ch));
	pthread_t t;
	int i;

	ch->fd = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);
	if (ch->fd < 0 || pipe(ch->pfd) ||
	    goro_ctx_init(&ch->c, ch->fd, sc == STRESS ? 2 : 1, 16))
		_exit(1);
	switch (sc) {
	case PARKED:
		for (i = 0; i < 3; i++)
			pthread_create(&t, NULL, park_forever, ch);
		if (goro_wait_u32(&ch->c.hdr->nmidle, 3, 5000))
			_exit(2);
		break;
	case HANDED_OFF:
		pthread_create(&t, NULL, park_then_hold, ch);
		if (goro_wait_u32(&ch->c.hdr->nmidle, 1, 5000))
			_exit(2);
		pthread_create(&t, NULL, block_with_work, ch);
		if (goro_wait_u32(&ch->c.hdr->nmidle, 0, 5000))
			_exit(3);
		break;
	case WAITING_FOR_P:
		pthread_create(&t, NULL, park_then_hold, ch);
		if (goro_wait_u32(&ch->c.hdr->nmidle, 1, 5000))
			_exit(2);
		pthread_create(&t, NULL, block_with_work, ch);
		if (goro_wait_u32(&ch->c.hdr->nmidle, 0, 5000))
			_exit(3);
		if (write(ch->pfd[1], "x", 1) != 1 ||
		    goro_wait_u32(&ch->c.hdr->nmwaitp, 1, 5000))
			_exit(4);
		break;
	case STRESS:
		for (i = 0; i < 4; i++)
			pthread_create(&t, NULL, stress_m, ch);
		goro_sleep_ms(50);
		break;
	case EXEC:
		pthread_create(&t, NULL, park_forever, ch);
		pthread_create(&t, NULL, block_with_work, ch);
		if (goro_attach_m(ch->fd, 0, 0, NULL))
			_exit(2);
		goro_sleep_ms(20);
		if (write(ready, "r", 1) != 1)
			_exit(3);
		execl("/bin/sh", "sh", "-c", "sleep 0.05", (char *)NULL);
		_exit(5);
	}
	if (write(ready, "r", 1) != 1)
		_exit(5);
	for (;;)
		pause();
}

static void run_and_kill(struct __test_metadata *_metadata, enum scenario sc)
{
	int fd, ready[2], st;
	char r;
	pid_t pid;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	ASSERT_EQ(0, goro_stat_wait("instances", 0, 2000));
	ASSERT_EQ(0, goro_stat_wait("ms", 0, 2000));
	ASSERT_EQ(0, pipe(ready));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(ready[0]);
		child_run(sc, ready[1]);
		_exit(0);
	}
	close(ready[1]);
	if (read(ready[0], &r, 1) != 1) {
		/* its exit status says which state it waited 5 s for */
		waitpid(pid, &st, 0);
		ASSERT_TRUE(0) TH_LOG("the child did not get ready: status %#x", st);
	}
	if (sc != EXEC) {
		goro_sleep_ms(10);
		kill(pid, SIGKILL);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	if (sc == EXEC) {
		EXPECT_TRUE(WIFEXITED(st));
		EXPECT_EQ(0, WEXITSTATUS(st));
	} else {
		EXPECT_TRUE(WIFSIGNALED(st));
	}
	EXPECT_EQ(0, goro_stat_wait("instances", 0, 3000));
	EXPECT_EQ(0, goro_stat_wait("ms", 0, 3000));
	close(ready[0]);
}

TEST(sigkill_while_ms_parked)
{
	run_and_kill(_metadata, PARKED);
}

TEST(sigkill_while_p_handed_off)
{
	run_and_kill(_metadata, HANDED_OFF);
}

TEST(sigkill_while_m_waits_for_p)
{
	run_and_kill(_metadata, WAITING_FOR_P);
}

TEST(sigkill_during_park_wake_stress)
{
	int i;

	for (i = 0; i < 5; i++)
		run_and_kill(_metadata, STRESS);
}

TEST(exec_while_attached)
{
	run_and_kill(_metadata, EXEC);
}

TEST(live_counters_zero_at_the_end)
{
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	EXPECT_EQ(0, goro_stat_wait("instances", 0, 3000));
	EXPECT_EQ(0, goro_stat_wait("ms", 0, 3000));
}

TEST_HARNESS_MAIN
