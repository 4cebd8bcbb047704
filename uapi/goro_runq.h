/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * goro: the run queue protocol on struct goro_p, one implementation compiled
 * into both goro.ko and libgoro (Go's runqput/runqget/runqgrab).
 *
 * It is written with these memory-order primitives:
 *   GORO_LOAD_ACQ(ptr)            load-acquire
 *   GORO_LOAD_RLX(ptr)            relaxed (single-copy atomic) load
 *   GORO_STORE_REL(ptr, v)        store-release
 *   GORO_STORE_RLX(ptr, v)        relaxed store
 *   GORO_CAS_REL(ptr, old, new)   compare-and-swap with release semantics,
 *                                 true when it swapped
 * In the kernel the includer defines them first, with smp_load_acquire,
 * READ_ONCE, smp_store_release, WRITE_ONCE and cmpxchg (module/sched.h).
 * In userspace this header defines them, once for every user (libgoro,
 * the selftests, the tools), with the __atomic builtins.
 *
 * Who may call what:
 *  - goro_runq_put_batch: only the owner of p (the M holding it, or the
 *    kernel for a parked M inside GORO_IOC_PARK);
 *  - goro_runq_get: the owner;
 *  - goro_runq_grab: anyone (thieves); it copies into the thief's ring at
 *    positions the thief owns, and the thief publishes them with
 *    goro_runq_publish.
 * Every value read from the ring is treated as possibly garbage: lengths
 * outside 0..GORO_RUNQ_ENTRIES are "inconsistent, retry" and a bounded
 * number of retries (max_tries > 0) guarantees termination against a hostile
 * writer. Handles are opaque: never dereferenced here.
 */
#ifndef _UAPI_LINUX_GORO_RUNQ_H
#define _UAPI_LINUX_GORO_RUNQ_H

#include "goro.h"

#ifndef __KERNEL__
#define GORO_LOAD_ACQ(ptr)	__atomic_load_n(ptr, __ATOMIC_ACQUIRE)
#define GORO_LOAD_RLX(ptr)	__atomic_load_n(ptr, __ATOMIC_RELAXED)
#define GORO_STORE_REL(ptr, v)	__atomic_store_n(ptr, v, __ATOMIC_RELEASE)
#define GORO_STORE_RLX(ptr, v)	__atomic_store_n(ptr, v, __ATOMIC_RELAXED)
#define GORO_CAS_REL(ptr, o, n)	goro_runq_cas_rel(ptr, o, n)

/* libgoro's counting build counts it (userlib/src/atomic.h) */
#ifndef GORO_RUNQ_RMW_HOOK
#define GORO_RUNQ_RMW_HOOK() do { } while (0)
#endif

/* Strong compare-and-swap, release on success: 1 when it swapped. */
static inline int goro_runq_cas_rel(__u32 *ptr, __u32 o, __u32 n)
{
	GORO_RUNQ_RMW_HOOK();
	return __atomic_compare_exchange_n(ptr, &o, n, 0, __ATOMIC_RELEASE,
					   __ATOMIC_RELAXED);
}
#endif /* !__KERNEL__ */

#define GORO_RUNQ_MASK	(GORO_RUNQ_ENTRIES - 1)

/* Number of handles in p's ring as seen now; may be stale. */
static inline __u32 goro_runq_len(struct goro_p *p)
{
	__u32 h = GORO_LOAD_ACQ(&p->head);
	__u32 t = GORO_LOAD_ACQ(&p->tail);
	__u32 n = t - h;

	return n > GORO_RUNQ_ENTRIES ? 0 : n;
}

/* Owner: room left in p's ring. */
static inline __u32 goro_runq_room(struct goro_p *p)
{
	__u32 h = GORO_LOAD_ACQ(&p->head);	/* pairs with CAS_REL in get/grab */
	__u32 t = GORO_LOAD_RLX(&p->tail);	/* only we write it */
	__u32 n = t - h;

	return n > GORO_RUNQ_ENTRIES ? 0 : GORO_RUNQ_ENTRIES - n;
}

/*
 * Owner: append n handles (n <= goro_runq_room()). Returns how many were
 * stored (fewer only if the ring is fuller than the caller thought).
 */
static inline __u32 goro_runq_put_batch(struct goro_p *p, const __u64 *g,
					__u32 n)
{
	__u32 room = goro_runq_room(p);
	__u32 t = GORO_LOAD_RLX(&p->tail);
	__u32 i;

	if (n > room)
		n = room;
	for (i = 0; i < n; i++)
		GORO_STORE_RLX(&p->ring[(t + i) & GORO_RUNQ_MASK], g[i]);
	/* Publish the slots: pairs with LOAD_ACQ of tail in get/grab. */
	GORO_STORE_REL(&p->tail, t + n);
	return n;
}

/* Owner: take one handle from the head; 0 when empty. */
static inline __u64 goro_runq_get(struct goro_p *p, int max_tries)
{
	int i;

	for (i = 0; max_tries <= 0 || i < max_tries; i++) {
		__u32 h = GORO_LOAD_ACQ(&p->head);
		__u32 t = GORO_LOAD_RLX(&p->tail);
		__u64 g;

		if (t - h == 0 || t - h > GORO_RUNQ_ENTRIES)
			return 0;
		g = GORO_LOAD_RLX(&p->ring[h & GORO_RUNQ_MASK]);
		/* Commit the consume: pairs with LOAD_ACQ of head in put. */
		if (GORO_CAS_REL(&p->head, h, h + 1))
			return g;
	}
	return 0;
}

/*
 * Thief: copy half (rounded up) of victim's handles into thief's ring from
 * position thief_tail on, without publishing them. Returns how many were
 * copied and removed from victim (0: nothing, or gave up after max_tries).
 */
static inline __u32 goro_runq_grab(struct goro_p *victim,
				   struct goro_p *thief, __u32 thief_tail,
				   int max_tries)
{
	int i;

	for (i = 0; max_tries <= 0 || i < max_tries; i++) {
		__u32 h = GORO_LOAD_ACQ(&victim->head);
		__u32 t = GORO_LOAD_ACQ(&victim->tail);
		__u32 n = t - h;
		__u32 k;

		n = n - n / 2;
		if (n == 0)
			return 0;
		if (n > GORO_RUNQ_ENTRIES / 2)
			continue;	/* read h and t at different times */
		for (k = 0; k < n; k++) {
			__u64 g = GORO_LOAD_RLX(&victim->ring[(h + k) &
							       GORO_RUNQ_MASK]);

			GORO_STORE_RLX(&thief->ring[(thief_tail + k) &
						    GORO_RUNQ_MASK], g);
		}
		/* Commit the steal: pairs with LOAD_ACQ of head in put. */
		if (GORO_CAS_REL(&victim->head, h, h + n))
			return n;
	}
	return 0;
}

/* Thief (as owner of thief): make n grabbed handles visible. */
static inline void goro_runq_publish(struct goro_p *thief, __u32 thief_tail,
				     __u32 n)
{
	GORO_STORE_REL(&thief->tail, thief_tail + n);
}

#endif /* _UAPI_LINUX_GORO_RUNQ_H */
