/* SPDX-License-Identifier: MIT */
/*
 * goro: the backend interface. The scheduler (sched.c) decides what runs;
 * a backend decides where the Ps live and how Ms sleep, wake and give up
 * their P around blocking calls. Two implementations:
 *   user  futexes and the sysmon thread (backend_user.c)
 *   kmod  /dev/goro: Ps in the module's shared region, GORO_IOC_PARK/WAKE,
 *         hand-off by the module when an M blocks (backend_kmod.c; what
 *         the scheduler reads of it inline is in backend_kmod.h)
 *
 * Rules every backend keeps:
 *  - A P is owned by at most one M. The scheduler only touches a P's run
 *    queue (struct goro_p head/tail/ring/runnext, through uapi/goro_runq.h)
 *    and its private struct goro_pp; everything else in struct goro_p
 *    (status, owner, preempt, syscalltick) belongs to the backend.
 *  - No lost wake-ups: m_park() must not sleep when startm() handed it a
 *    P since it became parked; the scheduler re-checks every run queue
 *    after p_release() and before m_park() (Go's findrunnable).
 *  - Every call may be made from any M; none is made from a signal handler.
 *
 * The operations every backend has come first; the optional ones after
 * them are NULL where a backend has no such work to do.
 *
 * A backend sits below the scheduler and calls up only where it must,
 * as an M parks or comes and goes: goro__newm, goro__newm_spare and
 * goro__mexit (m.c), goro__checkdead_locked (dump.c), the netpoller and
 * goro__inject as the parked M polls, and goro__timers_run_all (kmod,
 * due timers without a P).
 */
#ifndef GORO_BACKEND_H
#define GORO_BACKEND_H

#include "internal.h"

struct goro_backend {
	const char *name;

	/*
	 * Where P number id (0 <= id < GORO_MAX_PROCS) lives: return its
	 * zeroed struct goro_p, or NULL when the backend cannot provide it
	 * (kmod: past the nprocs fixed at setup). Called once per P, with
	 * goro__sched.lock held, as nprocs grows.
	 */
	struct goro_p *(*p_create)(int id);

	/*
	 * nprocs becomes n (all Ps below n exist): Ps at or above n are
	 * retired (off the idle list; an owner drops its P at its next
	 * scheduling point), Ps below n come (back) into use. Serialised by
	 * the caller.
	 */
	void (*set_nprocs)(int n);

	/*
	 * P acquire (Go's pidleget): an idle P, now owned by M m (NULL: for
	 * an M to be started), or NULL. kmod: the kernel hands Ps over, so
	 * this only gives back the P it says m still holds. npidle is the
	 * number of idle Ps (a seq_cst read: the scheduler's wakep decision
	 * pairs with the increment of a P going idle).
	 */
	struct goro_pp *(*p_acquire)(struct goro_mach *m);
	uint32_t (*npidle)(void);

	/*
	 * Park M m, which holds no P, until a P is handed to it or the
	 * absolute CLOCK_MONOTONIC deadline (0 = none, else the earliest
	 * timer) passes. Returns the P handed over (m->spinning set as the
	 * waker asked), or NULL on timeout. Calls goro__checkdead_locked()
	 * when m is the last M to park (Go's checkdead).
	 */
	struct goro_pp *(*m_park)(struct goro_mach *m, int64_t deadline);

	/*
	 * Go's startm: get an M running for P pp (owned by the caller), or
	 * for an idle P when pp is NULL: hand it to a parked M and wake it,
	 * else start a new one (goro__newm). The M spins when spinning is
	 * true. False when no spinning M is coming (none could be woken or
	 * started, or kmod's factory M was asked for one, which does not
	 * spin): the caller takes back its count of it; pp is idle again.
	 */
	bool (*startm)(struct goro_pp *pp, bool spinning);

	/*
	 * The running goroutine on M m leaves its blocking call:
	 * true when m still owns m->p (fast path), false when the P was
	 * taken (the scheduler then finds another).
	 */
	bool (*syscall_exit)(struct goro_mach *m);

	/* ---- optional: NULL where the backend has no such work ---- */

	/* After start-up, on the first M (kmod: the factory M). */
	void (*start)(void);

	/*
	 * The calling thread becomes M m: 0 or -errno (kmod: it attaches
	 * to the module).
	 */
	int (*m_attach)(struct goro_mach *m);

	/*
	 * P release (Go's pidleput): M m (NULL: the caller is no M) makes
	 * pp idle. kmod: none; PARK gives the P up.
	 */
	void (*p_release)(struct goro_mach *m, struct goro_pp *pp);

	/*
	 * The running goroutine on M m enters a blocking call: after it,
	 * the P may be taken by retake(). kmod: none; the module hands the
	 * P off if the call blocks.
	 */
	void (*syscall_enter)(struct goro_mach *m);

	/*
	 * sysmon: is pp's M inside a blocking call; its syscalltick. And
	 * take pp from its M if that M is still in the blocking call sysmon
	 * saw (syscalltick unchanged): true, the caller now owns pp and
	 * hands it off (goro__handoffp). kmod: none; the module hands off.
	 */
	bool (*in_syscall)(struct goro_pp *pp, uint64_t *syscalltick);
	bool (*retake)(struct goro_pp *pp, uint64_t syscalltick);
};

extern const struct goro_backend goro__backend_user HIDDEN;
extern const struct goro_backend goro__backend_kmod HIDDEN;

/* kmod: open, set up and map /dev/goro; 0 or -errno, why says what. */
int goro__kmod_open(char *why, size_t size) HIDDEN;

#endif
