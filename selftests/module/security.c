// SPDX-License-Identifier: GPL-2.0
/*
 * What one local user can make goro.ko do (docs/security.md): module
 * parameters refused out of range, and the limits and checks that keep
 * an unprivileged process to its own instance, memory and CPU.
 */
#include "goro_test.h"

#include <dirent.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/landlock.h>
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/mount.h>
#include <sys/stat.h>

GORO_FIXTURE_ATTACHED(sec_attached, 2, 8, 0);

/* A writable parameter refuses what is out of its range, keeps its value. */
TEST(param_out_of_range_refused)
{
	static const char *const bad[] = { "0", "65", "4294967295", "-1",
					   "x" };
	char v[24];
	long old;
	size_t i;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	old = goro_param_read("ksteal_tries");
	ASSERT_LT(0, old);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EINVAL, goro_param_write("ksteal_tries", bad[i]))
			TH_LOG("ksteal_tries=%s", bad[i]);
		EXPECT_EQ(old, goro_param_read("ksteal_tries"));
	}
	/* in range: taken, then put back */
	EXPECT_EQ(0, goro_param_write("ksteal_tries", "64"));
	EXPECT_EQ(64, goro_param_read("ksteal_tries"));
	EXPECT_EQ(0, goro_param_write("ksteal_tries", "1"));
	EXPECT_EQ(1, goro_param_read("ksteal_tries"));
	snprintf(v, sizeof(v), "%ld", old);
	EXPECT_EQ(0, goro_param_write("ksteal_tries", v));
	EXPECT_EQ(old, goro_param_read("ksteal_tries"));
	/* a read-only one cannot be written at all */
	EXPECT_NE(0, goro_param_write("max_procs", "0"));
	EXPECT_LT(0, goro_param_read("max_procs"));
}

/*
 * The P index of ATTACH_M is the one index userspace gives: every value
 * past the table is refused (and clamped under speculation, which a test
 * cannot see); the last P is taken.
 */
TEST(attach_p_index_bounds)
{
	static const __u32 bad[] = { 3, 4, 0x7fffffff, 0x80000000,
				     0xfffffffe };
	struct goro_attach a = { .flags = GORO_ATTACH_P };
	struct goro_ctx c;
	size_t i;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 3, 8));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		a.p = bad[i];
		EXPECT_EQ(-EINVAL, goro_ioctl(fd, GORO_IOC_ATTACH_M, &a))
			TH_LOG("p=%#x", bad[i]);
	}
	a.p = 2;
	ASSERT_EQ(0, goro_ioctl(fd, GORO_IOC_ATTACH_M, &a));
	EXPECT_EQ(2U, goro_m_of(&c, a.m)->p);
	EXPECT_EQ(0, goro_ioctl(fd, GORO_IOC_DETACH_M, NULL));
	munmap(c.map, c.s.map_size);
	close(fd);
}

/*
 * The region is never inherited: MADV_DOFORK (which would clear
 * VM_DONTCOPY) is refused, a forked child has nothing mapped there, and
 * once it closed its copy of the fd the parent's close ends the instance.
 */
