// SPDX-License-Identifier: GPL-2.0
/*
 * The monitor: a running P whose schedtick stays put for preempt_ms
 * (default 10 ms) gets goro_p.preempt = 1; one that keeps scheduling
 * does not; a P whose owner sleeps is not running goroutine code.
 */
#include "goro_test.h"

GORO_FIXTURE_ATTACHED(attached_2p4m, 2, 4, 0);

/*
 * The test box is an emulator sharing a busy host: its vCPU threads can
 * lose the host CPU for longer than preempt_ms, and then the monitor
 * rightly sees a schedtick that did not move. The loops below measure
 * those gaps themselves, and no test counts on a deadline.
 */
#define GAP_NS	(5 * 1000000ull)	/* half the 10 ms limit */

TEST(preempt_flag_set_when_schedtick_stalls)
{
	struct goro_ctx c;
	struct goro_p *p;
	__u64 end;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 1, 4));
	if (!(c.s.features & GORO_FEAT_PREEMPT))
		SKIP(return, "monitor disabled (preempt_ms=0)");
	ASSERT_EQ(0, goro_attach_m(fd, 1, 0, NULL));
	p = goro_p_of(&c, 0);
	/* a goroutine that never yields: the request comes (bounded wait) */
	end = goro_now_ns() + 5000 * 1000000ull;
	while (!__atomic_load_n(&p->preempt, __ATOMIC_RELAXED) &&
	       goro_now_ns() < end)
		;
	EXPECT_EQ(1U, p->preempt);
	EXPECT_LE(1ULL, c.hdr->preempt_reqs);
	close(fd);
}

/*
 * A P that keeps scheduling (schedtick bumped all the time) is not asked
 * to yield. Each request is cleared as the library does on a yield, and
 * counted; a request is explained only by a gap in the loop itself (the
 * vCPU was not running), so requests <= gaps. A monitor that ignored
 * schedtick would ask about every 10 ms: ~20 times, with no gap.
 */
TEST(no_preempt_while_schedtick_moves)
{
	struct goro_ctx c;
	struct goro_p *p;
	__u64 now, prev, end, reqs = 0, gaps = 0;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 1, 4));
	if (!(c.s.features & GORO_FEAT_PREEMPT))
		SKIP(return, "monitor disabled (preempt_ms=0)");
	ASSERT_EQ(0, goro_attach_m(fd, 1, 0, NULL));
	p = goro_p_of(&c, 0);
	prev = goro_now_ns();
	end = prev + 200 * 1000000ull;
	do {
		__atomic_store_n(&p->schedtick, p->schedtick + 1,
				 __ATOMIC_RELAXED);
		if (__atomic_load_n(&p->preempt, __ATOMIC_RELAXED)) {
			__atomic_store_n(&p->preempt, 0, __ATOMIC_RELAXED);
			reqs++;
		}
		now = goro_now_ns();
		if (now - prev > GAP_NS)
			gaps++;
		prev = now;
	} while (now < end);
	TH_LOG("%llu requests, %llu gaps of the loop over 5 ms",
	       (unsigned long long)reqs, (unsigned long long)gaps);
	EXPECT_LE(reqs, gaps);
	close(fd);
}

TEST_F(attached_2p4m, no_preempt_for_idle_or_blocked_p)
{
	/* P0's owner sleeps (P0 blocked), P1 is idle */
	goro_sleep_ms(100);
	EXPECT_EQ(0U, goro_p_of(&self->c, 0)->preempt);
	EXPECT_EQ(0U, goro_p_of(&self->c, 1)->preempt);
}

TEST_HARNESS_MAIN
