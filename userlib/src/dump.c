/* SPDX-License-Identifier: MIT */
/*
 * goro: goroutine dump (goro_dump, SIGQUIT), deadlock detection, and the
 * stack overflow report from the SIGSEGV handler on each M's sigaltstack.
 */
#include "internal.h"
#include "backend.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define ALTSTACK (64 << 10)
#ifdef GORO_TSAN
#define SANITIZER_THREADS 1	/* TSan's background thread */
#else
#define SANITIZER_THREADS 0
#endif

static struct sigaction old_segv, old_bus;

static void wr(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t k = write(fd, s, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return;
		s += k;
		n -= k;
	}
}

static void wrs(int fd, const char *s)
{
	wr(fd, s, strlen(s));
}

/* async-signal-safe decimal */
static void wrnum(int fd, long long v)
{
	char b[24], *p = b + sizeof(b);
	unsigned long long u = v < 0 ? -(unsigned long long)v : (unsigned long long)v;

	do {
		*--p = '0' + u % 10;
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	wr(fd, p, b + sizeof(b) - p);
}

static const char *state_name(struct goro_g *g)
{
	switch (ld_rlx(&g->status)) {
	case G_IDLE:
		return "idle";
	case G_RUNNABLE:
		return "runnable";
	case G_RUNNING:
		return "running";
	case G_WAITING: {
		const char *w = ld_rlx(&g->waitreason);

		return w ? w : "waiting";
	}
	case G_SYSCALL:
		return "syscall";
	default:
		return "dead";
	}
}

static void dump_g(struct goro_g *g, void *arg)
{
	int fd = *(int *)arg;
	char buf[256], name[128];
	const char *sym = NULL;
	int n;

	if (g->fn && g != &goro__sched.g1)
		sym = goro__fn_name((void *)(uintptr_t)g->fn, name,
				    sizeof(name));
	n = snprintf(buf, sizeof(buf), "goroutine %lld [%s]:\n",
		     (long long)g->id, state_name(g));
	wr(fd, buf, n);
	if (g == &goro__sched.g1)
		n = snprintf(buf, sizeof(buf), "\tmain()\n");
	else if (sym)
		n = snprintf(buf, sizeof(buf), "\tentry %s(%p)%s%s%s\n", sym,
			     g->arg, g->name ? " \"" : "",
			     g->name ? g->name : "", g->name ? "\"" : "");
	else
		n = snprintf(buf, sizeof(buf), "\tentry %p(%p)%s%s%s\n",
			     (void *)(uintptr_t)g->fn, g->arg,
			     g->name ? " \"" : "", g->name ? g->name : "",
			     g->name ? "\"" : "");
	wr(fd, buf, n);
	wrs(fd, "\n");
}

void goro__dump_all(int fd)
{
	if (ld_rlx(&goro__sched.g1.id) &&
	    ld_rlx(&goro__sched.g1.status) != G_DEAD)
		dump_g(&goro__sched.g1, &fd);
	goro__stack_foreach(dump_g, &fd);
}

void goro_dump(void)
{
	if (ensure_init())
		return;
	goro__dump_all(2);
}

/*
 * goro__sched.lock held, called as an M parks (Go's checkdead): when every M is
 * parked, no goroutine is runnable and no timer is pending, nothing can
 * ever run again. Foreign threads might still wake a goroutine, so their
 * use of the API turns the check off.
 */
/* Threads in the process (from /proc/self/stat), or -1. */
static int nthreads(void)
{
	char buf[1024], *p;
	int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC), i;
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	p = strrchr(buf, ')');	/* comm may hold spaces */
	if (!p)
		return -1;
	/* field 20 is num_threads; p is at the end of field 2 */
	for (i = 2; i < 20 && p; i++)
		p = strchr(p + 1, ' ');
	return p ? atoi(p + 1) : -1;
}

/* A value that changes whenever a goroutine enters or leaves a ring. */
static uint64_t runq_sum(void)
{
	uint64_t sum = 0;
	int i;

	for (i = 0; i < goro__sched.nallp; i++) {
		struct goro_p *kp = goro__sched.allp[i]->kp;

		sum += (uint64_t)ld_acq(&kp->head) + ld_acq(&kp->tail) +
		       ld_acq(&kp->runnext);
	}
	return sum;
}

/*
 * goro.ko's PARK steals for an M that is already counted idle: the
 * goroutines it takes have left the victim's ring (its head moved) and
 * are not yet in the thief's (its tail moves next), so for a moment
 * every ring looks empty. Look again after a while longer than that
 * window (a few instructions under a spinlock): a deadlock is a picture
 * that stays empty and unchanged.
 */
