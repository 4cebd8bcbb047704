// SPDX-License-Identifier: GPL-2.0
/*
 * A process in a cgroup stays in it (docs/security.md): what goro.ko
 * allocates for an unprivileged user is charged to its memcg, however
 * many instances it tries, and a cgroup v2 freeze completes while Ms
 * wait in the module for a P, or run a whole libgoro workload.
 */
#include "goro_test.h"

#include <sys/socket.h>

struct frz {
	struct goro_ctx c;
	int fd;
	int hold[2];		/* the holder blocks on it holding P0 */
	int wait[2];		/* the waiter blocks on it, loses P0 */
	unsigned int wm, hm;
	volatile int h_has_p;
	volatile __u32 w_p;
};

/* Loses P0 in read(); back without it, waits for a P in the kernel. */
static void *frz_waiter(void *arg)
{
	struct frz *f = arg;
	char ch;

	f->w_p = GORO_NONE - 1;
	if (goro_attach_m(f->fd, 1, 0, &f->wm))
		return NULL;
	if (read(f->wait[0], &ch, 1) != 1)
		return NULL;
	f->w_p = goro_m_of(&f->c, f->wm)->p;
	return NULL;
}

/* Takes P0 from the blocked waiter, keeps it (locks) while blocked. */
static void *frz_holder(void *arg)
{
	struct frz *f = arg;
	struct goro_park pk = { 0 };
	char ch;

	if (goro_attach_m(f->fd, 0, 0, &f->hm) ||
	    goro_park_m(f->fd, GORO_PARK_NOSTEAL, &pk) || pk.p != 0)
		return NULL;
	goro_m_of(&f->c, f->hm)->locks = 1;
	f->h_has_p = 1;
	if (read(f->hold[0], &ch, 1) != 1)
		return NULL;
	goro_m_of(&f->c, f->hm)->locks = 0;
	goro_ioctl(f->fd, GORO_IOC_DETACH_M, NULL);	/* P0 to the waiter */
	return NULL;
}

/*
 * The process of the freeze test: an M waiting in the kernel for a P
 * that another M holds. Tells the parent on ready, waits on cont while
 * it freezes and thaws the cgroup, then lets the holder go: exits 0 when
 * the waiter got the P.
 */
static int frz_child(int ready, int cont)
{
	struct frz f = { 0 };
	pthread_t tw, th;
	char ch;

	f.fd = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);
	if (f.fd < 0 || goro_ctx_init(&f.c, f.fd, 1, 8) || pipe(f.hold) ||
	    pipe(f.wait))
		return 1;
	if (pthread_create(&tw, NULL, frz_waiter, &f))
		return 2;
	if (goro_wait_u32(&goro_p_of(&f.c, 0)->status, GORO_P_BLOCKED, 5000))
		return 3;
	if (pthread_create(&th, NULL, frz_holder, &f) ||
	    goro_wait_u32(&f.c.hdr->nmidle, 1, 5000) || goro_wake_m(f.fd) != 1)
		return 4;
	while (!f.h_has_p)
		goro_sleep_ms(1);
	if (write(f.wait[1], "x", 1) != 1 ||
	    goro_wait_u32(&f.c.hdr->nmwaitp, 1, 5000))
		return 5;
	if (write(ready, "r", 1) != 1 || read(cont, &ch, 1) != 1)
		return 6;
	if (write(f.hold[1], "x", 1) != 1)
		return 7;
	pthread_join(th, NULL);
	pthread_join(tw, NULL);
	return f.w_p == 0 ? 0 : 8;
}

#define GORO_CG		GORO_CG_ROOT "/goro-freeze"

/*
 * A cgroup v2 freeze completes within 1 s while one of its tasks waits
 * in the kernel for a P (an M back from a block whose P another M holds
 * with locks set); after the thaw that M gets its P.
 */
