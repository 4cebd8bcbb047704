// SPDX-License-Identifier: GPL-2.0
/*
 * Handoff: an M that blocks in the kernel holding a P gives the P away at
 * once (to a parked M when the P has work), and gets a P back on its way
 * back to user mode: its own if nobody took it, else one released later.
 */
#include "goro_test.h"

#include <linux/futex.h>
#include <semaphore.h>

struct box {
	struct goro_ctx c;
	int fd;
	int pfd[2];
	/* the spare M */
	volatile int s_parked, s_done, s_release;
	sem_t s_sem;
	int s_ret;
	unsigned int s_m;
	struct goro_park s_pk;
	__u64 s_woke_ns;
	/* the blocking M */
	volatile int b_ready, b_done;
	int b_work, b_locks;
	unsigned int b_m, b_p_after, b_status_after, b_owner_after;
	__u64 b_block_ns;
};

static int box_init(struct box *b, int fd, unsigned int nprocs)
{
	memset(b, 0, sizeof(*b));
	b->fd = fd;
	sem_init(&b->s_sem, 0, 0);
	if (pipe(b->pfd))
		return -errno;
	return goro_ctx_init(&b->c, fd, nprocs, 8);
}

/* Spare: park (no P); when given one, write the pipe if told, then give
 * the P back with a NOSTEAL park once s_release is set.
 */
static void *spare(void *arg)
{
	struct box *b = arg;
	struct goro_park pk = { 0 };

	if (goro_attach_m(b->fd, 0, 0, &b->s_m)) {
		b->s_ret = -1;
		return NULL;
	}
	b->s_parked = 1;
	b->s_ret = goro_park_m(b->fd, 0, &b->s_pk);
	b->s_woke_ns = goro_now_ns();
	b->s_done = 1;
	sem_post(&b->s_sem);
	while (!b->s_release)
		sched_yield();
	pk.deadline_ns = goro_now_ns() + 50 * 1000000ull;
	goro_park_m(b->fd, GORO_PARK_NOSTEAL | GORO_PARK_DEADLINE, &pk);
	return NULL;
}

/* Blocker: hold P0, maybe queue work, block in read() on the pipe. */
static void *blocker(void *arg)
{
	struct box *b = arg;
	char ch;

	if (goro_attach_m(b->fd, 1, 0, &b->b_m))
		return NULL;
	if (b->b_work)
		goro_runq_put_batch(goro_p_of(&b->c, 0), (__u64[]){ 42 }, 1);
	goro_m_of(&b->c, b->b_m)->locks = b->b_locks;
	b->b_ready = 1;
	b->b_block_ns = goro_now_ns();
	if (read(b->pfd[0], &ch, 1) != 1)
		return NULL;
	/* back in user mode: we hold a P again */
	b->b_p_after = goro_m_of(&b->c, b->b_m)->p;
	b->b_status_after = goro_p_of(&b->c, 0)->status;
	b->b_owner_after = goro_p_of(&b->c, 0)->owner;
	b->b_done = 1;
	return NULL;
}

static int start_spare(struct box *b, pthread_t *t)
{
	if (pthread_create(t, NULL, spare, b))
		return -1;
	return goro_wait_u32(&b->c.hdr->nmidle, 1, 5000);
}

TEST(blocked_read_hands_p_with_work_to_parked_m)
{
	struct box *b = calloc(1, sizeof(*b));
	pthread_t ts, tb;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, box_init(b, fd, 1));
	ASSERT_EQ(0, start_spare(b, &ts));
	b->b_work = 1;
	ASSERT_EQ(0, pthread_create(&tb, NULL, blocker, b));
	/* the spare runs P0 while the blocker sits in read() */
	while (!b->s_done)
		goro_sleep_ms(1);
	EXPECT_EQ(0, b->s_ret);
	EXPECT_EQ((__u32)GORO_WOKE_HANDOFF, b->s_pk.why);
	EXPECT_EQ(0U, b->s_pk.p);
	EXPECT_EQ(b->s_m, b->c.hdr->handoffs ? goro_p_of(&b->c, 0)->owner : 0);
	EXPECT_EQ(1ULL, b->c.hdr->handoffs);
	EXPECT_EQ(1ULL, goro_p_of(&b->c, 0)->handoffs);
	EXPECT_EQ(0, b->b_done);
	TH_LOG("blocked read() to spare M running its P: %llu us",
	       (b->s_woke_ns - b->b_block_ns) / 1000);
	/* the write comes: the blocker waits for a P until the spare parks */
	ASSERT_EQ(1, write(b->pfd[1], "x", 1));
	ASSERT_EQ(0, goro_wait_u32(&b->c.hdr->nmwaitp, 1, 5000));
	EXPECT_EQ(0, b->b_done);
	EXPECT_EQ((__u32)GORO_M_WAITP, goro_m_of(&b->c, b->b_m)->state);
	b->s_release = 1;
	pthread_join(tb, NULL);
	EXPECT_EQ(1, b->b_done);
	EXPECT_EQ(0U, b->b_p_after);
	EXPECT_EQ((__u32)GORO_P_RUNNING, b->b_status_after);
	EXPECT_EQ(b->b_m, b->b_owner_after);
	pthread_join(ts, NULL);
	close(fd);
	free(b);
}

