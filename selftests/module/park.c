// SPDX-License-Identifier: GPL-2.0
/*
 * GORO_IOC_PARK and GORO_IOC_WAKE: the kernel's last look for work (own
 * ring, global queue, steal), sleeping with a deadline, an fd or until a
 * signal, wakep, bad input, a hostile ring, and a park/wake stress that
 * hangs if a wake-up is ever lost.
 */
#include "goro_test.h"

#include <signal.h>
#include <sys/epoll.h>

GORO_FIXTURE_ATTACHED(attached_2p4m, 2, 4, 0);
GORO_FIXTURE_ATTACHED(attached_1p4m, 1, 4, 0);

/* Owner side: append handles to P p's ring. */
static unsigned int put_handles(struct goro_p *p, __u64 first, unsigned int n)
{
	__u64 g[GORO_RUNQ_ENTRIES];
	unsigned int i;

	for (i = 0; i < n; i++)
		g[i] = first + i;
	return goro_runq_put_batch(p, g, n);
}

TEST_F(attached_2p4m, park_returns_at_once_when_own_ring_has_work)
{
	struct goro_park pk = { 0 };

	ASSERT_EQ(1U, put_handles(goro_p_of(&self->c, 0), 100, 1));
	ASSERT_EQ(0, goro_park_m(self->fd, 0, &pk));
	EXPECT_EQ((__u32)GORO_WOKE_LOCAL, pk.why);
	EXPECT_EQ(0U, pk.p);
	/* runnext counts as work too */
	EXPECT_EQ(100ULL, goro_runq_get(goro_p_of(&self->c, 0), 1));
	goro_p_of(&self->c, 0)->runnext = 7;
	ASSERT_EQ(0, goro_park_m(self->fd, 0, &pk));
	EXPECT_EQ((__u32)GORO_WOKE_LOCAL, pk.why);
}

TEST_F(attached_1p4m, park_returns_at_once_when_global_queue_has_work)
{
	struct goro_park pk = { 0 };

	self->c.hdr->runqsize = 3;
	ASSERT_EQ(0, goro_park_m(self->fd, 0, &pk));
	EXPECT_EQ((__u32)GORO_WOKE_GLOBAL, pk.why);
	EXPECT_EQ(0U, pk.p);
}

/*
 * A thread that holds P p while the test runs. It sleeps, which would
 * hand its P off: goro_m.locks = 1 says "inside the runtime, keep it".
 */
struct holder {
	struct goro_ctx *c;
	int fd;
	unsigned int p;
	volatile int ready, stop;
};

static void *hold_p(void *arg)
{
	struct holder *h = arg;
	unsigned int m;

	if (goro_attach_m(h->fd, 1, h->p, &m))
		return NULL;
	goro_m_of(h->c, m)->locks = 1;
	h->ready = 1;
	while (!h->stop)
		goro_sleep_ms(1);
	return NULL;
}

TEST(kernel_steal_moves_half_exactly)
{
	unsigned int n, i, seen[64] = { 0 };
	struct holder h = { 0 };
	struct goro_park pk = { 0 };
	struct goro_ctx c;
	pthread_t t;
	__u64 g;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 2, 4));
	h.c = &c;
	h.fd = fd;
	h.p = 1;
	ASSERT_EQ(0, pthread_create(&t, NULL, hold_p, &h));
	while (!h.ready)
		goro_sleep_ms(1);
	ASSERT_EQ(0, goro_attach_m(fd, 1, 0, NULL));
	/* 11 handles on P1 (held by the other M): we get 6 of them */
	ASSERT_EQ(11U, put_handles(goro_p_of(&c, 1), 1, 11));
	ASSERT_EQ(0, goro_park_m(fd, 0, &pk));
	EXPECT_EQ((__u32)GORO_WOKE_STOLEN, pk.why);
	EXPECT_EQ(0U, pk.p);
	EXPECT_EQ(6U, pk.nstolen);
	EXPECT_EQ(6U, goro_runq_len(goro_p_of(&c, 0)));
	EXPECT_EQ(5U, goro_runq_len(goro_p_of(&c, 1)));
	EXPECT_EQ(6ULL, goro_p_of(&c, 1)->ksteals);
	EXPECT_EQ(6ULL, c.hdr->ksteals);
	/* every handle exactly once, in order on each side */
	for (n = 0; (g = goro_runq_get(goro_p_of(&c, 0), 1)); n++) {
		EXPECT_EQ(n + 1, g);
		seen[g]++;
	}
	EXPECT_EQ(6U, n);
	for (n = 0; (g = goro_runq_get(goro_p_of(&c, 1), 1)); n++) {
		EXPECT_EQ(n + 7, g);
		seen[g]++;
	}
	EXPECT_EQ(5U, n);
	for (i = 1; i <= 11; i++)
		EXPECT_EQ(1U, seen[i]);
	h.stop = 1;
	pthread_join(t, NULL);
	close(fd);
}

