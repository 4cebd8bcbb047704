// SPDX-License-Identifier: MIT
/*
 * gorostat: goro scheduler statistics from /proc/goro, like vmstat.
 *
 *   gorostat              one table row per live goro instance
 *   gorostat PID          the same for one process
 *   gorostat -i 1 [PID]   a line per second: gauges, and events per second
 *
 * It reads the first two lines of /proc/goro/<pid>/sched: Go's schedtrace
 * line and the counter line, both as key=value words, so a key the module
 * adds later is ignored and a key it lacks prints as "-". The instances
 * come from /proc/goro/pids (those the reader may read: the directory's
 * name, the pid in the reader's pid namespace), or from a listing of the
 * directory where there is no pids; pids are shown as the reader names
 * them.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PROC_GORO "/proc/goro"
#define MAX_KEYS 48
#define MAX_INST 256

struct kv {
	char key[32];
	uint64_t val;
};

struct snap {
	int pid;	/* in our pid namespace */
	int nkv;
	struct kv kv[MAX_KEYS];
	uint64_t localrunq;	/* sum of the per-P run queue sizes */
};

static const char *proc_root = PROC_GORO;

static bool get(const struct snap *s, const char *key, uint64_t *val)
{
	int i;

	for (i = 0; i < s->nkv; i++) {
		if (!strcmp(s->kv[i].key, key)) {
			*val = s->kv[i].val;
			return true;
		}
	}
	return false;
}

/* Collect every key=<number> word of line into s. */
static void parse_kv(struct snap *s, const char *line)
{
	const char *p = line;

	while (*p && s->nkv < MAX_KEYS) {
		const char *eq, *w;
		size_t klen;
		char *end;
		unsigned long long v;

		while (*p && isspace((unsigned char)*p))
			p++;
		w = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		eq = memchr(w, '=', (size_t)(p - w));
		if (!eq)
			continue;
		klen = (size_t)(eq - w);
		if (!klen || klen >= sizeof(s->kv[0].key))
			continue;
		errno = 0;
		v = strtoull(eq + 1, &end, 10);
		if (errno || end == eq + 1)
			continue;
		memcpy(s->kv[s->nkv].key, w, klen);
		s->kv[s->nkv].key[klen] = '\0';
		s->kv[s->nkv].val = v;
		s->nkv++;
	}
}

/* An instance: its directory in /proc/goro, its pid as we name it. */
struct inst {
	int dir;
	int pid;
};

/* Read /proc/goro/<dir>/sched; false if the instance is gone. */
static bool read_snap(const struct inst *in, struct snap *s)
{
	char path[64], line[4096];
	const char *lb, *rb, *q;
	FILE *f;

	memset(s, 0, sizeof(*s));
	s->pid = in->pid;
	snprintf(path, sizeof(path), "%s/%d/sched", proc_root, in->dir);
	f = fopen(path, "re");
	if (!f)
		return false;
	if (!fgets(line, sizeof(line), f) || strncmp(line, "SCHED ", 6)) {
		fclose(f);
		return false;
	}
	parse_kv(s, line);
	lb = strchr(line, '[');
	rb = lb ? strchr(lb, ']') : NULL;
	for (q = lb ? lb + 1 : NULL; q && q < rb;) {
		char *end;
		unsigned long v = strtoul(q, &end, 10);

		if (end == q)
			break;
		s->localrunq += v;
		q = end;
	}
	if (fgets(line, sizeof(line), f))
		parse_kv(s, line);
	fclose(f);
	return true;
}

/* The instances of /proc/goro/pids; -ENOENT if the module has none. */
static int list_pids_file(struct inst *v, int max)
{
	char path[256];
	int n = 0, dir, pid;
	FILE *f;

	snprintf(path, sizeof(path), "%s/pids", proc_root);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (n < max && fscanf(f, "%d %d", &dir, &pid) == 2)
		if (dir > 0 && pid > 0)
			v[n++] = (struct inst){ .dir = dir, .pid = pid };
	fclose(f);
	return n;
}

static int list_insts(struct inst *v, int max)
{
	int n = list_pids_file(v, max);
	struct dirent *e;
	DIR *d;

	if (n != -ENOENT)
		return n;
	d = opendir(proc_root);
	if (!d)
		return -errno;
	n = 0;
	while ((e = readdir(d)) && n < max) {
		char *end;
		long v2 = strtol(e->d_name, &end, 10);

		if (*end == '\0' && v2 > 0 && v2 <= INT32_MAX)
			v[n++] = (struct inst){ .dir = (int)v2, .pid = (int)v2 };
	}
	closedir(d);
	return n;
}

/* Gauges: the value now. */
static const char *const gauges[] = {
	"gomaxprocs", "idleprocs", "threads", "spinningthreads",
	"idlethreads", "runqueue", "goroutines",
};
static const char *const gauge_hdr[] = {
	"procs", "idle", "threads", "spin", "idlem", "grunq", "gs",
};
/* Counters: totals in the table, per second with -i. */
static const char *const counters[] = {
	"handoffs", "parks", "wakes", "ksteals", "preemptreqs",
};
static const char *const counter_hdr[] = {
	"handoff", "park", "wake", "ksteal", "preempt",
};
#define NG (sizeof(gauges) / sizeof(gauges[0]))
#define NC (sizeof(counters) / sizeof(counters[0]))

