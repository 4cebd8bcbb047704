/* SPDX-License-Identifier: MIT */
/*
 * libgoro: the number of Ps follows the machine, as in Go 1.25: it starts
 * at the CPUs of the affinity mask capped by the cgroup v2 quota
 * (cpu.max), and moves when either changes while the program runs,
 * unless GORO_PROCS, GOMAXPROCS or goro_setprocs fixed it. The cgroup
 * hierarchy is a fake one in a temporary directory (GORO_CGROUP_ROOT),
 * whose cpu.max the tests write.
 */
#include <goro.h>
#include <ftw.h>
#include <sched.h>

#include "kselftest_harness.h"
#include "util.h"

#define MS 1000000LL

static int affinity_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(getpid(), sizeof(set), &set))
		return 1;
	return CPU_COUNT(&set);
}

static int expected(int quota_cpus)
{
	int n = affinity_cpus();

	if (n > GORO_MAX_PROCS)
		n = GORO_MAX_PROCS;
	return quota_cpus && quota_cpus < n ? quota_cpus : n;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Poll goro_numprocs() for up to secs seconds; true when it is want. */
static bool procs_become(int want, int secs)
{
	long long end = now_ns() + secs * 1000000000LL;

	while (goro_numprocs() != want) {
		if (now_ns() > end)
			return false;
		goro_sleep(20 * MS);
	}
	return true;
}

/* ---- scenarios (children started with the fake hierarchy) ------------- */

static int start(void)
{
	return goro_numprocs();
}

/* GORO_TEST_CPUMAX: the fake cpu.max of this process's cgroup */
static int follow_quota(void)
{
	const char *f = getenv("GORO_TEST_CPUMAX");
	int n = affinity_cpus();

	if (!f || goro_numprocs() != 1) {
		printf("start: %d Ps, want 1\n", goro_numprocs());
		return 10;
	}
	write_file(f, "max 100000\n");
	if (!procs_become(expected(0), 5)) {
		printf("no limit: %d Ps, want %d\n", goro_numprocs(), n);
		return 11;
	}
	write_file(f, "50000 100000\n");	/* half a CPU: 1 P */
	if (!procs_become(1, 5)) {
		printf("0.5 CPU: %d Ps, want 1\n", goro_numprocs());
		return 12;
	}
	write_file(f, "150000 100000\n");	/* 1.5 CPUs: 2 Ps */
	if (!procs_become(expected(2), 5)) {
		printf("1.5 CPUs: %d Ps, want 2\n", goro_numprocs());
		return 13;
	}
	/* goro_setprocs fixes the number: the quota no longer moves it */
	goro_setprocs(2);
	write_file(f, "100000 100000\n");
	goro_sleep(2500 * MS);
	if (goro_numprocs() != 2) {
		printf("fixed: %d Ps, want 2\n", goro_numprocs());
		return 14;
	}
	printf("followed\n");
	return 0;
}

/* GORO_PROCS=2 and a quota of 1 CPU that then goes: 2 all along */
static int fixed_by_env(void)
{
	const char *f = getenv("GORO_TEST_CPUMAX");

	if (!f || goro_numprocs() != 2)
		return 10;
	write_file(f, "max 100000\n");
	goro_sleep(2500 * MS);
	if (goro_numprocs() != 2)
		return 11;
	printf("stayed\n");
	return 0;
}

/* the process's affinity to one CPU and back (2 CPUs or more) */
static int follow_affinity(void)
{
	cpu_set_t all, one;
	int n = expected(0), cpu;

	if (goro_numprocs() != n) {
		printf("start: %d Ps, want %d\n", goro_numprocs(), n);
		return 10;
	}
	sched_getaffinity(getpid(), sizeof(all), &all);
	for (cpu = 0; !CPU_ISSET(cpu, &all); cpu++)
		;
	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	if (sched_setaffinity(getpid(), sizeof(one), &one))
		return 9;
	if (!procs_become(1, 5)) {
		printf("1 CPU: %d Ps, want 1\n", goro_numprocs());
		return 11;
	}
	sched_setaffinity(getpid(), sizeof(all), &all);
	if (!procs_become(n, 5)) {
		printf("back: %d Ps, want %d\n", goro_numprocs(), n);
		return 12;
	}
	printf("followed\n");
	return 0;
}

static const struct scenario scenarios[] = {
	{"start", start},
	{"follow_quota", follow_quota},
	{"fixed_by_env", fixed_by_env},
	{"follow_affinity", follow_affinity},
};

/* ---- the fake hierarchy ------------------------------------------------ */

struct fake {
	char root[64];		/* the temporary directory */
	char cpumax[4352];	/* cpu.max of this process's cgroup in it */
	char env[5120];		/* the environment of the children */
};

/* root/<the cgroup of /proc/self/cgroup>/cpu.max, holding text */
static int fake_make(struct fake *f, const char *text, const char *procs)
{
	char buf[4096], path[4096] = "", *p, *q;
	int fd = open("/proc/self/cgroup", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	p = strstr(buf, "0::");
	if (p && (p == buf || p[-1] == '\n')) {
		p += 3;
		p[strcspn(p, "\n")] = 0;
		snprintf(path, sizeof(path), "%s", p);
	}
	strcpy(f->root, "/tmp/goro-cgroup-XXXXXX");
	if (!mkdtemp(f->root))
		return -1;
	/* mkdir -p root/path */
	snprintf(f->cpumax, sizeof(f->cpumax), "%s%s", f->root, path);
	for (q = f->cpumax + strlen(f->root) + 1; (q = strchr(q, '/')); q++) {
		*q = 0;
		mkdir(f->cpumax, 0755);
		*q = '/';
	}
	mkdir(f->cpumax, 0755);
	strcat(f->cpumax, "/cpu.max");
	snprintf(f->env, sizeof(f->env),
		 "GORO_CGROUP_ROOT=%s\nGORO_TEST_CPUMAX=%s\n%s", f->root,
		 f->cpumax, procs ? procs : "GORO_PROCS=\nGOMAXPROCS=");
	return write_file(f->cpumax, text);
}

static int rm_one(const char *path, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	return remove(path);
}

static void fake_remove(struct fake *f)
{
	nftw(f->root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* run scenario name under the fake hierarchy with cpu.max text */
static int run_fake(struct __test_metadata *_metadata, const char *name,
		    const char *text, const char *procs, char *out,
		    size_t size)
{
	struct fake f;
	int st;

	if (fake_make(&f, text, procs)) {
		fake_remove(&f);
		return -1;
	}
	st = run_scenario(name, f.env, out, size, 30);
	fake_remove(&f);
	EXPECT_TRUE(WIFEXITED(st)) TH_LOG("%s: %s", name, out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

TEST(procs_start_at_the_cgroup_quota)
{
	char out[4096];

	ASSERT_EQ(1, run_fake(_metadata, "start", "100000 100000\n", NULL, out,
			      sizeof(out))) TH_LOG("%s", out);
	ASSERT_EQ(1, run_fake(_metadata, "start", "1000 100000\n", NULL, out,
			      sizeof(out))) TH_LOG("%s", out);
	ASSERT_EQ(expected(2), run_fake(_metadata, "start", "150000 100000\n",
					NULL, out, sizeof(out)))
		TH_LOG("%s", out);
	ASSERT_EQ(expected(0), run_fake(_metadata, "start", "max 100000\n",
					NULL, out, sizeof(out)))
		TH_LOG("%s", out);
	/* a file that makes no sense is no limit */
	ASSERT_EQ(expected(0), run_fake(_metadata, "start", "garbage\n", NULL,
					out, sizeof(out)))
		TH_LOG("%s", out);
}

TEST(procs_follow_a_live_quota_change)
{
	char out[4096];

	if (affinity_cpus() < 2)
		SKIP(return, "needs 2 CPUs");
	ASSERT_EQ(0, run_fake(_metadata, "follow_quota", "100000 100000\n",
			      NULL, out, sizeof(out))) TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, "followed"));
}

TEST(procs_fixed_by_env_do_not_follow)
{
	char out[4096];

	ASSERT_EQ(0, run_fake(_metadata, "fixed_by_env", "100000 100000\n",
			      "GORO_PROCS=2", out, sizeof(out)))
		TH_LOG("%s", out);
	ASSERT_EQ(0, run_fake(_metadata, "fixed_by_env", "100000 100000\n",
			      "GORO_PROCS=\nGOMAXPROCS=2", out, sizeof(out)))
		TH_LOG("%s", out);
}

TEST(procs_follow_the_affinity)
{
	char out[4096];

	if (affinity_cpus() < 2)
		SKIP(return, "needs 2 CPUs");
	/* no quota in the fake hierarchy: only the affinity counts */
	ASSERT_EQ(0, run_fake(_metadata, "follow_affinity", "max 100000\n",
			      NULL, out, sizeof(out))) TH_LOG("%s", out);
}

SCENARIO_MAIN(scenarios)
