/* SPDX-License-Identifier: MIT */
/*
 * goro: what the scheduler's own files share (sched.c, m.c, switch.c,
 * timer.c, init.c): entering and leaving the runtime from goroutine code,
 * and the calls they make across files. The rest of the runtime uses
 * internal.h only.
 */
#ifndef GORO_SCHED_H
#define GORO_SCHED_H

#include "internal.h"
#include "backend.h"

#define G0_STACK (256UL << 10)
#define DEFAULT_STACK (64UL << 10)
#define MAX_STACK (1UL << 30)

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

static inline void acquirep(struct goro_mach *m, struct goro_pp *pp)
{
	m->p = pp;
	pp->m = m;
}

/* pp goes idle (kmod: at the next PARK, see backend.h) */
static inline void releasep_backend(struct goro_mach *m, struct goro_pp *pp)
{
	if (goro__sched.be->p_release)
		goro__sched.be->p_release(m, pp);
}

/* sched.c */
NORETURN void goro__schedule(struct goro_mach *m) HIDDEN;
/*
 * Switch M m from the running context from to to, leaving action for to
 * to finish. Returns when from is resumed (on whichever M).
 */
void goro__gswitch(struct goro_mach *m, struct goro_g *from,
		   struct goro_g *to, int action, uint32_t *lk) HIDDEN;
/* The caller as a goroutine; NULL on a foreign thread (or no runtime). */
struct goro_g *goro__self(void) HIDDEN;
/* goro_preempt_point(): m's goroutine yields (e: from rt_enter) */
void goro__preempted(struct goro_mach *m, bool e) HIDDEN;

/* m.c */
struct goro_mach *goro__allocm(void) HIDDEN;
void goro__stack_bounds_self(struct goro_stack *s) HIDDEN;

#endif
