// SPDX-License-Identifier: GPL-2.0
/*
 * Chaos for goro.ko: processes and threads leave in the middle of every
 * scheduler path, and the shared region and the file change under the Ms.
 *
 *  - a whole process SIGKILLed (some first stopped and continued, some
 *    killed by a core-dumping signal instead) while its Ms attach, park,
 *    wake, hand a P off (an M blocked in read() with work on its P,
 *    another M parked) or come back from a block;
 *  - a single M leaving by pthread_exit() or a raw SYS_exit at those
 *    points: its P must come back (another M gets it);
 *  - fork() from an M (the child: -EPERM on the parent's instance, its own
 *    instance works), vfork() from an M (it blocks: its P moves on, and it
 *    comes back with one) and exec from an M (the M leaves; the instance
 *    goes with the file, or stays while an inherited fd keeps it);
 *  - munmap and mremap of the shared region while Ms park, wake and hand
 *    off; the region inherited by a forked child (MADV_DOFORK) that
 *    scribbles over it and may outlive its parent's use of it;
 *  - close of the fd while Ms are parked in it.
 *
 * After each scenario no instance and no M is left (/proc/goro/stats).
 * Everything random comes from GORO_CHAOS_SEED (printed; default fixed),
 * so a failure replays; GORO_CHAOS_SECS bounds each test (default 3).
 * Pass criteria are behaviour only: waits are generous and bounded.
 */
#include "../module/goro_test.h"

#include <signal.h>
#include <stdint.h>
#include <sys/resource.h>

#define WAIT_MS 5000

static unsigned int chaos_secs(void)
{
	const char *s = getenv("GORO_CHAOS_SECS");
	long v = s ? strtol(s, NULL, 10) : 0;

	return v > 0 && v < 3600 ? (unsigned int)v : 3;
}

static __u64 chaos_seed(void)
{
	const char *s = getenv("GORO_CHAOS_SEED");

	return s ? strtoull(s, NULL, 0) : 0x60a0c4a05eedull;
}

