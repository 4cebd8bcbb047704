// SPDX-License-Identifier: GPL-2.0
/*
 * GORO_IOC_SETUP, mmap of the shared region and teardown, and every bad
 * input to them.
 */
#include "goro_test.h"

TEST(setup_maps_region_with_offsets)
{
	struct goro_ctx c;
	unsigned int p;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 4, 16));
	EXPECT_EQ(GORO_MAGIC, c.hdr->magic);
	EXPECT_EQ((__u32)GORO_ABI_VERSION, c.hdr->abi_version);
	EXPECT_EQ(4U, c.hdr->nprocs);
	EXPECT_EQ(16U, c.hdr->max_ms);
	EXPECT_EQ((__u32)GORO_RUNQ_ENTRIES, c.hdr->ring_entries);
	EXPECT_EQ(4U, c.hdr->npidle);
	EXPECT_EQ(0U, c.hdr->nmidle);
	EXPECT_LE(sizeof(struct goro_p), c.s.off.p_stride);
	EXPECT_LE(sizeof(struct goro_m), c.s.off.m_stride);
	EXPECT_LE(c.s.off.ms + 16 * c.s.off.m_stride, c.s.map_size);
	EXPECT_NE(0ULL, c.s.features & GORO_FEAT_HANDOFF);
	EXPECT_NE(0ULL, c.s.features & GORO_FEAT_KSTEAL);
	for (p = 0; p < 4; p++) {
		EXPECT_EQ((__u32)GORO_P_IDLE, goro_p_of(&c, p)->status);
		EXPECT_EQ(GORO_NONE, goro_p_of(&c, p)->owner);
	}
	EXPECT_EQ((__u32)GORO_M_FREE, goro_m_of(&c, 15)->state);
	EXPECT_EQ(GORO_NONE, goro_m_of(&c, 15)->p);
	/* the region is ours to write (userspace fields) */
	goro_p_of(&c, 3)->ring[GORO_RUNQ_ENTRIES - 1] = 42;
	EXPECT_EQ(0, munmap(c.map, c.s.map_size));
	EXPECT_EQ(0, close(fd));
}

TEST(setup_default_max_ms)
{
	struct goro_version v;
	struct goro_ctx c;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ioctl(fd, GORO_IOC_VERSION, &v));
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 1, 0));
	EXPECT_EQ(v.max_ms, c.hdr->max_ms);
	close(fd);
}

TEST(setup_twice_ebusy)
{
	struct goro_ctx c;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 1, 4));
	EXPECT_EQ(-EBUSY, goro_ioctl(fd, GORO_IOC_SETUP, &c.s));
	close(fd);
}

TEST(setup_second_instance_same_process_ebusy)
{
	struct goro_ctx c, c2;
	int fd, fd2;

	GORO_OPEN_OR_SKIP(fd);
	fd2 = open(GORO_DEVICE, O_RDWR);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 1, 4));
	EXPECT_EQ(-EBUSY, goro_ctx_init(&c2, fd2, 1, 4));
	/* once the first is closed, a new one may be set up */
	munmap(c.map, c.s.map_size);
	close(fd);
	EXPECT_EQ(0, goro_ctx_init(&c2, fd2, 1, 4));
	close(fd2);
}

static int setup_with(int fd, struct goro_setup *s)
{
	return goro_ioctl(fd, GORO_IOC_SETUP, s);
}

TEST(setup_bad_nprocs_einval)
{
	struct goro_version v;
	struct goro_setup s;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ioctl(fd, GORO_IOC_VERSION, &v));
	memset(&s, 0, sizeof(s));
	EXPECT_EQ(-EINVAL, setup_with(fd, &s));
	s.nprocs = v.max_procs + 1;
	EXPECT_EQ(-EINVAL, setup_with(fd, &s));
	s.nprocs = 0xffffffff;
	EXPECT_EQ(-EINVAL, setup_with(fd, &s));
	close(fd);
}

TEST(setup_bad_max_ms_einval)
{
	struct goro_version v;
	struct goro_setup s;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ioctl(fd, GORO_IOC_VERSION, &v));
	memset(&s, 0, sizeof(s));
	s.nprocs = 4;
	s.max_ms = 3;
	EXPECT_EQ(-EINVAL, setup_with(fd, &s));
	s.max_ms = v.max_ms + 1;
	EXPECT_EQ(-EINVAL, setup_with(fd, &s));
	close(fd);
}

TEST(setup_flags_and_reserved_einval)
{
	struct goro_setup s;
	unsigned int i;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	memset(&s, 0, sizeof(s));
	s.nprocs = 1;
	s.flags = 1;
	EXPECT_EQ(-EINVAL, setup_with(fd, &s));
	s.flags = 0x80000000;
	EXPECT_EQ(-EINVAL, setup_with(fd, &s));
	s.flags = 0;
	s.resv0 = 1;
	EXPECT_EQ(-EINVAL, setup_with(fd, &s));
	s.resv0 = 0;
	for (i = 0; i < 4; i++) {
		s.resv[i] = 1;
		EXPECT_EQ(-EINVAL, setup_with(fd, &s));
		s.resv[i] = 0;
	}
	/* after all that, a good setup still works */
	EXPECT_EQ(0, setup_with(fd, &s));
	close(fd);
}

