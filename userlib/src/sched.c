/* SPDX-License-Identifier: MIT */
/*
 * goro: the scheduler. Go's runtime/proc.go, in C: goroutines (G) run on
 * threads (M) holding a processor (P); each P has a lock-free local run
 * queue of 256 plus runnext, overflowing half into the global queue; idle
 * Ms steal half of a random victim's queue; the global queue is checked
 * every 61 schedule ticks; at most one spinning M per new piece of work is
 * woken (wakep). How Ms sleep and where Ps live is the backend's business
 * (backend.h).
 *
 * Switching. A goroutine that gives up its M switches directly to the next
 * goroutine of its P when there is one (the fast path: one context switch),
 * else to its M's scheduler context g0, which looks for work and parks the
 * M. The context switched to finishes the work of the one that left (put
 * it on a run queue, release the lock it parked under, free its stack):
 * that runs only once the leaving context's registers are saved, so no
 * other M can resume a half-saved goroutine.
 */
#include "internal.h"
#include "backend.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifdef GORO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#endif
#ifdef GORO_TSAN
#include <sanitizer/tsan_interface.h>
#endif
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define GORO_VALGRIND 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
uint32_t goro__fence_word HIDDEN;
#endif

struct goro_sched goro__sched = {
};

#define G0_STACK (256UL << 10)
#define DEFAULT_STACK (64UL << 10)
#define MAX_STACK (1UL << 30)
#define GOID_BATCH 16		/* ids a P takes from goidgen at once */

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

struct goro_g *goro__curg(void)
{
	struct goro_mach *m = goro__getm();

	return m ? m->curg : NULL;
}

/* locks_set() (internal.h) found that the kernel moved m's P */
void goro__p_moved(struct goro_mach *m)
{
	m->p = sched.be->current_p(m);
}

/*
 * kmod: an M back from a block waits for a P (the module's nmwaitp).
 * Read inline: it is checked on every scheduling path.
 */
static inline bool p_wanted(void)
{
	struct goro_shared_hdr *h = sched.kruntime;

	return h && unlikely(ld_rlx(&h->nmwaitp) != 0);
}

/*
 * The runtime is entered from goroutine code on M m (locks_set()). True
 * when this call set locks (the outermost entry), for rt_leave().
 */
static inline bool rt_enter(struct goro_mach *m)
{
	if (m->inrt)
		return false;
	m->inrt = 1;
	locks_set(m);
	return true;
}

static inline void rt_leave(struct goro_mach *m, bool entered)
{
	if (!entered)
		return;
	m->inrt = 0;
	__asm__ __volatile__("" ::: "memory");
	if (!m->nlocks)
		*(volatile uint32_t *)m->locks = 0;
}

/* lock()/unlock() keep the M's lock account (internal.h): kmod only */
uint32_t goro__lock_hooks;

int64_t nanotime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void on_exit_stop(void);

void goro__fatal(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	/* a fatal error stops the world: no goroutine runs while we exit */
	on_exit_stop();
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	if (write(2, buf, n) < 0)
		_exit(2);
	_exit(2);
}

void goro__throw(const char *msg)
{
	goro__fatal("fatal error: %s\n", msg);
}

/* ---- run queues ---------------------------------------------------------- */

#define H(g) ((__u64)(uintptr_t)(g))
#define G(h) ((struct goro_g *)(uintptr_t)(h))

/* sched.lock held */
static void globrunqput_batch(struct goro_g *h, struct goro_g *t, uint32_t n)
{
	t->schedlink = NULL;
	if (sched.runqtail)
		sched.runqtail->schedlink = h;
	else
		sched.runqhead = h;
	sched.runqtail = t;
	st_sc(&sched.runqsize, sched.runqsize + n);
	if (sched.kruntime)	/* what PARK's last look reads */
		st_sc(&sched.kruntime->runqsize, sched.runqsize);
}

static void globrunqput(struct goro_g *g)
{
	lock(&sched.lock);
	globrunqput_batch(g, g, 1);
	unlock(&sched.lock);
}

/*
 * Local queue full: move half of it plus g to the global queue (Go's
 * runqputslow). False when a thief got in first; the caller retries.
 */
static bool runqputslow(struct goro_pp *pp, struct goro_g *g, uint32_t h,
			uint32_t t)
{
	struct goro_p *kp = pp->kp;
	struct goro_g *batch[GORO_RUNQ_ENTRIES / 2 + 1];
	uint32_t n = (t - h) / 2, i;

	if (n != GORO_RUNQ_ENTRIES / 2)
		return false;
	for (i = 0; i < n; i++)
		batch[i] = G(ld_rlx(&kp->ring[(h + i) & GORO_RUNQ_MASK]));
	if (!goro__cas_rel_u32(&kp->head, h, h + n))
		return false;
	batch[n] = g;
	for (i = 0; i < n; i++)
		batch[i]->schedlink = batch[i + 1];
	lock(&sched.lock);
	globrunqput_batch(batch[0], batch[n], n + 1);
	unlock(&sched.lock);
	return true;
}

/* Owner of pp: make g runnable on pp; as runnext when next. */
static void runqput(struct goro_pp *pp, struct goro_g *g, bool next)
{
	struct goro_p *kp = pp->kp;

	if (next) {
		__u64 old = xchg(&kp->runnext, H(g));

		if (!old)
			return;
		g = G(old);	/* kick the old runnext to the tail */
	}
	for (;;) {
		uint32_t h = ld_acq(&kp->head);	/* pairs with CAS in get/grab */
		uint32_t t = ld_rlx(&kp->tail);

		if (t - h < GORO_RUNQ_ENTRIES) {
			st_rlx(&kp->ring[t & GORO_RUNQ_MASK], H(g));
			st_rel(&kp->tail, t + 1);	/* pairs with ld_acq */
			return;
		}
		if (runqputslow(pp, g, h, t))
			return;
	}
}

/* Owner of pp: next goroutine to run from pp, or NULL. */
static struct goro_g *runqget(struct goro_pp *pp)
{
	struct goro_p *kp = pp->kp;
	__u64 next = ld_rlx(&kp->runnext);

	if (next && cas(&kp->runnext, next, 0))
		return G(next);
	return G(goro_runq_get(kp, 0));
}

bool goro__runq_empty(struct goro_pp *pp)
{
	return goro_runq_len(pp->kp) == 0 && ld_acq(&pp->kp->runnext) == 0;
}