TEST(cgroup_freeze_while_waiting_for_p)
{
	int fd, st, ready[2], cont[2], frozen = 0, ret;
	char pidbuf[24];
	__u64 t0, lat = 0;
	pid_t kid;
	char ch;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	ret = goro_cg_make("goro-freeze", "");
	if (ret)
		SKIP(return, "cgroup %s: %s", GORO_CG, strerror(-ret));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(cont));
	kid = fork();
	ASSERT_LE(0, kid);
	if (!kid) {
		close(ready[0]);
		close(cont[1]);
		_exit(frz_child(ready[1], cont[0]));
	}
	close(ready[1]);
	close(cont[0]);
	snprintf(pidbuf, sizeof(pidbuf), "%d", kid);
	EXPECT_EQ(0, goro_write_file(GORO_CG "/cgroup.procs", pidbuf));
	if (read(ready[0], &ch, 1) == 1) {
		t0 = goro_now_ns();
		EXPECT_EQ(0, goro_write_file(GORO_CG "/cgroup.freeze", "1"));
		while (goro_now_ns() - t0 < 1000000000ull) {
			if (goro_cg_frozen(GORO_CG, 1)) {
				frozen = 1;
				lat = goro_now_ns() - t0;
				break;
			}
			goro_sleep_ms(1);
		}
		EXPECT_TRUE(frozen) TH_LOG("cgroup not frozen after 1 s");
		TH_LOG("frozen in %llu us", lat / 1000);
		EXPECT_EQ(0, goro_write_file(GORO_CG "/cgroup.freeze", "0"));
		EXPECT_EQ(1, write(cont[1], "c", 1));
	}
	ASSERT_EQ(kid, waitpid(kid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
		TH_LOG("child: status %#x", st);
	close(ready[0]);
	close(cont[1]);
	rmdir(GORO_CG);
}

/* "key N" of /proc/meminfo in kB (key with its colon), or -1. */
static long goro_meminfo_kb(const char *key)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key))) {
			v = atol(line + strlen(key));
			break;
		}
	fclose(f);
	return v;
}

/* "key N" in the file path (memory.events, memory.stat), or -1. */
static long goro_keyed(const char *path, const char *key)
{
	char k[64];
	long v, ret = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", k, &v) == 2)
		if (!strcmp(k, key)) {
			ret = v;
			break;
		}
	fclose(f);
	return ret;
}

#define GORO_CG_EXH	GORO_CG_ROOT "/goro-exhaust"
/*
 * attempts: GORO_EXH_TRIES in the environment (the debug kernel's box
 * makes fewer: each OOM kill takes it ~0.6 s), else 1,000
 */
#define GORO_EXH_TRIES	1000
#define GORO_EXH_MAX	(32l << 20)
/*
 * What the box's MemAvailable may lose beyond the cgroup's limit: pages
 * the killed attempts freed that wait on per-CPU free lists (MemFree
 * does not count them), what the box allocates meanwhile for others,
 * the test's own forks. Seen: 0 to 22 MB; without accounting, hundreds.
 */
#define GORO_EXH_SLACK	(64l << 20)
/* kernel memory (slab, vmalloc) grown beyond the cgroup's charge */
#define GORO_EXH_UNCHARGED (8l << 20)

/* How the attempts of the exhaustion test ended. */
struct goro_exh {
	int ok, nomem, emfile, killed, other, other_err;
};

/* Send fd over the unix socket sock: 0 or -1. */
static int goro_send_fd(int sock, int fd)
{
	char c[CMSG_SPACE(sizeof(int))] = { 0 }, x = 'f';
	struct iovec iov = { &x, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = c, .msg_controllen = sizeof(c) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &m, 0) == 1 ? 0 : -1;
}

/* An fd from the unix socket sock, or -1. */
static int goro_recv_fd(int sock)
{
	char c[CMSG_SPACE(sizeof(int))], x;
	struct iovec iov = { &x, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = c, .msg_controllen = sizeof(c) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) != 1)
		return -1;
	cm = CMSG_FIRSTHDR(&m);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

/*
 * One attempt: a process of uid 65534 in the cgroup opens /dev/goro,
 * SETUPs the largest instance it may, passes the fd to us over sk and exits, so
 * that the instance outlives its process (as with an fd kept by a
 * parent) and stays charged to the cgroup. Returns the fd or -1, and
 * counts the outcome in r.
 */
