// SPDX-License-Identifier: GPL-2.0
/*
 * GORO_IOC_ATTACH_M / DETACH_M: registering threads as Ms, P binding,
 * bad input, and the cleanup when an M's thread exits or the file goes
 * away while Ms are attached.
 */
#include "goro_test.h"

GORO_FIXTURE_ATTACHED(attached_2p8m, 2, 8, 0);
GORO_FIXTURE_ATTACHED(attached_1p1m_nop, 1, 1, GORO_NONE);

TEST(attach_without_p)
{
	struct goro_ctx c;
	unsigned int m;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 2, 8));
	ASSERT_EQ(0, goro_attach_m(fd, 0, 0, &m));
	ASSERT_LT(m, 8U);
	EXPECT_EQ((__u32)GORO_M_RUNNING, goro_m_of(&c, m)->state);
	EXPECT_EQ(GORO_NONE, goro_m_of(&c, m)->p);
	EXPECT_EQ((__u32)goro_gettid(), goro_m_of(&c, m)->tid);
	EXPECT_EQ(2U, c.hdr->npidle);
	EXPECT_EQ(0, goro_ioctl(fd, GORO_IOC_DETACH_M, NULL));
	EXPECT_EQ((__u32)GORO_M_FREE, goro_m_of(&c, m)->state);
	close(fd);
}

TEST(attach_with_p_owns_it)
{
	struct goro_ctx c;
	unsigned int m;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 2, 8));
	ASSERT_EQ(0, goro_attach_m(fd, 1, 1, &m));
	EXPECT_EQ(1U, goro_m_of(&c, m)->p);
	EXPECT_EQ((__u32)GORO_P_RUNNING, goro_p_of(&c, 1)->status);
	EXPECT_EQ(m, goro_p_of(&c, 1)->owner);
	EXPECT_EQ(1U, c.hdr->npidle);
	/* detach gives the P back */
	EXPECT_EQ(0, goro_ioctl(fd, GORO_IOC_DETACH_M, NULL));
	EXPECT_EQ((__u32)GORO_P_IDLE, goro_p_of(&c, 1)->status);
	EXPECT_EQ(GORO_NONE, goro_p_of(&c, 1)->owner);
	EXPECT_EQ(2U, c.hdr->npidle);
	close(fd);
}

TEST(attach_twice_eexist)
{
	struct goro_ctx c;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 1, 8));
	ASSERT_EQ(0, goro_attach_m(fd, 0, 0, NULL));
	EXPECT_EQ(-EEXIST, goro_attach_m(fd, 0, 0, NULL));
	EXPECT_EQ(-EEXIST, goro_attach_m(fd, 1, 0, NULL));
	/* detach, then attach again */
	EXPECT_EQ(0, goro_ioctl(fd, GORO_IOC_DETACH_M, NULL));
	EXPECT_EQ(0, goro_attach_m(fd, 1, 0, NULL));
	close(fd);
}

struct attach_arg {
	int fd;
	int bind;
	unsigned int p;
	int ret;
	unsigned int m;
};

static void *attach_thread(void *arg)
{
	struct attach_arg *a = arg;

	a->ret = goro_attach_m(a->fd, a->bind, a->p, &a->m);
	return NULL;
}

TEST_F(attached_2p8m, attach_busy_p_ebusy)
{
	struct attach_arg a = { 0 };
	pthread_t t;

	a.fd = self->fd;
	a.bind = 1;
	a.p = 0;
	ASSERT_EQ(0, pthread_create(&t, NULL, attach_thread, &a));
	pthread_join(t, NULL);
	EXPECT_EQ(-EBUSY, a.ret);
	a.p = 1;
	ASSERT_EQ(0, pthread_create(&t, NULL, attach_thread, &a));
	pthread_join(t, NULL);
	EXPECT_EQ(0, a.ret);
}

TEST(attach_bad_args_einval)
{
	struct goro_attach a;
	struct goro_ctx c;
	unsigned int i;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 2, 8));
	memset(&a, 0, sizeof(a));
	a.flags = 2;
	EXPECT_EQ(-EINVAL, goro_ioctl(fd, GORO_IOC_ATTACH_M, &a));
	a.flags = GORO_ATTACH_P;
	a.p = 2;
	EXPECT_EQ(-EINVAL, goro_ioctl(fd, GORO_IOC_ATTACH_M, &a));
	a.p = GORO_NONE;
	EXPECT_EQ(-EINVAL, goro_ioctl(fd, GORO_IOC_ATTACH_M, &a));
	a.p = 0;
	for (i = 0; i < 5; i++) {
		a.resv[i] = 1;
		EXPECT_EQ(-EINVAL, goro_ioctl(fd, GORO_IOC_ATTACH_M, &a));
		a.resv[i] = 0;
	}
	EXPECT_EQ(-EFAULT, goro_ioctl(fd, GORO_IOC_ATTACH_M, NULL));
	EXPECT_EQ(0, goro_ioctl(fd, GORO_IOC_ATTACH_M, &a));
	close(fd);
}

