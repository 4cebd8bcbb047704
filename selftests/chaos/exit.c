// SPDX-License-Identifier: GPL-2.0
/*
 * Chaos for goro.ko: a single M leaves while the others go on. It leaves
 * by pthread_exit() or a raw SYS_exit after attach, park, wake, with work
 * on its P or back from a block (its P must come back: another M gets
 * it), or detaches or exits right after a short PARK while another M keeps
 * handing it a P.
 */
#include "chaos.h"

/* ---- one M exits (pthread_exit, SYS_exit) at each point ------------ */

enum exit_point { EX_ATTACH, EX_PARK, EX_WAKE, EX_HANDOFF, EX_RETURN, EX_N };
static const char *const exit_name[EX_N] = {
	"after attach", "after park", "after wake", "with work, M parked",
	"after return from a block",
};

struct solo {
	struct goro_ctx c;
	int fd;
	int pfd[2];
	enum exit_point at;
	int raw;		/* SYS_exit instead of pthread_exit */
	volatile int ready, fail;
	/* the other M */
	volatile int o_parked, o_done, o_release;
	int o_ret;
	struct goro_park o_pk;
};

static void m_exit(struct solo *x)
{
	if (x->raw)
		syscall(SYS_exit, 0);
	pthread_exit(NULL);
}

static void *exiting_m(void *arg)
{
	struct solo *x = arg;
	struct goro_park pk = { 0 };
	__u64 g = 7;
	char c;

	switch (x->at) {
	case EX_ATTACH:
		x->fail = goro_attach_m(x->fd, 1, 0, NULL);
		break;
	case EX_PARK:	/* woken by the test with P0, leaves holding it */
		x->fail = goro_attach_m(x->fd, 0, 0, NULL);
		x->ready = 1;
		pk.deadline_ns = goro_now_ns() + WAIT_MS * 1000000ull;
		if (!x->fail)
			x->fail = goro_park_m(x->fd, GORO_PARK_DEADLINE, &pk) ||
				  pk.p != 0;
		break;
	case EX_WAKE:	/* nothing to give: WAKE finds no idle P */
		x->fail = goro_attach_m(x->fd, 1, 0, NULL);
		if (!x->fail)
			x->fail = goro_wake_m(x->fd) != 0;
		break;
	case EX_HANDOFF:	/* leaves with work on P0: the parked M gets it */
		x->fail = goro_attach_m(x->fd, 1, 0, NULL);
		goro_runq_put_batch(goro_p_of(&x->c, 0), &g, 1);
		break;
	case EX_RETURN:	/* blocks with work, its P handed off, comes back */
		x->fail = goro_attach_m(x->fd, 1, 0, NULL);
		goro_runq_put_batch(goro_p_of(&x->c, 0), &g, 1);
		x->ready = 1;
		if (read(x->pfd[0], &c, 1) != 1)
			x->fail = 1;
		break;
	default:
		break;
	}
	x->ready = 1;
	m_exit(x);
	return NULL;
}

/* The other M: parked until given a P. */
static void *other_m(void *arg)
{
	struct solo *x = arg;

	x->o_ret = goro_attach_m(x->fd, 0, 0, NULL);
	if (x->o_ret)
		return NULL;
	x->o_pk.deadline_ns = goro_now_ns() + 2 * WAIT_MS * 1000000ull;
	x->o_parked = 1;
	x->o_ret = goro_park_m(x->fd, GORO_PARK_DEADLINE, &x->o_pk);
	x->o_done = 1;
	/* hold the P without blocking (a block would hand it on) */
	while (x->at == EX_RETURN && !x->o_release)
		sched_yield();
	return NULL;	/* the thread exits: its P is released */
}