static int goro_exh_attempt(int sk[2], struct goro_exh *r)
{
	pid_t kid = fork();
	int st, fd;

	if (kid < 0) {
		r->other++;
		r->other_err = errno;
		return -1;
	}
	if (!kid) {
		struct goro_setup s = { .nprocs = 256 };

		if (goro_write_file(GORO_CG_EXH "/cgroup.procs", "0") ||
		    goro_drop_to_nobody())
			_exit(200);
		fd = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			_exit(errno);
		if (ioctl(fd, GORO_IOC_SETUP, &s))
			_exit(errno);
		_exit(goro_send_fd(sk[1], fd) ? 201 : 0);
	}
	if (waitpid(kid, &st, 0) != kid) {
		r->other++;
		r->other_err = errno;
	} else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
		r->killed++;
	} else if (!WIFEXITED(st)) {
		r->other++;
	} else if (WEXITSTATUS(st) == 0) {
		fd = goro_recv_fd(sk[0]);
		if (fd >= 0) {
			r->ok++;
			return fd;
		}
		r->other++;
	} else if (WEXITSTATUS(st) == ENOMEM) {
		r->nomem++;
	} else if (WEXITSTATUS(st) == EMFILE) {
		r->emfile++;
	} else {
		r->other++;
		r->other_err = WEXITSTATUS(st);
	}
	return -1;
}

/*
 * One unprivileged user, in a cgroup with memory.max = 32M and its
 * per-user instance limit lifted, makes 1,000 attempts at instances of
 * 256 Ps, each kept alive by an fd after its process exits (the fds are
 * held outside the cgroup: the harder case). What the module allocates
 * is charged to the cgroup: attempts end in ENOMEM or an OOM kill inside
 * the cgroup, the cgroup's peak stays at its limit, the kernel memory
 * (slab, vmalloc) the live instances hold is in the cgroup's charge, and
 * the memory the whole box has available drops by not much more.
 */
FIXTURE(exh) {};
FIXTURE_SETUP(exh) {}
FIXTURE_TEARDOWN(exh) {}

/* each attempt past the limit waits for reclaim or an OOM kill */
TEST_F_TIMEOUT(exh, exhaustion_stays_in_memcg, 600)
{
	static int fds[GORO_EXH_TRIES];
	const char *e = getenv("GORO_EXH_TRIES");
	int tries = e ? atoi(e) : GORO_EXH_TRIES;
	long avail0, avail, low, peak, old, kills, dump, kmem0, kmem, cur;
	int fd, i, n = 0, sk[2], ret;
	struct goro_exh r = { 0 };
	__u64 t0;
	char v[32];

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	ASSERT_EQ(0, goro_stat_wait("instances", 0, 1000));
	ret = goro_cg_make("goro-exhaust", "+memory");
	if (ret)
		SKIP(return, "cgroup with memory: %s", strerror(-ret));
	snprintf(v, sizeof(v), "%ld", GORO_EXH_MAX);
	ASSERT_EQ(0, goro_write_file(GORO_CG_EXH "/memory.max", v));
	goro_write_file(GORO_CG_EXH "/memory.swap.max", "0");
	old = goro_param_read("max_instances_per_user");
	ASSERT_LT(0, old);
	ASSERT_EQ(0, goro_param_write("max_instances_per_user", "1048576"));
	/* a thousand OOM kills: no task list in the log for each */
	dump = goro_file_long("/proc/sys/vm/oom_dump_tasks");
	goro_write_file("/proc/sys/vm/oom_dump_tasks", "0");
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sk));
	avail0 = goro_meminfo_kb("MemAvailable:");
	ASSERT_LT(0, avail0);
	kmem0 = goro_meminfo_kb("Slab:") + goro_meminfo_kb("VmallocUsed:");

	low = avail0;
	t0 = goro_now_ns();
	if (tries < 100 || tries > GORO_EXH_TRIES)
		tries = GORO_EXH_TRIES;
	for (i = 0; i < tries; i++) {
		fd = goro_exh_attempt(sk, &r);
		if (fd >= 0)
			fds[n++] = fd;
		avail = goro_meminfo_kb("MemAvailable:");
		if (avail >= 0 && avail < low)
			low = avail;
	}
	kmem = goro_meminfo_kb("Slab:") + goro_meminfo_kb("VmallocUsed:") - kmem0;
	cur = goro_file_long(GORO_CG_EXH "/memory.current");
	peak = goro_file_long(GORO_CG_EXH "/memory.peak");
	kills = goro_keyed(GORO_CG_EXH "/memory.events", "oom_kill");
	TH_LOG("%d attempts in %llu ms: %d instances, %d ENOMEM, %d EMFILE, %d OOM-killed, %d other (%d)",
	       tries, (goro_now_ns() - t0) / 1000000, r.ok, r.nomem, r.emfile, r.killed, r.other,
	       r.other_err);
	TH_LOG("MemAvailable %ld -> %ld kB (lowest), slab+vmalloc %+ld kB, cgroup %ld kB (peak %ld kB), oom_kill %ld, instances %ld",
	       avail0, low, kmem, cur / 1024, peak / 1024, kills, goro_stat("instances"));
	EXPECT_EQ(0, r.other);
	/* the memcg held, not the instance count: some got in, most not */
	EXPECT_LT(0, r.ok);
	EXPECT_LT(r.ok, tries / 2);
	EXPECT_EQ(r.ok, goro_stat("instances"));
	/* a task the OOM killer chose may charge past the limit as it dies */
	if (peak >= 0)
		EXPECT_LE(peak, GORO_EXH_MAX + (1l << 20));
	EXPECT_LT((avail0 - low) * 1024, GORO_EXH_MAX + GORO_EXH_SLACK);
	/* what the live instances hold is in the cgroup's charge */
	EXPECT_LE(kmem * 1024, cur + GORO_EXH_UNCHARGED);
	while (n)
		close(fds[--n]);
	EXPECT_EQ(0, goro_stat_wait("instances", 0, 2000));
	close(sk[0]);
	close(sk[1]);
	snprintf(v, sizeof(v), "%ld", old);
	EXPECT_EQ(0, goro_param_write("max_instances_per_user", v));
	snprintf(v, sizeof(v), "%ld", dump);
	if (dump >= 0)
		goro_write_file("/proc/sys/vm/oom_dump_tasks", v);
	rmdir(GORO_CG_EXH);
}

