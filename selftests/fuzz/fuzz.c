// SPDX-License-Identifier: GPL-2.0
/*
 * A fuzzer for goro.ko's user interface: random ioctls (commands, sizes,
 * flags, reserved fields, P and M ids, deadlines, fds), random mmap,
 * mremap and munmap of the shared region, random writes into the shared
 * region from a second thread while Ms attach, park, wake and block, and
 * several processes at once, some of them killed at random.
 *
 * Pass criterion: every call returns (the box's hung-task detector and the
 * per-test timeout catch a hang), nothing splats (the box checks dmesg
 * after each test), and once every process is gone the module's live
 * object counters are back to zero.
 *
 * GORO_FUZZ_SECS sets the seconds each test fuzzes (default 4; make fuzz
 * raises it); GORO_FUZZ_SEED fixes the seed (printed by each test).
 */
#include "../module/goro_test.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>

static unsigned int fuzz_secs(void)
{
	const char *s = getenv("GORO_FUZZ_SECS");
	long v = s ? strtol(s, NULL, 10) : 0;

	return v > 0 && v < 3600 ? (unsigned int)v : 4;
}

static __u64 fuzz_seed(void)
{
	const char *s = getenv("GORO_FUZZ_SEED");

	return s ? strtoull(s, NULL, 0) : goro_now_ns() ^ (__u64)getpid() << 32;
}

