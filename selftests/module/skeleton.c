// SPDX-License-Identifier: GPL-2.0
/*
 * goro.ko skeleton: the device opens and closes, GORO_IOC_VERSION answers,
 * /proc/goro/version exists, and bad ioctl numbers and arguments get the
 * documented errno.
 */
#include "goro_test.h"

TEST(open_close)
{
	int fd, fd2;

	GORO_OPEN_OR_SKIP(fd);
	fd2 = open(GORO_DEVICE, O_RDWR);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, close(fd2));
	EXPECT_EQ(0, close(fd));
}

TEST(version_reports_abi_and_limits)
{
	struct goro_version v;
	unsigned int i;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	memset(&v, 0xa5, sizeof(v));
	ASSERT_EQ(0, goro_ioctl(fd, GORO_IOC_VERSION, &v));
	EXPECT_EQ((__u32)GORO_ABI_VERSION, v.abi_version);
	EXPECT_LE(1U, v.max_procs);
	EXPECT_LE(v.max_procs, v.max_ms);
	EXPECT_EQ(0ULL, v.features & ~0x1ffULL);	/* the GORO_FEAT_* known */
	for (i = 0; i < sizeof(v.resv) / sizeof(v.resv[0]); i++)
		EXPECT_EQ(0U, v.resv[i]);
	close(fd);
}

TEST(version_read_only_fd)
{
	struct goro_version v;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	close(fd);
	fd = open(GORO_DEVICE, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, goro_ioctl(fd, GORO_IOC_VERSION, &v));
	close(fd);
}

TEST(version_bad_pointer_efault)
{
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	EXPECT_EQ(-EFAULT, goro_ioctl(fd, GORO_IOC_VERSION, NULL));
	EXPECT_EQ(-EFAULT, goro_ioctl(fd, GORO_IOC_VERSION, (void *)1));
	close(fd);
}

TEST(unknown_ioctl_enotty)
{
	char buf[256] = { 0 };
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	EXPECT_EQ(-ENOTTY, goro_ioctl(fd, _IO('G', 0x7f), buf));
	EXPECT_EQ(-ENOTTY, goro_ioctl(fd, _IOWR('G', 0x40, char[8]), buf));
	EXPECT_EQ(-ENOTTY, goro_ioctl(fd, _IOR('g', 0x00, struct goro_version),
				     buf));
	EXPECT_EQ(-ENOTTY, goro_ioctl(fd, _IO('X', 0), buf));
	EXPECT_EQ(-ENOTTY, goro_ioctl(fd, TCGETS, buf));
	close(fd);
}

TEST(known_ioctl_wrong_size_einval)
{
	char buf[256] = { 0 };
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	EXPECT_EQ(-EINVAL, goro_ioctl(fd, _IOR('G', 0x00, char[8]), buf));
	EXPECT_EQ(-EINVAL, goro_ioctl(fd, _IOW('G', 0x00, struct goro_version),
				     buf));
	close(fd);
}

TEST(read_write_not_supported)
{
	char c = 0;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	EXPECT_GT(0, read(fd, &c, 1));
	EXPECT_GT(0, write(fd, &c, 1));
	close(fd);
}

TEST(proc_version_matches_ioctl)
{
	struct goro_version v;
	unsigned int abi = 0;
	FILE *f;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	ASSERT_EQ(0, goro_ioctl(fd, GORO_IOC_VERSION, &v));
	f = fopen("/proc/goro/version", "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fscanf(f, "goro abi %u", &abi));
	EXPECT_EQ(v.abi_version, abi);
	fclose(f);
	close(fd);
}

/* the line ends with the release goro.ko was built from (VERSION) */
TEST(proc_version_names_release)
{
	char line[256], want[64];
	FILE *f;
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	f = fopen("/proc/goro/version", "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(line, sizeof(line), f));
	snprintf(want, sizeof(want), " version %s\n", GORO_VERSION);
	EXPECT_NE(NULL, strstr(line, want)) TH_LOG("got: %s", line);
	fclose(f);
	close(fd);
}

TEST(proc_stats_readable)
{
	int fd;

	GORO_OPEN_OR_SKIP(fd);
	EXPECT_LE(0, goro_stat("instances"));
	EXPECT_LE(0, goro_stat("ms"));
	close(fd);
}

TEST_HARNESS_MAIN
