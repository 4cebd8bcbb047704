// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/goro/<pid>/sched while a known state holds: the schedtrace line,
 * the per-P and per-M detail lines and the counters; /proc/goro/stats.
 */
#include "goro_test.h"

GORO_FIXTURE_ATTACHED(attached_2p8m, 2, 8, 0);

struct parked {
	int fd;
	struct goro_park pk;
	int ret;
};

static void *park_until_woken(void *arg)
{
	struct parked *p = arg;

	if (goro_attach_m(p->fd, 0, 0, NULL))
		return NULL;
	p->ret = goro_park_m(p->fd, 0, &p->pk);
	return NULL;
}

TEST_F(attached_2p8m, proc_sched_detail_matches_state)
{
	struct parked pa = { 0 };
	char buf[4096], want[128];
	pthread_t t;

	pa.fd = self->fd;
	ASSERT_EQ(0, pthread_create(&t, NULL, park_until_woken, &pa));
	ASSERT_EQ(0, goro_wait_u32(&self->c.hdr->nmidle, 1, 5000));
	ASSERT_NE(NULL, goro_read_sched(getpid(), buf, sizeof(buf)));
	TH_LOG("\n%s", buf);
	EXPECT_EQ(0, strncmp(buf, "SCHED ", 6));
	EXPECT_NE(NULL, strstr(buf, "gomaxprocs=2 "));
	EXPECT_NE(NULL, strstr(buf, " threads=2 "));
	EXPECT_NE(NULL, strstr(buf, " idlethreads=1 "));
	EXPECT_NE(NULL, strstr(buf, "  handoffs="));
	EXPECT_NE(NULL, strstr(buf, "  P0: status=running "));
	EXPECT_NE(NULL, strstr(buf, "  P1: status="));
	snprintf(want, sizeof(want), "  M%u: tid=%d p=0 state=running", self->m,
		 goro_gettid());
	EXPECT_NE(NULL, strstr(buf, want));
	EXPECT_NE(NULL, strstr(buf, "state=parked"));
	EXPECT_EQ(1, goro_wake_m(self->fd));
	pthread_join(t, NULL);
	EXPECT_EQ(0, pa.ret);
}

TEST(proc_stats_counts_events)
{
	long parks, wakes;
	struct goro_park pk = { 0 };
	struct goro_ctx c;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	parks = goro_stat("parks");
	wakes = goro_stat("wakes");
	ASSERT_LE(0, parks);
	ASSERT_LE(0, wakes);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 1, 4));
	ASSERT_EQ(0, goro_attach_m(fd, 1, 0, NULL));
	pk.deadline_ns = 1;
	ASSERT_EQ(0, goro_park_m(fd, GORO_PARK_DEADLINE, &pk));
	EXPECT_EQ(parks + 1, goro_stat("parks"));
	EXPECT_EQ(1ULL, c.hdr->parks);
	EXPECT_LE(0, goro_stat("handoffs"));
	EXPECT_LE(0, goro_stat("ksteals"));
	EXPECT_LE(0, goro_stat("preempt_reqs"));
	close(fd);
}

TEST(proc_reader_racing_exit_is_safe)
{
	char buf[4096];
	int i, st;
	pid_t pid;

	GORO_OPEN_OR_SKIP(i);
	close(i);
	for (i = 0; i < 30; i++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			struct goro_ctx c;
			int fd = open(GORO_DEVICE, O_RDWR);

			if (goro_ctx_init(&c, fd, 4, 16))
				_exit(1);
			goro_attach_m(fd, 1, 0, NULL);
			_exit(0);
		}
		while (waitpid(pid, &st, WNOHANG) == 0)
			goro_read_sched(pid, buf, sizeof(buf));
	}
	EXPECT_EQ(0, goro_stat_wait("instances", 0, 3000));
}

TEST_HARNESS_MAIN