TEST(park_nosteal_skips_the_scan)
{
	struct holder h = { 0 };
	struct goro_park pk = { 0 };
	struct goro_ctx c;
	pthread_t t;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 2, 4));
	h.c = &c;
	h.fd = fd;
	h.p = 1;
	ASSERT_EQ(0, pthread_create(&t, NULL, hold_p, &h));
	while (!h.ready)
		goro_sleep_ms(1);
	ASSERT_EQ(0, goro_attach_m(fd, 1, 0, NULL));
	ASSERT_EQ(4U, put_handles(goro_p_of(&c, 1), 1, 4));
	pk.deadline_ns = goro_now_ns() + 10 * 1000000ull;
	ASSERT_EQ(0, goro_park_m(fd, GORO_PARK_NOSTEAL | GORO_PARK_DEADLINE,
				 &pk));
	EXPECT_EQ((__u32)GORO_WOKE_DEADLINE, pk.why);
	EXPECT_EQ(GORO_NONE, pk.p);
	EXPECT_EQ(4U, goro_runq_len(goro_p_of(&c, 1)));
	/* our P went idle while we slept */
	EXPECT_EQ((__u32)GORO_P_IDLE, goro_p_of(&c, 0)->status);
	h.stop = 1;
	pthread_join(t, NULL);
	close(fd);
}

TEST(park_without_p_takes_idle_p_for_work)
{
	struct holder h = { 0 };
	struct goro_park pk = { 0 };
	struct goro_ctx c;
	pthread_t t;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 2, 4));
	h.c = &c;
	h.fd = fd;
	h.p = 0;
	ASSERT_EQ(0, pthread_create(&t, NULL, hold_p, &h));
	while (!h.ready)
		goro_sleep_ms(1);
	ASSERT_EQ(0, goro_attach_m(fd, 0, 0, NULL));
	ASSERT_EQ(2U, put_handles(goro_p_of(&c, 0), 1, 2));
	ASSERT_EQ(0, goro_park_m(fd, 0, &pk));
	EXPECT_EQ((__u32)GORO_WOKE_STOLEN, pk.why);
	EXPECT_EQ(1U, pk.p);
	EXPECT_EQ(1U, pk.nstolen);
	h.stop = 1;
	pthread_join(t, NULL);
	close(fd);
}

TEST_F(attached_1p4m, park_deadline_times_out)
{
	struct goro_park pk = { 0 };
	__u64 t0;

	t0 = goro_now_ns();
	pk.deadline_ns = t0 + 20 * 1000000ull;
	ASSERT_EQ(0, goro_park_m(self->fd, GORO_PARK_DEADLINE, &pk));
	EXPECT_EQ((__u32)GORO_WOKE_DEADLINE, pk.why);
	EXPECT_EQ(GORO_NONE, pk.p);
	EXPECT_LE(t0 + 20 * 1000000ull, goro_now_ns());
	EXPECT_EQ(1U, self->c.hdr->npidle);
	EXPECT_EQ(0U, self->c.hdr->nmidle);
	/* in the past, and absurdly far away with a signal to end it */
	pk.deadline_ns = 1;
	ASSERT_EQ(0, goro_park_m(self->fd, GORO_PARK_DEADLINE, &pk));
	EXPECT_EQ((__u32)GORO_WOKE_DEADLINE, pk.why);
}

