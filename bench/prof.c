// SPDX-License-Identifier: MIT
/*
 * A sampling profiler for the test box, where there is no perf: linked
 * into a static benchmark (make -C bench prof-bins), it samples the
 * instruction pointer of every thread on its own CPU-time timer
 * (CLOCK_THREAD_CPUTIME_ID, 1 ms, so a sleeping thread is never sampled
 * and a running one is never missed), counts each /dev/goro ioctl and
 * its time, and at exit prints
 *
 *	PROF-BEGIN <backend> <samples> threads <n>
 *	IOCTL nr=<nr> n=<calls> avg_ns=<ns>
 *	RUSAGE ...
 *	<the process's /proc/goro/<pid>/sched, when there is one>
 *	P <hex address> <samples>
 *	PROF-END
 *
 * which bench/prof-report symbolizes against the same binary. Threads are
 * followed through pthread_create (-Wl,--wrap=pthread_create); the
 * ioctls through -Wl,--wrap=ioctl. Resolution: the guest's scheduler
 * tick (4 ms at HZ=250), so run the program a few seconds.
 */
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define NSAMP (1 << 20)

static uint64_t samp[NSAMP];
static uint32_t nsamp, nthreads;
static uint64_t ioc_n[256], ioc_ns[256];

static uint64_t prof_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_prof(int sig, siginfo_t *si, void *uc)
{
	uint32_t i = __atomic_fetch_add(&nsamp, 1, __ATOMIC_RELAXED);

	(void)sig;
	(void)si;
	if (i < NSAMP)
		samp[i] = (uint64_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RIP];
}

/* Sample the calling thread every 1 ms of its CPU time. */
static void thread_timer(void)
{
	struct itimerspec its = { { 0, 1000000 }, { 0, 1000000 } };
	struct sigevent ev;
	timer_t t;

	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = SIGPROF;
	ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_THREAD_CPUTIME_ID, &ev, &t) == 0)
		timer_settime(t, 0, &its, NULL);
	__atomic_fetch_add(&nthreads, 1, __ATOMIC_RELAXED);
}

struct tramp {
	void *(*fn)(void *arg);
	void *arg;
};

static void *tramp_main(void *a)
{
	struct tramp t = *(struct tramp *)a;

	free(a);
	thread_timer();
	return t.fn(t.arg);
}

int __real_pthread_create(pthread_t *th, const pthread_attr_t *at,
			  void *(*fn)(void *), void *arg);

int __wrap_pthread_create(pthread_t *th, const pthread_attr_t *at,
			  void *(*fn)(void *), void *arg)
{
	struct tramp *t = malloc(sizeof(*t));

	if (!t)
		return __real_pthread_create(th, at, fn, arg);
	t->fn = fn;
	t->arg = arg;
	return __real_pthread_create(th, at, tramp_main, t);
}

int __real_ioctl(int fd, unsigned long req, ...);

int __wrap_ioctl(int fd, unsigned long req, ...)
{
	uint64_t t0 = prof_now();
	va_list ap;
	void *arg;
	int r;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	r = __real_ioctl(fd, req, arg);
	__atomic_fetch_add(&ioc_n[req & 0xff], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&ioc_ns[req & 0xff], prof_now() - t0,
			   __ATOMIC_RELAXED);
	return r;
}

static int cmp_addr(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

__attribute__((constructor)) static void prof_start(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_prof;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigaction(SIGPROF, &sa, NULL);
	thread_timer();
}

__attribute__((destructor)) static void prof_stop(void)
{
	const char *be = getenv("GORO_BACKEND");
	uint32_t n = nsamp, i, j;
	struct rusage ru;
	char path[64], buf[4096];
	FILE *f;

	signal(SIGPROF, SIG_IGN);
	if (n > NSAMP)
		n = NSAMP;
	qsort(samp, n, sizeof(samp[0]), cmp_addr);
	printf("PROF-BEGIN %s %u threads %u\n", be ? be : "-", n, nthreads);
	for (i = 0; i < 256; i++)
		if (ioc_n[i])
			printf("IOCTL nr=%u n=%llu avg_ns=%llu\n", i,
			       (unsigned long long)ioc_n[i],
			       (unsigned long long)(ioc_ns[i] / ioc_n[i]));
	getrusage(RUSAGE_SELF, &ru);
	printf("RUSAGE utime_ms=%ld stime_ms=%ld minflt=%ld nvcsw=%ld nivcsw=%ld\n",
	       ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000,
	       ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000,
	       ru.ru_minflt, ru.ru_nvcsw, ru.ru_nivcsw);
	snprintf(path, sizeof(path), "/proc/goro/%d/sched", (int)getpid());
	f = fopen(path, "r");
	if (f) {
		size_t k = fread(buf, 1, sizeof(buf) - 1, f);

		buf[k] = 0;
		fclose(f);
		fputs(buf, stdout);
	}
	for (i = 0; i < n; i = j) {
		for (j = i; j < n && samp[j] == samp[i]; j++)
			;
		printf("P %llx %u\n", (unsigned long long)samp[i], j - i);
	}
	printf("PROF-END\n");
	fflush(stdout);
}
