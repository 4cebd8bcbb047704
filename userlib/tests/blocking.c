/* SPDX-License-Identifier: MIT */
/*
 * libgoro: a goroutine blocking in plain libc (no goro_syscall_enter) does
 * not stall its P on the kmod backend, whatever it blocks in: read on an
 * empty pipe, nanosleep, flock, getaddrinfo reading /etc/hosts from a
 * FUSE file, pthread_mutex_lock, a page fault (userfaultfd). With one P, another
 * goroutine must count while the blocker is blocked. The user backend
 * cannot see such blocks (only goro_syscall_enter/exit): these tests are
 * skipped there. Also: 1000 goroutines blocked at once get a thread each,
 * and the idle threads go away afterwards.
 */
#include <goro.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "kselftest_harness.h"
#include "fusefile.h"
#include "util.h"
#include "../../uapi/goro.h"

#define PROGRESS 100		/* counts the other goroutine must make */
#define WAIT_S 30		/* bounded waits, never a pass criterion */

#define SKIP_UNLESS_KMOD()                                                   \
	do {                                                                 \
		if (strcmp(goro_backend(), "kmod"))                          \
			SKIP(return, "backend %s: only goro_syscall_enter "  \
				     "brackets are seen, plain blocking "    \
				     "calls stall the P (goro.ko needed)",   \
			     goro_backend());                                \
	} while (0)

struct blk;
struct blocker_ops {
	int (*setup)(struct blk *b);	/* 0, or -errno; 4 = skip */
	int (*block)(struct blk *b);	/* in the goroutine; 0 = success */
	void (*release)(struct blk *b);	/* from a foreign thread */
	void (*cleanup)(struct blk *b);
};

struct blk {
	const struct blocker_ops *ops;
	atomic_int started, done, progressed, stop;
	atomic_long count;
	long count_at_release;
	int result;
	bool timed_out;
	int fds[2];
	int lockfd;
	pthread_mutex_t mu;
	pthread_t holder;
	atomic_int held, unlock;
	char path[64];
	void *page;
	int uffd;
	char skipwhy[128];
	struct fusefile ff;
	atomic_int read_held;	/* the resolver's read blocked, P went on */
	bool made_nsswitch;
	bool moved_hosts;	/* /etc/hosts is ours until cleanup */
	bool set_up;		/* setup ran: cleanup undoes what it did */
};

/* ---- the blockers ---- */

static int pipe_setup(struct blk *b)
{
	return pipe(b->fds) ? -errno : 0;
}

static int pipe_block(struct blk *b)
{
	char c;

	return read(b->fds[0], &c, 1) == 1 && c == 'x' ? 0 : -1;
}

static void pipe_release(struct blk *b)
{
	if (write(b->fds[1], "x", 1) != 1)
		abort();
}

static void pipe_cleanup(struct blk *b)
{
	close(b->fds[0]);
	close(b->fds[1]);
}

/* nanosleep ends by itself: the release is a no-op, the sleep long */
static int sleep_block(struct blk *b)
{
	struct timespec ts = {3, 0};

	(void)b;
	return nanosleep(&ts, NULL);
}

static void nop(struct blk *b)
{
	(void)b;
}