struct writer {
	int wfd;
	unsigned int ms;
	pid_t tid;
	int sig;
};

static void *write_later(void *arg)
{
	struct writer *w = arg;

	goro_sleep_ms(w->ms);
	if (w->sig)
		syscall(SYS_tgkill, getpid(), w->tid, w->sig);
	else if (write(w->wfd, "x", 1) != 1)
		return NULL;
	return NULL;
}

TEST_F(attached_1p4m, park_fd_wakes_on_epoll)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct goro_park pk = { 0 };
	struct writer w = { 0 };
	int ep, pfd[2];
	pthread_t t;

	ASSERT_EQ(0, pipe(pfd));
	ep = epoll_create1(EPOLL_CLOEXEC);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, pfd[0], &ev));
	w.wfd = pfd[1];
	w.ms = 20;
	ASSERT_EQ(0, pthread_create(&t, NULL, write_later, &w));
	pk.fd = ep;
	ASSERT_EQ(0, goro_park_m(self->fd, GORO_PARK_FD, &pk));
	EXPECT_EQ((__u32)GORO_WOKE_FD, pk.why);
	EXPECT_EQ(GORO_NONE, pk.p);
	pthread_join(t, NULL);
	/* already readable: returns at once */
	pk.fd = ep;
	ASSERT_EQ(0, goro_park_m(self->fd, GORO_PARK_FD, &pk));
	EXPECT_EQ((__u32)GORO_WOKE_FD, pk.why);
	close(ep);
}

static void on_usr1(int sig)
{
	(void)sig;
}

TEST_F(attached_1p4m, park_signal_eintr)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct goro_park pk = { 0 };
	struct writer w = { 0 };
	pthread_t t;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	w.tid = goro_gettid();
	w.sig = SIGUSR1;
	w.ms = 20;
	ASSERT_EQ(0, pthread_create(&t, NULL, write_later, &w));
	EXPECT_EQ(-EINTR, goro_park_m(self->fd, 0, &pk));
	pthread_join(t, NULL);
	EXPECT_EQ(GORO_NONE, goro_m_of(&self->c, 0)->p);
	EXPECT_EQ(0U, self->c.hdr->nmidle);
	EXPECT_EQ(1U, self->c.hdr->npidle);
}

TEST_F(attached_1p4m, park_bad_args)
{
	struct goro_park pk;
	unsigned int i;
	int reg;

	memset(&pk, 0, sizeof(pk));
	pk.flags = 1U << 4;
	EXPECT_EQ(-EINVAL, goro_ioctl(self->fd, GORO_IOC_PARK, &pk));
	pk.flags = 0x80000000;
	EXPECT_EQ(-EINVAL, goro_ioctl(self->fd, GORO_IOC_PARK, &pk));
	pk.flags = 0;
	for (i = 0; i < 3; i++) {
		pk.resv[i] = 1;
		EXPECT_EQ(-EINVAL, goro_ioctl(self->fd, GORO_IOC_PARK, &pk));
		pk.resv[i] = 0;
	}
	pk.flags = GORO_PARK_FD;
	pk.fd = -1;
	EXPECT_EQ(-EBADF, goro_ioctl(self->fd, GORO_IOC_PARK, &pk));
	pk.fd = 9999;
	EXPECT_EQ(-EBADF, goro_ioctl(self->fd, GORO_IOC_PARK, &pk));
	reg = open("/proc/self/status", O_RDONLY);
	ASSERT_LE(0, reg);
	pk.fd = reg;
	EXPECT_EQ(-EINVAL, goro_ioctl(self->fd, GORO_IOC_PARK, &pk));
	close(reg);
	EXPECT_EQ(-EFAULT, goro_ioctl(self->fd, GORO_IOC_PARK, NULL));
	/* none of that cost us the P */
	EXPECT_EQ(0U, goro_m_of(&self->c, 0)->p);
}

