/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the goro.ko selftests. Every test that needs the
 * module skips when /dev/goro is absent, so the binaries also run on a
 * machine without it.
 */
#ifndef GORO_TEST_H
#define GORO_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* kselftest_harness.h is not -Wextra clean (unused fixture arguments). */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"

#include <pthread.h>
#include <grp.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>

#include "uapi/goro.h"

/* The shared run queue protocol, with its userspace primitives. */
#include "uapi/goro_runq.h"

/* Open /dev/goro, or SKIP the calling test when the module is not loaded. */
#define GORO_OPEN_OR_SKIP(fd)                                                \
	do {                                                                 \
		(fd) = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);               \
		if ((fd) < 0 && (errno == ENOENT || errno == ENXIO ||       \
				 errno == ENODEV))                           \
			SKIP(return, "%s: %s (goro.ko not loaded)",          \
			     GORO_DEVICE, strerror(errno));                  \
		ASSERT_LE(0, (fd)) TH_LOG("open %s: %s", GORO_DEVICE,       \
					  strerror(errno));                  \
	} while (0)

/* ioctl(2) that returns -errno instead of -1. */
static inline int goro_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

/* Value of "key N" in /proc/goro/stats, or -1. */
static inline long goro_stat(const char *key)
{
	char k[64];
	long v, ret = -1;
	FILE *f = fopen("/proc/goro/stats", "r");

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", k, &v) == 2) {
		if (!strcmp(k, key)) {
			ret = v;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* An instance: the open file, the setup answer and the mapping. */
struct goro_ctx {
	int fd;
	struct goro_setup s;
	char *map;
	struct goro_shared_hdr *hdr;
};

/* -errno of setup + mmap; 0 on success. */
static inline int goro_ctx_init(struct goro_ctx *c, int fd, unsigned nprocs,
				unsigned max_ms)
{
	int ret;

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->s.nprocs = nprocs;
	c->s.max_ms = max_ms;
	ret = goro_ioctl(fd, GORO_IOC_SETUP, &c->s);
	if (ret)
		return ret;
	c->map = mmap(NULL, c->s.map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      fd, 0);
	if (c->map == MAP_FAILED)
		return -errno;
	c->hdr = (struct goro_shared_hdr *)(c->map + c->s.off.hdr);
	return 0;
}

static inline struct goro_p *goro_p_of(struct goro_ctx *c, unsigned p)
{
	return (struct goro_p *)(c->map + c->s.off.procs +
				 (size_t)p * c->s.off.p_stride);
}

static inline struct goro_m *goro_m_of(struct goro_ctx *c, unsigned m)
{
	return (struct goro_m *)(c->map + c->s.off.ms +
				 (size_t)m * c->s.off.m_stride);
}

static inline int goro_attach_m(int fd, int bind_p, unsigned p, unsigned *m)
{
	struct goro_attach a = { 0 };
	int ret;

	if (bind_p) {
		a.flags = GORO_ATTACH_P;
		a.p = p;
	}
	ret = goro_ioctl(fd, GORO_IOC_ATTACH_M, &a);
	if (!ret && m)
		*m = a.m;
	return ret;
}

/*
 * An instance attached to the calling thread, for TEST_F: open /dev/goro
 * (the test SKIPs without the module), SETUP with nprocs and max_ms, mmap,
 * ATTACH_M of the test's thread, with P p or, when p is GORO_NONE, without
 * a P; closed after the test. GORO_FIXTURE_ATTACHED(name, nprocs, max_ms,
 * p) declares one such fixture; the test sees self->fd, self->c (the
 * instance) and self->m (its M). One fixture per shape rather than one
 * FIXTURE_VARIANT each: the harness runs every test of a fixture once per
 * variant, and each test here wants one shape.
 */
static inline void goro_attached_setup(struct __test_metadata *_metadata,
				       int *fd, struct goro_ctx *c,
				       unsigned int *m, unsigned int nprocs,
				       unsigned int max_ms, unsigned int p)
{
	*fd = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);
	/* a SKIP in FIXTURE_SETUP would still run the test: leave at once */
	if (*fd < 0 && (errno == ENOENT || errno == ENXIO || errno == ENODEV))
		SKIP(longjmp(_metadata->env, 1), "%s: %s (goro.ko not loaded)",
		     GORO_DEVICE, strerror(errno));
	ASSERT_LE(0, *fd) TH_LOG("open %s: %s", GORO_DEVICE, strerror(errno));
	ASSERT_EQ(0, goro_ctx_init(c, *fd, nprocs, max_ms));
	ASSERT_EQ(0, goro_attach_m(*fd, p != GORO_NONE, p, m));
}

/* Runs only after the whole setup succeeded. */
static inline void goro_attached_teardown(int fd, struct goro_ctx *c)
{
	munmap(c->map, c->s.map_size);
	close(fd);
}

#define GORO_FIXTURE_ATTACHED(name, nprocs, max_ms, p)                   \
	FIXTURE(name) {                                                  \
		int fd;                                                  \
		struct goro_ctx c;                                       \
		unsigned int m;                                          \
	};                                                               \
	FIXTURE_SETUP(name)                                              \
	{                                                                \
		goro_attached_setup(_metadata, &self->fd, &self->c,      \
				    &self->m, nprocs, max_ms, p);        \
	}                                                                \
	FIXTURE_TEARDOWN(name)                                           \
	{                                                                \
		goro_attached_teardown(self->fd, &self->c);              \
	}

static inline int goro_park_m(int fd, __u32 flags, struct goro_park *out)
{
	struct goro_park a = { 0 };
	int ret;

	a.flags = flags;
	if (out) {
		a.fd = out->fd;
		a.deadline_ns = out->deadline_ns;
	}
	ret = goro_ioctl(fd, GORO_IOC_PARK, &a);
	if (out)
		*out = a;
	return ret;
}

static inline int goro_wake_m(int fd)
{
	struct goro_wake w = { 0 };
	int ret = goro_ioctl(fd, GORO_IOC_WAKE, &w);

	return ret ? ret : (int)w.nwoken;
}

static inline __u64 goro_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static inline void goro_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Wait up to ms for "key" in /proc/goro/stats to read want. */
static inline long goro_stat_wait(const char *key, long want, unsigned ms)
{
	long v = goro_stat(key);

	while (v != want && ms--) {
		goro_sleep_ms(1);
		v = goro_stat(key);
	}
	return v;
}

/* Wait up to ms for *p == want. */
static inline int goro_wait_u32(volatile __u32 *p, __u32 want, unsigned ms)
{
	while (__atomic_load_n(p, __ATOMIC_ACQUIRE) != want) {
		if (!ms--)
			return -1;
		goro_sleep_ms(1);
	}
	return 0;
}

static inline pid_t goro_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* /proc/goro/<pid>/sched into buf (NUL-terminated), or NULL. */
static inline char *goro_read_sched(pid_t pid, char *buf, size_t len)
{
	char path[64];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/goro/%d/sched", pid);
	f = fopen(path, "r");
	if (!f)
		return NULL;
	n = fread(buf, 1, len - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

/* "key=N" among the counters of our /proc/goro/<pid>/sched, or -1. */
static inline long goro_sched_counter(const char *key)
{
	char buf[4096], *at;
	size_t klen = strlen(key);

	if (!goro_read_sched(getpid(), buf, sizeof(buf)))
		return -1;
	for (at = buf; (at = strstr(at, key)); at += klen)
		if ((at == buf || at[-1] == ' ') && at[klen] == '=')
			return atol(at + klen + 1);
	return -1;
}

#define GORO_PARAMS	"/sys/module/goro/parameters/"
#define GORO_CG_ROOT	"/sys/fs/cgroup"

/* The single number in the file path, or -1. */
static inline long goro_file_long(const char *path)
{
	long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

/* The value of a module parameter, or -1. */
static inline long goro_param_read(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), GORO_PARAMS "%s", name);
	return goro_file_long(path);
}

/* Write str to path: 0 or -errno. */
static inline int goro_write_file(const char *path, const char *str)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, str, strlen(str)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

/* Write val to a module parameter: 0 or -errno. */
static inline int goro_param_write(const char *name, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), GORO_PARAMS "%s", name);
	return goro_write_file(path, val);
}

