// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/goro/<pid>/{ps,ms,goroutines} while a known state holds: Ps and
 * Ms with their statuses, the wait channel of an M blocked in read(), the
 * monitor's preemption requests, and the goroutine registry (GREGISTER),
 * including registries built to be wrong.
 */
#include "goro_test.h"

GORO_FIXTURE_ATTACHED(attached_2p8m, 2, 8, 0);

#define BIG (4 << 20)

/* Read /proc/goro/<pid>/<name> into a malloc'd string, or NULL. */
static char *read_proc(pid_t pid, const char *name)
{
	char path[64], *buf;
	size_t n = 0;
	ssize_t r;
	int fd;

	snprintf(path, sizeof(path), "/proc/goro/%d/%s", pid, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return NULL;
	buf = malloc(BIG);
	while (buf && n < BIG - 1 &&
	       (r = read(fd, buf + n, BIG - 1 - n)) > 0)
		n += r;
	close(fd);
	if (buf)
		buf[n] = 0;
	return buf;
}

/* Fields of the ms line of slot m; 0 when found. */
struct mline {
	unsigned int tid;
	int p;
	char state[16];
	unsigned long long ms;
	char wchan[128];
};

static int find_m(const char *buf, unsigned int slot, struct mline *ml)
{
	const char *l;

	for (l = strchr(buf, '\n'); l; l = strchr(l, '\n')) {
		unsigned int s;

		l++;
		if (sscanf(l, "%u %u %d %15s %llu %127s", &s, &ml->tid, &ml->p,
			   ml->state, &ml->ms, ml->wchan) == 6 && s == slot)
			return 0;
	}
	return -1;
}

struct pline {
	char status[16];
	int m;
	unsigned int runq;
	unsigned long long schedtick, syscalltick, handoffs, steals, preempts;
};

static int find_p(const char *buf, unsigned int p, struct pline *pl)
{
	const char *l;

	for (l = strchr(buf, '\n'); l; l = strchr(l, '\n')) {
		unsigned int id;

		l++;
		if (sscanf(l, "%u %15s %d %u %llu %llu %llu %llu %llu", &id,
			   pl->status, &pl->m, &pl->runq, &pl->schedtick,
			   &pl->syscalltick, &pl->handoffs, &pl->steals,
			   &pl->preempts) == 9 && id == p)
			return 0;
	}
	return -1;
}

/* Wait up to ms for M slot's line to show state; 0 when it does. */
static int wait_m_state(const char *state, unsigned int slot, unsigned ms,
			struct mline *ml)
{
	for (;;) {
		char *buf = read_proc(getpid(), "ms");
		int ok = buf && !find_m(buf, slot, ml) &&
			 !strcmp(ml->state, state);

		free(buf);
		if (ok)
			return 0;
		if (!ms--)
			return -1;
		goro_sleep_ms(1);
	}
}

struct mthr {
	int fd, pfd[2];
	int bind;
	unsigned int p, m;
	volatile int attached, done;
	int ret;
};

/* Attach (with P p if bind), then park until given a P. */
static void *parker(void *arg)
{
	struct mthr *t = arg;
	struct goro_park pk = { 0 };

	t->ret = goro_attach_m(t->fd, t->bind, t->p, &t->m);
	t->attached = 1;
	if (!t->ret)
		t->ret = goro_park_m(t->fd, 0, &pk);
	t->done = 1;
	return NULL;
}

/* Attach with P p, then block in read() on the pipe. */
static void *reader(void *arg)
{
	struct mthr *t = arg;
	char ch;

	t->ret = goro_attach_m(t->fd, 1, t->p, &t->m);
	t->attached = 1;
	if (!t->ret && read(t->pfd[0], &ch, 1) != 1)
		t->ret = -1;
	t->done = 1;
	return NULL;
}

TEST_F(attached_2p8m, ps_and_ms_show_running_parked_and_blocked)
{
	struct mthr pk = { 0 }, rd = { 0 };
	struct mline ml;
	struct pline pl;
	pthread_t tp, tr;
	int i, gone = 0;
	char *buf;

	pk.fd = rd.fd = self->fd;
	ASSERT_EQ(0, pipe(rd.pfd));
	ASSERT_EQ(0, pthread_create(&tp, NULL, parker, &pk));
	ASSERT_EQ(0, goro_wait_u32(&self->c.hdr->nmidle, 1, 5000));
	rd.p = 1;
	ASSERT_EQ(0, pthread_create(&tr, NULL, reader, &rd));
	while (!rd.attached)
		goro_sleep_ms(1);
	ASSERT_EQ(0, rd.ret);
	/* P1 has no work: its owner blocks with it, nobody takes it */
	ASSERT_EQ(0, wait_m_state("blocked", rd.m, 5000, &ml));

	buf = read_proc(getpid(), "ms");
	ASSERT_NE(NULL, buf);
	TH_LOG("\n%s", buf);
	EXPECT_EQ(0, strncmp(buf, "M ", 2));
	EXPECT_NE(NULL, strstr(buf, " TID "));
	EXPECT_NE(NULL, strstr(buf, " WCHAN\n"));
	ASSERT_EQ(0, find_m(buf, self->m, &ml));
	EXPECT_EQ((unsigned int)goro_gettid(), ml.tid);
	EXPECT_EQ(0, ml.p);
	EXPECT_STREQ("running", ml.state);
	EXPECT_STREQ("-", ml.wchan);
	ASSERT_EQ(0, find_m(buf, pk.m, &ml));
	EXPECT_EQ(-1, ml.p);
	EXPECT_STREQ("parked", ml.state);
	ASSERT_EQ(0, find_m(buf, rd.m, &ml));
	EXPECT_EQ(1, ml.p);
	EXPECT_STREQ("blocked", ml.state);
	/* the read() of a pipe sleeps in pipe_read() (anon_pipe_read() in 7.x) */
	EXPECT_TRUE(!strcmp(ml.wchan, "pipe_read") ||
		    !strcmp(ml.wchan, "anon_pipe_read"))
		TH_LOG("wchan %s", ml.wchan);
	free(buf);

	buf = read_proc(getpid(), "ps");
	ASSERT_NE(NULL, buf);
	TH_LOG("\n%s", buf);
	EXPECT_EQ(0, strncmp(buf, "P ", 2));
	EXPECT_NE(NULL, strstr(buf, " SYSCALLTICK "));
	EXPECT_NE(NULL, strstr(buf, " PREEMPTS\n"));
	ASSERT_EQ(0, find_p(buf, 0, &pl));
	EXPECT_STREQ("running", pl.status);
	EXPECT_EQ((int)self->m, pl.m);
	ASSERT_EQ(0, find_p(buf, 1, &pl));
	EXPECT_STREQ("blocked", pl.status);
	EXPECT_EQ((int)rd.m, pl.m);
	EXPECT_LE(1ULL, pl.syscalltick);
	EXPECT_EQ(0ULL, pl.handoffs);
	free(buf);

	/* the reader comes back to its P */
	ASSERT_EQ(1, write(rd.pfd[1], "x", 1));
	pthread_join(tr, NULL);
	EXPECT_EQ(0, rd.ret);
	buf = read_proc(getpid(), "ps");
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, find_p(buf, 1, &pl));
	EXPECT_LE(1ULL, pl.syscalltick);
	free(buf);
	/* the reader thread exited: its M leaves ms (once its death is seen) */
	for (i = 0; i < 5000; i++) {
		buf = read_proc(getpid(), "ms");
		ASSERT_NE(NULL, buf);
		gone = find_m(buf, rd.m, &ml) != 0;
		free(buf);
		if (gone)
			break;
		goro_sleep_ms(1);
	}
	EXPECT_TRUE(gone);

	/* P1 is idle again: WAKE gives it to the parked M */
	EXPECT_EQ(1, goro_wake_m(self->fd));
	pthread_join(tp, NULL);
	EXPECT_EQ(0, pk.ret);
}