TEST(wake_bad_args_and_nothing_to_wake)
{
	struct goro_wake w;
	struct goro_ctx c;
	unsigned int i;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 1, 4));
	memset(&w, 0, sizeof(w));
	for (i = 1; i < 32; i++) {
		w.flags = 1U << i;
		EXPECT_EQ(-EINVAL, goro_ioctl(fd, GORO_IOC_WAKE, &w));
	}
	w.flags = 0;
	w.resv = 1;
	EXPECT_EQ(-EINVAL, goro_ioctl(fd, GORO_IOC_WAKE, &w));
	w.resv = 0;
	EXPECT_EQ(-EFAULT, goro_ioctl(fd, GORO_IOC_WAKE, NULL));
	/* nobody parked */
	EXPECT_EQ(0, goro_wake_m(fd));
	close(fd);
}

struct parker {
	int fd;
	unsigned int m;
	volatile int done, stop;
	int ret;
	struct goro_park pk;
};

static void *park_once(void *arg)
{
	struct parker *p = arg;

	if (goro_attach_m(p->fd, 0, 0, &p->m)) {
		p->ret = -1;
		return NULL;
	}
	p->ret = goro_park_m(p->fd, 0, &p->pk);
	p->done = 1;
	while (!p->stop)
		goro_sleep_ms(1);
	return NULL;
}

TEST_F(attached_2p4m, wake_gives_idle_p_to_parked_m)
{
	struct parker pa = { 0 };
	pthread_t t;

	pa.fd = self->fd;
	ASSERT_EQ(0, pthread_create(&t, NULL, park_once, &pa));
	ASSERT_EQ(0, goro_wait_u32(&self->c.hdr->nmidle, 1, 5000));
	EXPECT_EQ(1U, self->c.hdr->npidle);
	EXPECT_EQ(1, goro_wake_m(self->fd));
	while (!pa.done)
		goro_sleep_ms(1);
	EXPECT_EQ(0, pa.ret);
	EXPECT_EQ((__u32)GORO_WOKE_WAKE, pa.pk.why);
	EXPECT_EQ(1U, pa.pk.p);
	EXPECT_EQ(pa.m, goro_p_of(&self->c, 1)->owner);
	EXPECT_EQ(0U, self->c.hdr->nmidle);
	EXPECT_EQ(1ULL, self->c.hdr->wakes);
	/* nobody parked: nothing to wake */
	EXPECT_EQ(0, goro_wake_m(self->fd));
	pa.stop = 1;
	pthread_join(t, NULL);
}

TEST(hostile_ring_never_hangs_or_overreads)
{
	struct holder h = { 0 };
	struct goro_park pk = { 0 };
	struct goro_ctx c;
	struct goro_p *v;
	pthread_t t;
	int fd, i;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 2, 4));
	h.c = &c;
	h.fd = fd;
	h.p = 1;
	ASSERT_EQ(0, pthread_create(&t, NULL, hold_p, &h));
	while (!h.ready)
		goro_sleep_ms(1);
	ASSERT_EQ(0, goro_attach_m(fd, 1, 0, NULL));
	v = goro_p_of(&c, 1);
	for (i = 0; i < 6; i++) {
		static const __u32 bad[6][2] = {
			{ 0, 1000 }, { 1000, 0 }, { 0xfffffff0, 0x10 },
			{ 5, 4 }, { 0, 0xffffffff }, { 7, 7 + 256 },
		};

		v->head = bad[i][0];
		v->tail = bad[i][1];
		goro_p_of(&c, 0)->head = 0;
		goro_p_of(&c, 0)->tail = 0;
		pk.deadline_ns = goro_now_ns() + 2 * 1000000ull;
		ASSERT_EQ(0, goro_park_m(fd, GORO_PARK_DEADLINE, &pk));
		EXPECT_GE(128U, pk.nstolen);
		if (pk.p == GORO_NONE) {
			/* get a P back for the next round */
			ASSERT_EQ(0, goro_ioctl(fd, GORO_IOC_DETACH_M, NULL));
			ASSERT_EQ(0, goro_attach_m(fd, 1, 0, NULL));
		}
	}
	h.stop = 1;
	pthread_join(t, NULL);
	close(fd);
}

