/* SPDX-License-Identifier: MIT */
/*
 * goro: the `user` backend. Ps live in the library's own memory, idle Ps
 * and idle Ms are lists under goro__sched.lock (Go's pidle/midle, in U below),
 * an idle M sleeps on a futex word of its own, and a P whose M is inside
 * goro_syscall_enter/exit is GORO_P_BLOCKED until its M comes back or the
 * sysmon thread retakes it (Go's _Psyscall and retake).
 */
#include "internal.h"
#include "backend.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>

/*
 * The idle Ps (linked through plink[id]) and the idle Ms (through
 * m->schedlink), under goro__sched.lock; npidle is also read without it.
 */
static struct {
	struct goro_pp *pidle;
	struct goro_mach *midle;
	uint32_t npidle;
	struct goro_pp *plink[GORO_MAX_PROCS];
} U __attribute__((aligned(CACHELINE)));

/* goro__sched.lock held: from mmap, like the goro_pp (see grow_procs) */
static struct goro_p *user_p_create(int id)
{
	struct goro_p *kp;

	(void)id;
	kp = mmap(NULL, sizeof(*kp), PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (kp == MAP_FAILED)
		return NULL;
	kp->status = GORO_P_IDLE;
	kp->owner = GORO_NONE;
	return kp;
}

/* goro__sched.lock held */
static void pidle_push(struct goro_pp *pp)
{
	U.plink[pp->id] = U.pidle;
	U.pidle = pp;
	xadd(&U.npidle, 1);
}

static struct goro_pp *user_p_acquire(struct goro_mach *m)
{
	struct goro_pp *pp;

	if (ld_sc(&U.npidle) == 0)
		return NULL;
	goro__lock(&goro__sched.lock);
	pp = U.pidle;
	if (pp) {
		U.pidle = U.plink[pp->id];
		xadd(&U.npidle, -1);
		st_rlx(&pp->kp->status, GORO_P_RUNNING);
		st_rlx(&pp->kp->owner, m ? (uint32_t)m->id : GORO_NONE);
		pp->m = m;
	}
	goro__unlock(&goro__sched.lock);
	return pp;
}

static void user_p_release(struct goro_mach *m, struct goro_pp *pp)
{
	(void)m;
	goro__lock(&goro__sched.lock);
	pp->m = NULL;
	st_rlx(&pp->kp->owner, GORO_NONE);
	st_rlx(&pp->kp->status, GORO_P_IDLE);
	if (!ld_rlx(&pp->retired))
		pidle_push(pp);
	goro__unlock(&goro__sched.lock);
}

static uint32_t user_npidle(void)
{
	return ld_sc(&U.npidle);
}

static void user_set_nprocs(int n)
{
	struct goro_pp **pl;
	int i;

	goro__lock(&goro__sched.lock);
	/* retire: off the idle list */
	for (pl = &U.pidle; *pl;) {
		if ((*pl)->id >= n) {
			*pl = U.plink[(*pl)->id];
			xadd(&U.npidle, -1);
		} else {
			pl = &U.plink[(*pl)->id];
		}
	}
	/* high ids first, so that P0 is the first one taken */
	for (i = goro__sched.nallp - 1; i >= 0; i--) {
		struct goro_pp *pp = goro__sched.allp[i];
		bool was = ld_rlx(&pp->retired);

		st_rlx(&pp->retired, i >= n);
		/* its running goroutine yields at its next preempt point */
		if (i >= n)
			st_rlx(&pp->kp->preempt, 1);
		/* a retired P that was idle (not owned) comes back idle */
		if (was && i < n && ld_rlx(&pp->kp->status) == GORO_P_IDLE &&
		    !pp->m)
			pidle_push(pp);
	}
	goro__unlock(&goro__sched.lock);
}

/*
 * Idle Ms parked for RETIRE_NS while more than nprocs + RETIRE_SPARE Ms
 * are idle exit (as on the kmod backend): the threads a burst of blocking
 * calls needed do not stay. The main thread never exits.
 */
#define RETIRE_NS (1000 * 1000000LL)
#define RETIRE_SPARE 4

/*
 * Take m off the idle M list if more than keep Ms are idle; false when a
 * waker took it (a P comes) or too few are idle.
 */
static bool midle_leave(struct goro_mach *m, uint32_t keep)
{
	struct goro_mach **ml;

	goro__lock(&goro__sched.lock);
	if (ld_acq(&m->parkfutex) || ld_rlx(&goro__sched.nmidle) <= keep) {
		goro__unlock(&goro__sched.lock);
		return false;
	}
	for (ml = &U.midle; *ml; ml = &(*ml)->schedlink)
		if (*ml == m)
			break;
	if (!*ml) {
		goro__unlock(&goro__sched.lock);
		return false;
	}
	*ml = m->schedlink;
	xadd(&goro__sched.nmidle, -1);
	goro__unlock(&goro__sched.lock);
	return true;
}

/* Take m off the idle M list; false when a waker took it (a P comes). */
static bool midle_remove(struct goro_mach *m)
{
	return midle_leave(m, 0);
}

/*
 * The idle M that holds the poller waits in epoll_wait instead of on its
 * futex (Go's findrunnable blocking in netpoll). True: it left the idle
 * list with goroutines made runnable (or its deadline passed), the caller
 * takes a P; false: a waker handed it a P.
 */
static bool park_in_poller(struct goro_mach *m, int64_t deadline)
{
	bool left = false;

	st_sc(&m->inpoll, 1);
	for (;;) {
		struct goro_g *list;
		int64_t delay = -1;

		/* seq_cst pairs with user_m_wake: parkfutex, then inpoll */
		if (ld_sc(&m->parkfutex))
			break;
		if (deadline) {
			delay = deadline - nanotime();
			if (delay <= 0) {
				left = midle_remove(m);
				break;
			}
		}
		list = goro__netpoll(delay);
		if (list) {
			goro__inject(NULL, list, false);
			left = midle_remove(m);
			break;
		}
	}
	st_sc(&m->inpoll, 0);
	goro__netpoll_unclaim();
	return left;
}

static struct goro_pp *user_m_park(struct goro_mach *m, int64_t deadline)
{
	bool can_retire = !m->g0stack;	/* not the main thread */
	int64_t retire_at = nanotime() + RETIRE_NS;
	struct goro_pp *pp;