TEST(blocked_without_work_keeps_p_blocked_and_takes_it_back)
{
	struct box *b = calloc(1, sizeof(*b));
	pthread_t ts, tb;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, box_init(b, fd, 1));
	ASSERT_EQ(0, start_spare(b, &ts));
	ASSERT_EQ(0, pthread_create(&tb, NULL, blocker, b));
	ASSERT_EQ(0, goro_wait_u32(&goro_p_of(&b->c, 0)->status,
				   GORO_P_BLOCKED, 5000));
	EXPECT_EQ(1U, b->c.hdr->nmidle);
	EXPECT_EQ(1U, b->c.hdr->npidle);
	EXPECT_LE(1ULL, goro_p_of(&b->c, 0)->syscalltick);
	EXPECT_EQ((__u32)GORO_M_BLOCKED, goro_m_of(&b->c, b->b_m)->state);
	EXPECT_EQ(0ULL, b->c.hdr->handoffs);
	ASSERT_EQ(1, write(b->pfd[1], "x", 1));
	pthread_join(tb, NULL);
	EXPECT_EQ(0U, b->b_p_after);
	EXPECT_EQ((__u32)GORO_P_RUNNING, b->b_status_after);
	EXPECT_EQ(b->b_m, b->b_owner_after);
	EXPECT_EQ(0, b->s_done);
	/* the blocker exits holding P0: the spare gets it once it is gone */
	b->s_release = 1;
	while (!b->s_done) {
		goro_wake_m(fd);
		goro_sleep_ms(1);
	}
	pthread_join(ts, NULL);
	close(fd);
	free(b);
}

TEST(blocked_p_taken_by_wake_returns_after_release)
{
	struct box *b = calloc(1, sizeof(*b));
	pthread_t ts, tb;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, box_init(b, fd, 1));
	ASSERT_EQ(0, start_spare(b, &ts));
	ASSERT_EQ(0, pthread_create(&tb, NULL, blocker, b));
	ASSERT_EQ(0, goro_wait_u32(&goro_p_of(&b->c, 0)->status,
				   GORO_P_BLOCKED, 5000));
	/* wakep from a thread that is no M: takes the blocked P */
	EXPECT_EQ(1, goro_wake_m(fd));
	while (!b->s_done)
		goro_sleep_ms(1);
	EXPECT_EQ((__u32)GORO_WOKE_WAKE, b->s_pk.why);
	EXPECT_EQ(0U, b->s_pk.p);
	EXPECT_EQ(GORO_NONE, goro_m_of(&b->c, b->b_m)->p);
	ASSERT_EQ(1, write(b->pfd[1], "x", 1));
	ASSERT_EQ(0, goro_wait_u32(&b->c.hdr->nmwaitp, 1, 5000));
	b->s_release = 1;
	pthread_join(tb, NULL);
	EXPECT_EQ(0U, b->b_p_after);
	EXPECT_EQ(b->b_m, b->b_owner_after);
	pthread_join(ts, NULL);
	close(fd);
	free(b);
}