/* xorshift64*; a zero state is replaced by a constant */
static __u64 rnd(__u64 *s)
{
	if (!*s)
		*s = 0x9e3779b97f4a7c15ull;
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static void sleep_us(unsigned int us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* Wait up to ms for *p >= want. */
static int wait_ge(volatile __u32 *p, __u32 want, unsigned int ms)
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

/* ---- 1. SIGKILL of a whole process at random points ------------------- */

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

/* ---- 2. one M exits (pthread_exit, SYS_exit) at each point ------------ */

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

/* ---- 3. fork and exec from an M --------------------------------------- */

struct forker {
	struct goro_ctx c;
	int fd;
	__u64 seed;
	volatile int child_status;
};

/* In the forked child of an M: the parent's instance is not ours. */
static int forked_child(struct forker *f)
{
	struct goro_park pk = { 0 };
	struct goro_ctx c;
	unsigned char vec;
	int fd;

	if (goro_attach_m(f->fd, 1, 0, NULL) != -EPERM)
		return 10;
	if (goro_park_m(f->fd, 0, &pk) != -EPERM)
		return 11;
	if (goro_wake_m(f->fd) != -EPERM)
		return 12;
	if (goro_ioctl(f->fd, GORO_IOC_DETACH_M, NULL) != -EPERM)
		return 13;
	if (mmap(NULL, f->c.s.map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 f->fd, 0) != MAP_FAILED || errno != EPERM)
		return 14;
	/* the mapping was not copied */
	if (mincore(f->c.map, 4096, &vec) == 0 || errno != ENOMEM)
		return 15;
	/* a fresh instance of our own works */
	fd = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0 || goro_ctx_init(&c, fd, 1, 4))
		return 16;
	if (goro_attach_m(fd, 1, 0, NULL))
		return 17;
	pk.deadline_ns = goro_now_ns() + 1000000ull;
	/* parking gives the P up: back at the deadline without one */
	if (goro_park_m(fd, GORO_PARK_DEADLINE, &pk) || pk.p != GORO_NONE ||
	    pk.why != GORO_WOKE_DEADLINE)
		return 18;
	sleep_us(1000);	/* a block of the child's M */
	return 0;
}

static void *forking_m(void *arg)
{
	struct forker *f = arg;
	int st;
	pid_t pid;

	if (goro_attach_m(f->fd, 1, 0, NULL)) {
		f->child_status = -1;
		return NULL;
	}
	pid = fork();
	if (pid == 0)
		_exit(forked_child(f));
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		f->child_status = -2;
	else
		f->child_status = WIFEXITED(st) ? WEXITSTATUS(st) : 100 + st;
	/* the parent's M is unaffected: it still owns P0 */
	if (!f->child_status &&
	    (goro_p_of(&f->c, 0)->status != GORO_P_RUNNING &&
	     goro_p_of(&f->c, 0)->status != GORO_P_BLOCKED))
		f->child_status = -3;
	ioctl(f->fd, GORO_IOC_DETACH_M);
	return NULL;
}

static void *parked_m(void *arg)
{
	struct forker *f = arg;
	struct goro_park pk = { 0 };

	if (goro_attach_m(f->fd, 0, 0, NULL))
		return NULL;
	pk.deadline_ns = goro_now_ns() + 20000000ull;
	goro_park_m(f->fd, GORO_PARK_DEADLINE, &pk);
	return NULL;
}

TEST_F_TIMEOUT(chaos, fork_from_an_m, 3600)
{
	__u64 s = chaos_seed() ^ 0xf0f0;
	__u64 end = goro_now_ns() + chaos_secs() * 1000000000ull;
	unsigned int n = 0;
	struct forker f;
	pthread_t t, tp;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	while (n < 4 || goro_now_ns() < end) {
		int with_parked = (int)(rnd(&s) % 2);

		memset(&f, 0, sizeof(f));
		f.fd = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, f.fd);
		ASSERT_EQ(0, goro_ctx_init(&f.c, f.fd, 2, 8));
		if (with_parked)
			ASSERT_EQ(0, pthread_create(&tp, NULL, parked_m, &f));
		ASSERT_EQ(0, pthread_create(&t, NULL, forking_m, &f));
		pthread_join(t, NULL);
		if (with_parked)
			pthread_join(tp, NULL);
		ASSERT_EQ(0, f.child_status)
			TH_LOG("fork %u: child/parent check %d", n,
			       f.child_status);
		munmap(f.c.map, f.c.s.map_size);
		close(f.fd);
		ASSERT_EQ(0, goro_stat_wait("instances", 0, WAIT_MS));
		ASSERT_EQ(0, goro_stat_wait("ms", 0, WAIT_MS));
		n++;
	}
	TH_LOG("%u forks from an M", n);
}

/*
 * The re-executed image (argv: --exec-child FD CLOEXEC). With CLOEXEC the
 * old instance went with the file: once this M (the thread that exec'd)
 * blocks, nothing is left and this process may start a new instance.
 * Without it the inherited fd is another mm's instance (-EPERM) that lives
 * until the fd is closed.
 */
static int exec_child(int fd, int cloexec)
{
	struct goro_ctx c;
	char path[64];
	int nfd;

	sleep_us(1000);	/* a block: the old M leaves */
	if (!cloexec) {
		if (goro_wake_m(fd) != -EPERM)
			return 20;
		if (goro_stat_wait("ms", 0, WAIT_MS) != 0)
			return 21;
		if (goro_stat("instances") != 1)
			return 22;
		close(fd);
	}
	if (goro_stat_wait("ms", 0, WAIT_MS) != 0)
		return 23;
	if (goro_stat_wait("instances", 0, WAIT_MS) != 0)
		return 24;
	nfd = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);
	if (nfd < 0 || goro_ctx_init(&c, nfd, 1, 4))
		return 25;
	snprintf(path, sizeof(path), "/proc/goro/%d/sched", getpid());
	if (access(path, R_OK))
		return 26;
	if (goro_attach_m(nfd, 1, 0, NULL))
		return 27;
	close(nfd);
	return 0;
}