/* xorshift64*: per thread state, no locking */
static __u64 rnd(__u64 *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* Mostly small, sometimes boundary, sometimes anything. */
static __u64 rnd_val(__u64 *s)
{
	static const __u64 edge[] = {
		0, 1, 2, 3, 4, 255, 256, 257, 4096, 65535, 65536, 0x7fffffff,
		0x80000000, 0xfffffffe, 0xffffffff, 0x100000000ull, ~0ull,
		~0ull >> 1, GORO_NONE,
	};
	__u64 r = rnd(s);

	switch (r % 4) {
	case 0:
		return r >> 60;
	case 1:
		return edge[(r >> 8) % (sizeof(edge) / sizeof(edge[0]))];
	default:
		return rnd(s);
	}
}

static const unsigned long goro_cmds[] = {
	GORO_IOC_VERSION, GORO_IOC_SETUP, GORO_IOC_ATTACH_M,
	GORO_IOC_DETACH_M, GORO_IOC_PARK, GORO_IOC_WAKE, GORO_IOC_SETPROCS,
	GORO_IOC_GREGISTER,
};
#define NCMDS (sizeof(goro_cmds) / sizeof(goro_cmds[0]))

/* A random command: a real one, a real one with another size or
 * direction, or any number at all.
 */
static unsigned long rnd_cmd(__u64 *s)
{
	__u64 r = rnd(s);
	unsigned long c = goro_cmds[r % NCMDS];

	switch ((r >> 8) % 5) {
	case 0:
	case 1:
		return c;
	case 2:	/* wrong size */
		return _IOC(_IOC_DIR(c), _IOC_TYPE(c), _IOC_NR(c),
			    (r >> 16) % 256);
	case 3:	/* wrong direction, or a nearby number */
		return _IOC((r >> 16) % 4, 'G', (r >> 20) % 16, _IOC_SIZE(c));
	default:
		return (unsigned long)(__u32)rnd(s);
	}
}

/* Fill an argument buffer: zero with a few random fields, or garbage. */
static void rnd_arg(__u64 *s, void *buf, size_t n, int epfd)
{
	__u64 *w = buf;
	size_t i;

	memset(buf, 0, n);
	if (rnd(s) % 3 == 0) {
		for (i = 0; i < n / 8; i++)
			w[i] = rnd_val(s);
		return;
	}
	for (i = 0; i < 1 + rnd(s) % 3; i++)
		((__u32 *)buf)[rnd(s) % (n / 4)] = (__u32)rnd_val(s);
	if (rnd(s) % 4 == 0) {	/* a park with a short deadline and an fd */
		struct goro_park *p = buf;

		p->flags &= GORO_PARK_DEADLINE | GORO_PARK_FD | GORO_PARK_NOSTEAL;
		p->flags |= GORO_PARK_DEADLINE;
		p->deadline_ns = goro_now_ns() + rnd(s) % 2000000;
		p->fd = rnd(s) % 2 ? epfd : (int)(rnd(s) % 64) - 2;
	}
}

/* The errnos the interface documents; anything else is a finding. */
static int errno_ok(int e)
{
	switch (e) {
	case EINVAL: case ENOTTY: case EFAULT: case EPERM: case EBUSY:
	case EEXIST: case ENOSPC: case EINTR: case EBADF: case ENOMEM:
	case ETIMEDOUT: case EAGAIN: case ENXIO: case ESRCH: case ENOENT:
	case EOVERFLOW: case ERANGE: case ENODEV: case EACCES:
		return 1;
	}
	return 0;
}

struct fuzz_state {
	int fd;
	int epfd;
	__u64 seed;
	__u64 deadline;
	char *map;		/* current mapping, or NULL */
	size_t map_size;
	volatile int stop;
	unsigned long calls, bad_errno;
	int last_bad_errno;
	unsigned long last_bad_cmd;
};

/* One random ioctl on st->fd. An unguarded PARK could sleep forever by
 * design (no deadline, no waker), so those get a deadline.
 */
static void fuzz_one_ioctl(struct fuzz_state *st, __u64 *s)
{
	__u64 arg[32];
	unsigned long cmd = rnd_cmd(s);
	void *p = arg;
	int ret;

	rnd_arg(s, arg, sizeof(arg), st->epfd);
	if (_IOC_NR(cmd) == _IOC_NR(GORO_IOC_PARK) && _IOC_TYPE(cmd) == 'G') {
		struct goro_park *pk = (void *)arg;

		pk->flags |= GORO_PARK_DEADLINE;
		pk->deadline_ns = goro_now_ns() + rnd(s) % 2000000;
	}
	switch (rnd(s) % 16) {
	case 0:
		p = NULL;
		break;
	case 1:
		p = (void *)(uintptr_t)rnd(s);	/* wild pointer: -EFAULT */
		break;
	}
	ret = ioctl(st->fd, cmd, p);
	st->calls++;
	if (ret < 0 && !errno_ok(errno)) {
		st->bad_errno++;
		st->last_bad_errno = errno;
		st->last_bad_cmd = cmd;
	}
}

static void *corruptor(void *arg)
{
	struct fuzz_state *st = arg;
	__u64 s = st->seed ^ 0x9e3779b97f4a7c15ull;

	while (!st->stop) {
		char *map = __atomic_load_n(&st->map, __ATOMIC_ACQUIRE);
		size_t off;

		if (!map) {
			goro_sleep_ms(1);
			continue;
		}
		/* favour the header and the first Ps' control words */
		off = rnd(&s) % 2 ? rnd(&s) % 512 : rnd(&s) % st->map_size;
		off &= ~(size_t)3;
		__atomic_store_n((__u32 *)(map + off), (__u32)rnd_val(&s),
				 __ATOMIC_RELAXED);
	}
	return NULL;
}

/* An M thread: attach (maybe with a P), then park/wake/block at random. */
static void *m_thread(void *arg)
{
	struct fuzz_state *st = arg;
	__u64 s = st->seed ^ (__u64)goro_gettid() << 17;
	int pipefd[2];

	if (pipe2(pipefd, O_NONBLOCK))
		return NULL;
	goro_attach_m(st->fd, rnd(&s) % 2, rnd(&s) % 6, NULL);
	while (!st->stop && goro_now_ns() < st->deadline) {
		struct goro_park pk = { 0 };
		struct timespec ts = { 0, (long)(rnd(&s) % 200000) };
		char c;

		switch (rnd(&s) % 6) {
		case 0:
			pk.deadline_ns = goro_now_ns() + rnd(&s) % 1000000;
			pk.fd = st->epfd;
			goro_park_m(st->fd, GORO_PARK_DEADLINE |
				    (rnd(&s) % 2 ? GORO_PARK_FD : 0), &pk);
			break;
		case 1:
			goro_wake_m(st->fd);
			break;
		case 2:
			nanosleep(&ts, NULL);	/* a block: handoff path */
			break;
		case 3:
			if (read(pipefd[0], &c, 1) < 0)	/* non-blocking */
				(void)0;
			break;
		case 4:
			if (rnd(&s) % 8 == 0)
				ioctl(st->fd, GORO_IOC_DETACH_M);
			else
				goro_attach_m(st->fd, rnd(&s) % 2,
					      rnd(&s) % 6, NULL);
			break;
		default:
			fuzz_one_ioctl(st, &s);
		}
	}
	close(pipefd[0]);
	close(pipefd[1]);
	return NULL;
}

/* Map, remap, unmap and protect the region at random. */
static void fuzz_mmap(struct fuzz_state *st, __u64 *s, size_t map_size)
{
	size_t len = rnd(s) % 4 ? map_size : (size_t)rnd_val(s) % (4 * map_size + 1);
	off_t off = rnd(s) % 4 ? 0 : (off_t)(rnd_val(s) & ~0xfffull);
	int prot = rnd(s) % 4 ? PROT_READ | PROT_WRITE : (int)(rnd(s) % 8);
	int flags = rnd(s) % 4 ? MAP_SHARED : MAP_PRIVATE;
	char *m;

	m = mmap(NULL, len ? len : 1, prot, flags, st->fd, off);
	if (m == MAP_FAILED)
		return;
	st->calls++;
	switch (rnd(s) % 4) {
	case 0:
		munmap(m, len);
		return;
	case 1: {
		char *r = mremap(m, len, len * 2 + 4096, MREMAP_MAYMOVE);

		munmap(r == MAP_FAILED ? m : r,
		       r == MAP_FAILED ? len : len * 2 + 4096);
		return;
	}
	case 2:
		if (len > 8192) {
			munmap(m + 4096, 4096);	/* a hole: never st->map */
			return;
		}
		break;
	}
	if (!st->map && len == map_size && off == 0 &&
	    (prot & (PROT_READ | PROT_WRITE)) == (PROT_READ | PROT_WRITE) &&
	    flags == MAP_SHARED) {
		st->map_size = map_size;
		__atomic_store_n(&st->map, m, __ATOMIC_RELEASE);
	}
	/* the others stay mapped until the process exits */
}

/* One fuzzing process: returns a summary for the log. */
static int fuzz_process(__u64 seed, unsigned int secs, int corrupt,
			char *msg, size_t msglen)
{
	struct fuzz_state st = { .seed = seed };
	pthread_t ms[4], cor;
	struct goro_setup su;
	__u64 s = seed;
	int i, nm = 0;

	st.fd = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);
	if (st.fd < 0)
		return -errno;
	st.epfd = epoll_create1(EPOLL_CLOEXEC);
	st.deadline = goro_now_ns() + (__u64)secs * 1000000000ull;

	/* setup with random arguments until one works, or give up */
	for (i = 0; i < 64; i++) {
		__u64 raw[sizeof(su) / 8];

		rnd_arg(&s, raw, sizeof(raw), st.epfd);
		memcpy(&su, raw, sizeof(su));
		if (i > 32 || rnd(&s) % 3 == 0) {
			memset(&su, 0, sizeof(su));
			su.nprocs = 1 + rnd(&s) % 6;
			su.max_ms = rnd(&s) % 2 ? 0 : 8 + rnd(&s) % 32;
		}
		st.calls++;
		if (!ioctl(st.fd, GORO_IOC_SETUP, &su))
			break;
	}
	if (i < 64)
		fuzz_mmap(&st, &s, su.map_size);
	if (i < 64 && !st.map) {
		char *m = mmap(NULL, su.map_size, PROT_READ | PROT_WRITE,
			       MAP_SHARED, st.fd, 0);

		if (m != MAP_FAILED) {
			st.map_size = su.map_size;
			st.map = m;
		}
	}
	if (corrupt && st.map)
		pthread_create(&cor, NULL, corruptor, &st);
	for (i = 0; i < 4; i++)
		if (!pthread_create(&ms[i], NULL, m_thread, &st))
			nm++;
	while (goro_now_ns() < st.deadline) {
		if (rnd(&s) % 16 == 0 && i < 64)
			fuzz_mmap(&st, &s, su.map_size);
		else
			fuzz_one_ioctl(&st, &s);
	}
	st.stop = 1;
	/*
	 * A random ATTACH_M may have made this thread an M with a P. With
	 * its locks word set by the corruptor it would keep that P while it
	 * sleeps in pthread_join, and an M waiting for a P after a block
	 * would wait for it for ever (a process may hold its own Ps hostage:
	 * docs/security.md): leave the instance first.
	 */
	ioctl(st.fd, GORO_IOC_DETACH_M);
	for (i = 0; i < nm; i++)
		pthread_join(ms[i], NULL);
	if (corrupt && st.map)
		pthread_join(cor, NULL);
	snprintf(msg, msglen, "%lu calls, %lu unexpected errnos (last %d on %#lx)",
		 st.calls, st.bad_errno, st.last_bad_errno, st.last_bad_cmd);
	close(st.epfd);
	close(st.fd);
	return st.bad_errno ? -EPROTO : 0;
}