static void header(bool rates)
{
	size_t i;

	printf("%8s", "pid");
	for (i = 0; i < NG; i++)
		printf(" %7s", gauge_hdr[i]);
	printf(" %7s", "lrunq");
	for (i = 0; i < NC; i++)
		printf(" %*s", rates ? 9 : 11, rates ? counter_hdr[i] : counters[i]);
	if (rates)
		printf("  (events/s)");
	printf("\n");
}

static void row(const struct snap *s, const struct snap *prev, double secs,
		bool rates)
{
	uint64_t v, pv;
	size_t i;

	printf("%8d", s->pid);
	for (i = 0; i < NG; i++) {
		if (get(s, gauges[i], &v))
			printf(" %7" PRIu64, v);
		else
			printf(" %7s", "-");
	}
	printf(" %7" PRIu64, s->localrunq);
	for (i = 0; i < NC; i++) {
		if (!get(s, counters[i], &v))
			printf(" %*s", rates ? 9 : 11, "-");
		else if (!rates)
			printf(" %11" PRIu64, v);
		else if (!prev)
			printf(" %9s", "-");
		else if (get(prev, counters[i], &pv) && v >= pv)
			printf(" %9.0f", (double)(v - pv) / secs);
		else
			printf(" %9s", "-");
	}
	printf("\n");
}

static void usage(FILE *f, const char *argv0)
{
	fprintf(f,
		"Usage: %s [-i SECONDS] [-c COUNT] [PID]\n"
		"Show goro scheduler statistics from " PROC_GORO ".\n\n"
		"  -i SECONDS  print a line per interval, events per second\n"
		"  -c COUNT    stop after COUNT intervals (default: forever)\n"
		"  -r DIR      read DIR instead of " PROC_GORO "\n"
		"  -h          this help\n\n"
		"EXAMPLES:\n"
		"  gorostat            a table of every goro process\n"
		"  gorostat -i 1 4242  process 4242, every second\n",
		argv0);
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	static struct snap prev[MAX_INST], cur[MAX_INST];
	double interval = 0;
	long count = -1;
	struct inst insts[MAX_INST];
	int ninst, npr = 0, pid = 0, opt, i, j;
	char *end;

	while ((opt = getopt(argc, argv, "i:c:r:h")) != -1) {
		switch (opt) {
		case 'i':
			interval = strtod(optarg, &end);
			if (*end || !(interval > 0 && interval <= 3600)) {
				fprintf(stderr, "gorostat: bad interval '%s': want seconds in (0, 3600]\n", optarg);
				return 2;
			}
			break;
		case 'c':
			count = strtol(optarg, &end, 10);
			if (*end || count <= 0) {
				fprintf(stderr, "gorostat: bad count '%s': want a positive number\n", optarg);
				return 2;
			}
			break;
		case 'r':
			proc_root = optarg;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 0;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (optind < argc) {
		long v = strtol(argv[optind], &end, 10);

		if (*end || v <= 0 || v > INT32_MAX || optind + 1 < argc) {
			fprintf(stderr, "gorostat: bad pid '%s'\n", argv[optind]);
			return 2;
		}
		pid = (int)v;
	}
	if (access(proc_root, X_OK)) {
		fprintf(stderr, "gorostat: %s: %s (is goro.ko loaded?)\n",
			proc_root, strerror(errno));
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	for (long round = 0; !stop; round++) {
		int n = 0;

		ninst = list_insts(insts, MAX_INST);
		if (ninst < 0 && !pid) {
			fprintf(stderr, "gorostat: %s: %s\n", proc_root,
				strerror(-ninst));
			return 1;
		}
		if (pid) {
			/* the one we name pid, else a directory of that name */
			struct inst one = { .dir = pid, .pid = pid };

			for (i = 0; i < ninst; i++)
				if (insts[i].pid == pid)
					one = insts[i];
			insts[0] = one;
			ninst = 1;
		}
		for (i = 0; i < ninst; i++)
			if (read_snap(&insts[i], &cur[n]))
				n++;
		if (pid && !n) {
			if (round)
				return 0;	/* the process went away */
			fprintf(stderr, "gorostat: no goro instance for pid %d\n", pid);
			return 1;
		}
		if (!interval) {
			header(false);
			for (i = 0; i < n; i++)
				row(&cur[i], NULL, 0, false);
			return 0;
		}
		if (round) {
			if (round == 1 || (round - 1) % 20 == 0)
				header(true);
			for (i = 0; i < n; i++) {
				const struct snap *p = NULL;

				for (j = 0; j < npr; j++)
					if (prev[j].pid == cur[i].pid)
						p = &prev[j];
				row(&cur[i], p, interval, true);
			}
			fflush(stdout);
			if (count > 0 && round >= count)
				break;
		}
		memcpy(prev, cur, sizeof(cur[0]) * (size_t)n);
		npr = n;
		{
			struct timespec ts = {
				.tv_sec = (time_t)interval,
				.tv_nsec = (long)((interval - (time_t)interval) * 1e9),
			};

			nanosleep(&ts, NULL);
		}
	}
	return 0;
}