TEST(setup_bad_pointer_efault)
{
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	EXPECT_EQ(-EFAULT, goro_ioctl(fd, GORO_IOC_SETUP, NULL));
	close(fd);
}

TEST(calls_before_setup_einval)
{
	struct goro_attach a = { 0 };
	struct goro_park pk = { 0 };
	struct goro_wake w = { 0 };
	void *m;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	EXPECT_EQ(-EINVAL, goro_ioctl(fd, GORO_IOC_ATTACH_M, &a));
	EXPECT_EQ(-EINVAL, goro_ioctl(fd, GORO_IOC_DETACH_M, NULL));
	EXPECT_EQ(-EINVAL, goro_ioctl(fd, GORO_IOC_PARK, &pk));
	EXPECT_EQ(-EINVAL, goro_ioctl(fd, GORO_IOC_WAKE, &w));
	m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, m);
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST(mmap_wrong_size_offset_or_mode_einval)
{
	struct goro_ctx c;
	size_t sz;
	void *m;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 2, 8));
	sz = c.s.map_size;
	m = mmap(NULL, sz + 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, m);
	EXPECT_EQ(EINVAL, errno);
	if (sz > 4096) {
		m = mmap(NULL, sz - 4096, PROT_READ, MAP_SHARED, fd, 0);
		EXPECT_EQ(MAP_FAILED, m);
		EXPECT_EQ(EINVAL, errno);
	}
	m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096);
	EXPECT_EQ(MAP_FAILED, m);
	EXPECT_EQ(EINVAL, errno);
	m = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	EXPECT_EQ(MAP_FAILED, m);
	EXPECT_EQ(EINVAL, errno);
	m = mmap(NULL, sz, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, m);
	/* a second good mapping sees the same memory */
	m = mmap(NULL, sz, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	goro_p_of(&c, 1)->schedtick = 77;
	EXPECT_EQ(77ULL, ((struct goro_p *)((char *)m + c.s.off.procs +
					    c.s.off.p_stride))->schedtick);
	/* cannot grow */
	EXPECT_EQ(MAP_FAILED, mremap(m, sz, sz + 4096, MREMAP_MAYMOVE));
	munmap(m, sz);
	close(fd);
}

TEST(forked_child_gets_eperm)
{
	struct goro_attach a = { 0 };
	struct goro_ctx c;
	int fd, st;
	pid_t pid;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 1, 4));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct goro_wake w = { 0 };
		void *m;

		if (goro_ioctl(fd, GORO_IOC_ATTACH_M, &a) != -EPERM)
			_exit(1);
		if (goro_ioctl(fd, GORO_IOC_WAKE, &w) != -EPERM)
			_exit(2);
		m = mmap(NULL, c.s.map_size, PROT_READ, MAP_SHARED, fd, 0);
		if (m != MAP_FAILED || errno != EPERM)
			_exit(3);
		/* the parent's mapping was not copied */
		if (msync(c.map, 4096, MS_ASYNC) == 0)
			_exit(4);
		/* the child may start fresh */
		close(fd);
		fd = open(GORO_DEVICE, O_RDWR);
		if (goro_ctx_init(&c, fd, 1, 4))
			_exit(5);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st));
	/* the parent's instance is unaffected */
	EXPECT_EQ(0, goro_ioctl(fd, GORO_IOC_ATTACH_M, &a));
	close(fd);
}

TEST(proc_sched_shows_schedtrace_line)
{
	char path[64], line[512];
	struct goro_ctx c;
	FILE *f;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ctx_init(&c, fd, 3, 8));
	snprintf(path, sizeof(path), "/proc/goro/%d/sched", getpid());
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(line, sizeof(line), f));
	fclose(f);
	EXPECT_EQ(0, strncmp(line, "SCHED ", 6)) TH_LOG("%s", line);
	EXPECT_NE(NULL, strstr(line, "gomaxprocs=3 idleprocs=3 threads=0 "));
	EXPECT_NE(NULL, strstr(line, "[0 0 0]"));
	close(fd);
	munmap(c.map, c.s.map_size);
	EXPECT_NE(0, access(path, F_OK));
}

TEST(instances_counter_returns_to_zero)
{
	struct goro_ctx c;
	int fd, i;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	ASSERT_EQ(0, goro_stat_wait("instances", 0, 2000));
	for (i = 0; i < 20; i++) {
		fd = open(GORO_DEVICE, O_RDWR);
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, goro_ctx_init(&c, fd, 1 + i % 4, 8));
		EXPECT_EQ(1, goro_stat("instances"));
		munmap(c.map, c.s.map_size);
		close(fd);
	}
	EXPECT_EQ(0, goro_stat_wait("instances", 0, 2000));
}

TEST_HARNESS_MAIN