TEST(madv_dofork_refused)
{
	struct goro_ctx c;
	int fd, st, pfd[2];
	pid_t kid;
	char x;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_stat_wait("instances", 0, 1000));
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 2, 8));
	EXPECT_EQ(-1, madvise(c.map, c.s.map_size, MADV_DOFORK));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, pipe(pfd));
	kid = fork();
	ASSERT_LE(0, kid);
	if (!kid) {
		close(fd);
		close(pfd[1]);
		if (madvise(c.map, c.s.map_size, MADV_NORMAL) != -1 ||
		    errno != ENOMEM)
			_exit(1);
		/* live until the parent is done */
		if (read(pfd[0], &x, 1) < 0)
			_exit(2);
		_exit(0);
	}
	close(pfd[0]);
	munmap(c.map, c.s.map_size);
	close(fd);
	EXPECT_EQ(0, goro_stat_wait("instances", 0, 1000));
	close(pfd[1]);
	ASSERT_EQ(kid, waitpid(kid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
		TH_LOG("child: status %#x", st);
}

/*
 * SETUP on fd from a forked child that exits at once, so that each fd
 * holds the instance of a process that is gone: 0 or the errno.
 */
static int goro_setup_in_child(int fd)
{
	pid_t kid = fork();
	int st;

	if (kid < 0)
		return -1;
	if (!kid) {
		struct goro_setup s = { .nprocs = 2, .max_ms = 8 };

		_exit(ioctl(fd, GORO_IOC_SETUP, &s) ? errno : 0);
	}
	if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* Keep uid 0 and drop every capability, as in a container: 0 or -1. */
static int goro_drop_caps(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { { 0 } };

	return syscall(SYS_capset, &h, d) ? -1 : 0;
}

#define GORO_USER_LIMIT	3
#define GORO_USER_FDS	(GORO_USER_LIMIT + 3)

/*
 * One unprivileged user opens more fds than its limit and SETUPs each
 * from a child that exits (no process keeps more than one instance, the
 * fds keep them all): the limit refuses the rest with EMFILE, another
 * SETUP in a process that has one is EBUSY, and closing every fd leaves
 * nothing. Root without capabilities is limited the same way; root
 * with CAP_SYS_RESOURCE is not.
 */
TEST(instances_per_user_limited)
{
	int fds[GORO_USER_FDS], fd, st, i;
	long old;
	char v[24];
	pid_t kid;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	ASSERT_EQ(0, goro_stat_wait("instances", 0, 1000));
	old = goro_param_read("max_instances_per_user");
	ASSERT_LT(0, old) TH_LOG("no max_instances_per_user parameter");
	EXPECT_EQ(-EINVAL, goro_param_write("max_instances_per_user", "0"));
	ASSERT_EQ(0, goro_param_write("max_instances_per_user", "3"));

	kid = fork();
	ASSERT_LE(0, kid);
	if (!kid) {
		int ok = 0, ret;
		struct goro_setup s = { .nprocs = 2, .max_ms = 8 };

		if (goro_drop_to_nobody())
			_exit(10);
		for (i = 0; i < GORO_USER_FDS; i++) {
			fds[i] = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);
			if (fds[i] < 0)
				_exit(11);
			ret = goro_setup_in_child(fds[i]);
			if (!ret)
				ok++;
			else if (ret != EMFILE || i < GORO_USER_LIMIT)
				_exit(12);
		}
		if (ok != GORO_USER_LIMIT ||
		    goro_stat("instances") != GORO_USER_LIMIT)
			_exit(13);
		/* here too: over the limit, and not twice in one process */
		if (ioctl(fds[GORO_USER_FDS - 1], GORO_IOC_SETUP, &s) != -1 ||
		    errno != EMFILE)
			_exit(14);
		close(fds[0]);
		if (ioctl(fds[GORO_USER_FDS - 1], GORO_IOC_SETUP, &s))
			_exit(15);
		if (ioctl(fds[GORO_USER_FDS - 2], GORO_IOC_SETUP, &s) != -1 ||
		    errno != EBUSY)
			_exit(16);
		for (i = 1; i < GORO_USER_FDS; i++)
			close(fds[i]);
		_exit(0);
	}
	ASSERT_EQ(kid, waitpid(kid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
		TH_LOG("unprivileged child: status %#x", st);
	EXPECT_EQ(0, goro_stat_wait("instances", 0, 1000));

	/* root without CAP_SYS_RESOURCE, as in a container, is not exempt */
	kid = fork();
	ASSERT_LE(0, kid);
	if (!kid) {
		int ok = 0;

		if (goro_drop_caps())
			_exit(10);
		for (i = 0; i < GORO_USER_FDS; i++) {
			fds[i] = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);
			if (fds[i] < 0)
				_exit(11);
			if (!goro_setup_in_child(fds[i]))
				ok++;
		}
		_exit(ok == GORO_USER_LIMIT ? 0 : 20 + ok);
	}
	ASSERT_EQ(kid, waitpid(kid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
		TH_LOG("root without capabilities: status %#x", st);
	EXPECT_EQ(0, goro_stat_wait("instances", 0, 1000));

	/* root is exempt: past the limit from children too */
	for (i = 0; i < GORO_USER_FDS; i++) {
		fds[i] = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fds[i]);
		EXPECT_EQ(0, goro_setup_in_child(fds[i]));
	}
	EXPECT_EQ(GORO_USER_FDS, goro_stat("instances"));
	for (i = 0; i < GORO_USER_FDS; i++)
		close(fds[i]);
	EXPECT_EQ(0, goro_stat_wait("instances", 0, 1000));
	snprintf(v, sizeof(v), "%ld", old);
	EXPECT_EQ(0, goro_param_write("max_instances_per_user", v));
}

/* Wait up to ms for path to exist (want 1) or not (want 0): 0 or -1. */
static int goro_wait_path(const char *path, int want, unsigned int ms)
{
	for (;;) {
		if ((access(path, F_OK) == 0) == want)
			return 0;
		if (!ms--)
			return -1;
		goro_sleep_ms(1);
	}
}

/*
 * A process does SETUP on an inherited fd and exits; the parent keeps
 * the fd, so the instance lives on, but its process is gone: the
 * /proc/goro entry named after the dead pid goes within 100 ms (the pid
 * may be reused), and the instance goes with the last fd.
 */
TEST(dead_instance_leaves_proc)
{
	char path[64];
	int fd, st, pfd[2];
	pid_t kid;
	char x;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_stat_wait("instances", 0, 1000));
	ASSERT_EQ(0, pipe(pfd));
	kid = fork();
	ASSERT_LE(0, kid);
	if (!kid) {
		struct goro_setup s = { .nprocs = 2, .max_ms = 8 };

		close(pfd[1]);
		if (ioctl(fd, GORO_IOC_SETUP, &s))
			_exit(1);
		if (read(pfd[0], &x, 1) < 0)
			_exit(2);
		_exit(0);
	}
	close(pfd[0]);
	snprintf(path, sizeof(path), "/proc/goro/%d/sched", kid);
	ASSERT_EQ(0, goro_wait_path(path, 1, 1000));
	close(pfd[1]);
	ASSERT_EQ(kid, waitpid(kid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	EXPECT_EQ(0, goro_wait_path(path, 0, 100))
		TH_LOG("%s still there 100 ms after its process exited", path);
	snprintf(path, sizeof(path), "/proc/goro/%d", kid);
	EXPECT_NE(0, access(path, F_OK));
	EXPECT_EQ(1, goro_stat("instances"));
	close(fd);
	EXPECT_EQ(0, goro_stat_wait("instances", 0, 1000));
}

/* Does text hold line (which ends in a newline) as a whole line? */
static bool goro_has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p;

	for (p = text; *p; p++) {
		if (!strncmp(p, line, n))
			return true;
		p = strchr(p, '\n');
		if (!p)
			break;
	}
	return false;
}

/*
 * Put the calling thread in a Landlock domain of its own: it may then
 * ptrace (so read /proc/PID/maps of) no process outside it. 0, 1 if the
 * kernel has no Landlock (or it is disabled), -1 on error.
 */
static int goro_landlock_self(void)
{
	struct landlock_ruleset_attr ra = {
		.handled_access_fs = LANDLOCK_ACCESS_FS_MAKE_FIFO,
	};
	int rs = syscall(__NR_landlock_create_ruleset, &ra, sizeof(ra), 0);
	int ret = 0;

	if (rs < 0)	/* not built in, or not enabled */
		return 1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(__NR_landlock_restrict_self, rs, 0))
		ret = -1;
	close(rs);
	return ret;
}

/* Read a whole small file into buf (NUL-terminated): its length or -1. */
static int goro_read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, len = 0;

	if (fd < 0)
		return -1;
	while ((n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	return n < 0 ? -1 : (int)len;
}

/* Wait until the task of /proc/.../stat path is a zombie: 0, or -1. */
static int goro_wait_leader_zombie(const char *path, unsigned int ms)
{
	char buf[256], *rp;

	for (; ms; ms--) {
		if (goro_read_file(path, buf, sizeof(buf)) <= 0)
			return -1;
		rp = strrchr(buf, ')');
		if (rp && rp[1] == ' ' && rp[2] == 'Z')
			return 0;
		usleep(1000);
	}
	return -1;
}

/*
 * open(path) from a child after prep (0: none, 1: nobody, 2: new pid
 * ns, 3: root without capabilities, 4: in a Landlock domain; 105: the
 * kernel has no Landlock).
 */
static int goro_open_in_child(const char *path, int prep)
{
	pid_t kid = fork();
	int st;

	if (kid < 0)
		return -1;
	if (!kid) {
		int fd;

		if (prep == 1 && goro_drop_to_nobody())
			_exit(100);
		if (prep == 3 && goro_drop_caps())
			_exit(104);
		if (prep == 4) {
			int r = goro_landlock_self();

			if (r)
				_exit(r > 0 ? 105 : 106);
		}
		if (prep == 2) {
			pid_t gk;

			if (unshare(CLONE_NEWPID))
				_exit(101);
			gk = fork();
			if (gk < 0)
				_exit(102);
			if (gk) {
				if (waitpid(gk, &st, 0) != gk || !WIFEXITED(st))
					_exit(103);
				_exit(WEXITSTATUS(st));
			}
		}
		fd = open(path, O_RDONLY);
		_exit(fd < 0 ? errno : 0);
	}
	if (waitpid(kid, &st, 0) != kid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/*
 * /proc/goro/<pid>/ files are for those who may ptrace the process: its
 * owner (root here) opens them, another user (65534) gets EACCES, and so
 * do root from a pid namespace where the pid names nothing and root
 * without capabilities (what it could not ptrace).
 */
TEST_F(sec_attached, proc_files_need_ptrace_access)
{
	static const char *const files[] = { "sched", "ps", "ms",
					     "goroutines" };
	char path[64];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "/proc/goro/%d/%s", getpid(),
			 files[i]);
		EXPECT_EQ(0, goro_open_in_child(path, 0)) TH_LOG("%s", path);
		EXPECT_EQ(EACCES, goro_open_in_child(path, 1))
			TH_LOG("%s as uid 65534", path);
		EXPECT_EQ(EACCES, goro_open_in_child(path, 2))
			TH_LOG("%s from another pid namespace", path);
		EXPECT_EQ(EACCES, goro_open_in_child(path, 3))
			TH_LOG("%s as root without capabilities", path);
	}
}

/*
 * The body of proc_goro_lists_what_the_reader_may_read as uid 65534: 0,
 * or which check failed. line_root is the line of pids for root's
 * instance.
 */
static int goro_pids_as_nobody(const char *line_root)
{
	struct goro_setup s = { .nprocs = 1, .max_ms = 8 };
	char buf[4096], line[32];
	int fd;

	if (goro_drop_to_nobody())
		return 1;
	if (opendir("/proc/goro") || errno != EACCES)
		return 2;	/* others may not list the directory (exits) */
	if (goro_read_file("/proc/goro/pids", buf, sizeof(buf)) < 0)
		return 3;
	if (goro_has_line(buf, line_root))
		return 4;	/* root's instance is not ours to read */
	fd = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, GORO_IOC_SETUP, &s))
		return 5;
	snprintf(line, sizeof(line), "%d %d\n", getpid(), getpid());
	if (goro_read_file("/proc/goro/pids", buf, sizeof(buf)) < 0 ||
	    !goro_has_line(buf, line))
		return 6;	/* our own is */
	if (access("/proc/goro/stats", R_OK))
		return 7;	/* names are still looked up */
	return 0;
}

/*
 * /proc/goro is not listable by others; /proc/goro/pids lists, for each
 * reader, the instances whose files it may read: root sees its own
 * instance there, uid 65534 sees its own and not root's.
 */
TEST_F(sec_attached, proc_goro_lists_what_the_reader_may_read)
{
	char buf[4096], line[32];
	pid_t kid;
	int st;

	snprintf(line, sizeof(line), "%d %d\n", getpid(), getpid());
	ASSERT_LE(0, goro_read_file("/proc/goro/pids", buf, sizeof(buf)));
	EXPECT_TRUE(goro_has_line(buf, line)) TH_LOG("pids: %s", buf);
	kid = fork();
	ASSERT_LE(0, kid);
	if (!kid)
		_exit(goro_pids_as_nobody(line));
	ASSERT_EQ(kid, waitpid(kid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
		TH_LOG("as uid 65534: status %#x", st);
}

/*
 * The kernel's own ptrace check decides, LSMs included: a reader in a
 * Landlock domain (same uid, every capability) opens the
 * /proc/goro/<pid>/ files of a process outside its domain exactly when it
 * can open /proc/PID/maps: not on 6.1 and 6.12, where Landlock refuses
 * any ptrace access across domains; 7.x lets a domain read it.
 */
TEST_F(sec_attached, proc_files_ask_the_lsm)
{
	static const char *const files[] = { "sched", "ps", "ms",
					     "goroutines" };
	char path[64];
	size_t i;
	int maps;

	snprintf(path, sizeof(path), "/proc/%d/maps", getpid());
	maps = goro_open_in_child(path, 4);
	if (maps == 105)
		SKIP(return, "the kernel has no Landlock");
	ASSERT_TRUE(maps == 0 || maps == EACCES)
		TH_LOG("%s from a Landlock domain: %d", path, maps);
	if (!maps) {
		printf("# Landlock lets a domain open %s here\n", path);
		fflush(stdout);
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "/proc/goro/%d/%s", getpid(),
			 files[i]);
		EXPECT_EQ(0, goro_open_in_child(path, 0)) TH_LOG("%s", path);
		EXPECT_EQ(maps, goro_open_in_child(path, 4))
			TH_LOG("%s from a Landlock domain", path);
	}
}

/* A thread of proc_files_after_the_leader_exited's target: waits on fd. */
static void *goro_wait_fd(void *arg)
{
	char ch;

	while (read((int)(intptr_t)arg, &ch, 1) > 0)
		;
	_exit(0);
}

/*
 * A process whose main thread has exited (a leader without an mm) is
 * checked as any other: root, its owner, reads its files; uid 65534 not.
 */
TEST(proc_files_after_the_leader_exited)
{
	int fd, st, ready[2], cmd[2];
	char path[64], ch;
	pid_t kid;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(cmd));
	kid = fork();
	ASSERT_LE(0, kid);
	if (!kid) {
		struct goro_setup s = { .nprocs = 1, .max_ms = 8 };
		pthread_t t;

		close(ready[0]);
		close(cmd[1]);
		fd = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);
		if (fd < 0 || ioctl(fd, GORO_IOC_SETUP, &s) ||
		    pthread_create(&t, NULL, goro_wait_fd,
				   (void *)(intptr_t)cmd[0]) ||
		    write(ready[1], "r", 1) != 1)
			_exit(1);
		pthread_exit(NULL);
	}
	close(ready[1]);
	close(cmd[0]);
	ASSERT_EQ(1, read(ready[0], &ch, 1));
	snprintf(path, sizeof(path), "/proc/%d/stat", kid);
	ASSERT_EQ(0, goro_wait_leader_zombie(path, 2000))
		TH_LOG("the leader of %d did not exit", kid);
	snprintf(path, sizeof(path), "/proc/goro/%d/sched", kid);
	EXPECT_EQ(0, goro_open_in_child(path, 0)) TH_LOG("root");
	EXPECT_EQ(EACCES, goro_open_in_child(path, 1)) TH_LOG("uid 65534");
	close(cmd[1]);
	ASSERT_EQ(kid, waitpid(kid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
		TH_LOG("target: status %#x", st);
	close(ready[0]);
	EXPECT_EQ(0, goro_stat_wait("instances", 0, 1000));
}

/*
 * The process of proc_files_of_non_dumpable_process: uid 65534 with an
 * instance; on "n" from cmd it makes itself non-dumpable, on EOF exits.
 */
static int goro_nd_target(int ready, int cmd)
{
	struct goro_setup s = { .nprocs = 1, .max_ms = 8 };
	int fd;
	char ch;

	if (goro_drop_to_nobody() || prctl(PR_SET_DUMPABLE, 1))
		return 1;
	fd = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, GORO_IOC_SETUP, &s))
		return 2;
	if (write(ready, "r", 1) != 1)
		return 3;
	while (read(cmd, &ch, 1) == 1) {
		if (ch == 'n' && prctl(PR_SET_DUMPABLE, 0))
			return 4;
		if (write(ready, "a", 1) != 1)
			return 5;
	}
	return 0;
}

