// SPDX-License-Identifier: MIT
/*
 * Work conservation with blocking reads, 2 Ps: 200 goroutines each do 20
 * rounds of ~200 µs of compute followed by a blocking read(2) that returns
 * 1 ms later (a timerfd armed just before, in place of a pipe that a
 * feeder thread writes 1 ms later: no third thread competes for the CPUs).  While a goroutine's M
 * sleeps in read(), its P should run other goroutines, so the reads overlap
 * the compute and the ideal wall time is the total compute / 2 Ps.
 * Reports wall, ideal (chunks x the calibrated chunk time / 2; the
 * shortest of several timed chunks, so ideal errs low), wall / ideal, and
 * the floor: the same chunks computed by two plain threads without any
 * read(), measured just before (what two CPUs deliver right now: on a
 * shared or emulated machine it is well above ideal), and wall / floor.
 * Same shape as go/workcons.go.
 *
 * Usage: goro_workcons [rounds] [plain|bracketed]
 *   plain      a bare read(): only the kernel module sees the M block
 *              (results workcons_*)
 *   bracketed  read() between goro_syscall_enter/exit, which the user
 *              backend's monitor watches (results workcons_bracketed_*)
 */
#include <goro.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common.h"
#include "workcons.h"

#define GOROUTINES	200

static goro_wg wg = GORO_WG_INIT;
static long rounds, chunk_iters;
static int bracketed;

static void *floor_thread(void *arg)
{
	long i, n = (long)(intptr_t)arg;

	for (i = 0; i < n; i++)
		compute(chunk_iters);
	return NULL;
}

/* Wall time of all the chunks on two plain threads, no read(). */
static uint64_t measure_floor(void)
{
	long half = GOROUTINES * rounds / 2;
	pthread_t t;
	uint64_t t0 = now_ns();

	if (pthread_create(&t, NULL, floor_thread, (void *)(intptr_t)half))
		die("pthread_create");
	floor_thread((void *)(intptr_t)(GOROUTINES * rounds - half));
	pthread_join(t, NULL);
	return now_ns() - t0;
}

static void worker(void *arg)
{
	struct itimerspec its = { .it_value = { .tv_nsec = SLEEP_NS } };
	uint64_t ticks;
	ssize_t got;
	long r;
	int fd;

	(void)arg;
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	if (fd < 0)
		die("timerfd_create");
	for (r = 0; r < rounds; r++) {
		compute(chunk_iters);
		if (timerfd_settime(fd, 0, &its, NULL))
			die("timerfd_settime");
		if (bracketed)
			goro_syscall_enter();
		got = read(fd, &ticks, sizeof(ticks));
		if (bracketed)
			goro_syscall_exit();
		if (got != sizeof(ticks))
			die("read");
	}
	close(fd);
	goro_wg_done(&wg);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 2 ? argv[2] : "plain";
	const char *prefix;
	uint64_t chunk_ns, t0, wall, floor_ns;
	double ideal;
	char name[64];
	int64_t id;
	int i;

	rounds = arg_count(argc, argv, 1, 20);
	bracketed = !strcmp(mode, "bracketed");
	if (!bracketed && strcmp(mode, "plain")) {
		fprintf(stderr, "usage: %s [rounds] [plain|bracketed]\n", argv[0]);
		return 2;
	}
	prefix = bracketed ? "workcons_bracketed" : "workcons";
	goro_setprocs(2);
	chunk_iters = calibrate(&chunk_ns);
	printf("# goro_workcons %s: backend %s, %d goroutines x %ld rounds, "
	       "chunk %.0f us\n", mode, goro_backend(), GOROUTINES, rounds,
	       (double)chunk_ns / 1e3);

	floor_ns = measure_floor();
	t0 = now_ns();
	goro_wg_add(&wg, GOROUTINES);
	for (i = 0; i < GOROUTINES; i++) {
		id = goro_go(worker, NULL);
		if (id < 0)
			die_neg("goro_go", (long)id);
	}
	goro_wg_wait(&wg);
	wall = now_ns() - t0;

	ideal = (double)GOROUTINES * (double)rounds * (double)chunk_ns / 2;
	snprintf(name, sizeof(name), "%s_wall", prefix);
	result(name, "goro", (double)wall / 1e6, "ms");
	snprintf(name, sizeof(name), "%s_ideal", prefix);
	result(name, "goro", ideal / 1e6, "ms");
	snprintf(name, sizeof(name), "%s_ratio", prefix);
	result(name, "goro", (double)wall / ideal, "x");
	snprintf(name, sizeof(name), "%s_floor", prefix);
	result(name, "goro", (double)floor_ns / 1e6, "ms");
	snprintf(name, sizeof(name), "%s_floor_ratio", prefix);
	result(name, "goro", (double)wall / (double)floor_ns, "x");
	printf("# goro_workcons %s: %ld threads at the end\n", mode,
	       status_kib("Threads"));
	return 0;
}
