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
 *
 * This file owns the run queues, the scheduler loop (schedule,
 * findrunnable), waking Ms for new work (wakep) and the goroutine
 * operations (spawn, park, ready, yield, exit, a preempted yield). Below
 * it: switch.c (the switch's sanitizer hooks), m.c (starting Ms), timer.c
 * (running due timers), netpoll.c (polling), the backend, stack.c and
 * registry.c. Calls from those back up into it, named where they are
 * made: a timer or a ready descriptor readies a goroutine (goro__ready,
 * goro__inject), a new M runs goro__schedule.
 */
#include "internal.h"
#include "sched.h"
#include "switch.h"
#include "backend_kmod.h"

#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#if defined(__SANITIZE_THREAD__)
uint32_t goro__fence_word HIDDEN;
#endif

struct goro_sched goro__sched = {
};

#define GOID_BATCH 16		/* ids a P takes from goidgen at once */

/* ---- run queues ---------------------------------------------------------- */

#define H(g) ((__u64)(uintptr_t)(g))
#define G(h) ((struct goro_g *)(uintptr_t)(h))

/* goro__sched.lock held */
static void globrunqput_batch(struct goro_g *h, struct goro_g *t, uint32_t n)
{
	t->schedlink = NULL;
	if (goro__sched.runqtail)
		goro__sched.runqtail->schedlink = h;
	else
		goro__sched.runqhead = h;
	goro__sched.runqtail = t;
	st_sc(&goro__sched.runqsize, goro__sched.runqsize + n);
	kmod_publish_runqsize(goro__sched.runqsize);
}

static void globrunqput(struct goro_g *g)
{
	goro__lock(&goro__sched.lock);
	globrunqput_batch(g, g, 1);
	goro__unlock(&goro__sched.lock);
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
	goro__lock(&goro__sched.lock);
	globrunqput_batch(batch[0], batch[n], n + 1);
	goro__unlock(&goro__sched.lock);
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
		/*
		 * Pairs with the head CAS of goro_runq_get/grab: ours, or
		 * kmod's goro_steal_into() in module/park.c.
		 */
		uint32_t h = ld_acq(&kp->head);
		uint32_t t = ld_rlx(&kp->tail);

		if (t - h < GORO_RUNQ_ENTRIES) {
			st_rlx(&kp->ring[t & GORO_RUNQ_MASK], H(g));
			/*
			 * Pairs with the thief's tail load in goro_runq_grab:
			 * runqsteal, or goro_steal_into() in module/park.c.
			 */
			st_rel(&kp->tail, t + 1);
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

/* goro__sched.lock held: up to max (0 = a fair share) from the global queue. */
static struct goro_g *globrunqget(struct goro_pp *pp, uint32_t max)
{
	uint32_t n = goro__sched.runqsize, i;
	struct goro_g *g;

	if (n == 0)
		return NULL;
	if (n > goro__sched.runqsize / ld_rlx(&goro__sched.nprocs) + 1)
		n = goro__sched.runqsize / ld_rlx(&goro__sched.nprocs) + 1;
	if (max && n > max)
		n = max;
	if (n > GORO_RUNQ_ENTRIES / 2)
		n = GORO_RUNQ_ENTRIES / 2;
	st_sc(&goro__sched.runqsize, goro__sched.runqsize - n);
	kmod_publish_runqsize(goro__sched.runqsize);
	g = goro__sched.runqhead;
	goro__sched.runqhead = g->schedlink;
	for (i = 1; i < n; i++) {
		struct goro_g *x = goro__sched.runqhead;

		goro__sched.runqhead = x->schedlink;
		runqput(pp, x, false);
	}
	if (!goro__sched.runqhead)
		goro__sched.runqtail = NULL;
	return g;
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
		goro__unlock(m->after_lock);
		break;
	case AFTER_CLEAR:
		/*
		 * prev's registers are saved (goro__ctx_swap's stores to its
		 * stack and to prev->sp, on this M, before this point in
		 * program order): the release orders them before the 0 on
		 * any CPU (AArch64's stlr orders every earlier load and
		 * store), so a waker whose load-acquire sees the 0
		 * (goro__wait_off) sees prev saved, and so does the M that
		 * runs prev after the waker queues it (the queue's release,
		 * that M's acquire: the chain is transitive).
		 */
		st_rel(m->after_lock, 0);
		break;
	case AFTER_FREE:
		goro__free_g(m, prev);
		break;
	}
	m->after = AFTER_NONE;
}

/* The switch (sched.h); the context switched to runs after_switch. */
void goro__gswitch(struct goro_mach *m, struct goro_g *from,
		   struct goro_g *to, int action, uint32_t *lk)
{
	if (unlikely(from->canary && *from->canary != STACK_CANARY))
		goro__stack_overflow(from);
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

/* Run g on m's P: g is the next goroutine of this M. */
static void execute(struct goro_mach *m, struct goro_g *from, struct goro_g *g,
		    int action, uint32_t *lk)
{
	struct goro_p *kp = m->p->kp;

	if (unlikely(ld_rlx(&goro__sched.exiting)))
		goro__exit_stop();
	st_rlx(&kp->schedtick, kp->schedtick + 1);
	if (ld_rlx(&kp->preempt))
		st_rlx(&kp->preempt, 0);
	if (unlikely(m->p->async != g->async_preempt))
		st_rlx(&m->p->async, g->async_preempt);	/* for sysmon */
	g_setstatus(g, G_RUNNING);
	goro__gswitch(m, from, g, action, lk);
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

/* ---- the scheduler loop (on g0) ----------------------------------------- */


static struct goro_g *findrunnable(struct goro_mach *m);

static inline void wakep_after_rmw(void);

static void resetspinning(struct goro_mach *m)
{
	m->spinning = 0;
	xadd(&goro__sched.nmspinning, -1);
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
	releasep_backend(m, pp);
}

void goro__schedule(struct goro_mach *m)
{
	for (;;) {
		struct goro_pp *pp = m->p;
		struct goro_g *g = NULL;

		if (pp && unlikely(ld_rlx(&pp->retired))) {
			drop_retired(m);
			pp = NULL;
		}
		if (pp && unlikely(kmod_p_wanted())) {
			/* an M back from a block waits: our P goes to it */
			m->p = NULL;
			pp->m = NULL;
			pp = goro__kmod_p_yield(m);
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
			    ld_rlx(&goro__sched.runqsize)) {
				goro__lock(&goro__sched.lock);
				g = globrunqget(pp, 1);
				goro__unlock(&goro__sched.lock);
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

static struct goro_g *stealwork(struct goro_mach *m)
{
	/*
	 * acquire: allp[i] below nprocs is published (grow_procs, then the
	 * seq_cst store of nprocs in procs.c)
	 */
	int n = ld_acq(&goro__sched.nprocs), i, k;

	for (i = 0; i < 4; i++) {
		int start = fastrand(&m->fastrand) % n;

		for (k = 0; k < n; k++) {
			struct goro_pp *v = goro__sched.allp[(start + k) % n];
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
	int i, n = ld_acq(&goro__sched.nallp);

	if (ld_sc(&goro__sched.runqsize))
		return true;
	for (i = 0; i < n; i++)
		if (!goro__runq_empty(goro__sched.allp[i]))
			return true;
	return false;
}

/*
 * How long a spinning M that found nothing polls for work before it gives
 * its P up and parks, while another P runs: about what parking and being
 * woken again costs where a futex wake-up takes tens of microseconds to
 * run its thread (a virtual machine's CPUs), so that a fork-join
 * program's thief is there when its victim spawns again.
 */
#define IDLE_SPIN_NS 50000

/*
 * m spins and found nothing to steal: poll until work appears on some run
 * queue (true: look again) or IDLE_SPIN_NS pass, no other P runs, or the
 * P is wanted elsewhere (false: go on to park). Only the one spinning M
 * polls (Go keeps one spinning M while work may appear): with more Ps than
 * CPUs, more would take the CPUs of the Ps that run.
 */
static bool spin_for_work(struct goro_mach *m)
{
	int64_t until = nanotime() + IDLE_SPIN_NS;
	int i;

	if (ld_rlx(&goro__sched.nmspinning) != 1)
		return false;
	for (;;) {
		for (i = 0; i < 32; i++)
			cpu_relax();
		if (any_work())
			return true;
		if (ld_rlx(&m->p->retired) || kmod_p_wanted() ||
		    ld_rlx(&goro__sched.exiting))
			return false;
		/* only a running P (or a timer, below) makes new work */
		if ((uint32_t)ld_rlx(&goro__sched.nprocs) <=
		    goro__sched.be->npidle() + 1)
			return false;
		if (ld_rlx(&m->p->nexttimer) != INT64_MAX ||
		    nanotime() >= until)
			return false;
	}
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
	if (ld_rlx(&goro__sched.runqsize)) {
		goro__lock(&goro__sched.lock);
		g = globrunqget(pp, 0);
		goro__unlock(&goro__sched.lock);
		if (g)
			return g;
	}
	/* ready descriptors, unless an M waits in the poller already */
	g = goro__netpoll_check(m, true);
	if (g)
		return g;
	if (m->spinning || 2 * ld_sc(&goro__sched.nmspinning) <
				   (uint32_t)ld_rlx(&goro__sched.nprocs) -
					   goro__sched.be->npidle()) {
		if (!m->spinning) {
			m->spinning = 1;
			xadd(&goro__sched.nmspinning, 1);
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

	if (m->spinning && spin_for_work(m))
		goto top;

	/* nothing: give the P up, then look once more (Go's findrunnable) */
	goro__lock(&goro__sched.lock);
	if (goro__sched.runqsize) {
		g = globrunqget(pp, 0);
		goro__unlock(&goro__sched.lock);
		return g;
	}
	goro__unlock(&goro__sched.lock);
	m->p = NULL;
	pp->m = NULL;
	releasep_backend(m, pp);
park:
	was_spinning = m->spinning;
	if (m->spinning) {
		m->spinning = 0;
		xadd(&goro__sched.nmspinning, -1);
	}
	/* pairs with goro__wakep's; kmod: goro_park()'s (module/park.c) */
	fence_sc();
	if (any_work() || goro__timers_next() <= nanotime()) {
		pp = goro__sched.be->p_acquire(m);
		if (pp) {
			acquirep(m, pp);
			if (was_spinning) {
				m->spinning = 1;
				xadd(&goro__sched.nmspinning, 1);
			}
			goto top;
		}
	}
	deadline = goro__timers_next();
	if (deadline == INT64_MAX)
		deadline = 0;
	pp = goro__sched.be->m_park(m, deadline);
	if (!pp)
		pp = goro__sched.be->p_acquire(m); /* timer due: take a P */
	if (pp)
		acquirep(m, pp);
	goto top;
}

/*
 * Go's wakep (one more spinning M if there is an idle P and none spins),
 * for a caller whose store that made the work visible was a
 * seq_cst read-modify-write (runqput's xchg of runnext, an xadd): that
 * orders it before the npidle load as the fence would (a locked
 * instruction on x86-64), and the ready path saves a fence. On AArch64
 * only because both loads below are seq_cst too: a load-acquire (ldar)
 * is not satisfied before an earlier store-release (the stlxr or swpal of
 * the RMW) is visible, which a plain or acquire-only load would be. Every
 * backend's npidle() is a seq_cst load for this reason.
 */
static inline void wakep_after_rmw(void)
{
	if (goro__sched.be->npidle() == 0)
		return;
	if (ld_sc(&goro__sched.nmspinning) != 0 ||
	    !cas(&goro__sched.nmspinning, 0, 1))
		return;
	goro__startm(NULL, true);
}

void goro__wakep(void)
{
	/*
	 * Pairs with findrunnable's; kmod: smp_mb() in goro_park() and
	 * goro_m_block() (module/park.c, module/handoff.c).
	 */
	fence_sc();
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

/* ---- goroutine operations -------------------------------------------------- */

/* The fast path's next goroutine; NULL sends the caller through g0. */
static inline struct goro_g *fast_next(struct goro_pp *pp)
{
	if (unlikely(ld_rlx(&pp->retired)))
		return NULL;
	return runqget(pp);
}

/*
 * Park g (the caller); after it is off its stack, the next context does
 * what (AFTER_UNLOCK: release lock *word; AFTER_CLEAR: clear *word).
 */
static inline void park_after(struct goro_g *g, int what, uint32_t *word,
			      const char *why)
{
	struct goro_mach *m = g->m;
	struct goro_g *next;
	bool e = rt_enter(m);

	g_setwait(g, why);
	g_setstatus(g, G_WAITING);
	next = m->p ? fast_next(m->p) : NULL;
	if (next)
		execute(m, g, next, what, word);
	else
		goro__gswitch(m, g, &m->g0, what, word);
	rt_leave(g->m, e);
}

/* Park g (the caller) under lock lk, released once g is off its stack. */
void goro__park(struct goro_g *g, uint32_t *lk, const char *why)
{
	park_after(g, AFTER_UNLOCK, lk, why);
}

/* Park g (the caller); *off is cleared once g is off its stack. */
void goro__park_clear(struct goro_g *g, uint32_t *off, const char *why)
{
	park_after(g, AFTER_CLEAR, off, why);
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
		xadd(&goro__sched.ngoroutines, d);
}

/* A new goroutine id: from pp's batch, refilled 16 at a time. */
static int64_t new_goid(struct goro_pp *pp)
{
	if (!pp)
		return xadd(&goro__sched.goidgen, 1) + 1;
	if (pp->goidcache == pp->goidcacheend) {
		pp->goidcache = xadd(&goro__sched.goidgen, GOID_BATCH) + 1;
		pp->goidcacheend = pp->goidcache + GOID_BATCH;
	}
	return pp->goidcache++;
}

NORETURN static void goexit1(struct goro_g *g)
{
	struct goro_mach *m = g->m;
	struct goro_g *next;
	int after;

	rt_enter(m);	/* the next context clears locks */
	g_setstatus(g, G_DEAD);	/* its registry entry too */
	if (g == &goro__sched.g1) {
		st_rlx(&goro__sched.main_exited, 1);
	}
	count_goroutine(m->p, -1);
	next = m->p ? fast_next(m->p) : NULL;
	after = g == &goro__sched.g1 ? AFTER_NONE : AFTER_FREE;
	if (next)
		execute(m, g, next, after, NULL);
	else
		goro__gswitch(m, g, &m->g0, after, NULL);
	__builtin_unreachable();
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
		goro__lock(&goro__sched.lock);
		globrunqput_batch(head, tail, queued);
		goro__unlock(&goro__sched.lock);
	}
	if (queued)
		goro__wakep();
	return first;
}

/* The caller as a goroutine; NULL on a foreign thread (or no runtime). */
struct goro_g *goro__self(void)
{
	struct goro_mach *m;

	if (ensure_init())
		return NULL;
	m = goro__getm();
	if (m)
		return m->curg;
	if (!ld_rlx(&goro__sched.foreign))
		st_rlx(&goro__sched.foreign, 1);
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
	cur = goro__self();
	m = cur ? cur->m : NULL;
	e = m && rt_enter(m);
	pp = m ? m->p : NULL;	/* ours while inside the runtime */
	size = o && o->stack_size ? o->stack_size : goro__sched.default_stack;
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
	goro__g_prepare(g);
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
	struct goro_g *g = goro__self(), *next;
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
		goro__gswitch(m, g, &m->g0, AFTER_GLOBAL, NULL);
		rt_leave(g->m, e);
		return;
	}
	if (unlikely(kmod_p_wanted())) {
		/* an M back from a block waits for a P: via g0, which
		 * gives it ours (we stay on its run queue) */
		g_setstatus(g, G_RUNNABLE);
		goro__gswitch(m, g, &m->g0, AFTER_RUNQ, NULL);
		rt_leave(g->m, e);
		return;
	}
	next = NULL;
	if (pp->kp->schedtick % 61 == 0 && ld_rlx(&goro__sched.runqsize)) {
		goro__lock(&goro__sched.lock);
		next = globrunqget(pp, 1);
		goro__unlock(&goro__sched.lock);
	}
	if (!next)
		next = runqget(pp);
	if (!next && ld_rlx(&goro__sched.runqsize)) {
		goro__lock(&goro__sched.lock);
		next = globrunqget(pp, 0);
		goro__unlock(&goro__sched.lock);
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
	struct goro_g *g = goro__self();

	return g ? g->id : 0;
}

void goro_exit(void)
{
	struct goro_g *g = goro__self();

	if (!g) {
		errno = EPERM;
		return;
	}
#ifdef GORO_TSAN
	g->tsan_runs = TSAN_FIBER_RUNS;	/* its shadow stack: see free_g */
#endif
	goexit1(g);
}

/*
 * goro_preempt_point() (preempt.c) found m's goroutine asked to yield,
 * and entered the runtime (e: rt_enter's answer).
 */
void goro__preempted(struct goro_mach *m, bool e)
{
	struct goro_g *g, *next;
	bool away;

	st_rlx(&m->p->kp->preempt, 0);
	/* due timers first: they may be what is waiting for this P */
	if (ld_rlx(&m->p->nexttimer) != INT64_MAX)
		goro__timers_run(m->p);
	/* a preempted goroutine goes to the back of the global queue */
	away = kmod_p_wanted();	/* kmod: a waiting M gets our P (g0) */
	g = m->curg;
	next = away ? NULL : fast_next(m->p);
	g_setstatus(g, G_RUNNABLE);
	if (ld_rlx(&m->p->retired) || away)
		goro__gswitch(m, g, &m->g0, AFTER_GLOBAL, NULL);
	else if (next)
		execute(m, g, next, AFTER_GLOBAL, NULL);
	else if (ld_rlx(&goro__sched.runqsize))
		goro__gswitch(m, g, &m->g0, AFTER_GLOBAL, NULL);
	else
		g_setstatus(g, G_RUNNING);
	rt_leave(g->m, e);
}
