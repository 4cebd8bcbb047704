/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Chaos for goro.ko, the part every family shares: processes and threads
 * leave in the middle of every scheduler path, and the shared region and
 * the file change under the Ms. One binary per family:
 *
 *  - kill.c:   a whole process SIGKILLed (or stopped first, or killed by a
 *              core-dumping signal) while its Ms attach, park, wake, hand
 *              a P off or come back from a block;
 *  - exit.c:   a single M leaving (pthread_exit, SYS_exit, DETACH) at
 *              those points, or right after a P was handed to it;
 *  - fork.c:   fork, exec and vfork from an M;
 *  - region.c: munmap and mremap of the shared region under busy Ms, and
 *              the region inherited by a forked child (MADV_DOFORK);
 *  - close.c:  close of the fd while Ms are parked in it.
 *
 * After each scenario no instance and no M is left (/proc/goro/stats).
 * Everything random comes from GORO_CHAOS_SEED (printed; default fixed),
 * so a failure replays; GORO_CHAOS_SECS bounds each test (default 3).
 * Pass criteria are behaviour only: waits are generous and bounded.
 */
#ifndef GORO_CHAOS_H
#define GORO_CHAOS_H

#include "../module/goro_test.h"

#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>

#define WAIT_MS 5000

static inline unsigned int chaos_secs(void)
{
	const char *s = getenv("GORO_CHAOS_SECS");
	long v = s ? strtol(s, NULL, 10) : 0;

	return v > 0 && v < 3600 ? (unsigned int)v : 3;
}

static inline __u64 chaos_seed(void)
{
	const char *s = getenv("GORO_CHAOS_SEED");

	return s ? strtoull(s, NULL, 0) : 0x60a0c4a05eedull;
}

/* xorshift64*; a zero state is replaced by a constant */
static inline __u64 rnd(__u64 *s)
{
	if (!*s)
		*s = 0x9e3779b97f4a7c15ull;
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static inline void sleep_us(unsigned int us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* Wait up to ms for *p >= want. */
static inline int wait_ge(volatile __u32 *p, __u32 want, unsigned int ms)
{
	while (__atomic_load_n(p, __ATOMIC_ACQUIRE) < want) {
		if (!ms--)
			return -1;
		goro_sleep_ms(1);
	}
	return 0;
}

/* Every instance and M gone (the live counters), within WAIT_MS. */
#define EXPECT_NOTHING_LEFT()                                             \
	do {                                                              \
		EXPECT_EQ(0, goro_stat_wait("instances", 0, WAIT_MS));    \
		EXPECT_EQ(0, goro_stat_wait("ms", 0, WAIT_MS));           \
	} while (0)

/* A fixture only for TEST_F_TIMEOUT: make fuzz runs the chaos for longer. */
FIXTURE(chaos) {};
FIXTURE_SETUP(chaos) {}
FIXTURE_TEARDOWN(chaos) {}

#endif /* GORO_CHAOS_H */
