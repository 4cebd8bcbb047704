/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the goro.ko selftests. Every test that needs the
 * module skips when /dev/goro is absent, so the binaries also run on a
 * machine without it.
 */
#ifndef GORO_TEST_H
#define GORO_TEST_H

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

#include "uapi/goro.h"

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

#endif /* GORO_TEST_H */