static int flock_setup(struct blk *b)
{
	int fd;

	snprintf(b->path, sizeof(b->path), "/tmp/goro-flock-%d", getpid());
	fd = open(b->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	b->lockfd = fd;
	return flock(fd, LOCK_EX) ? -errno : 0;
}

static int flock_block(struct blk *b)
{
	int fd = open(b->path, O_RDWR | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = flock(fd, LOCK_EX);
	close(fd);
	return r;
}

static void flock_release(struct blk *b)
{
	flock(b->lockfd, LOCK_UN);
}

static void flock_cleanup(struct blk *b)
{
	close(b->lockfd);
	unlink(b->path);
}

/*
 * getaddrinfo reading /etc/hosts: /etc/hosts becomes a symlink to a file
 * on FUSE (fusefile.h) whose server holds every read until the release,
 * so the resolver's read(2) of a local file blocks in the kernel. Only in
 * the test box, as root, where nothing else needs /etc/hosts; the box
 * loads fuse.ko when it has it.
 */
#define HOSTS "/etc/hosts"
#define HOSTS_SAVED "/etc/hosts.goro-saved"
#define NSSWITCH "/etc/nsswitch.conf"

static const char gai_hosts[] = "127.0.0.7 goro-blocking-test\n";

static int gai_block(struct blk *b);

static int gai_setup(struct blk *b)
{
	struct stat st;
	int fd, r;

	if (getuid() != 0 || access("/dev/goro", F_OK)) {
		snprintf(b->skipwhy, sizeof(b->skipwhy),
			 "replaces /etc/hosts: only as root in the test box");
		return 4;
	}
	if (access("/dev/fuse", F_OK)) {
		snprintf(b->skipwhy, sizeof(b->skipwhy),
			 "no /dev/fuse: fuse.ko is not loaded in the test box");
		return 4;
	}
	mkdir("/etc", 0755);
	/* files only: no DNS server to ask first in the box */
	if (access(NSSWITCH, F_OK)) {
		static const char conf[] = "hosts: files\n";

		fd = open(NSSWITCH, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0 || write(fd, conf, sizeof(conf) - 1) < 0)
			return -errno;
		close(fd);
		b->made_nsswitch = true;
	}
	if (stat(HOSTS, &st) == 0 && rename(HOSTS, HOSTS_SAVED))
		return -errno;
	b->moved_hosts = true;
	/* a static binary may have no NSS to read /etc/hosts with */
	fd = open(HOSTS, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, gai_hosts, sizeof(gai_hosts) - 1) < 0)
		return -errno;
	close(fd);
	if (gai_block(b)) {
		snprintf(b->skipwhy, sizeof(b->skipwhy),
			 "getaddrinfo cannot resolve through /etc/hosts here "
			 "(a static binary without glibc's NSS modules)");
		return 4;
	}
	/* the same name, now from a file whose reads wait for the release */
	unlink(HOSTS);
	r = fusefile_start(&b->ff, "hosts", gai_hosts);
	if (r)
		return r;
	return symlink(b->ff.path, HOSTS) ? -errno : 0;
}

static int gai_block(struct blk *b)
{
	struct addrinfo hints = {.ai_family = AF_INET}, *res;
	int r;

	r = getaddrinfo("goro-blocking-test", NULL, &hints, &res);
	if (r)
		return r;
	r = ((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr ==
			    htonl(0x7f000007)
		    ? 0
		    : -1;
	freeaddrinfo(res);
	/* from the FUSE file it must have blocked in the read: else -2 */
	if (!r && b->ff.mounted && !atomic_load(&b->read_held))
		r = -2;
	return r;
}

/*
 * The counter may get to PROGRESS while the resolver is still on its way
 * to the read (lookup, open: each a round trip to the server): wait for
 * the read to block, and for the counter to go on meanwhile.
 */
static void gai_release(struct blk *b)
{
	long long deadline = now_ns() + WAIT_S * 1000000000LL;
	long c;

	while (!atomic_load(&b->ff.read_waiting) && now_ns() < deadline)
		usleep(1000);
	c = atomic_load(&b->count);
	while (atomic_load(&b->count) < c + PROGRESS && now_ns() < deadline)
		usleep(1000);
	c = atomic_load(&b->count) >= c + PROGRESS;
	atomic_store(&b->read_held, fusefile_release(&b->ff) && c);
}

static void gai_cleanup(struct blk *b)
{
	if (b->made_nsswitch)
		unlink(NSSWITCH);
	if (b->moved_hosts) {
		/* never touch a /etc/hosts we did not set up */
		unlink(HOSTS);
		if (rename(HOSTS_SAVED, HOSTS) && errno != ENOENT)
			abort();
	}
	fusefile_stop(&b->ff);
}

/* a foreign thread holds the mutex until released */
static void *mutex_holder(void *arg)
{
	struct blk *b = arg;

	pthread_mutex_lock(&b->mu);
	atomic_store(&b->held, 1);
	while (!atomic_load(&b->unlock))
		usleep(1000);
	pthread_mutex_unlock(&b->mu);
	return NULL;
}

static int mutex_setup(struct blk *b)
{
	pthread_mutex_init(&b->mu, NULL);
	if (pthread_create(&b->holder, NULL, mutex_holder, b))
		return -EAGAIN;
	while (!atomic_load(&b->held))
		usleep(1000);
	return 0;
}

static int mutex_block(struct blk *b)
{
	int r = pthread_mutex_lock(&b->mu);

	if (!r)
		pthread_mutex_unlock(&b->mu);
	return r;
}

static void mutex_release(struct blk *b)
{
	atomic_store(&b->unlock, 1);
}

static void mutex_cleanup(struct blk *b)
{
	if (b->holder)
		pthread_join(b->holder, NULL);
}

/* A page fault that waits for userspace to supply the page. */
static int uffd_setup(struct blk *b)
{
	struct uffdio_api api = {.api = UFFD_API};
	struct uffdio_register reg = {0};
	long psz = sysconf(_SC_PAGESIZE);

	b->uffd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (b->uffd < 0) {
		snprintf(b->skipwhy, sizeof(b->skipwhy), "userfaultfd: %s",
			 strerror(errno));
		return 4;
	}
	if (ioctl(b->uffd, UFFDIO_API, &api))
		return -errno;
	b->page = mmap(NULL, psz, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->page == MAP_FAILED)
		return -errno;
	reg.range.start = (unsigned long)b->page;
	reg.range.len = psz;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	return ioctl(b->uffd, UFFDIO_REGISTER, &reg) ? -errno : 0;
}

static int uffd_block(struct blk *b)
{
	return *(volatile char *)b->page == 42 ? 0 : -1;
}

static void uffd_release(struct blk *b)
{
	long psz = sysconf(_SC_PAGESIZE);
	char *src = aligned_alloc(psz, psz);
	struct uffdio_copy cp = {0};

	memset(src, 42, psz);
	cp.dst = (unsigned long)b->page;
	cp.src = (unsigned long)src;
	cp.len = psz;
	if (ioctl(b->uffd, UFFDIO_COPY, &cp))
		abort();
	free(src);
}

static void uffd_cleanup(struct blk *b)
{
	close(b->uffd);
}

/* ---- the test ---- */

static void blocker(void *arg)
{
	struct blk *b = arg;

	atomic_store(&b->started, 1);
	b->result = b->ops->block(b);
	atomic_store(&b->done, 1);
}

static void counter(void *arg)
{
	struct blk *b = arg;

	while (!atomic_load(&b->stop)) {
		atomic_fetch_add(&b->count, 1);
		goro_yield();
	}
}

/* A foreign thread: releases the blocker once the counter progressed,
 * or after WAIT_S (then the test fails: the P was stalled). */
static void *releaser(void *arg)
{
	struct blk *b = arg;
	long long deadline = now_ns() + WAIT_S * 1000000000LL;

	while (!atomic_load(&b->progressed) && now_ns() < deadline)
		usleep(1000);
	b->timed_out = !atomic_load(&b->progressed);
	b->count_at_release = atomic_load(&b->count);
	b->ops->release(b);
	return NULL;
}

FIXTURE(blocking)
{
	struct blk b;
};

FIXTURE_VARIANT(blocking)
{
	struct blocker_ops ops;
};

FIXTURE_VARIANT_ADD(blocking, pipe_read)
{
	.ops = {pipe_setup, pipe_block, pipe_release, pipe_cleanup},
};

FIXTURE_VARIANT_ADD(blocking, nanosleep)
{
	.ops = {NULL, sleep_block, nop, NULL},
};

FIXTURE_VARIANT_ADD(blocking, flock)
{
	.ops = {flock_setup, flock_block, flock_release, flock_cleanup},
};

FIXTURE_VARIANT_ADD(blocking, getaddrinfo_etc_hosts)
{
	.ops = {gai_setup, gai_block, gai_release, gai_cleanup},
};

FIXTURE_VARIANT_ADD(blocking, pthread_mutex_lock)
{
	.ops = {mutex_setup, mutex_block, mutex_release, mutex_cleanup},
};

FIXTURE_VARIANT_ADD(blocking, page_fault_userfaultfd)
{
	.ops = {uffd_setup, uffd_block, uffd_release, uffd_cleanup},
};

FIXTURE_SETUP(blocking)
{
	memset(&self->b, 0, sizeof(self->b));
	self->b.ops = &variant->ops;
}

FIXTURE_TEARDOWN(blocking)
{
	if (self->b.set_up && self->b.ops->cleanup)
		self->b.ops->cleanup(&self->b);
}

TEST_F_TIMEOUT(blocking, does_not_stall_the_p, 120)
{
	struct blk *b = &self->b;
	long long deadline;
	pthread_t t;
	int r;

	SKIP_UNLESS_KMOD();
	if (b->ops->setup) {
		b->set_up = true;
		r = b->ops->setup(b);
		if (r == 4)
			SKIP(return, "%s", b->skipwhy);
		ASSERT_EQ(0, r);
	}
	goro_setprocs(1);
	ASSERT_GT(goro_go(blocker, b), 0);
	while (!atomic_load(&b->started))
		goro_yield();
	ASSERT_GT(goro_go(counter, b), 0);
	ASSERT_EQ(0, pthread_create(&t, NULL, releaser, b));
	/* main and the counter share the one P while the blocker blocks */
	deadline = now_ns() + WAIT_S * 1000000000LL;
	while (atomic_load(&b->count) < PROGRESS && !atomic_load(&b->done) &&
	       now_ns() < deadline)
		goro_yield();
	EXPECT_FALSE(atomic_load(&b->done));
	atomic_store(&b->progressed, 1);
	deadline = now_ns() + WAIT_S * 1000000000LL;
	while (!atomic_load(&b->done) && now_ns() < deadline)
		goro_yield();
	atomic_store(&b->stop, 1);
	pthread_join(t, NULL);
	ASSERT_TRUE(atomic_load(&b->done));
	EXPECT_EQ(0, b->result);
	EXPECT_FALSE(b->timed_out);
	EXPECT_GE(b->count_at_release, PROGRESS);
	while (goro_numgoroutine() > 1)
		goro_yield();
}

/* ---- back in goroutine code without a P ---- */

/* The fd of /dev/goro the library opened, or -1. */
static int goro_dev_fd(void)
{
	char path[64], link[64];
	ssize_t n;
	int fd;

	for (fd = 0; fd < 1024; fd++) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = 0;
		if (!strcmp(link, "/dev/goro"))
			return fd;
	}
	return -1;
}

struct pless {
	int fd, park, op;
	unsigned int p_after_park;
	atomic_int done_ops;
	goro_chan *c;
	goro_wg wg;
};

/* Leaves its P the way a cancelled cgroup freeze can: a GORO_IOC_PARK of
 * its own, which returns without one after its deadline. */
static void pless_leave(struct pless *s)
{
	struct goro_park pk = {
		.flags = GORO_PARK_NOSTEAL | GORO_PARK_DEADLINE,
		.deadline_ns = (unsigned long long)now_ns() + 20000000ULL,
	};

	s->park = ioctl(s->fd, GORO_IOC_PARK, &pk) ? -errno : 0;
	s->p_after_park = pk.p;
}

static void pless_child(void *arg)
{
	struct pless *s = arg;
	int v = 7;

	goro_chan_send(s->c, &v);
	goro_wg_done(&s->wg);
}

/* Without a P, enters the runtime by way of s->op. */
static void pless_goroutine(void *arg)
{
	struct pless *s = arg;
	int v = 0;

	pless_leave(s);
	switch (s->op) {
	case 0:
		goro_yield();
		break;
	case 1:		/* spawn, then a receive the child's send wakes */
		goro_wg_add(&s->wg, 1);
		if (goro_go(pless_child, s) > 0 && goro_chan_recv(s->c, &v) &&
		    v == 7)
			break;
		return;
	case 2:
		goro_sleep(1000000);
		break;
	case 3:		/* a send a receiver is waiting for */
		v = 9;
		goro_chan_send(s->c, &v);
		break;
	}
	atomic_fetch_add(&s->done_ops, 1);
	goro_wg_done(&s->wg);
}

static void pless_receiver(void *arg)
{
	struct pless *s = arg;
	int v;

	if (goro_chan_recv(s->c, &v) && v == 9)
		atomic_fetch_add(&s->done_ops, 1);
	goro_wg_done(&s->wg);
}

/*
 * A goroutine whose M comes back to user mode without a P runs on until
 * it enters the runtime, which must then get it a P rather than run on
 * none: a yield, a spawn and a receive, a sleep, a send to a waiting
 * receiver, each on one P.
 */
TEST(back_in_goroutine_code_without_a_p)
{
	struct pless s = { .wg = GORO_WG_INIT };
	int want = 0;

	SKIP_UNLESS_KMOD();
	s.fd = goro_dev_fd();
	ASSERT_LE(0, s.fd);
	s.c = goro_chan_make(sizeof(int), 0);
	ASSERT_NE(NULL, s.c);
	goro_setprocs(1);
	for (s.op = 0; s.op < 4; s.op++) {
		goro_wg_add(&s.wg, 1);
		if (s.op == 3) {
			goro_wg_add(&s.wg, 1);
			ASSERT_GT(goro_go(pless_receiver, &s), 0);
			want++;
		}
		ASSERT_GT(goro_go(pless_goroutine, &s), 0);
		want++;
		goro_wg_wait(&s.wg);
		EXPECT_EQ(0, s.park) TH_LOG("op %d", s.op);
		EXPECT_EQ(GORO_NONE, s.p_after_park) TH_LOG("op %d", s.op);
		EXPECT_EQ(want, atomic_load(&s.done_ops)) TH_LOG("op %d", s.op);
	}
	while (goro_numgoroutine() > 1)
		goro_yield();
	goro_chan_free(s.c);
}

/* ---- many blocked at once ---- */

static int nthreads(void)
{
	char line[256];
	int n = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

#define NBLOCK 1000

static int rfd;
static goro_wg readers = GORO_WG_INIT;

static void reader(void *arg)
{
	char c;

	(void)arg;
	if (read(rfd, &c, 1) != 1)
		abort();
	goro_wg_done(&readers);
}

/* the same, bracketed: the user backend's sysmon hands its P off too */
static void bracketed_reader(void *arg)
{
	char c;

	(void)arg;
	if (GORO_SYSCALL(read(rfd, &c, 1)) != 1)
		abort();
	goro_wg_done(&readers);
}

FIXTURE(many)
{
	int unused;
};

FIXTURE_SETUP(many)
{
}

FIXTURE_TEARDOWN(many)
{
}

/*
 * NBLOCK goroutines block in read at once: each gets an M of its own
 * while the Ps go on; after the reads the idle Ms beyond nprocs + a few
 * exit after about a second.
 */
static void thousand_reads(struct __test_metadata *_metadata, goro_fn fn)
{
	int fds[2], i, n, most = 0, procs;
	long long deadline;
	char buf[NBLOCK];

	procs = goro_numprocs();
	ASSERT_EQ(0, pipe(fds));
	rfd = fds[0];
	goro_wg_add(&readers, NBLOCK);
	for (i = 0; i < NBLOCK; i++)
		ASSERT_GT(goro_go(fn, NULL), 0);
	deadline = now_ns() + 120 * 1000000000LL;
	while (most < NBLOCK && now_ns() < deadline) {
		n = nthreads();
		if (n > most)
			most = n;
		goro_sleep(10 * 1000000LL);
	}
	TH_LOG("%d goroutines blocked in read: %d threads at most, %d Ps",
	       NBLOCK, most, procs);
	EXPECT_GE(most, NBLOCK);
	/*
	 * The Ms with Ps, the factory, sysmon, and spares started during the
	 * burst whose P was taken by another M first (up to ~10%).
	 */
	EXPECT_LE(most, NBLOCK + NBLOCK / 8 + procs);
	memset(buf, 'x', sizeof(buf));
	ASSERT_EQ(NBLOCK, write(fds[1], buf, sizeof(buf)));
	goro_wg_wait(&readers);
	deadline = now_ns() + 60 * 1000000000LL;
	while ((n = nthreads()) > procs + 12 && now_ns() < deadline)
		goro_sleep(50 * 1000000LL);
	TH_LOG("after the reads: %d threads", n);
	EXPECT_LE(n, procs + 12);
	close(fds[0]);
	close(fds[1]);
}

TEST_F_TIMEOUT(many, thousand_blocked_reads_get_threads_that_go_away, 300)
{
	SKIP_UNLESS_KMOD();
	thousand_reads(_metadata, reader);
}

/* either backend: a bracketed read gives its P up on both */
TEST_F_TIMEOUT(many, thousand_bracketed_reads_get_threads_that_go_away, 300)
{
	thousand_reads(_metadata, bracketed_reader);
}

TEST_HARNESS_MAIN
