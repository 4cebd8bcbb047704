// SPDX-License-Identifier: GPL-2.0
/*
 * Handoff: an M that blocks in the kernel holding a P gives the P away at
 * once (to a parked M when the P has work), and gets a P back on its way
 * back to user mode: its own if nobody took it, else one released later.
 */
#include "goro_test.h"

#include <linux/futex.h>
#include <sched.h>
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

static int pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* No wake-up preemption: a woken M waits for the running one to block. */
static int batch_self(void)
{
	struct sched_param sp = { 0 };

	return sched_setscheduler(0, SCHED_BATCH, &sp);
}

/* Two Ms taking turns on one P and one CPU through two pipes. */
struct turns {
	struct goro_ctx c;
	int fd, ab[2], ba[2];
	int rounds;
	unsigned int ma, mb;
	int a_bad, b_bad;	/* turns an M came back without P0 */
	int a_ret, b_ret;
};

/* B: blocks holding P0 first; then each turn: back (with P0?), pass. */
static void *turns_b(void *arg)
{
	struct turns *t = arg;
	char ch;
	int i;

	t->b_ret = -1;
	if (batch_self() || goro_attach_m(t->fd, 1, 0, &t->mb))
		return NULL;
	for (i = 0; i < t->rounds; i++) {
		if (read(t->ab[0], &ch, 1) != 1)
			return NULL;
		if (goro_m_of(&t->c, t->mb)->p != 0)
			t->b_bad++;
		if (write(t->ba[1], "b", 1) != 1)
			return NULL;
	}
	t->b_ret = 0;
	return NULL;
}

/* A: parks until WAKE gives it B's blocked P0; then pass, wait, check. */
static void *turns_a(void *arg)
{
	struct turns *t = arg;
	struct goro_park pk = { 0 };
	char ch;
	int i;

	t->a_ret = -1;
	if (batch_self() || goro_attach_m(t->fd, 0, 0, &t->ma) ||
	    goro_park_m(t->fd, 0, &pk) || pk.p != 0)
		return NULL;
	for (i = 0; i < t->rounds; i++) {
		if (write(t->ab[1], "a", 1) != 1 ||
		    read(t->ba[0], &ch, 1) != 1)
			return NULL;
		if (goro_m_of(&t->c, t->ma)->p != 0)
			t->a_bad++;
	}
	t->a_ret = 0;
	return NULL;
}

/*
 * The M that blocks hands its P to the task the CPU switches to when that
 * is an M back from a block without a P: no wake-up, no wait. Two Ms and
 * one P on one CPU pass a byte back and forth; each write makes the other
 * M runnable (SCHED_BATCH: it does not preempt the writer) and the read
 * right after blocks the writer, so the CPU runs the other M next, with
 * the P.
 */
TEST(blocking_m_gives_its_p_to_the_m_that_runs_next)
{
	struct turns *t = calloc(1, sizeof(*t));
	long nexthands, waitps;
	pthread_t ta, tb;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, pin_self(0));
	t->fd = fd;
	t->rounds = 200;
	ASSERT_EQ(0, pipe(t->ab));
	ASSERT_EQ(0, pipe(t->ba));
	ASSERT_EQ(0, goro_ctx_init(&t->c, fd, 1, 8));
	ASSERT_EQ(0, pthread_create(&tb, NULL, turns_b, t));
	ASSERT_EQ(0, goro_wait_u32(&goro_p_of(&t->c, 0)->status,
				   GORO_P_BLOCKED, 5000));
	ASSERT_EQ(0, pthread_create(&ta, NULL, turns_a, t));
	ASSERT_EQ(0, goro_wait_u32(&t->c.hdr->nmidle, 1, 5000));
	/* A takes B's blocked P0; from now on the P moves with the turns */
	ASSERT_EQ(1, goro_wake_m(fd));
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	EXPECT_EQ(0, t->a_ret);
	EXPECT_EQ(0, t->b_ret);
	EXPECT_EQ(0, t->a_bad);
	EXPECT_EQ(0, t->b_bad);
	nexthands = goro_sched_counter("nexthands");
	waitps = goro_sched_counter("waitps");
	TH_LOG("%d turns each: nexthands=%ld waitps=%ld handoffs=%llu",
	       t->rounds, nexthands, waitps,
	       (unsigned long long)t->c.hdr->handoffs);
	/* every turn but a few that another task on the CPU came between */
	EXPECT_GE(nexthands, 2L * t->rounds * 9 / 10);
	EXPECT_LE(waitps, 2L * t->rounds / 10);
	close(fd);
	free(t);
}

/* A P handed to a parked M that cannot run yet: see the test below. */
struct reclaim {
	struct goro_ctx c;
	int fd, rp[2], cp[2];
	unsigned int mr, mc, ms;
	volatile int r_ready, c_blocking, s_parked, s_done, hog_stop;
	volatile int r_back;
	int r_ret, c_ret, s_ret;
	unsigned int r_p;
	struct goro_park s_pk;
};

