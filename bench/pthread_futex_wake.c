// SPDX-License-Identifier: MIT
/*
 * One-way wake latency between two threads through a futex: the physical
 * floor of a P handoff.  The sleeper sits in FUTEX_WAIT (checked through
 * /proc: its state is 'S'), the waker records t0 and FUTEX_WAKEs it, then
 * blocks itself as a goroutine's M blocks in read(); the sleeper records
 * t1 as soon as it returns to user mode.  Reports t1 - t0.
 */
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"

static _Atomic uint32_t go_word;	/* 1: sleeper may run */
static _Atomic uint32_t done_word;	/* 1: sleeper recorded t1 */
static _Atomic uint64_t t0;
static uint64_t *lat;
static long iters;
static _Atomic pid_t sleeper_tid;

static void futex_wait(_Atomic uint32_t *w, uint32_t val)
{
	syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Whether thread @tid of this process is asleep ('S') in the kernel. */
static int asleep(pid_t tid)
{
	char path[64], buf[256], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	f = fopen(path, "r");
	if (!f)
		die(path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == 'S';
}

static void *sleeper(void *arg)
{
	long i;

	(void)arg;
	atomic_store(&sleeper_tid, (pid_t)syscall(SYS_gettid));
	for (i = 0; i < iters; i++) {
		while (!atomic_load(&go_word))
			futex_wait(&go_word, 0);
		lat[i] = now_ns() - atomic_load(&t0);
		atomic_store(&go_word, 0);
		atomic_store(&done_word, 1);
		futex_wake(&done_word);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	long warm, i;
	pthread_t t;
	pid_t tid;

	iters = arg_count(argc, argv, 1, 2000);
	warm = iters / 10;
	iters += warm;
	lat = calloc((size_t)iters, sizeof(*lat));
	if (!lat)
		die("calloc");
	if (pthread_create(&t, NULL, sleeper, NULL))
		die("pthread_create");
	while (!(tid = atomic_load(&sleeper_tid)))
		;
	for (i = 0; i < iters; i++) {
		while (!asleep(tid))
			usleep(10);
		atomic_store(&t0, now_ns());
		atomic_store(&go_word, 1);
		futex_wake(&go_word);
		while (!atomic_load(&done_word))
			futex_wait(&done_word, 0);
		atomic_store(&done_word, 0);
	}
	pthread_join(t, NULL);
	latency_results("handoff", "futex", lat + warm, (size_t)(iters - warm));
	return 0;
}
