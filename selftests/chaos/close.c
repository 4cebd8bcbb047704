// SPDX-License-Identifier: GPL-2.0
/*
 * Chaos for goro.ko: the file goes away under the Ms: close of the fd
 * while Ms are parked in it.
 */
#include "chaos.h"

/* ---- close of the fd while Ms are parked ---------------------------- */

struct closer {
	struct goro_ctx c;
	int fd;
	int pfd[2];
	volatile int go_block, p_done, b_ready;
	int p_ret, p_again;
	struct goro_park p_pk;
};

static void on_usr1(int sig)
{
	(void)sig;
}

static void *close_parker(void *arg)
{
	struct closer *x = arg;

	if (goro_attach_m(x->fd, 0, 0, NULL))
		return NULL;
	x->p_ret = goro_park_m(x->fd, 0, &x->p_pk);	/* no deadline */
	/* the fd is closed now: the instance is not reachable any more */
	x->p_again = goro_park_m(x->fd, 0, NULL);
	x->p_done = 1;
	return NULL;
}

static void *close_blocker(void *arg)
{
	struct closer *x = arg;
	char c;

	if (goro_attach_m(x->fd, 1, 0, NULL))
		return NULL;
	goro_runq_put_batch(goro_p_of(&x->c, 0), (__u64[]){ 9 }, 1);
	x->b_ready = 1;	/* done with the mapping */
	/* wait without blocking: a block would hand P0 off now */
	while (!x->go_block)
		sched_yield();
	if (read(x->pfd[0], &c, 1) < 0)
		return NULL;
	return NULL;
}

TEST_F_TIMEOUT(chaos, close_while_ms_parked, 3600)
{
	__u64 s = chaos_seed() ^ 0xc1c1;
	__u64 end = goro_now_ns() + chaos_secs() * 1000000000ull;
	unsigned int n = 0, handed = 0, signalled = 0;
	struct sigaction sa = { .sa_handler = on_usr1 };
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	while (n < 4 || goro_now_ns() < end) {
		struct closer x = { 0 };
		int handoff = (int)(rnd(&s) % 2);
		pthread_t tp, tb;

		/* a high fd number, which nothing reuses after the close */
		fd = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		x.fd = fcntl(fd, F_DUPFD_CLOEXEC, 900);
		ASSERT_LE(900, x.fd);
		close(fd);
		ASSERT_EQ(0, pipe(x.pfd));
		ASSERT_EQ(0, goro_ctx_init(&x.c, x.fd, 1, 8));
		ASSERT_EQ(0, pthread_create(&tp, NULL, close_parker, &x));
		ASSERT_EQ(0, goro_wait_u32(&x.c.hdr->nmidle, 1, WAIT_MS));
		ASSERT_EQ(0, pthread_create(&tb, NULL, close_blocker, &x));
		ASSERT_EQ(0, goro_wait_u32((__u32 *)&x.b_ready, 1, WAIT_MS));
		munmap(x.c.map, x.c.s.map_size);
		close(x.fd);
		/* the parked M's PARK holds the file: the instance lives */
		sleep_us((unsigned int)(rnd(&s) % 5000));
		EXPECT_EQ(1, goro_stat("instances"));
		if (handoff) {
			/* and keeps working: the blocked M's P comes to it */
			x.go_block = 1;
			handed++;
		} else {
			pthread_kill(tp, SIGUSR1);
			signalled++;
		}
		ASSERT_EQ(0, goro_wait_u32((__u32 *)&x.p_done, 1, WAIT_MS));
		if (handoff) {
			EXPECT_EQ(0, x.p_ret);
			EXPECT_EQ(0U, x.p_pk.p);
			EXPECT_EQ((__u32)GORO_WOKE_HANDOFF, x.p_pk.why);
		} else {
			EXPECT_EQ(-EINTR, x.p_ret);
		}
		EXPECT_EQ(-EBADF, x.p_again);
		x.go_block = 1;
		ASSERT_EQ(1, write(x.pfd[1], "x", 1));
		pthread_join(tp, NULL);
		pthread_join(tb, NULL);
		ASSERT_EQ(0, goro_stat_wait("instances", 0, WAIT_MS));
		ASSERT_EQ(0, goro_stat_wait("ms", 0, WAIT_MS));
		close(x.pfd[0]);
		close(x.pfd[1]);
		n++;
	}
	TH_LOG("%u closes with an M parked: %u handed a P after the close, %u signalled",
	       n, handed, signalled);
}

TEST_HARNESS_MAIN