/*
 * The stress: the main M holds P0 and queues one handle per round on its
 * ring, then does what wakep does (barrier, npidle, WAKE). The worker M
 * parks (no deadline); the kernel either finds the handle at park time
 * (steal) or the WAKE gets it up, and it parks again with its P, which
 * steals. A lost wake-up leaves a handle on P0 for good: the round times
 * out after 2 s.
 */
#define STRESS_ROUNDS 3000

struct stress {
	struct goro_ctx *c;
	int fd;
	volatile int stop;
	volatile unsigned int consumed;
	unsigned int dup, bad;
	unsigned char seen[STRESS_ROUNDS];
};

static void *stress_worker(void *arg)
{
	struct stress *s = arg;
	struct goro_park pk = { 0 };
	__u64 g;

	if (goro_attach_m(s->fd, 0, 0, NULL))
		return NULL;
	while (!s->stop) {
		/* no deadline: only a wake-up or the scan gets us going */
		if (goro_park_m(s->fd, 0, &pk))
			continue;
		if (pk.p == GORO_NONE)
			continue;
		while ((g = goro_runq_get(goro_p_of(s->c, pk.p), 1))) {
			if (g > STRESS_ROUNDS) {
				s->bad++;
				continue;
			}
			if (s->seen[g - 1]++)
				s->dup++;
			__atomic_add_fetch(&s->consumed, 1, __ATOMIC_RELEASE);
		}
	}
	return NULL;
}

TEST(park_wake_stress_no_lost_wakeups)
{
	struct stress *s;
	struct goro_ctx c;
	unsigned int i, lost = 0, woken = 0;
	pthread_t t;
	__u64 t0;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 2, 4));
	s = calloc(1, sizeof(*s));
	ASSERT_NE(NULL, s);
	s->c = &c;
	s->fd = fd;
	ASSERT_EQ(0, goro_attach_m(fd, 1, 0, NULL));
	ASSERT_EQ(0, pthread_create(&t, NULL, stress_worker, s));
	ASSERT_EQ(0, goro_wait_u32(&c.hdr->nmidle, 1, 10000));
	t0 = goro_now_ns();
	for (i = 0; i < STRESS_ROUNDS; i++) {
		__u64 deadline = goro_now_ns() + 2000 * 1000000ull;

		ASSERT_EQ(1U, put_handles(goro_p_of(&c, 0), i + 1, 1));
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&c.hdr->npidle, __ATOMIC_RELAXED) &&
		    !__atomic_load_n(&c.hdr->nmspinning, __ATOMIC_RELAXED))
			woken += goro_wake_m(fd) == 1;
		while (__atomic_load_n(&s->consumed, __ATOMIC_ACQUIRE) <= i) {
			if (goro_now_ns() > deadline) {
				lost++;
				break;
			}
		}
		if (lost)
			break;
	}
	s->stop = 1;
	/* the worker is parked or about to park: wake it until it is gone */
	while (pthread_tryjoin_np(t, NULL)) {
		goro_wake_m(fd);
		goro_sleep_ms(1);
	}
	EXPECT_EQ(0U, lost) TH_LOG("round %u: the handle was never taken", i);
	EXPECT_EQ(0U, s->dup);
	EXPECT_EQ(0U, s->bad);
	EXPECT_EQ((unsigned int)STRESS_ROUNDS, s->consumed);
	TH_LOG("%u rounds in %llu ms, %u wakes, %llu parks, %llu kernel steals",
	       i, (goro_now_ns() - t0) / 1000000, woken, c.hdr->parks,
	       c.hdr->ksteals);
	free(s);
	close(fd);
}

TEST_HARNESS_MAIN