TEST(ms_time_in_state_grows)
{
	struct mthr pk = { 0 };
	struct mline a, b;
	struct goro_ctx c;
	pthread_t tp;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 1, 4));
	pk.fd = fd;
	ASSERT_EQ(0, pthread_create(&tp, NULL, parker, &pk));
	ASSERT_EQ(0, goro_wait_u32(&c.hdr->nmidle, 1, 5000));
	ASSERT_EQ(0, wait_m_state("parked", pk.m, 5000, &a));
	goro_sleep_ms(200);
	ASSERT_EQ(0, wait_m_state("parked", pk.m, 5000, &b));
	/* time only moves on: at least the 200 ms we slept */
	EXPECT_LE(a.ms + 200, b.ms);
	EXPECT_EQ(1, goro_wake_m(fd));
	pthread_join(tp, NULL);
	EXPECT_EQ(0, pk.ret);
	close(fd);
}

TEST(ps_counts_preempt_requests)
{
	struct goro_ctx c;
	struct pline pl;
	__u64 end;
	char *buf;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 1, 4));
	if (!(c.s.features & GORO_FEAT_PREEMPT))
		SKIP(return, "preempt_ms=0");
	/*
	 * An M holding P0 whose schedtick never moves gets asked to yield.
	 * It spins (a sleep would block, and a blocked P is not preempted).
	 */
	ASSERT_EQ(0, goro_attach_m(fd, 1, 0, NULL));
	end = goro_now_ns() + 30 * 1000000000ull;
	while (!__atomic_load_n(&goro_p_of(&c, 0)->preempt, __ATOMIC_ACQUIRE) &&
	       goro_now_ns() < end)
		;
	ASSERT_EQ(1U, goro_p_of(&c, 0)->preempt);
	buf = read_proc(getpid(), "ps");
	ASSERT_NE(NULL, buf);
	TH_LOG("\n%s", buf);
	ASSERT_EQ(0, find_p(buf, 0, &pl));
	EXPECT_LE(1ULL, pl.preempts);
	free(buf);
	close(fd);
}