/* Steal half of victim's queue into pp's (empty) queue; one to run. */
static struct goro_g *runqsteal(struct goro_pp *pp, struct goro_pp *victim,
				bool runnext)
{
	struct goro_p *kp = pp->kp;
	uint32_t t = ld_rlx(&kp->tail);
	uint32_t n = goro_runq_grab(victim->kp, kp, t, 0);
	struct goro_g *g;

	if (n == 0) {
		__u64 next;

		if (!runnext)
			return NULL;
		next = ld_acq(&victim->kp->runnext);
		if (next && cas(&victim->kp->runnext, next, 0))
			return G(next);
		return NULL;
	}
	n--;
	g = G(ld_rlx(&kp->ring[(t + n) & GORO_RUNQ_MASK]));
	if (n)
		goro_runq_publish(kp, t, n);
	return g;
}

/* sched.lock held: up to max (0 = a fair share) from the global queue. */
static struct goro_g *globrunqget(struct goro_pp *pp, uint32_t max)
{
	uint32_t n = sched.runqsize, i;
	struct goro_g *g;

	if (n == 0)
		return NULL;
	if (n > sched.runqsize / ld_rlx(&sched.nprocs) + 1)
		n = sched.runqsize / ld_rlx(&sched.nprocs) + 1;
	if (max && n > max)
		n = max;
	if (n > GORO_RUNQ_ENTRIES / 2)
		n = GORO_RUNQ_ENTRIES / 2;
	st_sc(&sched.runqsize, sched.runqsize - n);
	if (sched.kruntime)
		st_sc(&sched.kruntime->runqsize, sched.runqsize);
	g = sched.runqhead;
	sched.runqhead = g->schedlink;
	for (i = 1; i < n; i++) {
		struct goro_g *x = sched.runqhead;

		sched.runqhead = x->schedlink;
		runqput(pp, x, false);
	}
	if (!sched.runqhead)
		sched.runqtail = NULL;
	return g;
}

/* ---- sanitizers and the switch ------------------------------------------ */

static inline void san_before(struct goro_g *from, struct goro_g *to,
			      bool dying)
{
#ifdef GORO_ASAN
	__sanitizer_start_switch_fiber(dying ? NULL : &from->asan_fake,
				       to->stk.lo, to->stk.hi - to->stk.lo);
#else
	(void)from;
	(void)dying;
#endif
#ifdef GORO_TSAN
	__tsan_switch_to_fiber(to->tsan_fiber, 0);
#else
	(void)to;
#endif
}

static inline void san_after(struct goro_g *self)
{
#ifdef GORO_ASAN
	__sanitizer_finish_switch_fiber(self ? self->asan_fake : NULL, NULL,
					NULL);
#else
	(void)self;
#endif
}

NORETURN static void stack_overflow(struct goro_g *g)
{
	goro__fatal("goroutine %lld: stack overflow (stack guard word "
		    "overwritten)\nfatal error: stack overflow\n",
		    (long long)g->id);
}

/*
 * A goroutine never returns from the frames that make its last switch
 * (goro__g_entry, goexit1, execute, gswitch; with goro_exit, every frame
 * of its caller too): under TSan their __tsan_func_entry records stay on
 * the fiber's shadow stack. That stack is a fixed array (64K entries)
 * that TSan does not bounds-check: a fiber reused for ever overflows it
 * into the fiber's own vector clock and the TSan runtime crashes (or
 * reports garbage). A fiber is expensive to create (about 2 ms), so it
 * stays with its stack slot, but only for this many goroutines that
 * returned (at most 4 records each); after a goro_exit (any depth), or
 * when the slot is unmapped (a big stack), it is destroyed.
 */
#define TSAN_FIBER_RUNS 1024

static void free_g(struct goro_mach *m, struct goro_g *g)
{
#ifdef GORO_TSAN
	/* g's fiber is no longer the current one: we run on the next */
	if (g->tsan_fiber && (g->stk.cls == STACK_CLS_BIG ||
			      ++g->tsan_runs >= TSAN_FIBER_RUNS)) {
		__tsan_destroy_fiber(g->tsan_fiber);
		g->tsan_fiber = NULL;
		g->tsan_runs = 0;
	}
#endif
#ifdef GORO_ASAN
	__asan_unpoison_memory_region(g->stk.lo, g->stk.hi - g->stk.lo);
#endif
#ifdef GORO_VALGRIND
	VALGRIND_STACK_DEREGISTER(g->vg_id);
#endif
	goro__stack_free(m->p, g);
}

/* Finish the work of the context that just left this M. */
static inline void after_switch(struct goro_mach *m)
{
	struct goro_g *prev = m->after_g;

	switch (m->after) {
	case AFTER_NONE:
		return;
	case AFTER_RUNQ:
		runqput(m->p, prev, false);
		break;
	case AFTER_GLOBAL:
		globrunqput(prev);
		break;
	case AFTER_UNLOCK:
		unlock(m->after_lock);
		break;
	case AFTER_FREE:
		free_g(m, prev);
		break;
	}
	m->after = AFTER_NONE;
}

/*
 * Switch M m from the running context from to to, leaving action for to
 * to finish. Returns when from is resumed (on whichever M).
 */
static void gswitch(struct goro_mach *m, struct goro_g *from, struct goro_g *to,
		    int action, uint32_t *lk)
{
	if (unlikely(from->canary && *from->canary != STACK_CANARY))
		stack_overflow(from);
	m->after = action;
	m->after_g = from;
	m->after_lock = lk;
	m->curg = to == &m->g0 ? NULL : to;
	to->m = m;
	san_before(from, to, action == AFTER_FREE);
	m = goro__ctx_swap(&from->sp, to->sp, m);
	san_after(from);
	after_switch(m);
}

/*
 * The process is exiting (main returned, or exit() was called): like Go,
 * no goroutine gets to run any more. Ms other than the exiting thread
 * stop here for good.
 */
static void exit_stop(void)
{
	uint32_t never = 0;

	if (ld_rlx(&sched.exit_tid) == (pid_t)syscall(SYS_gettid))
		return;
	for (;;)
		goro__futex_wait(&never, 0, 0);
}

static void on_exit_stop(void)
{
	st_rlx(&sched.exit_tid, (pid_t)syscall(SYS_gettid));
	st_sc(&sched.exiting, 1);
}

/* Run g on m's P: g is the next goroutine of this M. */
static void execute(struct goro_mach *m, struct goro_g *from, struct goro_g *g,
		    int action, uint32_t *lk)
{
	struct goro_p *kp = m->p->kp;

	if (unlikely(ld_rlx(&sched.exiting)))
		exit_stop();
	st_rlx(&kp->schedtick, kp->schedtick + 1);
	if (ld_rlx(&kp->preempt))
		st_rlx(&kp->preempt, 0);
	if (unlikely(m->p->async != g->async_preempt))
		st_rlx(&m->p->async, g->async_preempt);	/* for sysmon */
	g_setstatus(g, G_RUNNING);
	gswitch(m, from, g, action, lk);
}

