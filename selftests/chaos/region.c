// SPDX-License-Identifier: GPL-2.0
/*
 * Chaos for goro.ko: the shared region changes under the Ms. munmap and
 * mremap of the region while Ms park, wake and hand off; a fork while
 * they do, after MADV_DOFORK was refused on the region, whose child must
 * not have it. Last (the chaos binaries run in
 * name order), a check that no instance and no M is left at all.
 */
#include "chaos.h"

/* ---- munmap and mremap of the region under busy Ms ----------------- */

struct busy {
	struct goro_ctx c;	/* the Ms' own mapping, never touched */
	int fd;
	int pfd[2];
	volatile int stop;
	__u64 seed;
};

static void *busy_m(void *arg)
{
	struct busy *b = arg;
	struct goro_park pk = { 0 };
	__u64 s = b->seed ^ (__u64)goro_gettid(), g = 1;
	char c;

	if (goro_attach_m(b->fd, 0, 0, NULL))
		return NULL;
	while (!b->stop) {
		pk.deadline_ns = goro_now_ns() + 2000000ull;
		if (goro_park_m(b->fd, GORO_PARK_DEADLINE, &pk) ||
		    pk.p == GORO_NONE)
			continue;
		switch (rnd(&s) % 3) {
		case 0:	/* work, then block with it: a handoff */
			goro_runq_put_batch(goro_p_of(&b->c, pk.p), &g, 1);
			g++;
			if (write(b->pfd[1], "x", 1) == 1 &&
			    read(b->pfd[0], &c, 1) < 0)
				return NULL;
			break;
		case 1:
			goro_wake_m(b->fd);
			break;
		default:
			while (goro_runq_get(goro_p_of(&b->c, pk.p), 4))
				;
		}
	}
	return NULL;
}

TEST_F_TIMEOUT(chaos, munmap_and_mremap_under_busy_ms, 3600)
{
	__u64 s = chaos_seed() ^ 0xaaaa;
	__u64 end = goro_now_ns() + chaos_secs() * 1000000000ull;
	unsigned int n = 0, moved = 0, holes = 0, dups = 0, grows = 0;
	struct busy b = { 0 };
	pthread_t t[4];
	size_t sz;
	int i;

	GORO_OPEN_OR_SKIP(b.fd);
	b.seed = s;
	ASSERT_EQ(0, pipe2(b.pfd, O_NONBLOCK));
	ASSERT_EQ(0, goro_ctx_init(&b.c, b.fd, 2, 8));
	sz = b.c.s.map_size;
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, busy_m, &b));
	while (n < 20 || goro_now_ns() < end) {
		char *m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED,
			       b.fd, 0), *r;
		struct goro_shared_hdr *h;
		__u32 mark = (__u32)rnd(&s) | 1;

		ASSERT_NE(MAP_FAILED, m);
		switch (rnd(&s) % 4) {
		case 0:	/* grow: the region is VM_DONTEXPAND */
			r = mremap(m, sz, sz + 4096, MREMAP_MAYMOVE);
			ASSERT_EQ(MAP_FAILED, r);
			EXPECT_EQ(EFAULT, errno);
			grows++;
			break;
		case 1:	/* move: the same pages elsewhere */
			r = mremap(m, sz, sz, MREMAP_MAYMOVE | MREMAP_FIXED,
				   m + 64 * sz);
			if (r != MAP_FAILED) {
				m = r;
				moved++;
			}
			break;
		case 2:	/* unmap the tail, keep the header page */
			if (sz >= 8192) {
				ASSERT_EQ(0, munmap(m + 4096, sz - 4096));
				sz = 4096;
				holes++;
			}
			break;
		default: /* old_len 0 would duplicate it: refused (DONTEXPAND) */
			r = mremap(m, 0, sz, MREMAP_MAYMOVE);
			if (r != MAP_FAILED) {
				h = (struct goro_shared_hdr *)r;
				EXPECT_EQ(GORO_MAGIC, h->magic);
				munmap(r, sz);
				dups++;
			} else {
				EXPECT_TRUE(errno == EFAULT || errno == EINVAL)
					TH_LOG("mremap dup: errno %d", errno);
			}
		}
		/* what is still mapped is the live region */
		h = (struct goro_shared_hdr *)m;
		EXPECT_EQ(GORO_MAGIC, h->magic);
		__atomic_store_n(&h->resv1, mark, __ATOMIC_RELAXED);
		EXPECT_EQ(mark, __atomic_load_n(&b.c.hdr->resv1,
						__ATOMIC_RELAXED));
		munmap(m, sz);
		sz = b.c.s.map_size;
		n++;
	}
	b.stop = 1;
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	/* the Ms' mapping still shows a consistent instance */
	EXPECT_LE(b.c.hdr->npidle, 2U);
	TH_LOG("%u mappings: %u moved, %u tails unmapped, %u duplicated, %u grows refused",
	       n, moved, holes, dups, grows);
	munmap(b.c.map, b.c.s.map_size);
	close(b.fd);
	close(b.pfd[0]);
	close(b.pfd[1]);
	EXPECT_NOTHING_LEFT();
}

