/* SPDX-License-Identifier: MIT */
/*
 * goro: beside the context switch (switch_x86_64.S, switch_aarch64.S): a
 * fresh goroutine's first frame, and what the sanitizers (ASan's fake
 * stacks, TSan's fibers) and valgrind must be told about goroutine stacks
 * as they start, switch and end. The scheduler's goro__gswitch (sched.c) makes the
 * switch with the inline hooks of switch.h.
 *
 * Calls only down: stack.c (freeing a stack) and goro__fatal (lock.c).
 */
#include "switch.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define GORO_VALGRIND 1
#endif
#endif

void goro__stack_overflow(struct goro_g *g)
{
	goro__fatal("goroutine %lld: stack overflow (stack guard word "
		    "overwritten; its stack: %zu bytes, set by GORO_STACK or "
		    "goro_go_opts' stack_size)\nfatal error: stack overflow\n",
		    (long long)g->id, (size_t)(g->stk.hi - g->stk.lo));
}

void goro__free_g(struct goro_mach *m, struct goro_g *g)
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

void goro__g_prepare(struct goro_g *g)
{
	uintptr_t top = ((uintptr_t)g->stk.hi - 64) & ~(uintptr_t)15;
#if defined(__aarch64__)
	/* the frame of switch_aarch64.S: x19-x28, x29, x30, d8-d15, FPCR */
	uint64_t *f = (uint64_t *)(top - 176);
	int i;

	for (i = 0; i < 22; i++)
		f[i] = 0;
	f[0] = (uint64_t)(uintptr_t)g;			   /* x19 */
	f[10] = 0;					   /* x29: end of chain */
	f[11] = (uint64_t)(uintptr_t)goro__ctx_entry;	   /* x30 */
	/* f[20]: FPCR 0, the AAPCS64 default (round to nearest, IEEE) */
#else
	uint64_t *f = (uint64_t *)(top - 64);

	f[0] = 0x1f80 | ((uint64_t)0x037f << 32); /* MXCSR, x87 CW */
	f[1] = 0;				   /* r15 */
	f[2] = 0;				   /* r14 */
	f[3] = 0;				   /* r13 */
	f[4] = (uint64_t)(uintptr_t)g;		   /* r12 */
	f[5] = 0;				   /* rbx */
	f[6] = 0;				   /* rbp */
	f[7] = (uint64_t)(uintptr_t)goro__ctx_entry;
#endif
	g->sp = f;
#ifdef GORO_TSAN
	if (!g->tsan_fiber)
		g->tsan_fiber = __tsan_create_fiber(0);
#endif
#ifdef GORO_VALGRIND
	g->vg_id = VALGRIND_STACK_REGISTER(g->stk.lo, g->stk.hi);
#endif
}