/* Entry of every fresh context (called from goro__ctx_entry). */
NORETURN void goro__g_entry(struct goro_mach *m, struct goro_g *g);
NORETURN static void goexit1(struct goro_g *g);

void goro__g_entry(struct goro_mach *m, struct goro_g *g)
{
	san_after(NULL);
	after_switch(m);
	if (g != &m->g0)	/* main's g0 starts here too: it stays in */
		rt_leave(m, true);	/* into goroutine code */
	g->fn(g->arg);
	goexit1(g);
}

/* Lay out a fresh context on g's stack that starts in goro__g_entry. */
static void g_prepare(struct goro_g *g)
{
	uintptr_t top = ((uintptr_t)g->stk.hi - 64) & ~(uintptr_t)15;
	uint64_t *f = (uint64_t *)(top - 64);

	f[0] = 0x1f80 | ((uint64_t)0x037f << 32); /* MXCSR, x87 CW */
	f[1] = 0;				   /* r15 */
	f[2] = 0;				   /* r14 */
	f[3] = 0;				   /* r13 */
	f[4] = (uint64_t)(uintptr_t)g;		   /* r12 */
	f[5] = 0;				   /* rbx */
	f[6] = 0;				   /* rbp */
	f[7] = (uint64_t)(uintptr_t)goro__ctx_entry;
	g->sp = f;
#ifdef GORO_TSAN
	if (!g->tsan_fiber)
		g->tsan_fiber = __tsan_create_fiber(0);
#endif
#ifdef GORO_VALGRIND
	g->vg_id = VALGRIND_STACK_REGISTER(g->stk.lo, g->stk.hi);
#endif
}

/* ---- the scheduler loop (on g0) ----------------------------------------- */

static struct goro_g *findrunnable(struct goro_mach *m);
static void acquirep(struct goro_mach *m, struct goro_pp *pp);

static inline void wakep_after_rmw(void);

static void resetspinning(struct goro_mach *m)
{
	m->spinning = 0;
	xadd(&sched.nmspinning, -1);
	wakep_after_rmw();
}

/* m's P is retired (goro_setprocs lowered nprocs): give its work away. */
static void drop_retired(struct goro_mach *m)
{
	struct goro_pp *pp = m->p;
	struct goro_g *g;

	while ((g = runqget(pp)))
		globrunqput(g);
	m->p = NULL;
	pp->m = NULL;
	sched.be->p_release(m, pp);
}

NORETURN static void schedule(struct goro_mach *m)
{
	for (;;) {
		struct goro_pp *pp = m->p;
		struct goro_g *g = NULL;

		if (pp && unlikely(ld_rlx(&pp->retired))) {
			drop_retired(m);
			pp = NULL;
		}
		if (pp && unlikely(p_wanted())) {
			/* an M back from a block waits: our P goes to it */
			m->p = NULL;
			pp->m = NULL;
			pp = sched.be->p_yield(m);
			if (pp)
				acquirep(m, pp);
			continue;
		}
		if (!pp) {
			g = findrunnable(m);
		} else {
			if (ld_rlx(&pp->nexttimer) != INT64_MAX)
				goro__timers_run(pp);
			if (pp->kp->schedtick % 61 == 0 &&
			    ld_rlx(&sched.runqsize)) {
				lock(&sched.lock);
				g = globrunqget(pp, 1);
				unlock(&sched.lock);
			}
			if (!g)
				g = runqget(pp);
			if (!g)
				g = findrunnable(m);
		}
		if (m->spinning)
			resetspinning(m);
		if (unlikely(ld_rlx(&m->p->retired))) {
			/* retired while we looked for work */
			globrunqput(g);
			continue;
		}
		execute(m, &m->g0, g, AFTER_NONE, NULL);
	}
}

static void g0_main(void *arg)
{
	schedule(arg);
}

static struct goro_g *stealwork(struct goro_mach *m)
{
	int n = ld_rlx(&sched.nprocs), i, k;

	for (i = 0; i < 4; i++) {
		int start = fastrand(&m->fastrand) % n;

		for (k = 0; k < n; k++) {
			struct goro_pp *v = sched.allp[(start + k) % n];
			struct goro_g *g;

			if (v == m->p)
				continue;
			g = runqsteal(m->p, v, i == 3);
			if (g)
				return g;
		}
	}
	return NULL;
}

static bool any_work(void)
{
	int i, n = ld_acq(&sched.nallp);

	if (ld_sc(&sched.runqsize))
		return true;
	for (i = 0; i < n; i++)
		if (!goro__runq_empty(sched.allp[i]))
			return true;
	return false;
}

static void acquirep(struct goro_mach *m, struct goro_pp *pp)
{
	m->p = pp;
	pp->m = m;
}

/* Find a goroutine to run; parks the M while there is none. */
static struct goro_g *findrunnable(struct goro_mach *m)
{
	struct goro_pp *pp;
	struct goro_g *g;
	bool was_spinning;
	int64_t deadline;

top:
	pp = m->p;
	if (!pp)
		goto park;
	if (unlikely(ld_rlx(&pp->retired))) {
		drop_retired(m);
		goto park;
	}
	if (ld_rlx(&pp->nexttimer) != INT64_MAX)
		goro__timers_run(pp);
	g = runqget(pp);
	if (g)
		return g;
	if (ld_rlx(&sched.runqsize)) {
		lock(&sched.lock);
		g = globrunqget(pp, 0);
		unlock(&sched.lock);
		if (g)
			return g;
	}
	/* ready descriptors, unless an M waits in the poller already */
	g = goro__netpoll_check(m, true);
	if (g)
		return g;
	if (m->spinning || 2 * ld_sc(&sched.nmspinning) <
				   (uint32_t)ld_rlx(&sched.nprocs) -
					   sched.be->npidle()) {
		if (!m->spinning) {
			m->spinning = 1;
			xadd(&sched.nmspinning, 1);
		}
		g = stealwork(m);
		if (g)
			return g;
	}

	/* due timers on other Ps (idle or busy ones): ours now (Go's checkTimers) */
	if (goro__timers_next() <= nanotime()) {
		goro__timers_run_all();
		g = runqget(pp);
		if (g)
			return g;
	}

