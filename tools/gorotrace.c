// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * gorotrace: histograms of goro P handoff latency and M park time, and
 * per-P kernel steal counts, from goro.ko's tracepoints, every interval.
 */
#include <argp.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "gorotrace.h"
#include "gorotrace.skel.h"

static struct env {
	__u32 pid;
	double interval;
	long count;
	const char *pin;
	bool timestamp;
	bool verbose;
} env = {
	.interval = 1,
	.count = -1,
};

const char *argp_program_version = "gorotrace " GORO_VERSION;
static const char doc[] =
"Histograms of goro P handoff latency and M park time, per-P kernel steals.\n"
"\n"
"USAGE: gorotrace [-p PID] [-i SECONDS] [-c COUNT] [-P DIR] [-T]\n"
"\n"
"EXAMPLES:\n"
"    gorotrace                 # every goro process, every second\n"
"    gorotrace -p 185 -i 5     # process 185, every 5 seconds\n"
"    gorotrace -c 1 -i 10      # one 10-second summary, then exit\n"
"    gorotrace -P /sys/fs/bpf/goro  # pin the maps (cumulative) for\n"
"                              # bpftool map dump pinned /sys/fs/bpf/goro/hists\n";

static const struct argp_option opts[] = {
	{ "pid", 'p', "PID", 0, "Trace this process only", 0 },
	{ "interval", 'i', "SECONDS", 0, "Print every SECONDS (default 1)", 0 },
	{ "count", 'c', "COUNT", 0, "Stop after COUNT intervals", 0 },
	{ "pin", 'P', "DIR", 0, "Pin the maps in DIR (bpffs); counts are then cumulative", 0 },
	{ "timestamp", 'T', NULL, 0, "Print a timestamp with each interval", 0 },
	{ "verbose", 'v', NULL, 0, "libbpf debug output", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Show this help", 0 },
	{},
};

static error_t parse_arg(int key, char *arg, struct argp_state *state)
{
	char *end;
	long v;

	switch (key) {
	case 'p':
		errno = 0;
		v = strtol(arg, &end, 10);
		if (errno || *end || v <= 0 || v > INT_MAX) {
			fprintf(stderr, "gorotrace: bad pid '%s'\n", arg);
			argp_usage(state);
		}
		env.pid = (__u32)v;
		break;
	case 'i':
		env.interval = strtod(arg, &end);
		if (*end || !(env.interval > 0 && env.interval <= 86400)) {
			fprintf(stderr, "gorotrace: bad interval '%s'\n", arg);
			argp_usage(state);
		}
		break;
	case 'c':
		errno = 0;
		env.count = strtol(arg, &end, 10);
		if (errno || *end || env.count <= 0) {
			fprintf(stderr, "gorotrace: bad count '%s'\n", arg);
			argp_usage(state);
		}
		break;
	case 'P':
		env.pin = arg;
		break;
	case 'T':
		env.timestamp = true;
		break;
	case 'v':
		env.verbose = true;
		break;
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case ARGP_KEY_ARG:
		fprintf(stderr, "gorotrace: unexpected argument '%s'\n", arg);
		argp_usage(state);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	if (level == LIBBPF_DEBUG && !env.verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static volatile sig_atomic_t exiting;

static void sig_handler(int sig)
{
	(void)sig;
	exiting = 1;
}

static void print_stars(unsigned long long val, unsigned long long max,
			int width)
{
	int n = max ? (int)(val * (unsigned long long)width / max) : 0;
	int i;

	if (n > width)
		n = width;
	for (i = 0; i < width; i++)
		putchar(i < n ? '*' : ' ');
}

/* The familiar log2 histogram: slot i counts values in [2^i, 2^(i+1)). */
static void print_log2_hist(const __u64 *slots, const char *unit)
{
	unsigned long long max = 0;
	int i, last = -1;

	for (i = 0; i < MAX_SLOTS; i++) {
		if (slots[i])
			last = i;
		if (slots[i] > max)
			max = slots[i];
	}
	if (last < 0)
		return;
	printf("%*s%-*s : count    distribution\n", 10, "", 14, unit);
	for (i = 0; i <= last; i++) {
		unsigned long long lo = i ? 1ULL << i : 0;
		unsigned long long hi = (1ULL << (i + 1)) - 1;

		printf("%10llu -> %-10llu : %-8llu |", lo, hi,
		       (unsigned long long)slots[i]);
		print_stars(slots[i], max, 40);
		printf("|\n");
	}
}

static const char *const hist_name[HIST_KINDS] = {
	[HIST_HANDOFF] = "P handoff latency (block -> P running on another M)",
	[HIST_PARK] = "M park time",
};

static int print_and_clear(struct gorotrace_bpf *obj, bool clear)
{
	int hfd = bpf_map__fd(obj->maps.hists);
	int sfd = bpf_map__fd(obj->maps.steals);
	struct hist_key hk, *hprev = NULL;
	struct steal_key sk, *sprev = NULL;
	struct hist h;
	__u64 n;

	while (!bpf_map_get_next_key(hfd, hprev, &hk)) {
		if (!bpf_map_lookup_elem(hfd, &hk, &h) && h.count &&
		    hk.kind < HIST_KINDS) {
			printf("\npid %u: %s\n", hk.tgid, hist_name[hk.kind]);
			printf("    count %llu  avg %llu ns  max %llu ns\n",
			       (unsigned long long)h.count,
			       (unsigned long long)(h.sum_ns / h.count),
			       (unsigned long long)h.max_ns);
			print_log2_hist(h.slots, "nsecs");
		}
		hprev = &hk;
	}
	sprev = NULL;
	while (!bpf_map_get_next_key(sfd, sprev, &sk)) {
		if (!bpf_map_lookup_elem(sfd, &sk, &n) && n)
			printf("pid %u: P%u: %llu goroutines stolen by the kernel\n",
			       sk.tgid, sk.p, (unsigned long long)n);
		sprev = &sk;
	}
	if (!clear)
		return 0;
	hprev = NULL;
	while (!bpf_map_get_next_key(hfd, NULL, &hk))
		if (bpf_map_delete_elem(hfd, &hk))
			break;
	while (!bpf_map_get_next_key(sfd, NULL, &sk))
		if (bpf_map_delete_elem(sfd, &sk))
			break;
	return 0;
}

static int pin_maps(struct gorotrace_bpf *obj, const char *dir)
{
	char path[PATH_MAX];
	int err;

	if (mkdir(dir, 0700) && errno != EEXIST) {
		fprintf(stderr, "gorotrace: mkdir %s: %s\n", dir, strerror(errno));
		return -errno;
	}
	snprintf(path, sizeof(path), "%s/hists", dir);
	unlink(path);
	err = bpf_map__pin(obj->maps.hists, path);
	if (!err) {
		snprintf(path, sizeof(path), "%s/steals", dir);
		unlink(path);
		err = bpf_map__pin(obj->maps.steals, path);
	}
	if (err)
		fprintf(stderr, "gorotrace: pinning maps in %s: %s (is it on a bpf file system?)\n",
			dir, strerror(-err));
	return err;
}

int main(int argc, char **argv)
{
	static const struct argp argp = {
		.options = opts,
		.parser = parse_arg,
		.doc = doc,
	};
	struct gorotrace_bpf *obj;
	struct timespec ts;
	long round;
	int err;

	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return err;
	libbpf_set_print(libbpf_print);

	obj = gorotrace_bpf__open();
	if (!obj) {
		fprintf(stderr, "gorotrace: failed to open the BPF object\n");
		return 1;
	}
	obj->rodata->targ_tgid = env.pid;
	err = gorotrace_bpf__load(obj);
	if (err) {
		fprintf(stderr, "gorotrace: failed to load the BPF object: %s\n",
			strerror(-err));
		goto out;
	}
	err = gorotrace_bpf__attach(obj);
	if (err) {
		fprintf(stderr, "gorotrace: failed to attach to goro's tracepoints: %s (is goro.ko loaded?)\n",
			strerror(-err));
		goto out;
	}
	if (env.pin) {
		err = pin_maps(obj, env.pin);
		if (err)
			goto out;
	}
	signal(SIGINT, sig_handler);
	signal(SIGTERM, sig_handler);
	printf("Tracing goro handoffs, parks and steals%s... Hit Ctrl-C to end.\n",
	       env.pid ? " of one process" : "");
	fflush(stdout);

	for (round = 1; !exiting; round++) {
		ts.tv_sec = (time_t)env.interval;
		ts.tv_nsec = (long)((env.interval - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
		if (env.timestamp) {
			time_t t = time(NULL);
			char buf[32];

			strftime(buf, sizeof(buf), "%H:%M:%S", localtime(&t));
			printf("\n%s\n", buf);
		}
		print_and_clear(obj, !env.pin);
		fflush(stdout);
		if (env.count > 0 && round >= env.count)
			break;
	}
	err = 0;
out:
	gorotrace_bpf__destroy(obj);
	return err ? 1 : 0;
}
