/* SPDX-License-Identifier: MIT */
/*
 * goro: how many Ps (Go's GOMAXPROCS). The Ps themselves, created as the
 * number grows and never freed (a P at or above nprocs is only retired),
 * and where the number comes from:
 *  - fixed: GORO_PROCS or GOMAXPROCS at start-up, or goro_setprocs;
 *  - else the machine's, as Go 1.25 has it: the CPUs of the process's
 *    affinity mask (its main thread's, which sched_setaffinity(pid) and
 *    taskset -p set), capped by the cgroup v2 CPU quota of the process's
 *    cgroup and its ancestors (cpu.max: ceil(quota / period), "max" = no
 *    limit), read at start-up and again by sysmon every second
 *    (goro__procs_follow), which moves nprocs by goro_setprocs's path
 *    when they change.
 * The cgroup v2 hierarchy is found once, at start-up, in
 * /proc/self/mountinfo (GORO_CGROUP_ROOT replaces it, for tests); the
 * process's cgroup is read from /proc/self/cgroup at every look, since a
 * process may be moved. The reads are a few small files a second, made
 * by sysmon, which holds no P.
 *
 * Called by init.c (goro__procs_start) and sysmon.c (goro__procs_follow);
 * calls down into the backend (p_create, set_nprocs) and up into the
 * scheduler only to wake an M for each new P (goro__wakep). Changes of
 * nprocs are serialised by goro__sched.setprocs_lock; P creation is under
 * goro__sched.lock.
 */
#include "internal.h"
#include "backend.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#ifdef GORO_ASAN
#include <sanitizer/lsan_interface.h>
#endif

/* the cgroup v2 mount: where, and which cgroup is its root; set at start */
static char cg_mount[PATH_MAX];
static char cg_mroot[PATH_MAX];
static bool cg_have;

/*
 * goro__sched.lock held: make Ps 0..n-1 exist. They come from mmap, not
 * libc's allocator, whose lock may be held by an M waiting in the kernel
 * for a P.
 */
static int grow_procs(int n)
{
	while (goro__sched.nallp < n) {
		struct goro_pp *pp = mmap(NULL, sizeof(*pp),
					  PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int id = goro__sched.nallp;

		if (pp == MAP_FAILED)
			return -ENOMEM;
#ifdef GORO_ASAN
		/* its timer heap is malloc'd: LSan must scan it */
		__lsan_register_root_region(pp, sizeof(*pp));
#endif
		pp->kp = goro__sched.be->p_create(id);
		if (!pp->kp) {
#ifdef GORO_ASAN
			__lsan_unregister_root_region(pp, sizeof(*pp));
#endif
			munmap(pp, sizeof(*pp));
			return -ENOMEM;
		}
		pp->id = id;
		pp->retired = 1;	/* setprocs brings it in */
		pp->fastrand = fastrand_seed((uint32_t)id ^ 0x80000000u);
		pp->nexttimer = INT64_MAX;
		goro__sched.allp[id] = pp;
		st_rel(&goro__sched.nallp, id + 1);
	}
	return 0;
}

/* setprocs_lock held: nprocs becomes n. The previous value, or -ENOMEM. */
static int setprocs_locked(int n)
{
	int old, err;

	goro__lock(&goro__sched.lock);
	err = grow_procs(n);
	goro__unlock(&goro__sched.lock);
	if (err)
		return err;
	old = ld_rlx(&goro__sched.nprocs);
	goro__sched.be->set_nprocs(n);
	st_sc(&goro__sched.nprocs, n);
	return old;
}

/* ---- the machine: affinity and cgroup v2 quota ------------------------- */

/* path's first size - 1 bytes, NUL-terminated: their length, or -1 */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	ssize_t n, len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((size_t)len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = 0;
	return len;
}

/* CPUs in the process's affinity mask (its main thread's) */
static int affinity_cpus(void)
{
	cpu_set_t set;
	cpu_set_t *big;
	int n = 0;
	long online;

	/* the main thread's; the caller's once it is gone (pthread_exit) */
	if (sched_getaffinity(getpid(), sizeof(set), &set) == 0 ||
	    sched_getaffinity(0, sizeof(set), &set) == 0)
		return CPU_COUNT(&set);
	/* more CPUs than a cpu_set_t holds */
	big = CPU_ALLOC(65536);
	if (big && sched_getaffinity(getpid(), CPU_ALLOC_SIZE(65536), big) == 0)
		n = CPU_COUNT_S(CPU_ALLOC_SIZE(65536), big);
	CPU_FREE(big);
	if (n > 0)
		return n;
	online = sysconf(_SC_NPROCESSORS_ONLN);
	return online > 0 ? (int)(online < INT_MAX ? online : INT_MAX) : 1;
}

/* mountinfo's octal escapes (\040 for a space), in place */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 |
				      (s[3] - '0'));
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = 0;
}