struct execer {
	struct goro_ctx c;
	int fd, cloexec;
	__u64 seed;
};

static void *exec_parked(void *arg)
{
	struct execer *e = arg;
	struct goro_park pk = { 0 };

	if (goro_attach_m(e->fd, 0, 0, NULL))
		return NULL;
	for (;;)
		goro_park_m(e->fd, 0, &pk);
	return NULL;
}

static void *exec_blocked(void *arg)
{
	struct execer *e = arg;
	int pfd[2];
	char c;

	if (pipe(pfd) || goro_attach_m(e->fd, 1, 1, NULL))
		return NULL;
	goro_runq_put_batch(goro_p_of(&e->c, 1), (__u64[]){ 5 }, 1);
	if (read(pfd[0], &c, 1) < 0)
		return NULL;
	return NULL;
}

static void *exec_m(void *arg)
{
	struct execer *e = arg;
	__u64 s = e->seed;
	char fds[16], ce[4];
	pthread_t t;

	if (goro_attach_m(e->fd, 1, 0, NULL))
		return NULL;
	if (rnd(&s) % 2)
		pthread_create(&t, NULL, exec_parked, e);
	if (rnd(&s) % 2)
		pthread_create(&t, NULL, exec_blocked, e);
	sleep_us((unsigned int)(rnd(&s) % 5000));
	snprintf(fds, sizeof(fds), "%d", e->fd);
	snprintf(ce, sizeof(ce), "%d", e->cloexec);
	execl("/proc/self/exe", "chaos", "--exec-child", fds, ce,
	      (char *)NULL);
	_exit(99);
}

TEST_F_TIMEOUT(chaos, exec_from_an_m, 3600)
{
	__u64 s = chaos_seed() ^ 0xe0e0;
	__u64 end = goro_now_ns() + chaos_secs() * 1000000000ull;
	unsigned int n = 0, inherited = 0;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	while (n < 4 || goro_now_ns() < end) {
		struct execer e = { .seed = rnd(&s) };
		int st;
		pid_t pid;

		e.cloexec = n % 2;
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			pthread_t t;

			e.fd = open(GORO_DEVICE,
				    O_RDWR | (e.cloexec ? O_CLOEXEC : 0));
			if (e.fd < 0 || goro_ctx_init(&e.c, e.fd, 2, 8))
				_exit(1);
			pthread_create(&t, NULL, exec_m, &e);
			for (;;)
				pause();
		}
		ASSERT_EQ(pid, waitpid(pid, &st, 0));
		ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
			TH_LOG("exec %u (cloexec %d): status %#x (exit %d)", n,
			       e.cloexec, st, WEXITSTATUS(st));
		ASSERT_EQ(0, goro_stat_wait("instances", 0, WAIT_MS));
		ASSERT_EQ(0, goro_stat_wait("ms", 0, WAIT_MS));
		inherited += (unsigned int)!e.cloexec;
		n++;
	}
	TH_LOG("%u execs from an M (%u with the fd inherited)", n, inherited);
}

/*
 * vfork from an M (what posix_spawn and system() do): the M blocks until
 * the child execs or exits, so its P (with work) goes to the parked M;
 * back from vfork it waits for a P, and holds one when it returns to user
 * mode. The child shares the mm but is no M.
 */
struct vforker {
	struct goro_ctx c;
	int fd;
	unsigned int m;
	int exec;
	volatile int parked_done;
	int ret, p_after, child_ok;
	struct goro_park pk;
};