	/* nothing: give the P up, then look once more (Go's findrunnable) */
	lock(&sched.lock);
	if (sched.runqsize) {
		g = globrunqget(pp, 0);
		unlock(&sched.lock);
		return g;
	}
	unlock(&sched.lock);
	m->p = NULL;
	pp->m = NULL;
	sched.be->p_release(m, pp);
park:
	was_spinning = m->spinning;
	if (m->spinning) {
		m->spinning = 0;
		xadd(&sched.nmspinning, -1);
	}
	fence_sc();	/* pairs with the fence in wakep */
	if (any_work() || goro__timers_next() <= nanotime()) {
		pp = sched.be->p_acquire(m);
		if (pp) {
			acquirep(m, pp);
			if (was_spinning) {
				m->spinning = 1;
				xadd(&sched.nmspinning, 1);
			}
			goto top;
		}
	}
	if (sched.be->kernel_p && goro__timers_next() <= nanotime()) {
		/* no P to run them on: ready them to the global queue,
		 * which PARK's last look then finds */
		goro__timers_run_all();
	}
	deadline = goro__timers_next();
	if (deadline == INT64_MAX)
		deadline = 0;
	pp = sched.be->m_park(m, deadline);
	if (!pp)
		pp = sched.be->p_acquire(m);	/* timer due: take a P */
	if (pp)
		acquirep(m, pp);
	goto top;
}

/* ---- Ms ----------------------------------------------------------------- */

static void stack_bounds_self(struct goro_stack *s)
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
	sigset_t none;

	sigemptyset(&none);
	pthread_sigmask(SIG_SETMASK, &none, NULL);
	goro__setm(m);
	m->tid = (pid_t)syscall(SYS_gettid);
	m->fastrand = (uint32_t)m->tid * 2654435761U | 1;
	*m->locks = 1;	/* g0 runs with locks set */
	m->inrt = 1;
	if (sched.be->m_attach(m))
		goro__throw("cannot attach a new M");
	goro__altstack_init(m);
	stack_bounds_self(&m->g0.stk);
#ifdef GORO_TSAN
	m->g0.tsan_fiber = __tsan_get_current_fiber();
#endif
	m->g0.id = 0;
	if (m->nextp) {
		acquirep(m, m->nextp);
		m->nextp = NULL;
	}
	schedule(m);
}

static struct goro_mach *allocm(void)
{
	struct goro_mach *m;