/* --- the goroutine registry ---------------------------------------------- */

static int greg(int fd, __u64 addr)
{
	struct goro_gregister r = { .addr = addr };

	return goro_ioctl(fd, GORO_IOC_GREGISTER, &r);
}

static void ginfo(struct goro_ginfo *g, __u64 id, __u32 st, __u32 wr,
		  const char *name, struct goro_ginfo *next)
{
	memset(g, 0, sizeof(*g));
	g->id = id;
	g->state = st;
	g->waitreason = wr;
	g->entry = 0x401000 + id;
	g->next = (__u64)(uintptr_t)next;
	if (name)
		snprintf((char *)g->name, sizeof(g->name), "%s", name);
}

/* Number of goroutine lines (not the header, not the "# " trailer). */
static int glines(const char *buf)
{
	int n = 0;
	const char *l;

	for (l = strchr(buf, '\n'); l && l[1]; l = strchr(l + 1, '\n'))
		if (l[1] != '#')
			n++;
	return n;
}

TEST(gregister_validates_its_argument)
{
	struct goro_greg *h = calloc(1, sizeof(*h) + 8);
	struct goro_gregister r = { 0 };
	struct goro_ctx c;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	/* before SETUP, like every instance command */
	EXPECT_EQ(-EINVAL, greg(fd, (uintptr_t)h));
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 1, 4));
	EXPECT_NE(0ULL, c.s.features & GORO_FEAT_GREG);
	h->magic = GORO_GREG_MAGIC;
	h->version = GORO_GREG_VERSION;
	r.addr = (uintptr_t)h;
	r.flags = 1;
	EXPECT_EQ(-EINVAL, goro_ioctl(fd, GORO_IOC_GREGISTER, &r));
	r.flags = 0;
	r.resv[4] = 1;
	EXPECT_EQ(-EINVAL, goro_ioctl(fd, GORO_IOC_GREGISTER, &r));
	EXPECT_EQ(-EFAULT, goro_ioctl(fd, GORO_IOC_GREGISTER, (void *)8));
	EXPECT_EQ(-EINVAL, greg(fd, (uintptr_t)h + 4));
	EXPECT_EQ(-EFAULT, greg(fd, 4096));
	EXPECT_EQ(-EFAULT, greg(fd, ~0ULL << 3));
	h->magic = 0;
	EXPECT_EQ(-EINVAL, greg(fd, (uintptr_t)h));
	h->magic = GORO_GREG_MAGIC;
	h->version = 2;
	EXPECT_EQ(-EINVAL, greg(fd, (uintptr_t)h));
	h->version = GORO_GREG_VERSION;
	EXPECT_EQ(0, greg(fd, (uintptr_t)h));
	EXPECT_EQ(0, greg(fd, 0));
	close(fd);
	free(h);
}