/* Become uid/gid 65534 with no capability: 0 or -1. */
static inline int goro_drop_to_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
	    setresuid(65534, 65534, 65534))
		return -1;
	return 0;
}

/* Does the cgroup's cgroup.events say "frozen want"? */
static inline int goro_cg_frozen(const char *cg, int want)
{
	char path[128], buf[256];
	int fd, n;

	snprintf(path, sizeof(path), "%s/cgroup.events", cg);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return strstr(buf, want ? "frozen 1" : "frozen 0") != NULL;
}

/*
 * Make the cgroup v2 group GORO_CG_ROOT/name (mounting cgroup2 there if
 * needed) with the controllers ctl ("+memory", or "" for none) enabled
 * for it: 0 or -errno.
 */
static inline int goro_cg_make(const char *name, const char *ctl)
{
	char path[128];
	int ret;

	if (access(GORO_CG_ROOT "/cgroup.controllers", F_OK) &&
	    mount("none", GORO_CG_ROOT, "cgroup2", 0, NULL))
		return -errno;
	if (*ctl) {
		ret = goro_write_file(GORO_CG_ROOT "/cgroup.subtree_control", ctl);
		if (ret)
			return ret;
	}
	snprintf(path, sizeof(path), GORO_CG_ROOT "/%s", name);
	if (mkdir(path, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

#endif /* GORO_TEST_H */