static bool still_dead_later(void)
{
	uint64_t before = runq_sum();
	struct timespec ts = {0, 20 * 1000000};
	int i;

	nanosleep(&ts, NULL);
	if (runq_sum() != before || ld_rlx(&goro__sched.runqsize) ||
	    (int32_t)ld_rlx(&goro__sched.nmidle) < goro__sched.mcount)
		return false;
	for (i = 0; i < goro__sched.nallp; i++)
		if (!goro__runq_empty(goro__sched.allp[i]))
			return false;
	return true;
}

void goro__checkdead_locked(bool recheck)
{
	int i;

	if (ld_rlx(&goro__sched.foreign))
		return;
	if ((int32_t)ld_rlx(&goro__sched.nmidle) < goro__sched.mcount)
		return;
	if (goro__timers_next() != INT64_MAX || goro__sched.runqsize)
		return;
	/* goroutines wait on descriptors or poller timers are pending */
	if (goro__netpoll_waiters())
		return;
	/* a signal wanted on a channel may yet come (goro_signal_notify) */
	if (goro__signal_wanted())
		return;
	for (i = 0; i < goro__sched.nallp; i++)
		if (!goro__runq_empty(goro__sched.allp[i]))
			return;
	/*
	 * Threads other than the Ms and sysmon may call into the runtime
	 * later (a foreign thread releasing a WaitGroup): not a deadlock.
	 */
	if (nthreads() != goro__sched.mcount + 1 +
				  (int)ld_rlx(&goro__sched.nextra) +
				  SANITIZER_THREADS)
		return;
	if (recheck && !still_dead_later())
		return;
	if (goro__ngoroutines() == 0) {
		wrs(2, "fatal error: no goroutines (main called goro_exit) - "
		       "deadlock!\n");
		_exit(2);
	}
	wrs(2, "fatal error: all goroutines are asleep - deadlock!\n\n");
	goro__dump_all(2);
	_exit(2);
}

static void segv(int sig, siginfo_t *si, void *uc)
{
	char *a = si->si_addr;
	struct goro_g *g = goro__stack_owner(a);
	struct sigaction *old = sig == SIGBUS ? &old_bus : &old_segv;

	if (g && a < g->stk.lo && a >= g->stk.lo - 4096) {
		wrs(2, "goroutine ");
		wrnum(2, g->id);
		wrs(2, ": stack overflow (its stack: ");
		wrnum(2, g->stk.hi - g->stk.lo);
		wrs(2, " bytes, set by GORO_STACK or goro_go_opts' stack_size)\n"
		       "fatal error: stack overflow\n");
		_exit(2);
	}
	/* not ours: the previous handler, or the default action */
	if (old->sa_flags & SA_SIGINFO) {
		old->sa_sigaction(sig, si, uc);
		return;
	}
	if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
		old->sa_handler(sig);
		return;
	}
	signal(sig, SIG_DFL);
}

static void quit(int sig)
{
	(void)sig;
	wrs(2, "SIGQUIT: quit\n\n");
	goro__dump_all(2);
	_exit(2);
}

/* SIGQUIT prints the dump: the runtime's, not for goro_signal_notify */
bool goro__quit_owned(void)
{
	struct sigaction cur;

	return sigaction(SIGQUIT, NULL, &cur) == 0 &&
	       !(cur.sa_flags & SA_SIGINFO) && cur.sa_handler == quit;
}

void goro__signals_init(void)
{
	struct sigaction sa, cur;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = segv;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, &old_segv);
	sigaction(SIGBUS, &sa, &old_bus);
	if (sigaction(SIGQUIT, NULL, &cur) == 0 && cur.sa_handler == SIG_DFL &&
	    !(cur.sa_flags & SA_SIGINFO)) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = quit;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGQUIT, &sa, NULL);
	}
}

void goro__altstack_init(struct goro_mach *m)
{
	stack_t ss, old;

	if (sigaltstack(NULL, &old) == 0 && !(old.ss_flags & SS_DISABLE) &&
	    old.ss_size >= ALTSTACK / 2)
		return;	/* keep one already set (e.g. by a sanitizer) */
	/* a retired M's structure comes back with its altstack */
	ss.ss_sp = m->altstack ? m->altstack
			       : mmap(NULL, ALTSTACK, PROT_READ | PROT_WRITE,
				      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ss.ss_sp == MAP_FAILED)
		return;
	ss.ss_size = ALTSTACK;
	ss.ss_flags = 0;
	sigaltstack(&ss, NULL);
	m->altstack = ss.ss_sp;
}