	lock(&sched.lock);
	m = sched.mfree;
	if (m) {
		/* a retired M's structure (still on allm) */
		sched.mfree = m->schedlink;
		sched.mcount++;
		unlock(&sched.lock);
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
	unlock(&sched.lock);
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->locks = &m->locks_own;
	lock(&sched.lock);
	m->id = sched.mnext++;
	sched.mcount++;
	m->alllink = sched.allm;
	st_rel(&sched.allm, m);
	unlock(&sched.lock);
	m->g0.status = G_RUNNING;
	m->fastrand = (uint32_t)m->id * 2654435761U | 1;
	return m;
}

/* Start a new M owning pp. False when no thread could be created. */
/* M m is gone (never started, or leaving): its slot goes to the free list. */
static void mput(struct goro_mach *m)
{
	lock(&sched.lock);
	sched.mcount--;
	st_rlx(&m->dead, 1);
	m->schedlink = sched.mfree;
	sched.mfree = m;
	unlock(&sched.lock);
}

static bool newm(struct goro_pp *pp, bool spinning)
{
	struct goro_mach *m;
	pthread_attr_t a;
	sigset_t all, old;
	int err;

	if ((uint32_t)ld_rlx(&sched.mcount) >= sched.maxthreads)
		goro__throw("thread exhaustion");
	m = allocm();
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
	if ((uint32_t)ld_rlx(&sched.mcount) >= sched.maxthreads)
		return false;
	return newm(NULL, false);
}

/* The calling M (idle, holding no P, detached) leaves for good. */
void goro__mexit(struct goro_mach *m)
{
	mput(m);
	goro__setm(NULL);
	pthread_exit(NULL);
}

void goro__startm(struct goro_pp *pp, bool spinning)
{
	if (!pp && sched.be->kernel_p) {
		/* the kernel picks the P and the M */
		int r = sched.be->wake();

		if (r == 1)
			return;
		if (r == 0 && (uint32_t)ld_rlx(&sched.mcount) <
				      sched.maxthreads &&
		    newm(NULL, spinning))
			return;
		if (spinning)
			xadd(&sched.nmspinning, -1);
		return;
	}
	if (!pp) {
		pp = sched.be->p_acquire(NULL);
		if (!pp) {
			if (spinning)
				xadd(&sched.nmspinning, -1);
			return;
		}
	}
	if (sched.be->m_wake(pp, spinning))
		return;
	if (!newm(pp, spinning)) {
		sched.be->p_release(NULL, pp);
		if (spinning)
			xadd(&sched.nmspinning, -1);
	}
}

/*
 * Go's wakep (one more spinning M if there is an idle P and none spins),
 * for a caller whose store that made the work visible was a
 * seq_cst read-modify-write (runqput's xchg of runnext, an xadd): that
 * orders it before the npidle load as the fence would (a locked
 * instruction on x86-64), and the ready path saves a fence.
 */
static inline void wakep_after_rmw(void)
{
	if (sched.be->npidle() == 0)
		return;
	if (ld_sc(&sched.nmspinning) != 0 || !cas(&sched.nmspinning, 0, 1))
		return;
	goro__startm(NULL, true);
}

void goro__wakep(void)
{
	fence_sc();	/* pairs with the fence in findrunnable */
	wakep_after_rmw();
}

/* Runnable g goes to m's P as runnext (else the global queue); wakep. */
static inline void put_ready(struct goro_mach *m, struct goro_g *g)
{
	if (m && m->p) {
		runqput(m->p, g, true);	/* a seq_cst xchg of runnext */
		wakep_after_rmw();
	} else {
		globrunqput(g);
		goro__wakep();
	}
}

/* sysmon took pp from a blocked M: give it to someone (Go's handoffp). */
void goro__handoffp(struct goro_pp *pp)
{
	if (!goro__runq_empty(pp) || ld_sc(&sched.runqsize)) {
		goro__startm(pp, false);
		return;
	}
	if (ld_sc(&sched.nmspinning) + sched.be->npidle() == 0 &&
	    cas(&sched.nmspinning, 0, 1)) {
		goro__startm(pp, true);
		return;
	}
	if (ld_rlx(&pp->nexttimer) != INT64_MAX) {
		goro__startm(pp, false);
		return;
	}
	sched.be->p_release(NULL, pp);
}

/* ---- goroutine operations -------------------------------------------------- */

/* The fast path's next goroutine; NULL sends the caller through g0. */
static inline struct goro_g *fast_next(struct goro_pp *pp)
{
	if (unlikely(ld_rlx(&pp->retired)))
		return NULL;
	return runqget(pp);
}

/* Park g (the caller) under lock lk, released once g is off its stack. */
void goro__park(struct goro_g *g, uint32_t *lk, const char *why)
{
	struct goro_mach *m = g->m;
	struct goro_g *next;
	bool e = rt_enter(m);

	g_setwait(g, why);
	g_setstatus(g, G_WAITING);
	next = m->p ? fast_next(m->p) : NULL;
	if (next)
		execute(m, g, next, AFTER_UNLOCK, lk);
	else
		gswitch(m, g, &m->g0, AFTER_UNLOCK, lk);
	rt_leave(g->m, e);
}

/* Make a parked g runnable. Any thread. */
void goro__ready(struct goro_g *g)
{
	struct goro_mach *m = goro__getm();
	bool e = m && rt_enter(m);

	g_setwait(g, NULL);
	g_setstatus(g, G_RUNNABLE);
	put_ready(m, g);
	if (m)
		rt_leave(m, e);
}

/*
 * One goroutine more or less: on pp's own count (only its owner writes
 * it), or the global one without a P. goro__ngoroutines() sums them.
 */
static void count_goroutine(struct goro_pp *pp, int d)
{
	if (pp)
		st_rlx(&pp->ngo, ld_rlx(&pp->ngo) + d);
	else
		xadd(&sched.ngoroutines, d);
}

/*
 * The sum is read while goroutines start and end: one that started on a
 * P already read and ended on a P not yet read counts only its end, so
 * the sum may be low (Go's gcount clamps the same way).
 */
int64_t goro__ngoroutines(void)
{
	int64_t n = ld_rlx(&sched.ngoroutines);
	int i, np = ld_acq(&sched.nallp);

	for (i = 0; i < np; i++)
		n += ld_rlx(&sched.allp[i]->ngo);
	return n < 0 ? 0 : n;
}

/* A new goroutine id: from pp's batch, refilled 16 at a time. */
static int64_t new_goid(struct goro_pp *pp)
{
	if (!pp)
		return xadd(&sched.goidgen, 1) + 1;
	if (pp->goidcache == pp->goidcacheend) {
		pp->goidcache = xadd(&sched.goidgen, GOID_BATCH) + 1;
		pp->goidcacheend = pp->goidcache + GOID_BATCH;
	}
	return pp->goidcache++;
}

NORETURN static void goexit1(struct goro_g *g)
{
	struct goro_mach *m = g->m;
	struct goro_g *next;

	rt_enter(m);	/* the next context clears locks */
	g_setstatus(g, G_DEAD);	/* its registry entry too */
	if (g == &sched.g1) {
		st_rlx(&sched.main_exited, 1);
	}
	count_goroutine(m->p, -1);
	next = m->p ? fast_next(m->p) : NULL;
	if (next)
		execute(m, g, next, g == &sched.g1 ? AFTER_NONE : AFTER_FREE,
			NULL);
	else
		gswitch(m, g, &m->g0, g == &sched.g1 ? AFTER_NONE : AFTER_FREE,
			NULL);
	__builtin_unreachable();
}

/* Wait queue entries: a goroutine parks, a foreign thread sleeps. */
void goro__waiter_init(struct goro_waiter *w)
{
	w->next = NULL;
	w->g = goro__curg();
	w->futex = 0;
	w->flag = 0;
}

/* Sleep until goro__waiter_wake(w); lk (held) is released. */
void goro__waiter_park(struct goro_waiter *w, uint32_t *lk, const char *why)
{
	if (w->g) {
		goro__park(w->g, lk, why);
		return;
	}
	unlock(lk);
	while (ld_acq(&w->futex) == 0)
		goro__futex_wait(&w->futex, 0, 0);
}

void goro__waiter_wake(struct goro_waiter *w)
{
	struct goro_g *g = w->g;

	if (g) {
		goro__ready(g);
		return;
	}
	/* w may be gone once futex is 1: wake by address only */
	st_rel(&w->futex, 1);
	goro__futex_wake(&w->futex, 1);
}

/*
 * Make the goroutines of list (from goro__netpoll) runnable: on m's P
 * when it has one, else on the global queue. With take, the first one is
 * returned instead, for the caller to run. Go's injectglist.
 */
struct goro_g *goro__inject(struct goro_mach *m, struct goro_g *list,
			    bool take)
{
	struct goro_g *first = NULL, *g, *tail = NULL, *head = NULL;
	uint32_t queued = 0;

	while ((g = list)) {
		list = g->schedlink;
		g_setwait(g, NULL);
		g_setstatus(g, G_RUNNABLE);
		if (take && !first) {
			first = g;
			continue;
		}
		queued++;
		if (m && m->p) {
			runqput(m->p, g, false);
			continue;
		}
		g->schedlink = NULL;
		if (tail)
			tail->schedlink = g;
		else
			head = g;
		tail = g;
	}
	if (head) {
		lock(&sched.lock);
		globrunqput_batch(head, tail, queued);
		unlock(&sched.lock);
	}
	if (queued)
		goro__wakep();
	return first;
}

/* ---- timers: a heap per P (Go 1.14) --------------------------------------- */

static void heap_set(struct goro_timer **h, uint32_t i, struct goro_timer *t)
{
	h[i] = t;
	t->idx = (int32_t)i;
}

static void heap_up(struct goro_timer **h, uint32_t i)
{
	struct goro_timer *t = h[i];

	while (i > 0) {
		uint32_t p = (i - 1) / 2;

		if (h[p]->when <= t->when)
			break;
		heap_set(h, i, h[p]);
		i = p;
	}
	heap_set(h, i, t);
}

static void heap_down(struct goro_timer **h, uint32_t n, uint32_t i)
{
	struct goro_timer *t = h[i];

	for (;;) {
		uint32_t l = 2 * i + 1, s = l;

		if (l >= n)
			break;
		if (l + 1 < n && h[l + 1]->when < h[l]->when)
			s = l + 1;
		if (t->when <= h[s]->when)
			break;
		heap_set(h, i, h[s]);
		i = s;
	}
	heap_set(h, i, t);
}

/* pp->tlock held: take t out of pp's heap. */
static void heap_remove(struct goro_pp *pp, struct goro_timer *t)
{
	uint32_t i = (uint32_t)t->idx, last = --pp->ntimers;

	if (i != last) {
		heap_set(pp->timers, i, pp->timers[last]);
		heap_down(pp->timers, pp->ntimers, i);
		heap_up(pp->timers, i);
	}
	t->idx = -1;
	st_sc(&pp->nexttimer, pp->ntimers ? pp->timers[0]->when : INT64_MAX);
}

void goro__timers_run(struct goro_pp *pp)
{
	struct goro_timer *done = NULL, *t;
	int64_t now = nanotime();

	if (ld_rlx(&pp->nexttimer) > now)
		return;
	lock(&pp->tlock);
	while (pp->ntimers && pp->timers[0]->when <= now) {
		void (*release)(struct goro_timer *t);

		t = pp->timers[0];
		heap_remove(pp, t);
		/*
		 * without release, t may be gone once fn returns (a
		 * sleeper's, on its stack, runs elsewhere at once)
		 */
		release = t->release;
		t->fn(t);
		if (release) {
			t->next = done;
			done = t;
		}
	}
	unlock(&pp->tlock);
	while ((t = done)) {
		done = t->next;
		t->release(t);
	}
}

void goro__timers_run_all(void)
{
	int i, n = ld_acq(&sched.nallp);

	for (i = 0; i < n; i++)
		if (ld_rlx(&sched.allp[i]->nexttimer) != INT64_MAX)
			goro__timers_run(sched.allp[i]);
}

int64_t goro__timers_next(void)
{
	int i, n = ld_acq(&sched.nallp);
	int64_t next = INT64_MAX;

	for (i = 0; i < n; i++) {
		int64_t w = ld_sc(&sched.allp[i]->nexttimer);

		if (w < next)
			next = w;
	}
	return next;
}

/*
 * Put t on the heap of the caller's P (P 0's for a thread without one) and
 * return that P with its tlock held and, when e is set, the runtime
 * entered (rt_leave after the unlock). Called with locks clear: a full heap
 * grows outside the runtime, with the lock dropped, since an M holding a
 * P waits for pp->tlock with locks set (no handoff) and libc's allocator
 * lock may be held by an M that blocked in the kernel and now waits for
 * that P. The P may change meanwhile: the new array goes to whichever heap
 * is full when the lock is held again. What it replaced is left in *old
 * for the caller to free with locks clear. NULL: out of memory.
 */
static struct goro_pp *timer_insert(struct goro_timer *t, bool *e,
				    struct goro_timer ***old)
{
	struct goro_mach *m = goro__getm();
	struct goro_timer **h = NULL;
	struct goro_pp *pp;
	uint32_t cap = 0;

