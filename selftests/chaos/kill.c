// SPDX-License-Identifier: GPL-2.0
/*
 * Chaos for goro.ko: a whole process dies at random points. It is
 * SIGKILLed (some first stopped and continued, some killed by a
 * core-dumping signal instead) while its Ms attach, park, wake, hand a P
 * off (an M blocked in read() with work on its P, another M parked) or
 * come back from a block; nothing of its instance may be left.
 */
#include "chaos.h"

/* ---- SIGKILL of a whole process at random points ------------------- */

enum stage { ST_ATTACH, ST_PARK, ST_WAKE, ST_HANDOFF, ST_RETURN, ST_N };
static const char *const stage_name[ST_N] = {
	"attach", "park", "wake", "handoff", "return-from-block",
};

/* Shared with the parent: which stages the child has reached. */
struct progress {
	volatile __u32 seen[ST_N];
};

struct kid {
	struct goro_ctx c;
	int fd;
	int pfd[2];
	struct progress *pr;
	__u64 seed;
	int blocker_ready;
};

static void mark(struct kid *k, enum stage s)
{
	__atomic_add_fetch(&k->pr->seen[s], 1, __ATOMIC_RELEASE);
}

/* Attach and detach, with and without a P. */
static void *kid_attacher(void *arg)
{
	struct kid *k = arg;
	__u64 s = k->seed ^ 1;

	for (;;) {
		mark(k, ST_ATTACH);
		if (!goro_attach_m(k->fd, rnd(&s) % 2, 1, NULL))
			ioctl(k->fd, GORO_IOC_DETACH_M);
		sleep_us((unsigned int)(rnd(&s) % 200));
	}
	return NULL;
}

/* Park; when given a P, run (drop) its work and park again. */
static void *kid_parker(void *arg)
{
	struct kid *k = arg;
	struct goro_park pk = { 0 };

	if (goro_attach_m(k->fd, 0, 0, NULL))
		return NULL;
	for (;;) {
		mark(k, ST_PARK);
		pk.deadline_ns = goro_now_ns() + 20000000ull;
		if (goro_park_m(k->fd, GORO_PARK_DEADLINE, &pk))
			continue;
		if (pk.p < k->c.s.nprocs)
			while (goro_runq_get(goro_p_of(&k->c, pk.p), 4))
				;
	}
	return NULL;
}

/* Not an M: wake parked Ms. */
static void *kid_waker(void *arg)
{
	struct kid *k = arg;
	__u64 s = k->seed ^ 2;

	for (;;) {
		mark(k, ST_WAKE);
		goro_wake_m(k->fd);
		sleep_us((unsigned int)(rnd(&s) % 300));
	}
	return NULL;
}

/*
 * Holds P0 (attached before the other threads start), queues work on the
 * P it owns, blocks in read(): the P goes to a parked M; back from the
 * block it has a P again (maybe another one).
 */
static void *kid_blocker(void *arg)
{
	struct kid *k = arg;
	unsigned int m;
	__u64 g = 1;
	char c;

	if (goro_attach_m(k->fd, 1, 0, &m))
		_exit(3);
	__atomic_store_n(&k->blocker_ready, 1, __ATOMIC_RELEASE);
	for (;;) {
		__u32 p = goro_m_of(&k->c, m)->p;

		if (p < k->c.s.nprocs &&
		    goro_runq_room(goro_p_of(&k->c, p)))
			goro_runq_put_batch(goro_p_of(&k->c, p), &g, 1);
		g++;
		mark(k, ST_HANDOFF);
		if (read(k->pfd[0], &c, 1) != 1)
			return NULL;
		mark(k, ST_RETURN);
	}
	return NULL;
}

/* Not an M: end the blocker's read() now and then. */
static void *kid_unblocker(void *arg)
{
	struct kid *k = arg;
	__u64 s = k->seed ^ 3;

	for (;;) {
		sleep_us((unsigned int)(rnd(&s) % 500));
		if (write(k->pfd[1], "x", 1) != 1)
			return NULL;
	}
	return NULL;
}