TEST(goroutines_lists_the_registry)
{
	struct goro_ginfo *g = calloc(4, sizeof(*g));
	struct goro_greg h = { .magic = GORO_GREG_MAGIC,
				.version = GORO_GREG_VERSION, .count = 3 };
	struct goro_ctx c;
	char *buf;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 1, 4));
	buf = read_proc(getpid(), "goroutines");
	ASSERT_NE(NULL, buf);
	EXPECT_NE(NULL, strstr(buf, "# no registry\n"));
	free(buf);

	ginfo(&g[0], 1, GORO_G_RUNNING, GORO_WAIT_NONE, "main", &g[1]);
	ginfo(&g[1], 7, GORO_G_WAITING, GORO_WAIT_CHAN_RECV, "worker\x01",
	      &g[2]);
	ginfo(&g[2], 9, GORO_G_WAITING, GORO_WAIT_SLEEP, NULL, NULL);
	h.first = (uintptr_t)&g[0];
	ASSERT_EQ(0, greg(fd, (uintptr_t)&h));
	buf = read_proc(getpid(), "goroutines");
	ASSERT_NE(NULL, buf);
	TH_LOG("\n%s", buf);
	EXPECT_EQ(0, strncmp(buf, "ID ", 3));
	EXPECT_EQ(3, glines(buf));
	EXPECT_NE(NULL, strstr(buf, "\n1        running  -             0x401001           main\n"));
	EXPECT_NE(NULL, strstr(buf, "\n7        waiting  chan_receive  0x401007           worker?\n"));
	EXPECT_NE(NULL, strstr(buf, "\n9        waiting  sleep         0x401009\n"));
	EXPECT_NE(NULL, strstr(buf, "# 3 entries, 0 dead, 0 skipped, end\n"));
	free(buf);

	/* a dead entry (a slot kept for reuse) is counted, not shown */
	g[1].state = GORO_G_DEAD;
	buf = read_proc(getpid(), "goroutines");
	ASSERT_NE(NULL, buf);
	EXPECT_EQ(2, glines(buf));
	EXPECT_EQ(NULL, strstr(buf, "worker"));
	EXPECT_NE(NULL, strstr(buf, "# 3 entries, 1 dead, 0 skipped, end\n"));
	free(buf);

	/* an entry with values the kernel does not know is skipped */
	g[1].state = 99;
	g[2].waitreason = GORO_WAIT_MAX + 1;
	buf = read_proc(getpid(), "goroutines");
	ASSERT_NE(NULL, buf);
	EXPECT_EQ(1, glines(buf));
	EXPECT_NE(NULL, strstr(buf, "# 3 entries, 0 dead, 2 skipped, end\n"));
	free(buf);

	/* unregistered */
	EXPECT_EQ(0, greg(fd, 0));
	buf = read_proc(getpid(), "goroutines");
	ASSERT_NE(NULL, buf);
	EXPECT_NE(NULL, strstr(buf, "# no registry\n"));
	free(buf);
	close(fd);
	free(g);
}