/*
 * MADV_DOFORK would undo VM_DONTCOPY: refused on the region, so a child
 * forked while the Ms park, wake and hand off has no region at all (and
 * no instance: -EPERM); once it closed its copy of the fd, the parent's
 * close ends the instance however long the child lives. Also: an executable mapping is refused, and after
 * MADV_DONTNEED the mapping has nothing to fault in (SIGBUS), never a
 * private page.
 */
static sigjmp_buf bus_jmp;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(bus_jmp, 1);
}

/* Read the magic of a zapped mapping: 1 SIGBUS, 0 the magic, -1 else. */
static int touch_zapped(volatile struct goro_shared_hdr *h)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	int ret;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(bus_jmp, 1))
		ret = 1;
	else
		ret = h->magic == GORO_MAGIC ? 0 : -1;
	sigaction(SIGBUS, &old, NULL);
	return ret;
}

TEST_F_TIMEOUT(chaos, region_madv_dofork_refused, 3600)
{
	__u64 s = chaos_seed() ^ 0xdddd;
	__u64 end = goro_now_ns() + chaos_secs() * 1000000000ull;
	unsigned int n = 0, child_last = 0;

	while (n < 4 || goro_now_ns() < end) {
		struct busy b = { 0 };
		pthread_t t[3];
		pid_t kid;
		char *m;
		int i, st;

		GORO_OPEN_OR_SKIP(b.fd);
		b.seed = rnd(&s);
		ASSERT_EQ(0, pipe2(b.pfd, O_NONBLOCK));
		ASSERT_EQ(0, goro_ctx_init(&b.c, b.fd, 2, 8));
		/* no executable mapping, not even by mprotect */
		EXPECT_EQ(-1, mprotect(b.c.map, b.c.s.map_size,
				       PROT_READ | PROT_EXEC));
		EXPECT_EQ(EACCES, errno);
		/* a zapped mapping faults SIGBUS */
		m = mmap(NULL, b.c.s.map_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, b.fd, 0);
		ASSERT_NE(MAP_FAILED, m);
		ASSERT_EQ(0, madvise(m, b.c.s.map_size, MADV_DONTNEED));
		EXPECT_LE(0, touch_zapped((struct goro_shared_hdr *)m));
		munmap(m, b.c.s.map_size);

		/* the Ms' mapping stays the parent's alone */
		EXPECT_EQ(-1, madvise(b.c.map, b.c.s.map_size, MADV_DOFORK));
		EXPECT_EQ(EINVAL, errno);
		for (i = 0; i < 3; i++)
			ASSERT_EQ(0, pthread_create(&t[i], NULL, busy_m, &b));
		kid = fork();
		ASSERT_LE(0, kid);
		if (!kid) {
			/* no instance here, and no region: not mapped */
			if (goro_wake_m(b.fd) != -EPERM)
				_exit(2);
			close(b.fd);
			if (madvise(b.c.map, b.c.s.map_size, MADV_NORMAL) !=
				    -1 || errno != ENOMEM)
				_exit(3);
			goro_sleep_ms(50 + (unsigned int)(b.seed % 200));
			_exit(0);
		}
		goro_sleep_ms(20 + (unsigned int)(rnd(&s) % 100));
		b.stop = 1;
		for (i = 0; i < 3; i++)
			pthread_join(t[i], NULL);
		munmap(b.c.map, b.c.s.map_size);
		close(b.fd);
		close(b.pfd[0]);
		close(b.pfd[1]);
		/* the child closed its fd: no mapping keeps the file alive */
		ASSERT_EQ(0, goro_stat_wait("instances", 0, WAIT_MS));
		ASSERT_EQ(0, goro_stat_wait("ms", 0, WAIT_MS));
		if (!waitpid(kid, &st, WNOHANG)) {
			child_last++;
			ASSERT_EQ(kid, waitpid(kid, &st, 0));
		}
		EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
			TH_LOG("forked child: status %#x", st);
		n++;
	}
	TH_LOG("%u forks with MADV_DOFORK refused (%u children outlived the instance)",
	       n, child_last);
}

/* the last chaos binary to run: nothing is left of any of them */
TEST(nothing_left_at_the_end)
{
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	EXPECT_NOTHING_LEFT();
}

TEST_HARNESS_MAIN