TEST_F(attached_1p1m_nop, attach_beyond_max_ms_enospc)
{
	struct attach_arg a = { 0 };
	pthread_t t;

	a.fd = self->fd;
	ASSERT_EQ(0, pthread_create(&t, NULL, attach_thread, &a));
	pthread_join(t, NULL);
	EXPECT_EQ(-ENOSPC, a.ret);
}

TEST(not_attached_eperm)
{
	struct goro_park pk = { 0 };
	struct goro_ctx c;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 1, 4));
	EXPECT_EQ(-EPERM, goro_ioctl(fd, GORO_IOC_DETACH_M, NULL));
	EXPECT_EQ(-EPERM, goro_ioctl(fd, GORO_IOC_PARK, &pk));
	close(fd);
}

static void *attach_and_exit(void *arg)
{
	struct attach_arg *a = arg;

	a->ret = goro_attach_m(a->fd, a->bind, a->p, &a->m);
	return NULL;	/* exits while attached, holding the P */
}

TEST(thread_exit_while_attached_frees_m_and_p)
{
	struct attach_arg a = { 0 };
	struct goro_ctx c;
	pthread_t t;
	long base;
	int fd, i;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 2, 64));
	/*
	 * Ms of the tests before are freed from a workqueue: let them go
	 * before counting (the count is module-wide)
	 */
	base = goro_stat_wait("ms", 0, 2000);
	for (i = 0; i < 100; i++) {
		a.fd = fd;
		a.bind = 1;
		a.p = i % 2;
		ASSERT_EQ(0, pthread_create(&t, NULL, attach_and_exit, &a));
		pthread_join(t, NULL);
		ASSERT_EQ(0, a.ret);
		/* the dead thread's P comes back, its slot too */
		ASSERT_EQ(0, goro_wait_u32(&goro_p_of(&c, a.p)->status,
					   GORO_P_IDLE, 2000));
		ASSERT_EQ(0, goro_wait_u32(&goro_m_of(&c, a.m)->state,
					   GORO_M_FREE, 2000));
	}
	EXPECT_EQ(2U, c.hdr->npidle);
	EXPECT_EQ(base, goro_stat_wait("ms", base, 2000));
	close(fd);
}

TEST(close_while_attached_frees_everything)
{
	struct goro_ctx c;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	ASSERT_EQ(0, goro_stat_wait("instances", 0, 2000));
	ASSERT_EQ(0, goro_stat_wait("ms", 0, 2000));
	fd = open(GORO_DEVICE, O_RDWR);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 1, 4));
	ASSERT_EQ(0, goro_attach_m(fd, 1, 0, NULL));
	EXPECT_EQ(1, goro_stat("ms"));
	munmap(c.map, c.s.map_size);
	close(fd);
	/* still an M until it blocks once: then it leaves */
	goro_sleep_ms(5);
	EXPECT_EQ(0, goro_stat_wait("ms", 0, 2000));
	EXPECT_EQ(0, goro_stat_wait("instances", 0, 2000));
	/* and may join a new instance */
	fd = open(GORO_DEVICE, O_RDWR);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 1, 4));
	EXPECT_EQ(0, goro_attach_m(fd, 1, 0, NULL));
	close(fd);
}

TEST(close_while_attached_without_p_frees_everything)
{
	struct goro_ctx c;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	ASSERT_EQ(0, goro_stat_wait("ms", 0, 2000));
	fd = open(GORO_DEVICE, O_RDWR);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 1, 4));
	ASSERT_EQ(0, goro_attach_m(fd, 0, 0, NULL));
	munmap(c.map, c.s.map_size);
	close(fd);
	goro_sleep_ms(5);
	EXPECT_EQ(0, goro_stat_wait("ms", 0, 2000));
	EXPECT_EQ(0, goro_stat_wait("instances", 0, 2000));
}

TEST(many_threads_attach_detach)
{
	struct attach_arg a[16];
	struct goro_ctx c;
	pthread_t t[16];
	int fd, i, r;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 4, 16));
	for (r = 0; r < 20; r++) {
		for (i = 0; i < 16; i++) {
			a[i].fd = fd;
			a[i].bind = i < 4;
			a[i].p = i;
			ASSERT_EQ(0, pthread_create(&t[i], NULL,
						    attach_and_exit, &a[i]));
		}
		for (i = 0; i < 16; i++) {
			pthread_join(t[i], NULL);
			EXPECT_EQ(0, a[i].ret);
		}
		for (i = 0; i < 4; i++)
			ASSERT_EQ(0, goro_wait_u32(&goro_p_of(&c, i)->status,
						   GORO_P_IDLE, 2000));
	}
	EXPECT_EQ(4U, c.hdr->npidle);
	close(fd);
	EXPECT_EQ(0, goro_stat_wait("ms", 0, 2000));
}

TEST_HARNESS_MAIN