	goro__lock(&goro__sched.lock);
	st_rlx(&m->parkfutex, 0);
	m->schedlink = U.midle;
	U.midle = m;
	xadd(&goro__sched.nmidle, 1);
	goro__checkdead_locked(false);
	goro__unlock(&goro__sched.lock);
	if (goro__netpoll_claim(deadline)) {
		if (park_in_poller(m, deadline))
			return NULL;
		deadline = 0;	/* a waker took us: wait for its P */
	}
	for (;;) {
		int64_t now, dl = deadline;

		if (ld_acq(&m->parkfutex))	/* pairs with st_rel in wake */
			break;
		now = nanotime();
		if (deadline && now >= deadline) {
			if (midle_remove(m))
				return NULL;
			/* a waker took us off the list: wait for its P */
			deadline = 0;
			can_retire = false;
			continue;
		}
		if (can_retire && now >= retire_at) {
			/* idle for RETIRE_NS: leave if enough others are idle */
			uint32_t keep = (uint32_t)ld_rlx(&goro__sched.nprocs) +
					RETIRE_SPARE + 1;

			if (midle_leave(m, keep))
				goro__mexit(m);
			retire_at = now + RETIRE_NS;
		}
		if (can_retire && (!dl || dl > retire_at))
			dl = retire_at;
		goro__futex_wait(&m->parkfutex, 0, dl);
	}
	pp = m->nextp;
	m->nextp = NULL;
	return pp;
}

static bool user_m_wake(struct goro_pp *pp, bool spinning)
{
	struct goro_mach *m, **ml;

	goro__lock(&goro__sched.lock);
	/* leave the M in the poller polling when another one is idle */
	ml = &U.midle;
	if (*ml && ld_rlx(&(*ml)->inpoll) && (*ml)->schedlink)
		ml = &(*ml)->schedlink;
	m = *ml;
	if (m) {
		*ml = m->schedlink;
		xadd(&goro__sched.nmidle, -1);
	}
	goro__unlock(&goro__sched.lock);
	if (!m)
		return false;
	m->nextp = pp;
	m->spinning = spinning;
	pp->m = m;
	st_rlx(&pp->kp->owner, (uint32_t)m->id);
	st_sc(&m->parkfutex, 1);
	if (ld_sc(&m->inpoll))
		goro__netpoll_break();
	goro__futex_wake(&m->parkfutex, 1);
	return true;
}

/* Go's startm: an idle P (unless pp is given) to a parked or new M. */
static bool user_startm(struct goro_pp *pp, bool spinning)
{
	if (!pp) {
		pp = user_p_acquire(NULL);
		if (!pp)
			return false;
	}
	if (user_m_wake(pp, spinning))
		return true;
	if (goro__newm(pp, spinning))
		return true;
	user_p_release(NULL, pp);
	return false;
}

static void user_syscall_enter(struct goro_mach *m)
{
	struct goro_p *kp = m->p->kp;

	st_rlx(&kp->syscalltick, kp->syscalltick + 1);
	/* release: the P's run queue state is handed to a retaker */
	st_rel(&kp->status, GORO_P_BLOCKED);
}

static bool user_syscall_exit(struct goro_mach *m)
{
	return cas(&m->p->kp->status, GORO_P_BLOCKED, GORO_P_RUNNING);
}

static bool user_in_syscall(struct goro_pp *pp, uint64_t *tick)
{
	*tick = ld_rlx(&pp->kp->syscalltick);
	return ld_acq(&pp->kp->status) == GORO_P_BLOCKED;
}

static bool user_retake(struct goro_pp *pp, uint64_t tick)
{
	if (ld_rlx(&pp->kp->syscalltick) != tick)
		return false;
	if (!cas(&pp->kp->status, GORO_P_BLOCKED, GORO_P_RUNNING))
		return false;
	pp->m = NULL;
	st_rlx(&pp->kp->owner, GORO_NONE);
	return true;
}

const struct goro_backend goro__backend_user = {
	.name = "user",
	.p_create = user_p_create,
	.set_nprocs = user_set_nprocs,
	.p_acquire = user_p_acquire,
	.npidle = user_npidle,
	.m_park = user_m_park,
	.startm = user_startm,
	.syscall_exit = user_syscall_exit,
	.p_release = user_p_release,
	.syscall_enter = user_syscall_enter,
	.in_syscall = user_in_syscall,
	.retake = user_retake,
};
