// SPDX-License-Identifier: GPL-2.0
/*
 * The monitor: a running P whose schedtick stays put for preempt_ms
 * (default 10 ms) gets goro_p.preempt = 1; one that keeps scheduling
 * does not; a P whose owner sleeps is not running goroutine code.
 */
#include "goro_test.h"

static void spin_ms(unsigned int ms, volatile __u64 *tick)
{
	__u64 end = goro_now_ns() + ms * 1000000ull;
	__u64 next = 0;

	while (goro_now_ns() < end) {
		if (tick && goro_now_ns() >= next) {
			(*tick)++;
			next = goro_now_ns() + 1000000ull;
		}
	}
}

TEST(preempt_flag_set_when_schedtick_stalls)
{
	struct goro_ctx c;
	struct goro_p *p;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 1, 4));
	if (!(c.s.features & GORO_FEAT_PREEMPT))
		SKIP(return, "monitor disabled (preempt_ms=0)");
	ASSERT_EQ(0, goro_attach_m(fd, 1, 0, NULL));
	p = goro_p_of(&c, 0);
	spin_ms(100, NULL);
	EXPECT_EQ(1U, p->preempt);
	EXPECT_LE(1ULL, c.hdr->preempt_reqs);
	close(fd);
}

TEST(no_preempt_while_schedtick_moves)
{
	struct goro_ctx c;
	struct goro_p *p;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 1, 4));
	if (!(c.s.features & GORO_FEAT_PREEMPT))
		SKIP(return, "monitor disabled (preempt_ms=0)");
	ASSERT_EQ(0, goro_attach_m(fd, 1, 0, NULL));
	p = goro_p_of(&c, 0);
	spin_ms(100, &p->schedtick);
	EXPECT_EQ(0U, p->preempt);
	EXPECT_EQ(0ULL, c.hdr->preempt_reqs);
	close(fd);
}

TEST(no_preempt_for_idle_or_blocked_p)
{
	struct goro_ctx c;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 2, 4));
	ASSERT_EQ(0, goro_attach_m(fd, 1, 0, NULL));
	/* P0's owner sleeps (P0 blocked), P1 is idle */
	goro_sleep_ms(100);
	EXPECT_EQ(0U, goro_p_of(&c, 0)->preempt);
	EXPECT_EQ(0U, goro_p_of(&c, 1)->preempt);
	close(fd);
}

TEST_HARNESS_MAIN