/*
 * A process that made itself non-dumpable (as a setuid program does)
 * hides its /proc/goro/<pid>/ files from its own user, as /proc/PID/wchan
 * is hidden: another process of uid 65534 reads them before, not after;
 * root with CAP_SYS_PTRACE still does.
 */
TEST(proc_files_of_non_dumpable_process)
{
	int fd, st, ready[2], cmd[2];
	char path[64], ch;
	pid_t kid;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(cmd));
	kid = fork();
	ASSERT_LE(0, kid);
	if (!kid) {
		close(ready[0]);
		close(cmd[1]);
		_exit(goro_nd_target(ready[1], cmd[0]));
	}
	close(ready[1]);
	close(cmd[0]);
	ASSERT_EQ(1, read(ready[0], &ch, 1));
	snprintf(path, sizeof(path), "/proc/goro/%d/sched", kid);
	EXPECT_EQ(0, goro_open_in_child(path, 1)) TH_LOG("dumpable");
	ASSERT_EQ(1, write(cmd[1], "n", 1));
	ASSERT_EQ(1, read(ready[0], &ch, 1));
	EXPECT_EQ(EACCES, goro_open_in_child(path, 1)) TH_LOG("non-dumpable");
	EXPECT_EQ(0, goro_open_in_child(path, 0)) TH_LOG("root");
	close(cmd[1]);
	ASSERT_EQ(kid, waitpid(kid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0)
		TH_LOG("target: status %#x", st);
	close(ready[0]);
	EXPECT_EQ(0, goro_stat_wait("instances", 0, 1000));
}