static void *vfork_parked(void *arg)
{
	struct vforker *v = arg;
	struct goro_park pk = { 0 };

	if (goro_attach_m(v->fd, 0, 0, NULL))
		return NULL;
	v->pk.deadline_ns = goro_now_ns() + WAIT_MS * 1000000ull;
	goro_park_m(v->fd, GORO_PARK_DEADLINE, &v->pk);
	v->parked_done = 1;
	if (v->pk.p < v->c.s.nprocs)
		while (goro_runq_get(goro_p_of(&v->c, v->pk.p), 4))
			;
	/* give the P back: to the vforking M if it waits for one */
	pk.deadline_ns = goro_now_ns() + 1000000ull;
	goro_park_m(v->fd, GORO_PARK_DEADLINE | GORO_PARK_NOSTEAL, &pk);
	return NULL;
}

static void *vforking_m(void *arg)
{
	struct vforker *v = arg;
	char *argv[] = { "/proc/self/exe", "--vfork-child", NULL };
	int st;
	pid_t pid;

	v->ret = goro_attach_m(v->fd, 1, 0, &v->m);
	if (v->ret)
		return NULL;
	goro_runq_put_batch(goro_p_of(&v->c, 0), (__u64[]){ 3 }, 1);
	pid = vfork();
	if (pid == 0) {
		if (v->exec)
			execv(argv[0], argv);
		_exit(7);
	}
	/* back in user mode after the block: an M with a P again */
	v->p_after = (int)goro_m_of(&v->c, v->m)->p;
	v->child_ok = pid > 0 && waitpid(pid, &st, 0) == pid &&
		      WIFEXITED(st) && WEXITSTATUS(st) == 7;
	ioctl(v->fd, GORO_IOC_DETACH_M);
	return NULL;
}

TEST_F_TIMEOUT(chaos, vfork_from_an_m, 3600)
{
	__u64 s = chaos_seed() ^ 0xbbbb;
	__u64 end = goro_now_ns() + chaos_secs() * 1000000000ull;
	unsigned int n = 0, handed = 0;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	while (n < 4 || goro_now_ns() < end) {
		struct vforker v = { 0 };
		pthread_t tp, tv;

		v.exec = (int)(rnd(&s) % 2);
		v.fd = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, v.fd);
		ASSERT_EQ(0, goro_ctx_init(&v.c, v.fd, 1, 8));
		ASSERT_EQ(0, pthread_create(&tp, NULL, vfork_parked, &v));
		ASSERT_EQ(0, goro_wait_u32(&v.c.hdr->nmidle, 1, WAIT_MS));
		ASSERT_EQ(0, pthread_create(&tv, NULL, vforking_m, &v));
		pthread_join(tv, NULL);
		pthread_join(tp, NULL);
		ASSERT_EQ(0, v.ret);
		EXPECT_TRUE(v.child_ok);
		EXPECT_EQ(0, v.p_after)
			TH_LOG("vfork %u (exec %d): the M came back without P0",
			       n, v.exec);
		handed += v.pk.why == GORO_WOKE_HANDOFF;
		munmap(v.c.map, v.c.s.map_size);
		close(v.fd);
		ASSERT_EQ(0, goro_stat_wait("instances", 0, WAIT_MS));
		ASSERT_EQ(0, goro_stat_wait("ms", 0, WAIT_MS));
		n++;
	}
	TH_LOG("%u vforks from an M (%u handed its P to the parked M)", n,
	       handed);
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

/* ---- 4. munmap and mremap of the region under busy Ms ----------------- */

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
 * The region given to a forked child after all (MADV_DOFORK undoes
 * VM_DONTCOPY): the child scribbles over the parent's Ps and Ms while
 * they park, wake and hand off, and may outlive the parent. The mapping
 * keeps the file (so the instance) until the child is gone too; nothing
 * else may happen. Also: an executable mapping is refused, and after
 * MADV_DONTNEED the mapping has nothing to fault in (SIGBUS), never a
 * private page.
 */