typedef void *(*kid_thread_fn)(void *);

static void kid_run(struct progress *pr, __u64 seed)
{
	struct rlimit core = { 64 << 20, 64 << 20 };
	struct kid *k = calloc(1, sizeof(*k));
	kid_thread_fn fn[] = { kid_blocker, kid_attacher, kid_parker,
			       kid_parker,  kid_waker,    kid_unblocker };
	pthread_t t;
	size_t i;

	if (!k)
		_exit(1);
	/* a core-dumping signal really dumps (into /tmp) */
	setrlimit(RLIMIT_CORE, &core);
	if (chdir("/tmp"))
		(void)0;
	k->pr = pr;
	k->seed = seed;
	k->fd = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);
	if (k->fd < 0 || pipe(k->pfd) || goro_ctx_init(&k->c, k->fd, 2, 16))
		_exit(1);
	for (i = 0; i < sizeof(fn) / sizeof(fn[0]); i++)
		if (pthread_create(&t, NULL, fn[i], k))
			_exit(2);
		else if (!i)
			while (!__atomic_load_n(&k->blocker_ready,
						__ATOMIC_ACQUIRE))
				sleep_us(100);
	for (;;)
		pause();
}

TEST_F_TIMEOUT(chaos, sigkill_at_random_points, 3600)
{
	__u64 seed = chaos_seed(), s = seed;
	__u64 end = goro_now_ns() + chaos_secs() * 1000000000ull;
	unsigned int kills[ST_N] = { 0 }, n = 0, stops = 0, cores = 0;
	struct progress *pr;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	TH_LOG("seed %#llx, %u s", (unsigned long long)seed, chaos_secs());
	pr = mmap(NULL, sizeof(*pr), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, pr);
	while (n < 2 * ST_N || goro_now_ns() < end) {
		enum stage want = (enum stage)(n % ST_N);
		__u64 kseed = rnd(&s);
		int st, reached, sig;
		__u32 target;
		pid_t pid;

		memset((void *)pr, 0, sizeof(*pr));
		/* kill at the 1st..8th time the child reaches the stage */
		target = 1 + (__u32)(rnd(&s) % 8);
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid)
			kid_run(pr, kseed);
		reached = !wait_ge(&pr->seen[want], target, WAIT_MS);
		if (reached)
			sleep_us((unsigned int)(rnd(&s) % 1000));
		switch (rnd(&s) % 4) {
		case 0:	/* stopped and continued first, then killed */
			kill(pid, SIGSTOP);
			sleep_us((unsigned int)(rnd(&s) % 2000));
			kill(pid, SIGCONT);
			sleep_us((unsigned int)(rnd(&s) % 1000));
			stops++;
			sig = SIGKILL;
			break;
		case 1:	/* a fatal signal that dumps core: threads zapped */
			sig = rnd(&s) % 2 ? SIGSEGV : SIGABRT;
			cores++;
			break;
		default:
			sig = SIGKILL;
		}
		kill(pid, reached ? sig : SIGKILL);
		EXPECT_TRUE(reached)
			TH_LOG("child never reached %s", stage_name[want]);
		ASSERT_EQ(pid, waitpid(pid, &st, 0));
		EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == sig)
			TH_LOG("child status %#x, signal %d sent", st, sig);
		unlink("/tmp/core");
		ASSERT_EQ(0, goro_stat_wait("instances", 0, WAIT_MS))
			TH_LOG("instance left after a kill at %s",
			       stage_name[want]);
		ASSERT_EQ(0, goro_stat_wait("ms", 0, WAIT_MS))
			TH_LOG("M left after a kill at %s", stage_name[want]);
		kills[want]++;
		n++;
	}
	TH_LOG("%u deaths: attach %u park %u wake %u handoff %u return %u; %u stopped and continued first, %u by a core-dumping signal",
	       n, kills[ST_ATTACH], kills[ST_PARK], kills[ST_WAKE],
	       kills[ST_HANDOFF], kills[ST_RETURN], stops, cores);
	munmap(pr, sizeof(*pr));
}

TEST_HARNESS_MAIN