/* Every instance and M gone once the processes have exited. */
static void expect_no_leak(struct __test_metadata *_metadata)
{
	EXPECT_EQ(0, goro_stat_wait("instances", 0, 5000));
	EXPECT_EQ(0, goro_stat_wait("ms", 0, 5000));
}

/* A fixture only for TEST_F_TIMEOUT: make fuzz runs for minutes. */
FIXTURE(fuzz) {};
FIXTURE_SETUP(fuzz) {}
FIXTURE_TEARDOWN(fuzz) {}

/*
 * Fuzz in a child process (its stray mappings and attached threads keep
 * the instance alive until it exits), then check that nothing leaked.
 */
static void fuzz_in_child(struct __test_metadata *_metadata, int corrupt)
{
	__u64 seed = fuzz_seed();
	int fd, st;
	pid_t pid;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	TH_LOG("seed %#llx, %u s", (unsigned long long)seed, fuzz_secs());
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char msg[160];
		int ret = fuzz_process(seed, fuzz_secs(), corrupt, msg,
				       sizeof(msg));

		fprintf(stderr, "# %s\n", msg);
		_exit(ret ? 1 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
		TH_LOG("fuzzing process: status %#x", st);
	expect_no_leak(_metadata);
}

TEST_F_TIMEOUT(fuzz, ioctls_and_mmap, 3600)
{
	fuzz_in_child(_metadata, 0);
}

TEST_F_TIMEOUT(fuzz, shared_region_writes, 3600)
{
	fuzz_in_child(_metadata, 1);
}

/* Several processes at once; half of them are SIGKILLed at a random time. */
TEST_F_TIMEOUT(fuzz, processes_killed_at_random, 3600)
{
	__u64 seed = fuzz_seed(), s;
	pid_t kids[6];
	int i, fd, st, killed = 0, clean = 0;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	s = seed;
	TH_LOG("seed %#llx, %u s", (unsigned long long)seed, fuzz_secs());
	for (i = 0; i < 6; i++) {
		kids[i] = fork();
		ASSERT_LE(0, kids[i]);
		if (!kids[i]) {
			char msg[160];

			_exit(fuzz_process(seed + (__u64)i * 7919, fuzz_secs(),
					   i % 2, msg, sizeof(msg)) ? 1 : 0);
		}
	}
	for (i = 0; i < 6; i += 2) {
		goro_sleep_ms((unsigned int)(rnd(&s) % (fuzz_secs() * 300)));
		kill(kids[i], SIGKILL);
	}
	for (i = 0; i < 6; i++) {
		ASSERT_EQ(kids[i], waitpid(kids[i], &st, 0));
		if (WIFSIGNALED(st))
			killed++;
		else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
			clean++;
	}
	TH_LOG("%d killed, %d finished clean", killed, clean);
	EXPECT_EQ(6, killed + clean);
	expect_no_leak(_metadata);
}

TEST_HARNESS_MAIN