	*old = NULL;
	for (;;) {
		*e = m && rt_enter(m);
		pp = m && m->p ? m->p : sched.allp[0];
		lock(&pp->tlock);
		if (pp->ntimers == pp->timercap && h && cap > pp->timercap) {
			if (pp->ntimers)
				memcpy(h, pp->timers,
				       pp->ntimers * sizeof(*h));
			*old = pp->timers;
			pp->timers = h;
			pp->timercap = cap;
			h = NULL;
		}
		if (pp->ntimers < pp->timercap)
			break;
		cap = pp->timercap ? 2 * pp->timercap : 64;
		unlock(&pp->tlock);
		if (m)
			rt_leave(m, *e);
		free(h);
		h = malloc(cap * sizeof(*h));
		if (!h)
			return NULL;
	}
	/* an array this P did not need: *old is free then, see above */
	if (h)
		*old = h;
	t->pp = pp;
	pp->timers[pp->ntimers] = t;
	heap_up(pp->timers, pp->ntimers++);
	if (t->idx == 0) {
		st_sc(&pp->nexttimer, t->when);
		/* an M asleep past it must look again (Go's wakeNetPoller) */
		if (!goro__netpoll_wake_before(t->when))
			goro__wakep();
	}
	return pp;
}

int goro__timer_add(struct goro_timer *t)
{
	struct goro_timer **old;
	struct goro_mach *m = goro__getm();
	struct goro_pp *pp;
	bool e;

	pp = timer_insert(t, &e, &old);
	if (!pp)
		return -ENOMEM;
	unlock(&pp->tlock);
	if (m)
		rt_leave(m, e);
	free(old);
	return 0;
}

void goro__timer_del(struct goro_timer *t)
{
	struct goro_pp *pp = t->pp;	/* set once, by the add */

	lock(&pp->tlock);
	if (t->idx >= 0)
		heap_remove(pp, t);
	unlock(&pp->tlock);
}

/* goro_sleep's timer, on the sleeper's stack while it is parked */
struct sleeper {
	struct goro_timer t;
	struct goro_g *g;
};

static void sleep_fire(struct goro_timer *t)
{
	goro__ready(((struct sleeper *)t)->g);
}

/* g sleeps on its M's P's heap; called from goroutine code. */
static int sleep_g(struct goro_g *g, int64_t ns)
{
	struct sleeper s = {.t = {.fn = sleep_fire, .idx = -1}, .g = g};
	struct goro_timer **old;
	struct goro_pp *pp;
	bool e;

	s.t.when = nanotime() + ns;
	pp = timer_insert(&s.t, &e, &old);
	if (!pp)
		return -ENOMEM;
	goro__park(g, &pp->tlock, "sleep");
	rt_leave(g->m, e);
	free(old);
	return 0;
}

/* ---- start-up -------------------------------------------------------------- */

static int env_int(const char *name)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return 0;
	v = strtol(s, &end, 10);
	if (*end || v <= 0 || v > INT_MAX)
		return 0;
	return (int)v;
}

