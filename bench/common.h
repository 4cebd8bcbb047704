/* SPDX-License-Identifier: MIT */
/*
 * What the C benchmarks share: a monotonic clock, result lines,
 * latency statistics and the resident set size.
 *
 * Every benchmark prints its figures as lines of the form
 *
 *	RESULT bench=<id> impl=<impl> value=<number> unit=<unit>
 *
 * which bench/run collects; anything else on stdout is commentary.
 */
#ifndef GORO_BENCH_COMMON_H
#define GORO_BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void result(const char *bench, const char *impl, double value,
			  const char *unit)
{
	printf("RESULT bench=%s impl=%s value=%.3f unit=%s\n",
	       bench, impl, value, unit);
	fflush(stdout);
}

static inline void die(const char *what)
{
	perror(what);
	exit(1);
}

/* For calls that return -errno. */
static inline void die_neg(const char *what, long ret)
{
	fprintf(stderr, "%s: %s\n", what, strerror((int)-ret));
	exit(1);
}

/* A run that lost work measures nothing: got must be want. */
static inline void expect_count(const char *what, long got, long want)
{
	if (got == want)
		return;
	fprintf(stderr, "lost %s: %ld of %ld\n", what, got, want);
	exit(1);
}

static inline int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Sort @n latencies in ns and print mean, p50, p99 and max in µs as
 * <prefix>_mean, <prefix>_p50, <prefix>_p99, <prefix>_max.
 */
static inline void latency_results(const char *prefix, const char *impl,
				   uint64_t *lat, size_t n)
{
	static const struct { const char *name; double q; } pct[] = {
		{ "p50", 0.50 }, { "p99", 0.99 },
	};
	char name[64];
	double sum = 0;
	size_t i;

	if (!n)
		return;
	qsort(lat, n, sizeof(*lat), cmp_u64);
	for (i = 0; i < n; i++)
		sum += (double)lat[i];
	snprintf(name, sizeof(name), "%s_mean", prefix);
	result(name, impl, sum / (double)n / 1e3, "us");
	for (i = 0; i < sizeof(pct) / sizeof(pct[0]); i++) {
		size_t k = (size_t)(pct[i].q * (double)(n - 1));

		snprintf(name, sizeof(name), "%s_%s", prefix, pct[i].name);
		result(name, impl, (double)lat[k] / 1e3, "us");
	}
	snprintf(name, sizeof(name), "%s_max", prefix);
	result(name, impl, (double)lat[n - 1] / 1e3, "us");
}

/* A "<field>: N kB" line of /proc/self/status (VmRSS, VmPTE), or -1. */
static inline long status_kib(const char *field)
{
	char line[256];
	size_t len = strlen(field);
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, len) && line[len] == ':') {
			kib = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return kib;
}

static inline long rss_kib(void)
{
	return status_kib("VmRSS");
}

/* argv[@i] as a positive count, or @def when absent. */
static inline long arg_count(int argc, char **argv, int i, long def)
{
	char *end;
	long v;

	if (argc <= i)
		return def;
	v = strtol(argv[i], &end, 0);
	if (*end || v <= 0) {
		fprintf(stderr, "%s: bad count '%s'\n", argv[0], argv[i]);
		exit(2);
	}
	return v;
}

#endif
