/* SPDX-License-Identifier: MIT */
/*
 * goro: the context switch's companions (switch.c): the sanitizers' and
 * valgrind's view of goroutine stacks. The hooks around the switch itself
 * are inline, since they run on every switch.
 */
#ifndef GORO_SWITCH_H
#define GORO_SWITCH_H

#include "internal.h"

#ifdef GORO_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#endif
#ifdef GORO_TSAN
#include <sanitizer/tsan_interface.h>
#endif

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

/*
 * A goroutine never returns from the frames that make its last switch
 * (goro__g_entry, goexit1, execute, goro__gswitch; with goro_exit, every frame
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

/* Lay out a fresh context on g's stack that starts in goro__g_entry. */
void goro__g_prepare(struct goro_g *g) HIDDEN;
/* g is dead and off its stack: its stack goes back (stack.c). */
void goro__free_g(struct goro_mach *m, struct goro_g *g) HIDDEN;
NORETURN void goro__stack_overflow(struct goro_g *g) HIDDEN;

#endif