/*
 * The body of pid_namespace_sees_its_own_tids, as pid 1 of a new pid
 * namespace: 0, or which check failed.
 */
static int goro_ns_tids(void)
{
	char path[64], buf[4096], *l;
	struct goro_ctx c;
	unsigned int m, slot, tid;
	pid_t global = 0;
	FILE *f;
	size_t n;
	int fd = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0 || goro_ctx_init(&c, fd, 1, 4) ||
	    goro_attach_m(fd, 1, 0, &m))
		return 10;
	if (goro_m_of(&c, m)->tid != (__u32)goro_gettid())
		return 11;	/* the shared M table */
	/* /proc is the root namespace's: NSpid lists the global pid first */
	f = fopen("/proc/self/status", "r");
	if (!f)
		return 12;
	while (fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "NSpid: %d", &global) == 1)
			break;
	fclose(f);
	if (global <= 1)
		return 13;
	snprintf(path, sizeof(path), "/proc/goro/%d/ms", global);
	f = fopen(path, "r");
	if (!f)
		return 14;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	for (l = strchr(buf, '\n'); l; l = strchr(l, '\n'))
		if (sscanf(++l, "%u %u", &slot, &tid) == 2 && slot == m)
			break;
	if (!l || tid != (unsigned int)goro_gettid())
		return 15;	/* ms */
	if (!goro_read_sched(global, buf, sizeof(buf)))
		return 16;
	snprintf(path, sizeof(path), "M%u: tid=%d ", m, goro_gettid());
	if (!strstr(buf, path))
		return 17;	/* sched */
	snprintf(path, sizeof(path), "%d %d\n", global, getpid());
	if (goro_read_file("/proc/goro/pids", buf, sizeof(buf)) < 0 ||
	    !goro_has_line(buf, path))
		return 18;	/* pids: our directory, named as we are */
	return 0;
}

/*
 * A process in its own pid namespace sees its threads' ids as that
 * namespace names them, in the shared M table and in its /proc/goro
 * files, not the root namespace's; /proc/goro/pids gives it the name of
 * its directory and its own pid there (1).
 */
TEST(pid_namespace_sees_its_own_tids)
{
	pid_t kid;
	int fd, st;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	kid = fork();
	ASSERT_LE(0, kid);
	if (!kid) {
		pid_t gk;

		if (unshare(CLONE_NEWPID))
			_exit(1);
		gk = fork();
		if (gk < 0)
			_exit(2);
		if (!gk)
			_exit(goro_ns_tids());
		if (waitpid(gk, &st, 0) != gk || !WIFEXITED(st))
			_exit(3);
		_exit(WEXITSTATUS(st));
	}
	ASSERT_EQ(kid, waitpid(kid, &st, 0));
	ASSERT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st))
		TH_LOG("check %d failed (11: M table, 15: ms, 17: sched, 18: pids)",
		       WEXITSTATUS(st));
	EXPECT_EQ(0, goro_stat_wait("instances", 0, 1000));
}

TEST_HARNESS_MAIN
