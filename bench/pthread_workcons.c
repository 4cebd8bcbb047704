// SPDX-License-Identifier: MIT
/*
 * Work conservation on 1:1 threads: the shape of goro_workcons.c with a
 * thread per goroutine, 200 threads each doing 20 rounds of ~200 µs of
 * compute and a read(2) of a timerfd armed for 1 ms. Nothing multiplexes
 * anything: the kernel's scheduler runs whichever thread is runnable, so
 * this is what blocking costs when every blocked task is a thread, the
 * reference for an M:N scheduler that hands its P off at each block.
 * Reports wall, ideal (chunks x the calibrated chunk time / 2 CPUs) and
 * wall / ideal, impl=pthread. Run it with two CPUs (the test box; on a
 * bigger machine under taskset -c 0,1).
 *
 * Usage: pthread_workcons [rounds]
 */
#include <pthread.h>
#include <stdint.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common.h"
#include "workcons.h"

#define THREADS		200

static long rounds, chunk_iters;

static void *worker(void *arg)
{
	struct itimerspec its = { .it_value = { .tv_nsec = SLEEP_NS } };
	uint64_t ticks;
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
		if (read(fd, &ticks, sizeof(ticks)) != sizeof(ticks))
			die("read");
	}
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	static pthread_t t[THREADS];
	uint64_t chunk_ns, t0, wall;
	pthread_attr_t attr;
	size_t stack;
	double ideal;
	int i;

	rounds = arg_count(argc, argv, 1, 20);
	chunk_iters = calibrate(&chunk_ns);
	printf("# pthread_workcons: %d threads x %ld rounds, chunk %.0f us\n",
	       THREADS, rounds, (double)chunk_ns / 1e3);
	/*
	 * small stacks, as a goroutine's: 200 x 8 MiB would be mapped; not
	 * below the libc's minimum (128 KiB on arm64, for 64 KiB pages)
	 */
	stack = 64 << 10;
	if (sysconf(_SC_THREAD_STACK_MIN) > (long)stack)
		stack = sysconf(_SC_THREAD_STACK_MIN);
	if (pthread_attr_init(&attr) ||
	    pthread_attr_setstacksize(&attr, stack))
		die("pthread_attr");
	t0 = now_ns();
	for (i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], &attr, worker, NULL))
			die("pthread_create");
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	wall = now_ns() - t0;

	ideal = (double)THREADS * (double)rounds * (double)chunk_ns / 2;
	result("workcons_wall", "pthread", (double)wall / 1e6, "ms");
	result("workcons_ideal", "pthread", ideal / 1e6, "ms");
	result("workcons_ratio", "pthread", (double)wall / ideal, "x");
	return 0;
}