static int default_procs(void)
{
	cpu_set_t set;
	int n = env_int("GORO_PROCS");

	if (!n)
		n = env_int("GOMAXPROCS");
	if (!n && sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
	if (n <= 0)
		n = 1;
	if (n > GORO_MAX_PROCS)
		n = GORO_MAX_PROCS;
	return n;
}

/*
 * sched.lock held: make Ps 0..n-1 exist. They come from mmap, not libc's
 * allocator, whose lock may be held by an M waiting in the kernel for a P.
 */
static int grow_procs(int n)
{
	while (sched.nallp < n) {
		struct goro_pp *pp = mmap(NULL, sizeof(*pp),
					  PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int id = sched.nallp;

		if (pp == MAP_FAILED)
			return -ENOMEM;
#ifdef GORO_ASAN
		/* its timer heap is malloc'd: LSan must scan it */
		__lsan_register_root_region(pp, sizeof(*pp));
#endif
		pp->kp = sched.be->p_create(id);
		if (!pp->kp) {
#ifdef GORO_ASAN
			__lsan_unregister_root_region(pp, sizeof(*pp));
#endif
			munmap(pp, sizeof(*pp));
			return -ENOMEM;
		}
		pp->id = id;
		pp->retired = 1;	/* setprocs brings it in */
		pp->fastrand = (uint32_t)id * 2246822519U | 1;
		pp->nexttimer = INT64_MAX;
		sched.allp[id] = pp;
		st_rel(&sched.nallp, id + 1);
	}
	return 0;
}

/*
 * GORO_BACKEND=user|kmod forces a backend (kmod without a usable
 * /dev/goro is fatal); else kmod when /dev/goro works, user otherwise.
 * GORO_DEBUG: say which, and why, on stderr.
 */
static void choose_backend(void)
{
	const char *want = getenv("GORO_BACKEND");
	char why[256] = "";

	if (want && *want && strcmp(want, "user") && strcmp(want, "kmod"))
		goro__fatal("goro: GORO_BACKEND=%s: not user or kmod\n", want);
	if (want && !strcmp(want, "user")) {
		sched.be = &goro__backend_user;
		snprintf(why, sizeof(why), "GORO_BACKEND=user");
	} else if (goro__kmod_open(why, sizeof(why)) == 0) {
		sched.be = &goro__backend_kmod;
	} else if (want && !strcmp(want, "kmod")) {
		goro__fatal("goro: GORO_BACKEND=kmod, but %s\n", why);
	} else {
		sched.be = &goro__backend_user;
	}
	if (getenv("GORO_DEBUG"))
		fprintf(stderr, "goro: backend %s (%s)\n", sched.be->name, why);
}

/* The main thread becomes M0 running goroutine 1 on its own stack. */
static int adopt_main(void)
{
	struct goro_mach *m = allocm();
	struct goro_pp *pp;
	void *stk;

	if (!m)
		return -ENOMEM;
	stk = mmap(NULL, G0_STACK, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (stk == MAP_FAILED)
		return -ENOMEM;
	m->g0stack = stk;
	m->g0size = G0_STACK;
	m->tid = (pid_t)syscall(SYS_gettid);
	m->thread = pthread_self();
	m->g0.stk.lo = stk;
	m->g0.stk.hi = (char *)stk + G0_STACK - 64;
	m->g0.stk.cls = 0xfe;
	m->g0.fn = g0_main;
	m->g0.arg = m;
	g_prepare(&m->g0);
	m->g0.stk.hi = (char *)stk + G0_STACK;

	sched.g1.id = 1;
	sched.g1.status = G_RUNNING;
	sched.g1.m = m;
	sched.g1.name = "main";
	stack_bounds_self(&sched.g1.stk);
#ifdef GORO_TSAN
	sched.g1.tsan_fiber = __tsan_get_current_fiber();
#endif
	sched.ngoroutines = 1;
	*m->locks = 1;
	m->inrt = 1;
	if (sched.be->m_attach(m))
		return -EAGAIN;
	goro__greg_add(&sched.g1);
	goro__setm(m);
	goro__altstack_init(m);
	m->curg = &sched.g1;
	pp = sched.be->p_acquire(m);
	if (pp) {
		acquirep(m, pp);
	} else {
		/* every P is busy (foreign threads started goroutines) */
		gswitch(m, &sched.g1, &m->g0, AFTER_GLOBAL, NULL);
	}
	rt_leave(sched.g1.m, true);	/* back to main's code */
	return 0;
}

int goro__init(void)
{
	int st, err = 0;
	bool main_thread;

	while ((st = ld_acq(&sched.started)) != 2) {
		if (st == 3)
			return -EAGAIN;
		if (st == 0 && cas(&sched.started, 0, 1))
			break;
		sched_yield();
	}
	if (st == 2)
		return 0;
	main_thread = syscall(SYS_gettid) == getpid();
	sched.maxthreads = env_int("GORO_MAXTHREADS");
	if (!sched.maxthreads)
		sched.maxthreads = 10000;
	choose_backend();
	sched.default_stack = env_int("GORO_STACK");
	if (!sched.default_stack)
		sched.default_stack = DEFAULT_STACK;
	if (sched.default_stack > MAX_STACK)
		sched.default_stack = MAX_STACK;
	sched.goidgen = 1;
	goro__stack_init();
	lock(&sched.lock);
	err = grow_procs(default_procs());
	unlock(&sched.lock);
	if (!err) {
		sched.be->set_nprocs(sched.nallp);
		st_sc(&sched.nprocs, sched.nallp);
	}
	goro__signals_init();
	atexit(on_exit_stop);
	if (!err && main_thread)
		err = adopt_main();
	if (!err)
		goro__sysmon_start();
	if (!err && sched.be->start)
		sched.be->start();
	st_rel(&sched.started, err ? 3 : 2);
	return err;
}

/* The caller as a goroutine; NULL on a foreign thread (or no runtime). */
static struct goro_g *self(void)
{
	struct goro_mach *m;

	if (ensure_init())
		return NULL;
	m = goro__getm();
	if (m)
		return m->curg;
	if (!ld_rlx(&sched.foreign))
		st_rlx(&sched.foreign, 1);
	return NULL;
}

/* ---- public API -------------------------------------------------------- */

int64_t goro_go_opts(goro_fn fn, void *arg, const struct goro_spawn_opts *o)
{
	struct goro_g *cur, *g;
	struct goro_mach *m;
	struct goro_pp *pp;
	uintptr_t apc_lo = 0, apc_hi = 0;
	size_t size;
	int64_t id;
	bool e;

	if (!fn)
		return -EINVAL;
	if (o && ((o->flags & ~GORO_SPAWN_ASYNC_PREEMPT) || o->resv[0] ||
		  o->resv[1] || o->resv[2] || o->stack_size > MAX_STACK))
		return -EINVAL;
	if (ensure_init())
		return -EAGAIN;
	if (o && (o->flags & GORO_SPAWN_ASYNC_PREEMPT)) {
		int err = goro__async_preempt_range(fn, &apc_lo, &apc_hi);

		if (err)
			return err;
	}
	cur = self();
	m = cur ? cur->m : NULL;
	e = m && rt_enter(m);
	pp = m ? m->p : NULL;	/* ours while inside the runtime */
	size = o && o->stack_size ? o->stack_size : sched.default_stack;
	g = goro__stack_alloc(pp, size);
	if (!g) {
		if (m)
			rt_leave(m, e);
		return -ENOMEM;
	}
	g->fn = fn;
	g->arg = arg;
	g->name = o ? o->name : NULL;
	g->async_preempt = apc_hi != 0;
	g->apc_lo = apc_lo;
	g->apc_hi = apc_hi;
	id = new_goid(pp);
	g->id = id;
	g_prepare(g);
	g->status = G_RUNNABLE;
	st_rel(&g->inuse, 1);
	goro__greg_add(g);
	count_goroutine(pp, 1);
	put_ready(m, g);
	if (m)
		rt_leave(m, e);
	return id;
}

int64_t goro_go(goro_fn fn, void *arg)
{
	return goro_go_opts(fn, arg, NULL);
}

void goro_yield(void)
{
	struct goro_g *g = self(), *next;
	struct goro_mach *m;
	struct goro_pp *pp;
	bool e;

	if (!g) {
		sched_yield();
		return;
	}
	m = g->m;
	e = rt_enter(m);
	pp = m->p;
	if (unlikely(!pp || ld_rlx(&pp->retired))) {
		/* our P is being given up: requeue globally, via g0 */
		g_setstatus(g, G_RUNNABLE);
		gswitch(m, g, &m->g0, AFTER_GLOBAL, NULL);
		rt_leave(g->m, e);
		return;
	}
	if (unlikely(p_wanted())) {
		/* an M back from a block waits for a P: via g0, which
		 * gives it ours (we stay on its run queue) */
		g_setstatus(g, G_RUNNABLE);
		gswitch(m, g, &m->g0, AFTER_RUNQ, NULL);
		rt_leave(g->m, e);
		return;
	}
	next = NULL;
	if (pp->kp->schedtick % 61 == 0 && ld_rlx(&sched.runqsize)) {
		lock(&sched.lock);
		next = globrunqget(pp, 1);
		unlock(&sched.lock);
	}
	if (!next)
		next = runqget(pp);
	if (!next && ld_rlx(&sched.runqsize)) {
		lock(&sched.lock);
		next = globrunqget(pp, 0);
		unlock(&sched.lock);
	}
	if (unlikely(ld_rlx(&pp->nexttimer) != INT64_MAX) &&
	    (pp->kp->schedtick & 15) == 0)
		goro__timers_run(pp);
	if (!next) {
		rt_leave(m, e);
		return;	/* nothing else to run here: keep going */
	}
	g_setstatus(g, G_RUNNABLE);
	execute(m, g, next, AFTER_RUNQ, NULL);
	rt_leave(g->m, e);
}

int64_t goro_id(void)
{
	struct goro_g *g = self();

	return g ? g->id : 0;
}

void goro_exit(void)
{
	struct goro_g *g = self();

	if (!g) {
		errno = EPERM;
		return;
	}
#ifdef GORO_TSAN
	g->tsan_runs = TSAN_FIBER_RUNS;	/* its shadow stack: see free_g */
#endif
	goexit1(g);
}

int goro_sleep(int64_t ns)
{
	struct goro_g *g;

	if (ns <= 0)
		return 0;
	g = self();
	if (!g) {
		struct timespec ts = {ns / 1000000000, ns % 1000000000};

		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
		return 0;
	}
	return sleep_g(g, ns);
}

int goro_setprocs(int n)
{
	int old, i, err;

	if (n > GORO_MAX_PROCS)
		return -EINVAL;
	if (ensure_init())
		return -EAGAIN;
	if (n <= 0)
		return ld_rlx(&sched.nprocs);
	lock(&sched.setprocs_lock);
	lock(&sched.lock);
	err = grow_procs(n);
	unlock(&sched.lock);
	if (err) {
		unlock(&sched.setprocs_lock);
		return err;
	}
	old = ld_rlx(&sched.nprocs);
	sched.be->set_nprocs(n);
	st_sc(&sched.nprocs, n);
	unlock(&sched.setprocs_lock);
	for (i = old; i < n; i++)
		goro__wakep();
	return old;
}

int goro_numprocs(void)
{
	if (ensure_init())
		return 1;
	return ld_rlx(&sched.nprocs);
}

int64_t goro_numgoroutine(void)
{
	int64_t n;

	if (ensure_init())
		return 0;
	n = goro__ngoroutines();
	return n < 1 && goro__getm() ? 1 : n;
}

void goro_preempt_point(void)
{
	struct goro_mach *m = goro__getm();
	bool e;

	if (!m || !m->p || !m->curg)
		return;
	if (likely(!ld_rlx(&m->p->kp->preempt))) {
		if (!sched.be->kernel_p)
			return;
		/* our P may have been swapped by a block since */
		e = rt_enter(m);
		if (!m->p || (!ld_rlx(&m->p->kp->preempt) &&
			      !p_wanted())) {
			rt_leave(m, e);
			return;
		}
	} else {
		e = rt_enter(m);
		if (!m->p) {
			rt_leave(m, e);
			return;
		}
	}
	st_rlx(&m->p->kp->preempt, 0);
	/* due timers first: they may be what is waiting for this P */
	if (ld_rlx(&m->p->nexttimer) != INT64_MAX)
		goro__timers_run(m->p);
	/* a preempted goroutine goes to the back of the global queue */
	{
		/* kmod: an M back from a block waits for our P (g0) */
		bool away = p_wanted();
		struct goro_g *g = m->curg;
		struct goro_g *next = away ? NULL : fast_next(m->p);

		g_setstatus(g, G_RUNNABLE);
		if (ld_rlx(&m->p->retired) || away)
			gswitch(m, g, &m->g0, AFTER_GLOBAL, NULL);
		else if (next)
			execute(m, g, next, AFTER_GLOBAL, NULL);
		else if (ld_rlx(&sched.runqsize))
			gswitch(m, g, &m->g0, AFTER_GLOBAL, NULL);
		else
			g_setstatus(g, G_RUNNING);
		rt_leave(g->m, e);
	}
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
		if (m->p)
			sched.be->syscall_enter(m);
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
	if (!sched.be->syscall_exit(m)) {
		/* the P was handed off: take an idle one or queue and wait */
		m->p = NULL;
		pp = sched.be->p_acquire(m);
		if (pp) {
			acquirep(m, pp);
		} else {
			g_setstatus(g, G_RUNNABLE);
			g_setwait(g, NULL);
			gswitch(m, g, &m->g0, AFTER_GLOBAL, NULL);
			rt_leave(g->m, en);
			errno = e;
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

const char *goro_backend(void)
{
	if (ensure_init())
		return "user";
	return sched.be->name;
}