static void scribble(char *map, size_t size, __u64 seed, unsigned int ms)
{
	__u64 end = goro_now_ns() + ms * 1000000ull;

	while (goro_now_ns() < end) {
		size_t off = (rnd(&seed) % 2 ? rnd(&seed) % 512 :
					       rnd(&seed) % size) & ~(size_t)3;

		__atomic_store_n((__u32 *)(map + off), (__u32)rnd(&seed),
				 __ATOMIC_RELAXED);
	}
}

static void on_sigbus(int sig)
{
	(void)sig;
	_exit(42);
}

TEST_F_TIMEOUT(chaos, region_inherited_by_madv_dofork, 3600)
{
	__u64 s = chaos_seed() ^ 0xdddd;
	__u64 end = goro_now_ns() + chaos_secs() * 1000000000ull;
	unsigned int n = 0, child_last = 0;

	while (n < 4 || goro_now_ns() < end) {
		struct busy b = { 0 };
		pthread_t t[3];
		pid_t kid, bus;
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
		/* a zapped mapping faults SIGBUS (checked in a child) */
		m = mmap(NULL, b.c.s.map_size, PROT_READ | PROT_WRITE,
			 MAP_SHARED, b.fd, 0);
		ASSERT_NE(MAP_FAILED, m);
		ASSERT_EQ(0, madvise(m, b.c.s.map_size, MADV_DONTNEED));
		ASSERT_EQ(0, madvise(m, b.c.s.map_size, MADV_DOFORK));
		bus = fork();
		ASSERT_LE(0, bus);
		if (!bus) {
			signal(SIGBUS, on_sigbus);
			_exit(((volatile struct goro_shared_hdr *)m)->magic ==
					      GORO_MAGIC ?
				      0 :
				      1);
		}
		ASSERT_EQ(bus, waitpid(bus, &st, 0));
		EXPECT_TRUE(WIFEXITED(st) && (WEXITSTATUS(st) == 42 ||
					       WEXITSTATUS(st) == 0))
			TH_LOG("touching a zapped region: status %#x", st);
		munmap(m, b.c.s.map_size);

		/* the Ms' mapping goes to the child */
		ASSERT_EQ(0, madvise(b.c.map, b.c.s.map_size, MADV_DOFORK));
		for (i = 0; i < 3; i++)
			ASSERT_EQ(0, pthread_create(&t[i], NULL, busy_m, &b));
		kid = fork();
		ASSERT_LE(0, kid);
		if (!kid) {
			/* our copy of the parent's region: no instance here */
			if (goro_wake_m(b.fd) != -EPERM)
				_exit(2);
			scribble(b.c.map, b.c.s.map_size, b.seed,
				 50 + (unsigned int)(b.seed % 200));
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
		/* the child's mapping alone may keep the instance alive */
		if (!waitpid(kid, &st, WNOHANG)) {
			child_last++;
			ASSERT_EQ(kid, waitpid(kid, &st, 0));
		}
		EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
			TH_LOG("scribbling child: status %#x", st);
		ASSERT_EQ(0, goro_stat_wait("instances", 0, WAIT_MS));
		ASSERT_EQ(0, goro_stat_wait("ms", 0, WAIT_MS));
		n++;
	}
	TH_LOG("%u regions inherited by a scribbling child (%u still mapped it after the parent closed it)",
	       n, child_last);
}

/* ---- 6. close of the fd while Ms are parked ---------------------------- */

struct closer {
	struct goro_ctx c;
	int fd;
	int pfd[2];
	volatile int go_block, p_done, b_ready;
	int p_ret, p_again;
	struct goro_park p_pk;
};

static void on_usr1(int sig)
{
	(void)sig;
}

static void *close_parker(void *arg)
{
	struct closer *x = arg;

	if (goro_attach_m(x->fd, 0, 0, NULL))
		return NULL;
	x->p_ret = goro_park_m(x->fd, 0, &x->p_pk);	/* no deadline */
	/* the fd is closed now: the instance is not reachable any more */
	x->p_again = goro_park_m(x->fd, 0, NULL);
	x->p_done = 1;
	return NULL;
}

static void *close_blocker(void *arg)
{
	struct closer *x = arg;
	char c;

	if (goro_attach_m(x->fd, 1, 0, NULL))
		return NULL;
	goro_runq_put_batch(goro_p_of(&x->c, 0), (__u64[]){ 9 }, 1);
	x->b_ready = 1;	/* done with the mapping */
	/* wait without blocking: a block would hand P0 off now */
	while (!x->go_block)
		sched_yield();
	if (read(x->pfd[0], &c, 1) < 0)
		return NULL;
	return NULL;
}

TEST_F_TIMEOUT(chaos, close_while_ms_parked, 3600)
{
	__u64 s = chaos_seed() ^ 0xc1c1;
	__u64 end = goro_now_ns() + chaos_secs() * 1000000000ull;
	unsigned int n = 0, handed = 0, signalled = 0;
	struct sigaction sa = { .sa_handler = on_usr1 };
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	while (n < 4 || goro_now_ns() < end) {
		struct closer x = { 0 };
		int handoff = (int)(rnd(&s) % 2);
		pthread_t tp, tb;

		/* a high fd number, which nothing reuses after the close */
		fd = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fd);
		x.fd = fcntl(fd, F_DUPFD_CLOEXEC, 900);
		ASSERT_LE(900, x.fd);
		close(fd);
		ASSERT_EQ(0, pipe(x.pfd));
		ASSERT_EQ(0, goro_ctx_init(&x.c, x.fd, 1, 8));
		ASSERT_EQ(0, pthread_create(&tp, NULL, close_parker, &x));
		ASSERT_EQ(0, goro_wait_u32(&x.c.hdr->nmidle, 1, WAIT_MS));
		ASSERT_EQ(0, pthread_create(&tb, NULL, close_blocker, &x));
		ASSERT_EQ(0, goro_wait_u32((__u32 *)&x.b_ready, 1, WAIT_MS));
		munmap(x.c.map, x.c.s.map_size);
		close(x.fd);
		/* the parked M's PARK holds the file: the instance lives */
		sleep_us((unsigned int)(rnd(&s) % 5000));
		EXPECT_EQ(1, goro_stat("instances"));
		if (handoff) {
			/* and keeps working: the blocked M's P comes to it */
			x.go_block = 1;
			handed++;
		} else {
			pthread_kill(tp, SIGUSR1);
			signalled++;
		}
		ASSERT_EQ(0, goro_wait_u32((__u32 *)&x.p_done, 1, WAIT_MS));
		if (handoff) {
			EXPECT_EQ(0, x.p_ret);
			EXPECT_EQ(0U, x.p_pk.p);
			EXPECT_EQ((__u32)GORO_WOKE_HANDOFF, x.p_pk.why);
		} else {
			EXPECT_EQ(-EINTR, x.p_ret);
		}
		EXPECT_EQ(-EBADF, x.p_again);
		x.go_block = 1;
		ASSERT_EQ(1, write(x.pfd[1], "x", 1));
		pthread_join(tp, NULL);
		pthread_join(tb, NULL);
		ASSERT_EQ(0, goro_stat_wait("instances", 0, WAIT_MS));
		ASSERT_EQ(0, goro_stat_wait("ms", 0, WAIT_MS));
		close(x.pfd[0]);
		close(x.pfd[1]);
		n++;
	}
	TH_LOG("%u closes with an M parked: %u handed a P after the close, %u signalled",
	       n, handed, signalled);
}

TEST(nothing_left_at_the_end)
{
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	EXPECT_NOTHING_LEFT();
}

#define main chaos_harness_main
TEST_HARNESS_MAIN
#undef main

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "--exec-child"))
		return exec_child(atoi(argv[2]), atoi(argv[3]));
	if (argc == 2 && !strcmp(argv[1], "--vfork-child"))
		return 7;
	return chaos_harness_main(argc, argv);
}
