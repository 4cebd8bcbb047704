// SPDX-License-Identifier: GPL-2.0
/*
 * Chaos for goro.ko: fork, exec and vfork from an M. The forked child gets
 * -EPERM on the parent's instance and its own instance works; exec makes
 * the M leave (the instance goes with the file, or stays while an
 * inherited fd keeps it); vfork blocks the M (its P moves on, and it
 * comes back with one). The binary re-executes itself for the exec and
 * vfork children (--exec-child, --vfork-child).
 */
#include "chaos.h"

/* ---- fork and exec from an M --------------------------------------- */

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

