/* SPDX-License-Identifier: MIT */
/*
 * goro: the life cycle of an M (a thread running goroutines): its
 * identity (the thread's M in TLS), starting one for a P (goro__startm,
 * newm), reusing the structures of Ms that left (mput, allocm), an M
 * leaving for good (goro__mexit), and the bracket of a blocking call in
 * goroutine code, after which the M may have lost its P
 * (goro_syscall_enter/exit).
 *
 * Calls down into the backend (attach, wake, P acquire and release) and
 * the dump's signal stack. One call goes up: a new M's thread runs the
 * scheduler loop (goro__schedule, sched.c); and goro_syscall_exit, when
 * its P is gone, queues the goroutine through goro__gswitch (sched.c).
 */
#include "internal.h"
#include "sched.h"
#include "switch.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- per-thread M ------------------------------------------------------ */

__thread struct goro_mach *goro__tls_m __attribute__((tls_model("initial-exec")));

/* goro__getm() where it cannot read the TLS inline (see internal.h) */
__attribute__((noinline)) struct goro_mach *goro__getm_call(void)
{
	__asm__ __volatile__("" ::: "memory");
	return goro__tls_m;
}

__attribute__((noinline)) void goro__setm(struct goro_mach *m)
{
	__asm__ __volatile__("" ::: "memory");
	goro__tls_m = m;
}

/*
 * errno = e on the calling thread, for code that may have switched
 * threads since it last touched errno: the compiler treats errno's
 * address (__errno_location) as constant and would write the old
 * thread's.
 */
__attribute__((noinline)) void goro__set_errno(int e)
{
	__asm__ __volatile__("" ::: "memory");
	errno = e;
}

struct goro_g *goro__curg(void)
{
	struct goro_mach *m = goro__getm();

	return m ? m->curg : NULL;
}

/* ---- Ms ----------------------------------------------------------------- */

void goro__stack_bounds_self(struct goro_stack *s)
{
	pthread_attr_t a;
	void *addr = NULL;
	size_t size = 0;

	if (pthread_getattr_np(pthread_self(), &a) == 0) {
		pthread_attr_getstack(&a, &addr, &size);
		pthread_attr_destroy(&a);
	}
	s->lo = addr;
	s->hi = (char *)addr + size;
	s->cls = 0xfe;
}

static void *mstart(void *arg)
{
	struct goro_mach *m = arg;
	/* the program's mask at its first goro_ call (signal.c) */
	goro__sigmask_m_apply();
	goro__setm(m);
	m->tid = (pid_t)syscall(SYS_gettid);
	m->fastrand = fastrand_seed((uint32_t)m->tid);
	*m->locks = 1;	/* g0 runs with locks set */
	m->inrt = 1;
	if (goro__sched.be->m_attach && goro__sched.be->m_attach(m))
		goro__throw("cannot attach a new M");
	goro__altstack_init(m);
	goro__stack_bounds_self(&m->g0.stk);
#ifdef GORO_TSAN
	m->g0.tsan_fiber = __tsan_get_current_fiber();
#endif
	m->g0.id = 0;
	if (m->nextp) {
		acquirep(m, m->nextp);
		m->nextp = NULL;
	}
	goro__schedule(m);
}

struct goro_mach *goro__allocm(void)
{
	struct goro_mach *m;

	goro__lock(&goro__sched.lock);
	m = goro__sched.mfree;
	if (m) {
		/* a retired M's structure (still on allm) */
		goro__sched.mfree = m->schedlink;
		goro__sched.mcount++;
		goro__unlock(&goro__sched.lock);
		m->schedlink = NULL;
		m->p = m->nextp = NULL;
		m->curg = NULL;
		m->spinning = 0;
		m->after = AFTER_NONE;
		m->inrt = 0;
		m->nlocks = 0;
		st_rlx(&m->dead, 0);
		return m;
	}
	goro__unlock(&goro__sched.lock);
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->locks = &m->locks_own;
	goro__lock(&goro__sched.lock);
	m->id = goro__sched.mnext++;
	goro__sched.mcount++;
	m->alllink = goro__sched.allm;
	st_rel(&goro__sched.allm, m);
	goro__unlock(&goro__sched.lock);
	m->g0.status = G_RUNNING;
	m->fastrand = fastrand_seed((uint32_t)m->id);
	return m;
}


