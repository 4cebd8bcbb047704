// SPDX-License-Identifier: MIT
/*
 * P handoff latency with one P.  Goroutine A (main) spawns goroutine B (B
 * is then runnable on A's P), records t0 and blocks in read(2) on an empty
 * pipe.  B can only run once A's P is handed to another M; it records t1
 * and writes the byte that lets A's read return.  Reports t1 - t0: mean,
 * p50, p99, max.  Same scenario as go/handoff.go; the floor is
 * pthread_futex_wake.c.
 *
 * Usage: goro_handoff [rounds] [plain|bracketed]
 *   plain      a bare read(): only the kernel module sees the M block
 *              (results handoff_*)
 *   bracketed  read() between goro_syscall_enter/exit, which the user
 *              backend's monitor watches, as Go's runtime brackets every
 *              syscall (results handoff_bracketed_*)
 *
 * When nothing hands the P off, a watchdog thread (not an M) writes the
 * byte after WATCHDOG_NS; B then runs when A yields, and the round counts
 * as a timeout.  After MAX_TIMEOUTS timeouts in a row the run stops early.
 */
#include <goro.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "common.h"

#define WATCHDOG_NS	(50 * 1000000ull)
#define MAX_TIMEOUTS	3

static int pfd[2];
static _Atomic uint64_t t0, t1;
static _Atomic long armed;	/* round A is blocked in, 0: none */
static _Atomic long woken;	/* last round whose byte was written */
static _Atomic long timeouts;
static _Atomic int stop;

/* Write round @r's byte unless someone already did; true if we did. */
static int wake_a(long r)
{
	long prev = r - 1;

	if (!atomic_compare_exchange_strong(&woken, &prev, r))
		return 0;
	if (write(pfd[1], "x", 1) != 1)
		die("write");
	return 1;
}

static void goroutine_b(void *arg)
{
	atomic_store(&t1, now_ns());
	wake_a((long)(intptr_t)arg);
}

static void *watchdog(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		long r = atomic_load(&armed);

		if (r && now_ns() - atomic_load(&t0) > WATCHDOG_NS && wake_a(r))
			atomic_fetch_add(&timeouts, 1);
		usleep(10000);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long n = arg_count(argc, argv, 1, 1000), warm = n / 10;
	const char *mode = argc > 2 ? argv[2] : "plain";
	int bracketed = !strcmp(mode, "bracketed");
	const char *prefix = bracketed ? "handoff_bracketed" : "handoff";
	char name[64];
	long r, in_a_row = 0, got = 0, early = 0, prev_timeouts = 0;
	uint64_t *lat;
	pthread_t wd;
	ssize_t got_byte;
	int64_t id;
	char c;

	if (!bracketed && strcmp(mode, "plain")) {
		fprintf(stderr, "usage: %s [rounds] [plain|bracketed]\n", argv[0]);
		return 2;
	}
	lat = calloc((size_t)(warm + n), sizeof(*lat));
	if (!lat)
		die("calloc");
	if (pipe(pfd))
		die("pipe");
	goro_setprocs(1);
	printf("# goro_handoff %s: backend %s\n", mode, goro_backend());
	if (pthread_create(&wd, NULL, watchdog, NULL))
		die("pthread_create");

	for (r = 1; r <= warm + n && in_a_row < MAX_TIMEOUTS; r++) {
		atomic_store(&t1, 0);
		id = goro_go(goroutine_b, (void *)(intptr_t)r);
		if (id < 0)
			die_neg("goro_go", (long)id);
		atomic_store(&t0, now_ns());
		atomic_store(&armed, r);
		if (bracketed)
			goro_syscall_enter();
		got_byte = read(pfd[0], &c, 1);
		if (bracketed)
			goro_syscall_exit();
		if (got_byte != 1)
			die("read");
		atomic_store(&armed, 0);
		while (!atomic_load(&t1))
			goro_yield();	/* the watchdog woke us: let B run */
		if (atomic_load(&timeouts) != prev_timeouts) {
			prev_timeouts = atomic_load(&timeouts);
			in_a_row++;
		} else {
			in_a_row = 0;
		}
		if (atomic_load(&t1) < atomic_load(&t0))
			early++;	/* B ran before A blocked: not a handoff */
		else
			lat[got++] = atomic_load(&t1) - atomic_load(&t0);
	}
	atomic_store(&stop, 1);
	pthread_join(wd, NULL);

	if (in_a_row >= MAX_TIMEOUTS) {
		/* every round so far is the figure, warm-up included */
		printf("# goro_handoff %s: no handoff: B ran only after the watchdog "
		       "woke A (%d ms), %d times in a row; stopped\n",
		       mode, (int)(WATCHDOG_NS / 1000000), MAX_TIMEOUTS);
		warm = 0;
	} else {
		/* the warm-up rounds were the first ones recorded */
		warm = warm < got ? warm : got;
	}
	if (early)
		printf("# goro_handoff %s: B ran before A blocked in %ld rounds\n",
		       mode, early);
	snprintf(name, sizeof(name), "%s_timeouts", prefix);
	result(name, "goro", (double)atomic_load(&timeouts), "rounds");
	latency_results(prefix, "goro", lat + warm, (size_t)(got - warm));
	return 0;
}