/* R: blocks holding P0, then (after C took it) is woken by the test. */
static void *reclaim_r(void *arg)
{
	struct reclaim *x = arg;
	char ch;

	x->r_ret = -1;
	if (goro_attach_m(x->fd, 1, 0, &x->mr))
		return NULL;
	x->r_ready = 1;
	if (read(x->rp[0], &ch, 1) != 1)
		return NULL;
	x->r_p = goro_m_of(&x->c, x->mr)->p;
	x->r_back = 1;
	x->hog_stop = 1;
	x->r_ret = 0;
	/* exiting gives P0 (with work) on to the parked S */
	return NULL;
}

/* C: parks until WAKE gives it R's P0, queues work, blocks. */
static void *reclaim_c(void *arg)
{
	struct reclaim *x = arg;
	struct goro_park pk = { 0 };
	char ch;

	x->c_ret = -1;
	if (goro_attach_m(x->fd, 0, 0, &x->mc) ||
	    goro_park_m(x->fd, 0, &pk) || pk.p != 0)
		return NULL;
	goro_runq_put_batch(goro_p_of(&x->c, 0), (__u64[]){ 42 }, 1);
	x->c_blocking = 1;
	if (read(x->cp[0], &ch, 1) != 1)
		return NULL;
	x->c_ret = 0;
	return NULL;
}

/* S: the parked M, on CPU 1 */
static void *reclaim_s(void *arg)
{
	struct reclaim *x = arg;

	x->s_ret = -1;
	if (pin_self(1) || goro_attach_m(x->fd, 0, 0, &x->ms))
		return NULL;
	x->s_parked = 1;
	x->s_ret = goro_park_m(x->fd, 0, &x->s_pk);
	x->s_done = 1;
	return NULL;
}

/* A real-time spinner on CPU 1: nothing else runs there until told. */
static void *reclaim_hog(void *arg)
{
	struct reclaim *x = arg;
	struct sched_param sp = { .sched_priority = 1 };
	__u64 end = goro_now_ns() + 500 * 1000000ull;

	if (pin_self(1) || sched_setscheduler(0, SCHED_FIFO, &sp))
		return (void *)1;
	while (!x->hog_stop && goro_now_ns() < end)
		;
	return NULL;
}

/*
 * A P handed to a parked M whose wake-up cannot run yet goes to the M
 * back from a block that runs first: C blocks on CPU 0 holding P0 with
 * work, the P goes to the only parked M, S, whose CPU 1 a real-time
 * spinner holds; R, woken on CPU 0 meanwhile, takes P0 in its sched_in,
 * and S sleeps on as if never woken, until R leaves and gives P0 (with
 * its work) back to it.
 */
TEST(unclaimed_handoff_goes_to_the_m_that_runs)
{
	struct reclaim *x = calloc(1, sizeof(*x));
	pthread_t tr, tc, ts, th;
	void *hog_ret;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(free(x); close(fd); return, "needs 2 CPUs");
	ASSERT_EQ(0, pin_self(0));
	x->fd = fd;
	ASSERT_EQ(0, pipe(x->rp));
	ASSERT_EQ(0, pipe(x->cp));
	ASSERT_EQ(0, goro_ctx_init(&x->c, fd, 1, 8));
	/* S parks first, so WAKE (most recent first) picks C */
	ASSERT_EQ(0, pthread_create(&ts, NULL, reclaim_s, x));
	ASSERT_EQ(0, goro_wait_u32(&x->c.hdr->nmidle, 1, 5000));
	ASSERT_EQ(0, pthread_create(&tr, NULL, reclaim_r, x));
	ASSERT_EQ(0, goro_wait_u32(&goro_p_of(&x->c, 0)->status,
				   GORO_P_BLOCKED, 5000));
	ASSERT_EQ(0, pthread_create(&tc, NULL, reclaim_c, x));
	ASSERT_EQ(0, goro_wait_u32(&x->c.hdr->nmidle, 2, 5000));
	ASSERT_EQ(0, pthread_create(&th, NULL, reclaim_hog, x));
	goro_sleep_ms(20);	/* the spinner holds CPU 1 */
	ASSERT_EQ(1, goro_wake_m(fd));
	/* C queues work and blocks: P0 is handed to S, which cannot run */
	ASSERT_EQ(0, goro_wait_u32(&goro_p_of(&x->c, 0)->owner, x->ms, 5000));
	EXPECT_EQ(0, x->s_done);
	ASSERT_EQ(1, write(x->rp[1], "r", 1));
	pthread_join(tr, NULL);
	pthread_join(th, &hog_ret);
	EXPECT_EQ(NULL, hog_ret);
	EXPECT_EQ(0, x->r_ret);
	EXPECT_EQ(0U, x->r_p);
	EXPECT_EQ(1L, goro_sched_counter("reclaims"));
	/* R left: P0 and its work went to S after all */
	while (!x->s_done)
		goro_sleep_ms(1);
	pthread_join(ts, NULL);
	EXPECT_EQ(0, x->s_ret);
	EXPECT_EQ((__u32)GORO_WOKE_HANDOFF, x->s_pk.why);
	EXPECT_EQ(0U, x->s_pk.p);
	ASSERT_EQ(1, write(x->cp[1], "c", 1));
	pthread_join(tc, NULL);
	EXPECT_EQ(0, x->c_ret);
	close(fd);
	free(x);
}

TEST_HARNESS_MAIN