TEST(goroutines_survives_a_corrupt_registry)
{
	size_t big = GORO_GREG_MAX + 100, i;
	struct goro_greg *h;
	char want[80];
	struct goro_ginfo *g;
	struct goro_ctx c;
	char *buf;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 1, 4));
	h = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, h);
	g = mmap(NULL, big * sizeof(*g), PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, g);
	h->magic = GORO_GREG_MAGIC;
	h->version = GORO_GREG_VERSION;
	h->first = (uintptr_t)&g[0];
	ASSERT_EQ(0, greg(fd, (uintptr_t)h));

	/* a pointer into nowhere after two entries */
	ginfo(&g[0], 1, GORO_G_RUNNING, 0, "a", &g[1]);
	ginfo(&g[1], 2, GORO_G_RUNNABLE, 0, "b", NULL);
	g[1].next = 0x10;
	buf = read_proc(getpid(), "goroutines");
	ASSERT_NE(NULL, buf);
	EXPECT_EQ(2, glines(buf));
	EXPECT_NE(NULL, strstr(buf, "# 2 entries, 0 dead, 0 skipped, bad pointer\n"));
	free(buf);
	/* misaligned, and into the kernel */
	g[1].next = (uintptr_t)&g[2] + 1;
	buf = read_proc(getpid(), "goroutines");
	ASSERT_NE(NULL, buf);
	EXPECT_NE(NULL, strstr(buf, "# 2 entries, 0 dead, 0 skipped, bad pointer\n"));
	free(buf);
	g[1].next = 0xffffffff81000000ULL;
	buf = read_proc(getpid(), "goroutines");
	ASSERT_NE(NULL, buf);
	EXPECT_NE(NULL, strstr(buf, "# 2 entries, 0 dead, 0 skipped, bad pointer\n"));
	free(buf);

	/* a loop back to the first entry, and an entry pointing at itself */
	ginfo(&g[2], 3, GORO_G_RUNNABLE, 0, "c", &g[0]);
	g[1].next = (uintptr_t)&g[2];
	buf = read_proc(getpid(), "goroutines");
	ASSERT_NE(NULL, buf);
	TH_LOG("\n%s", buf);
	EXPECT_NE(NULL, strstr(buf, " loop\n"));
	EXPECT_GE(10, glines(buf));
	free(buf);
	g[0].next = (uintptr_t)&g[0];
	buf = read_proc(getpid(), "goroutines");
	ASSERT_NE(NULL, buf);
	EXPECT_NE(NULL, strstr(buf, " loop\n"));
	EXPECT_GE(3, glines(buf));
	free(buf);

	/* more entries than the reader walks, and a huge count */
	for (i = 0; i < big; i++)
		ginfo(&g[i], i + 1, GORO_G_WAITING, GORO_WAIT_MUTEX, NULL,
		      i + 1 < big ? &g[i + 1] : NULL);
	h->count = 0xffffffff;
	buf = read_proc(getpid(), "goroutines");
	ASSERT_NE(NULL, buf);
	EXPECT_EQ(GORO_GREG_MAX, glines(buf));
	EXPECT_NE(NULL, strstr(buf, "entries, 0 dead, 0 skipped, truncated\n"));
	free(buf);

	/* past GORO_GREG_MAX dead entries, the live ones are still shown */
	for (i = 0; i < big; i++)
		ginfo(&g[i], i + 1, i + 2 < big ? GORO_G_DEAD : GORO_G_RUNNABLE,
		      GORO_WAIT_NONE, NULL, i + 1 < big ? &g[i + 1] : NULL);
	buf = read_proc(getpid(), "goroutines");
	ASSERT_NE(NULL, buf);
	EXPECT_EQ(2, glines(buf));
	snprintf(want, sizeof(want), "# %zu entries, %zu dead, 0 skipped, end\n",
		 big, big - 2);
	EXPECT_NE(NULL, strstr(buf, want));
	free(buf);

	/* the list's memory goes away, then the header's */
	ASSERT_EQ(0, munmap(g, big * sizeof(*g)));
	buf = read_proc(getpid(), "goroutines");
	ASSERT_NE(NULL, buf);
	EXPECT_NE(NULL, strstr(buf, "# 0 entries, 0 dead, 0 skipped, bad pointer\n"));
	free(buf);
	ASSERT_EQ(0, munmap(h, 4096));
	buf = read_proc(getpid(), "goroutines");
	ASSERT_NE(NULL, buf);
	EXPECT_NE(NULL, strstr(buf, "# 0 entries, 0 dead, 0 skipped, bad header\n"));
	free(buf);
	close(fd);
}

TEST(readers_racing_exit_are_safe)
{
	static const char *const files[] = { "ps", "ms", "goroutines" };
	int i, st;
	pid_t pid;

	GORO_OPEN_OR_SKIP(i);
	close(i);
	for (i = 0; i < 30; i++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			static struct goro_ginfo g[64];
			static struct goro_greg h = {
				.magic = GORO_GREG_MAGIC,
				.version = GORO_GREG_VERSION,
			};
			struct goro_ctx c;
			int fd = open(GORO_DEVICE, O_RDWR), k;

			for (k = 0; k < 64; k++)
				ginfo(&g[k], k, 0, 0, "x",
				      k < 63 ? &g[k + 1] : NULL);
			h.first = (uintptr_t)g;
			if (goro_ctx_init(&c, fd, 4, 16))
				_exit(1);
			goro_attach_m(fd, 1, 0, NULL);
			greg(fd, (uintptr_t)&h);
			_exit(0);
		}
		while (waitpid(pid, &st, WNOHANG) == 0)
			free(read_proc(pid, files[i % 3]));
	}
	EXPECT_EQ(0, goro_stat_wait("instances", 0, 3000));
}

TEST_HARNESS_MAIN