static void one_exit(struct __test_metadata *_metadata, enum exit_point at,
		     int raw)
{
	struct solo *x = calloc(1, sizeof(*x));
	struct goro_park pk = { 0 };
	pthread_t te, to;
	int fd, i;

	ASSERT_NE(NULL, x);
	fd = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	x->fd = fd;
	x->at = at;
	x->raw = raw;
	ASSERT_EQ(0, pipe(x->pfd));
	ASSERT_EQ(0, goro_ctx_init(&x->c, fd, 1, 8));
	if (at == EX_WAKE || at == EX_HANDOFF || at == EX_RETURN) {
		ASSERT_EQ(0, pthread_create(&to, NULL, other_m, x));
		ASSERT_EQ(0, goro_wait_u32(&x->c.hdr->nmidle, 1, WAIT_MS));
	}
	ASSERT_EQ(0, pthread_create(&te, NULL, exiting_m, x));
	if (at == EX_PARK) {
		ASSERT_EQ(0, goro_wait_u32((__u32 *)&x->ready, 1, WAIT_MS));
		ASSERT_EQ(0, goro_wait_u32(&x->c.hdr->nmidle, 1, WAIT_MS));
		ASSERT_EQ(1, goro_wake_m(fd));
	}
	if (at == EX_RETURN) {
		/* the parked M got P0 with the work; the blocker returns */
		ASSERT_EQ(0, goro_wait_u32((__u32 *)&x->o_done, 1, WAIT_MS));
		ASSERT_EQ(0, x->o_ret);
		ASSERT_EQ(0U, x->o_pk.p);
		ASSERT_EQ(1, write(x->pfd[1], "x", 1));
		/* it waits for a P: give P0 back, it leaves with it */
		ASSERT_EQ(0, goro_wait_u32(&x->c.hdr->nmwaitp, 1, WAIT_MS));
		x->o_release = 1;
		pthread_join(to, NULL);
	}
	pthread_join(te, NULL);
	ASSERT_EQ(0, x->fail) TH_LOG("%s: the exiting M failed", exit_name[at]);

	if (at == EX_HANDOFF) {
		/* the parked M was handed P0 (with its work) */
		ASSERT_EQ(0, goro_wait_u32((__u32 *)&x->o_done, 1, WAIT_MS));
		EXPECT_EQ(0, x->o_ret);
		EXPECT_EQ(0U, x->o_pk.p);
		EXPECT_EQ((__u32)GORO_WOKE_HANDOFF, x->o_pk.why);
		pthread_join(to, NULL);
	}
	/* P0 is idle again: nobody owns it */
	ASSERT_EQ(0, goro_wait_u32(&goro_p_of(&x->c, 0)->status, GORO_P_IDLE,
				   WAIT_MS))
		TH_LOG("%s (%s): P0 status %u owner %u", exit_name[at],
		       raw ? "SYS_exit" : "pthread_exit",
		       goro_p_of(&x->c, 0)->status, goro_p_of(&x->c, 0)->owner);
	if (at == EX_WAKE) {
		/* the parked M still waits: WAKE gives it the released P0 */
		EXPECT_EQ(1, goro_wake_m(fd));
		ASSERT_EQ(0, goro_wait_u32((__u32 *)&x->o_done, 1, WAIT_MS));
		EXPECT_EQ(0U, x->o_pk.p);
		pthread_join(to, NULL);
		ASSERT_EQ(0, goro_wait_u32(&goro_p_of(&x->c, 0)->status,
					   GORO_P_IDLE, WAIT_MS));
	}
	/* and another M gets it */
	EXPECT_EQ(0, goro_attach_m(fd, 1, 0, NULL));
	EXPECT_EQ(1U, goro_p_of(&x->c, 0)->status);
	pk.deadline_ns = goro_now_ns() + 1000000ull;
	goro_park_m(fd, GORO_PARK_DEADLINE | GORO_PARK_NOSTEAL, &pk);
	EXPECT_EQ(0, ioctl(fd, GORO_IOC_DETACH_M));
	for (i = 0; i < (int)x->c.s.max_ms; i++)
		EXPECT_EQ((__u32)GORO_M_FREE, goro_m_of(&x->c, i)->state);
	munmap(x->c.map, x->c.s.map_size);
	close(fd);
	close(x->pfd[0]);
	close(x->pfd[1]);
	free(x);
}