/* the cgroup2 line of /proc/self/mountinfo: its mount point and root */
static void find_cgroup2(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;

	if (!f)
		return;
	while (getline(&line, &cap, f) > 0) {
		char *field[5], *sep, *save = NULL, *p = line;
		int i;

		sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		*sep = 0;
		for (i = 0; i < 5; i++, p = NULL) {
			field[i] = strtok_r(p, " ", &save);
			if (!field[i])
				break;
		}
		if (i < 5)
			continue;
		unescape(field[3]);
		unescape(field[4]);
		if (strlen(field[3]) >= sizeof(cg_mroot) ||
		    strlen(field[4]) >= sizeof(cg_mount))
			continue;
		strcpy(cg_mroot, field[3]);
		strcpy(cg_mount, field[4]);
		cg_have = true;
		break;
	}
	free(line);
	fclose(f);
}

/*
 * One cpu.max ("max PERIOD" or "QUOTA PERIOD"): the CPUs it allows,
 * rounded up, or 0 for no limit (or no file, or one we cannot read).
 */
static int cpu_max(const char *path, char *text, size_t size)
{
	long long quota, period;
	char *end;

	if (read_small(path, text, size) <= 0)
		return 0;
	text[strcspn(text, "\n")] = 0;
	if (!strncmp(text, "max", 3))
		return 0;
	quota = strtoll(text, &end, 10);
	if (end == text || *end != ' ' || quota <= 0)
		return 0;
	period = strtoll(end + 1, &end, 10);
	if (period <= 0 || *end)
		return 0;
	quota = (quota + period - 1) / period;
	return quota < INT_MAX ? (int)quota : INT_MAX;
}

/*
 * The process's cgroup v2 CPU limit: the smallest over its cgroup and
 * every ancestor up to the mount's root, 0 for none. at says where it
 * was found.
 */
static int cgroup_cpus(char *at, size_t size)
{
	char buf[PATH_MAX], dir[PATH_MAX + 16], file[PATH_MAX + 32];
	char text[64], *path = NULL, *rel, *line;
	size_t mlen, rlen;
	int best = 0;

	*at = 0;
	if (!cg_have || read_small("/proc/self/cgroup", buf, sizeof(buf)) <= 0)
		return 0;
	/* the v2 line, "0::PATH" */
	for (line = buf; line && !path; line = strchr(line, '\n')) {
		if (*line == '\n')
			line++;
		if (!strncmp(line, "0::", 3))
			path = line + 3;
	}
	if (!path)
		return 0;
	path[strcspn(path, "\n")] = 0;
	/* the path is from the hierarchy's root; the mount shows cg_mroot */
	rlen = strlen(cg_mroot);
	rel = path;
	if (strcmp(cg_mroot, "/")) {
		if (strncmp(path, cg_mroot, rlen) ||
		    (path[rlen] && path[rlen] != '/'))
			return 0;	/* not below the mount */
		rel = path + rlen;
	}
	mlen = strlen(cg_mount);
	if (snprintf(dir, sizeof(dir), "%s%s", cg_mount, rel) >=
	    (int)sizeof(dir))
		return 0;
	for (;;) {
		size_t len = strlen(dir);
		char *slash;
		int n;

		while (len > mlen && dir[len - 1] == '/')
			dir[--len] = 0;
		snprintf(file, sizeof(file), "%s/cpu.max", dir);
		n = cpu_max(file, text, sizeof(text));
		if (n && (!best || n < best)) {
			best = n;
			snprintf(at, size, "%s %s", file, text);
		}
		if (len <= mlen)
			break;
		slash = strrchr(dir, '/');
		if (!slash || (size_t)(slash - dir) < mlen)
			break;
		*slash = 0;
	}
	return best;
}