TEST(locks_nonzero_keeps_p)
{
	struct box *b = calloc(1, sizeof(*b));
	pthread_t ts, tb;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, box_init(b, fd, 1));
	ASSERT_EQ(0, start_spare(b, &ts));
	b->b_work = 1;
	b->b_locks = 1;
	ASSERT_EQ(0, pthread_create(&tb, NULL, blocker, b));
	while (!b->b_ready)
		goro_sleep_ms(1);
	goro_sleep_ms(30);
	EXPECT_EQ(0, b->s_done);
	EXPECT_EQ((__u32)GORO_P_RUNNING, goro_p_of(&b->c, 0)->status);
	EXPECT_EQ(0ULL, b->c.hdr->handoffs);
	ASSERT_EQ(1, write(b->pfd[1], "x", 1));
	pthread_join(tb, NULL);
	EXPECT_EQ(0U, b->b_p_after);
	b->s_release = 1;
	while (!b->s_done) {
		goro_wake_m(fd);
		goro_sleep_ms(1);
	}
	pthread_join(ts, NULL);
	close(fd);
	free(b);
}

TEST(no_parked_m_asks_for_a_spare)
{
	struct box *b = calloc(1, sizeof(*b));
	pthread_t tb;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, box_init(b, fd, 1));
	b->b_work = 1;
	ASSERT_EQ(0, pthread_create(&tb, NULL, blocker, b));
	ASSERT_EQ(0, goro_wait_u32(&b->c.hdr->spare_wanted, 1, 5000));
	EXPECT_EQ((__u32)GORO_P_BLOCKED, goro_p_of(&b->c, 0)->status);
	ASSERT_EQ(1, write(b->pfd[1], "x", 1));
	pthread_join(tb, NULL);
	EXPECT_EQ(0U, b->b_p_after);
	close(fd);
	free(b);
}

struct factory {
	int fd;
	volatile int parked;
	int ret;
	struct goro_park pk;
};

static void *factory_m(void *arg)
{
	struct factory *f = arg;

	if (goro_attach_m(f->fd, 0, 0, NULL))
		return NULL;
	f->parked = 1;
	f->ret = goro_park_m(f->fd, GORO_PARK_FACTORY, &f->pk);
	return NULL;
}

TEST(no_parked_m_wakes_the_factory_m)
{
	struct box *b = calloc(1, sizeof(*b));
	struct factory f = { 0 };
	pthread_t tf, tb;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, box_init(b, fd, 1));
	ASSERT_NE(0ULL, b->c.s.features & GORO_FEAT_FACTORY);
	f.fd = fd;
	ASSERT_EQ(0, pthread_create(&tf, NULL, factory_m, &f));
	while (!f.parked)
		goro_sleep_ms(1);
	goro_sleep_ms(10);
	/* a factory M is not a parked M: WAKE does not take it */
	EXPECT_EQ(0U, b->c.hdr->nmidle);
	EXPECT_EQ(0, goro_wake_m(fd));
	b->b_work = 1;
	ASSERT_EQ(0, pthread_create(&tb, NULL, blocker, b));
	pthread_join(tf, NULL);
	EXPECT_EQ(0, f.ret);
	EXPECT_EQ((__u32)GORO_WOKE_SPARE, f.pk.why);
	EXPECT_EQ(GORO_NONE, f.pk.p);
	EXPECT_EQ(1U, b->c.hdr->spare_wanted);
	ASSERT_EQ(1, write(b->pfd[1], "x", 1));
	pthread_join(tb, NULL);
	EXPECT_EQ(0U, b->b_p_after);
	close(fd);
	free(b);
}

/*
 * WAKE with GORO_WAKE_SPARE and nobody parked: the factory M is asked for
 * an M (an M holding a P must not start threads itself); not when no P is
 * free, nor without the flag.
 */
TEST(wake_spare_asks_the_factory_m)
{
	struct goro_wake w = { 0 };
	struct factory f = { 0 };
	struct goro_ctx c;
	pthread_t tf;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 1, 4));
	ASSERT_NE(0ULL, c.s.features & GORO_FEAT_WAKE_SPARE);
	f.fd = fd;
	ASSERT_EQ(0, pthread_create(&tf, NULL, factory_m, &f));
	while (!f.parked)
		goro_sleep_ms(1);
	goro_sleep_ms(10);
	/* without the flag: nobody to wake, nothing asked */
	ASSERT_EQ(0, goro_ioctl(fd, GORO_IOC_WAKE, &w));
	EXPECT_EQ(0U, w.nwoken);
	EXPECT_EQ(0U, w.nspare);
	EXPECT_EQ(0U, c.hdr->spare_wanted);
	w.flags = GORO_WAKE_SPARE;
	ASSERT_EQ(0, goro_ioctl(fd, GORO_IOC_WAKE, &w));
	EXPECT_EQ(0U, w.nwoken);
	EXPECT_EQ(1U, w.nspare);
	pthread_join(tf, NULL);
	EXPECT_EQ(0, f.ret);
	EXPECT_EQ((__u32)GORO_WOKE_SPARE, f.pk.why);
	EXPECT_EQ(1U, c.hdr->spare_wanted);
	close(fd);
}