TEST_F_TIMEOUT(chaos, m_exits_at_each_point, 3600)
{
	__u64 seed = chaos_seed() ^ 0x5a5a, s = seed;
	__u64 end = goro_now_ns() + chaos_secs() * 1000000000ull;
	unsigned int n = 0, raw = 0;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	ASSERT_EQ(0, goro_stat_wait("instances", 0, WAIT_MS));
	while (n < 2 * EX_N || goro_now_ns() < end) {
		int r = (int)(rnd(&s) % 2);

		one_exit(_metadata, (enum exit_point)(n % EX_N), r);
		if (_metadata->passed == 0)
			break;
		raw += (unsigned int)r;
		n++;
	}
	TH_LOG("%u M exits (%u by SYS_exit)", n, raw);
	EXPECT_NOTHING_LEFT();
}

/*
 * An M handed a P while it leaves: the parked M's deadline is about to
 * pass, and as soon as PARK returns it detaches or its thread exits,
 * while another M keeps blocking with work on its P (each block hands the
 * P to the parked M from the context switch). The wake-up queued for the
 * leaving M must not outlive it (it did: a freed M's irq_work queued
 * after the lock was dropped corrupted the slab).
 */
struct leaver {
	struct goro_ctx c;
	int fd;
	volatile int stop;
	__u64 seed;
};

static void *leaver_blocker(void *arg)
{
	struct leaver *l = arg;
	__u64 s = l->seed, g = 1;
	unsigned int m;

	if (goro_attach_m(l->fd, 1, 0, &m))
		return NULL;
	while (!l->stop) {
		__u32 p = goro_m_of(&l->c, m)->p;

		if (p < l->c.s.nprocs && goro_runq_room(goro_p_of(&l->c, p)))
			goro_runq_put_batch(goro_p_of(&l->c, p), &g, 1);
		g++;
		sleep_us((unsigned int)(rnd(&s) % 30));	/* a block */
	}
	return NULL;
}

static void *leaver_m(void *arg)
{
	struct leaver *l = arg;
	struct goro_park pk = { 0 };
	__u64 s = l->seed ^ (__u64)goro_gettid();

	if (goro_attach_m(l->fd, 0, 0, NULL))
		return NULL;
	pk.deadline_ns = goro_now_ns() + rnd(&s) % 60000;
	goro_park_m(l->fd, GORO_PARK_DEADLINE, &pk);
	switch (rnd(&s) % 3) {
	case 0:
		ioctl(l->fd, GORO_IOC_DETACH_M);
		break;
	case 1:
		syscall(SYS_exit, 0);
		break;
	}
	return NULL;	/* pthread_exit: leaves holding what it got */
}

TEST_F_TIMEOUT(chaos, handoff_to_an_m_that_leaves, 3600)
{
	__u64 s = chaos_seed() ^ 0x1eae;
	__u64 end = goro_now_ns() + chaos_secs() * 1000000000ull;
	struct leaver l = { 0 };
	unsigned int n = 0;
	pthread_t tb, t;

	GORO_OPEN_OR_SKIP(l.fd);
	l.seed = s;
	ASSERT_EQ(0, goro_ctx_init(&l.c, l.fd, 1, 16));
	ASSERT_EQ(0, pthread_create(&tb, NULL, leaver_blocker, &l));
	while (n < 200 || goro_now_ns() < end) {
		l.seed = rnd(&s);
		ASSERT_EQ(0, pthread_create(&t, NULL, leaver_m, &l));
		pthread_join(t, NULL);
		n++;
	}
	l.stop = 1;
	pthread_join(tb, NULL);
	munmap(l.c.map, l.c.s.map_size);
	close(l.fd);
	TH_LOG("%u Ms left right after a park, a P handed to them or not",
	       n);
	EXPECT_NOTHING_LEFT();
}

TEST_HARNESS_MAIN