#define GORO_CG_SOAK	GORO_CG_ROOT "/goro-soak"
#define GORO_SOAK_BIN	"/bin/goro_soak"
#define GORO_SOAK_FREEZES 10

/*
 * The soak (a libgoro workload of spawns, channels, blocking reads,
 * timers and preemption on the kmod backend) runs in a cgroup that is
 * frozen and thawed ten times: each freeze completes within 1 s, and the
 * soak still ends with every item done exactly once.
 */
TEST(cgroup_freeze_during_soak)
{
	__u64 t0, lat, worst = 0;
	int fd, st, i, ret;
	pid_t kid;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	if (access(GORO_SOAK_BIN, X_OK))
		SKIP(return, "%s: %s", GORO_SOAK_BIN, strerror(errno));
	ret = goro_cg_make("goro-soak", "");
	if (ret)
		SKIP(return, "cgroup %s: %s", GORO_CG_SOAK, strerror(-ret));
	kid = fork();
	ASSERT_LE(0, kid);
	if (!kid) {
		int null = open("/dev/null", O_WRONLY);

		/* its totals are not TAP */
		if (null < 0 || dup2(null, 1) < 0 ||
		    goro_write_file(GORO_CG_SOAK "/cgroup.procs", "0"))
			_exit(20);
		execl(GORO_SOAK_BIN, GORO_SOAK_BIN, "8", (char *)NULL);
		_exit(21);
	}
	goro_sleep_ms(500);
	for (i = 0; i < GORO_SOAK_FREEZES; i++) {
		t0 = goro_now_ns();
		ASSERT_EQ(0, goro_write_file(GORO_CG_SOAK "/cgroup.freeze", "1"));
		while (!goro_cg_frozen(GORO_CG_SOAK, 1) &&
		       goro_now_ns() - t0 < 5000000000ull)
			goro_sleep_ms(1);
		lat = goro_now_ns() - t0;
		worst = lat > worst ? lat : worst;
		EXPECT_TRUE(goro_cg_frozen(GORO_CG_SOAK, 1))
			TH_LOG("freeze %d: not frozen after 5 s", i);
		goro_sleep_ms(50);
		ASSERT_EQ(0, goro_write_file(GORO_CG_SOAK "/cgroup.freeze", "0"));
		goro_sleep_ms(200 + 37 * i);
	}
	TH_LOG("%d freezes, the slowest took %llu us", GORO_SOAK_FREEZES,
	       worst / 1000);
	EXPECT_GT(1000000000ull, worst);
	ASSERT_EQ(kid, waitpid(kid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
		TH_LOG("soak: status %#x", st);
	rmdir(GORO_CG_SOAK);
}

TEST_HARNESS_MAIN
