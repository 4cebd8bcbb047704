/* SPDX-License-Identifier: MIT */
/*
 * goro: the backend interface. The scheduler (sched.c) decides what runs;
 * a backend decides where the Ps live and how Ms sleep, wake and give up
 * their P around blocking calls. Two implementations are planned:
 *   user  futexes and the sysmon thread (backend_user.c)
 *   kmod  /dev/goro: Ps in the module's shared region, GORO_IOC_PARK/WAKE,
 *         hand-off by the module when an M blocks (backend_kmod.c)
 *
 * Rules every backend keeps:
 *  - A P is owned by at most one M. The scheduler only touches a P's run
 *    queue (struct goro_p head/tail/ring/runnext, through uapi/goro_runq.h)
 *    and its private struct goro_pp; everything else in struct goro_p
 *    (status, owner, preempt, syscalltick) belongs to the backend.
 *  - No lost wake-ups: m_park() must not sleep when m_wake() was called
 *    for it since it became parked; the scheduler re-checks every run
 *    queue after p_release() and before m_park() (Go's findrunnable).
 *  - Every call may be made from any M; none is made from a signal handler.
 */
#ifndef GORO_BACKEND_H
#define GORO_BACKEND_H

#include "internal.h"

struct goro_backend {
	const char *name;

	/*
	 * The kernel owns P assignment (kmod): an M learns which P it holds
	 * from current_p() after the runtime re-enters from goroutine code,
	 * p_acquire() only gives back the P the M still holds, m_park()
	 * releases the P, and wake() replaces p_acquire() + m_wake().
	 */
	bool kernel_p;

	/* Optional: after start-up (the factory M). */
	void (*start)(void);

	/*
	 * Where P number id (0 <= id < GORO_MAX_PROCS) lives: return its
	 * zeroed struct goro_p, or NULL when the backend cannot provide it
	 * (kmod: past the nprocs fixed at setup). Called once per P, with
	 * sched.lock held, as nprocs grows.
	 */
	struct goro_p *(*p_create)(int id);

	/*
	 * nprocs becomes n (all Ps below n exist): Ps at or above n are
	 * retired (off the idle list; an owner drops its P at its next
	 * scheduling point), Ps below n come (back) into use. Serialised by
	 * the caller.
	 */
	void (*set_nprocs)(int n);

	/* The calling thread becomes M m / stops being one. 0 or -errno. */
	int (*m_attach)(struct goro_mach *m);
	void (*m_detach)(struct goro_mach *m);

	/*
	 * P acquire / release (Go's pidleget / pidleput). p_acquire returns
	 * an idle P, now owned by the caller, or NULL. p_release makes pp
	 * idle. npidle is the number of idle Ps (a seq_cst read: the
	 * scheduler's wakep decision pairs with p_release's increment).
	 */
	struct goro_pp *(*p_acquire)(struct goro_mach *m);
	void (*p_release)(struct goro_mach *m, struct goro_pp *pp);
	uint32_t (*npidle)(void);

	/*
	 * Park M m, which holds no P, until m_wake hands it a P or the
	 * absolute CLOCK_MONOTONIC deadline (0 = none) passes. Returns the P
	 * handed over (m->spinning set as the waker asked), or NULL on
	 * timeout. Calls goro__checkdead_locked() when m is the last M to
	 * park (Go's checkdead).
	 */
	struct goro_pp *(*m_park)(struct goro_mach *m, int64_t deadline);

	/*
	 * Hand P pp (owned by the caller) to a parked M and wake it; the M
	 * starts spinning when spinning is true. False when no M is parked:
	 * the caller still owns pp and starts a new M for it.
	 */
	bool (*m_wake)(struct goro_pp *pp, bool spinning);

	/*
	 * kernel_p only. Go's wakep when an M must look for work: 1 a parked
	 * M was woken with an idle P (it starts spinning); 2 a P is idle, no
	 * M is parked, and the factory M was asked for one (it does not
	 * spin); 0 a P is idle but no M is parked (the caller starts one);
	 * -1 no P is idle.
	 */
	int (*wake)(void);

	/*
	 * kernel_p only: the P M m holds now, as the kernel says (a block in
	 * goroutine code may have swapped it), or NULL. Called by m itself
	 * with *m->locks set, so the answer cannot change under it.
	 */
	struct goro_pp *(*current_p)(struct goro_mach *m);

	/*
	 * kernel_p only: an M back from a block waits for a P (its
	 * goroutine cannot be queued: the kernel holds its thread; the
	 * scheduler reads hdr.nmwaitp inline, see p_wanted() in sched.h).
	 * p_yield gives m's P (with its run queue) to such an M and parks m
	 * briefly; returns the P m holds afterwards, or NULL.
	 */
	struct goro_pp *(*p_yield)(struct goro_mach *m);

	/*
	 * Blocking-call bracket of the running goroutine on M m. After
	 * syscall_enter the P may be taken by retake(). syscall_exit returns
	 * true when m still owns m->p (fast path), false when the P was
	 * taken (m->p is then NULL and the scheduler finds another).
	 */
	void (*syscall_enter)(struct goro_mach *m);
	bool (*syscall_exit)(struct goro_mach *m);

	/*
	 * sysmon: take pp from its M if that M is still in the blocking call
	 * sysmon saw (syscalltick unchanged). True: the caller now owns pp
	 * and hands it off (goro__handoffp).
	 */
	bool (*retake)(struct goro_pp *pp, uint64_t syscalltick);

	/* sysmon: is pp's M inside a blocking call; its syscalltick. */
	bool (*in_syscall)(struct goro_pp *pp, uint64_t *syscalltick);
};

extern const struct goro_backend goro__backend_user HIDDEN;
extern const struct goro_backend goro__backend_kmod HIDDEN;

/* kmod: open, set up and map /dev/goro; 0 or -errno, why says what. */
int goro__kmod_open(char *why, size_t size) HIDDEN;

#endif
