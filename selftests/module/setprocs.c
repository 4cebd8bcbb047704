// SPDX-License-Identifier: GPL-2.0
/*
 * GORO_IOC_SETPROCS: bad input, retired Ps never handed out (ATTACH_M,
 * WAKE, PARK), an owner keeps a retired P until it parks, and raising
 * nprocs puts the idle ones back into use.
 */
#include "goro_test.h"

GORO_FIXTURE_ATTACHED(attached_2p4m_p1, 2, 4, 1);

static int setprocs(int fd, unsigned int n)
{
	struct goro_setprocs s = { .nprocs = n };

	return goro_ioctl(fd, GORO_IOC_SETPROCS, &s);
}

TEST(setprocs_rejects_bad_input)
{
	struct goro_setprocs s = { .nprocs = 1 };
	struct goro_ctx c;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	EXPECT_EQ(-EINVAL, setprocs(fd, 1));	/* before SETUP */
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 2, 4));
	EXPECT_EQ(-EINVAL, setprocs(fd, 0));
	EXPECT_EQ(-EINVAL, setprocs(fd, 3));
	s.flags = 1;
	EXPECT_EQ(-EINVAL, goro_ioctl(fd, GORO_IOC_SETPROCS, &s));
	s.flags = 0;
	s.resv[1] = 1;
	EXPECT_EQ(-EINVAL, goro_ioctl(fd, GORO_IOC_SETPROCS, &s));
	EXPECT_EQ(-EFAULT, goro_ioctl(fd, GORO_IOC_SETPROCS, NULL));
	EXPECT_EQ(0, setprocs(fd, 2));
	EXPECT_EQ(0, setprocs(fd, 1));
	close(fd);
}

static void *attach_p2(void *arg)
{
	return (void *)(long)goro_attach_m(*(int *)arg, 1, 2, NULL);
}

TEST(retired_ps_are_not_handed_out_until_raised)
{
	struct goro_ctx c;
	pthread_t t;
	void *ret;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 3, 8));
	EXPECT_EQ(3U, c.hdr->npidle);
	ASSERT_EQ(0, setprocs(fd, 1));
	EXPECT_EQ(1U, c.hdr->npidle);
	EXPECT_EQ(-EBUSY, goro_attach_m(fd, 1, 2, NULL));
	EXPECT_EQ(-EBUSY, goro_attach_m(fd, 1, 1, NULL));
	ASSERT_EQ(0, goro_attach_m(fd, 1, 0, NULL));
	EXPECT_EQ(0U, c.hdr->npidle);
	/* nothing parked and nothing idle: WAKE finds nothing */
	EXPECT_EQ(0, goro_wake_m(fd));
	ASSERT_EQ(0, setprocs(fd, 3));
	EXPECT_EQ(2U, c.hdr->npidle);
	ASSERT_EQ(0, pthread_create(&t, NULL, attach_p2, &fd));
	ASSERT_EQ(0, pthread_join(t, &ret));
	EXPECT_EQ(0L, (long)ret);
	close(fd);
}

TEST_F(attached_2p4m_p1, owner_keeps_a_retired_p_until_it_parks)
{
	struct goro_park pk = { 0 };

	ASSERT_EQ(0, setprocs(self->fd, 1));
	/* a block does not hand it off: sleep without locks */
	goro_sleep_ms(20);
	EXPECT_EQ(1U, goro_m_of(&self->c, self->m)->p);
	EXPECT_EQ((__u32)GORO_P_RUNNING, goro_p_of(&self->c, 1)->status);
	/* with global work, PARK gives P1 up anyway and takes P0 for it */
	self->c.hdr->runqsize = 1;
	ASSERT_EQ(0, goro_park_m(self->fd, 0, &pk));
	EXPECT_EQ((__u32)GORO_WOKE_GLOBAL, pk.why);
	EXPECT_EQ(0U, pk.p);
	EXPECT_EQ((__u32)GORO_P_IDLE, goro_p_of(&self->c, 1)->status);
	EXPECT_EQ(0U, self->c.hdr->npidle);
}

TEST_HARNESS_MAIN