TEST(wake_spare_without_a_free_p_asks_nothing)
{
	struct goro_wake w = { .flags = GORO_WAKE_SPARE };
	struct goro_ctx c;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 1, 4));
	/* this thread takes the only P */
	ASSERT_EQ(0, goro_attach_m(fd, 1, 0, NULL));
	ASSERT_EQ(0, goro_ioctl(fd, GORO_IOC_WAKE, &w));
	EXPECT_EQ(0U, w.nwoken);
	EXPECT_EQ(0U, w.nspare);
	EXPECT_EQ(0U, c.hdr->spare_wanted);
	close(fd);
}

/* Handoff latency against the floor: a futex wake between two threads. */
static volatile __u32 fword;
static __u64 f_wake_ns, f_woke_ns;

static void *futex_waiter(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&fword, __ATOMIC_ACQUIRE))
		syscall(SYS_futex, &fword, FUTEX_WAIT_PRIVATE, 0, NULL);
	f_woke_ns = goro_now_ns();
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

#define LAT_ROUNDS 51

TEST(handoff_latency_vs_futex_wake)
{
	__u64 h[LAT_ROUNDS], f[LAT_ROUNDS], h_sum = 0, f_sum = 0;
	const int rounds = LAT_ROUNDS;
	pthread_t ts, tb, tf;
	struct box *b;
	int fd, i;

	memset(h, 0, sizeof(h));
	memset(f, 0, sizeof(f));

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	for (i = 0; i < rounds; i++) {
		b = calloc(1, sizeof(*b));
		fd = open(GORO_DEVICE, O_RDWR);
		ASSERT_EQ(0, box_init(b, fd, 1));
		ASSERT_EQ(0, start_spare(b, &ts));
		b->b_work = 1;
		ASSERT_EQ(0, pthread_create(&tb, NULL, blocker, b));
		sem_wait(&b->s_sem);
		ASSERT_EQ((__u32)GORO_WOKE_HANDOFF, b->s_pk.why);
		h[i] = b->s_woke_ns - b->b_block_ns;
		h_sum += h[i];
		ASSERT_EQ(1, write(b->pfd[1], "x", 1));
		b->s_release = 1;
		pthread_join(tb, NULL);
		pthread_join(ts, NULL);
		close(b->pfd[0]);
		close(b->pfd[1]);
		munmap(b->c.map, b->c.s.map_size);
		close(fd);
		free(b);

		fword = 0;
		ASSERT_EQ(0, pthread_create(&tf, NULL, futex_waiter, NULL));
		goro_sleep_ms(2);
		f_wake_ns = goro_now_ns();
		__atomic_store_n(&fword, 1, __ATOMIC_RELEASE);
		syscall(SYS_futex, &fword, FUTEX_WAKE_PRIVATE, 1, NULL);
		pthread_join(tf, NULL);
		f[i] = f_woke_ns - f_wake_ns;
		f_sum += f[i];
	}
	qsort(h, rounds, sizeof(h[0]), cmp_u64);
	qsort(f, rounds, sizeof(f[0]), cmp_u64);
	TH_LOG("handoff (read() entry to spare M running): median %llu us, mean %llu us, max %llu us",
	       h[rounds / 2] / 1000, h_sum / rounds / 1000,
	       h[rounds - 1] / 1000);
	TH_LOG("futex wake (FUTEX_WAKE to waiter running): median %llu us, mean %llu us, max %llu us",
	       f[rounds / 2] / 1000, f_sum / rounds / 1000,
	       f[rounds - 1] / 1000);
	EXPECT_GT(100000ULL, h[rounds / 2] / 1000) TH_LOG("handoff over 100 ms");
}

TEST_HARNESS_MAIN