/* The machine's number of Ps, and why (for GORO_DEBUG). */
static int machine_procs(char *why, size_t size)
{
	char at[PATH_MAX + 160];
	int cpus = affinity_cpus(), lim = cgroup_cpus(at, sizeof(at));
	int n = cpus;

	if (lim && lim < n)
		n = lim;
	if (n > GORO_MAX_PROCS)
		n = GORO_MAX_PROCS;
	snprintf(why, size, "machine: %d CPUs in the affinity mask, %s%s",
		 cpus, lim ? "cgroup " : "no cgroup CPU limit", lim ? at : "");
	return n;
}

/* ---- start-up, sysmon, the API ----------------------------------------- */

int goro__procs_start(int n, const char *from, const char *cgroot,
		      char *why, size_t size)
{
	int err;

	if (cgroot) {
		snprintf(cg_mount, sizeof(cg_mount), "%s", cgroot);
		strcpy(cg_mroot, "/");
		cg_have = true;
	} else {
		find_cgroup2();
	}
	if (n > 0) {
		goro__sched.procs_fixed = 1;
		snprintf(why, size, "%s=%d; fixed", from, n);
	} else {
		char m[PATH_MAX + 256];

		n = machine_procs(m, sizeof(m));
		snprintf(why, size, "%s; re-read every second", m);
	}
	goro__lock(&goro__sched.setprocs_lock);
	err = setprocs_locked(n);
	goro__unlock(&goro__sched.setprocs_lock);
	return err < 0 ? err : 0;
}

void goro__procs_follow(void)
{
	char why[PATH_MAX + 256];
	int n, old = -1, i;

	if (ld_rlx(&goro__sched.procs_fixed))
		return;
	n = machine_procs(why, sizeof(why));
	if (n == ld_rlx(&goro__sched.nprocs))
		return;
	goro__lock(&goro__sched.setprocs_lock);
	if (!ld_rlx(&goro__sched.procs_fixed))
		old = setprocs_locked(n);
	goro__unlock(&goro__sched.setprocs_lock);
	if (old < 0)
		return;
	for (i = old; i < n; i++)
		goro__wakep();
	if (goro__sched.debug)
		fprintf(stderr, "goro: procs %d -> %d (%s)\n", old, n, why);
}

int goro_setprocs(int n)
{
	int old, i;

	if (n > GORO_MAX_PROCS)
		return -EINVAL;
	if (ensure_init())
		return -EAGAIN;
	if (n <= 0)
		return ld_rlx(&goro__sched.nprocs);
	goro__lock(&goro__sched.setprocs_lock);
	old = setprocs_locked(n);
	if (old >= 0)
		st_rlx(&goro__sched.procs_fixed, 1);
	goro__unlock(&goro__sched.setprocs_lock);
	if (old < 0)
		return old;
	for (i = old; i < n; i++)
		goro__wakep();
	return old;
}

int goro_numprocs(void)
{
	if (ensure_init())
		return 1;
	return ld_rlx(&goro__sched.nprocs);
}