/* M m is gone (never started, or leaving): its slot goes to the free list. */
static void mput(struct goro_mach *m)
{
	goro__lock(&goro__sched.lock);
	goro__sched.mcount--;
	st_rlx(&m->dead, 1);
	m->schedlink = goro__sched.mfree;
	goro__sched.mfree = m;
	goro__unlock(&goro__sched.lock);
}

/* Start a new M owning pp. False when no thread could be created. */
bool goro__newm(struct goro_pp *pp, bool spinning)
{
	struct goro_mach *m;
	pthread_attr_t a;
	sigset_t all, old;
	int err;

	if ((uint32_t)ld_rlx(&goro__sched.mcount) >= goro__sched.maxthreads)
		goro__throw("thread exhaustion");
	m = goro__allocm();
	if (!m)
		return false;
	m->nextp = pp;
	if (pp)
		pp->m = m;
	m->spinning = spinning;
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, G0_STACK);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&m->thread, &a, mstart, m);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&a);
	if (err) {
		mput(m);
		if (pp)
			pp->m = NULL;
		return false;
	}
	return true;
}

/* kmod's factory M: a new M without a P (it parks to get one). */
bool goro__newm_spare(void)
{
	if ((uint32_t)ld_rlx(&goro__sched.mcount) >= goro__sched.maxthreads)
		return false;
	return goro__newm(NULL, false);
}

/* The calling M (idle, holding no P, detached) leaves for good. */
void goro__mexit(struct goro_mach *m)
{
	mput(m);
	goro__setm(NULL);
	pthread_exit(NULL);
}

/* Go's startm: the backend wakes or starts the M (backend.h). */
void goro__startm(struct goro_pp *pp, bool spinning)
{
	if (!goro__sched.be->startm(pp, spinning) && spinning)
		xadd(&goro__sched.nmspinning, -1);
}

/* sysmon took pp from a blocked M: give it to someone (Go's handoffp). */
void goro__handoffp(struct goro_pp *pp)
{
	if (!goro__runq_empty(pp) || ld_sc(&goro__sched.runqsize)) {
		goro__startm(pp, false);
		return;
	}
	if (ld_sc(&goro__sched.nmspinning) + goro__sched.be->npidle() == 0 &&
	    cas(&goro__sched.nmspinning, 0, 1)) {
		goro__startm(pp, true);
		return;
	}
	if (ld_rlx(&pp->nexttimer) != INT64_MAX) {
		goro__startm(pp, false);
		return;
	}
	releasep_backend(NULL, pp);
}

void goro_syscall_enter(void)
{
	struct goro_mach *m = goro__getm();
	int e = errno;

	if (m && m->curg && m->p) {
		bool en = rt_enter(m);

		g_setstatus(m->curg, G_SYSCALL);
		g_setwait(m->curg, "syscall");
		m->insyscall = 1;
		if (m->p && goro__sched.be->syscall_enter)
			goro__sched.be->syscall_enter(m);
		rt_leave(m, en);
	}
	errno = e;
}

void goro_syscall_exit(void)
{
	struct goro_mach *m = goro__getm();
	struct goro_g *g;
	struct goro_pp *pp;
	int e = errno;
	bool en;

	if (!m || !m->curg || !m->insyscall) {
		errno = e;
		return;
	}
	g = m->curg;
	m->insyscall = 0;
	en = rt_enter(m);
	if (!goro__sched.be->syscall_exit(m)) {
		/* the P was handed off: take an idle one or queue and wait */
		m->p = NULL;
		pp = goro__sched.be->p_acquire(m);
		if (pp) {
			acquirep(m, pp);
		} else {
			g_setstatus(g, G_RUNNABLE);
			g_setwait(g, NULL);
			goro__gswitch(m, g, &m->g0, AFTER_GLOBAL, NULL);
			rt_leave(g->m, en);
			goro__set_errno(e);	/* possibly another thread */
			return;
		}
	}
	g_setwait(g, NULL);
	g_setstatus(g, G_RUNNING);
	rt_leave(m, en);
	errno = e;
}

intptr_t goro__syscall_ret(intptr_t r)
{
	goro_syscall_exit();
	return r;
}
