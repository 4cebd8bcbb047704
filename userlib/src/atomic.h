/* SPDX-License-Identifier: MIT */
/* goro: memory-order helpers, and the shared run queue protocol on top. */
#ifndef GORO_ATOMIC_H
#define GORO_ATOMIC_H

#include <stdint.h>
#include <stdbool.h>

#define ld_acq(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define ld_rlx(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define st_rel(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define st_rlx(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define ld_sc(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define st_sc(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)

/*
 * The counting build (-DGORO_COUNT_ATOMICS, `make -C userlib SAN=count`,
 * bench/goro_ops.c): every locked read-modify-write (compare-and-swap,
 * exchange, fetch-and-add, including those inside the internal lock and
 * the run queue protocol) and every full fence is counted per thread, so
 * that a change to a hot path can be measured by what it costs on any
 * CPU, not by a wall clock on a loaded machine. The counters are read by
 * goro__count_read() (lock.c). Without the flag the hooks are nothing.
 */
#ifdef GORO_COUNT_ATOMICS
void goro__count_rmw(void);
void goro__count_fence(void);
/* the sums over every thread that counted so far */
void goro__count_read(uint64_t *rmw, uint64_t *fence);
#define COUNT_RMW() goro__count_rmw()
#define COUNT_FENCE() goro__count_fence()
/* the run queue protocol's compare-and-swap (uapi/goro_runq.h) */
#define GORO_RUNQ_RMW_HOOK() goro__count_rmw()
#else
#define COUNT_RMW() ((void)0)
#define COUNT_FENCE() ((void)0)
#endif

#define xadd(p, v) (COUNT_RMW(), __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST))
#define xchg(p, v) (COUNT_RMW(), __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST))
/* strong compare-and-swap, sequentially consistent; true when swapped */
#define cas(p, o, n)                                                           \
	__extension__({                                                        \
		__typeof__(*(p)) o_ = (o);                                     \
		COUNT_RMW();                                                   \
		__atomic_compare_exchange_n((p), &o_, (n), false,              \
					    __ATOMIC_SEQ_CST,                  \
					    __ATOMIC_RELAXED);                 \
	})
#if defined(__SANITIZE_THREAD__)
/* TSan does not model fences: a seq_cst read-modify-write on one shared
 * word orders the same way and is understood by it. */
extern uint32_t goro__fence_word;
#define fence_sc() ((void)__atomic_fetch_add(&goro__fence_word, 0, __ATOMIC_SEQ_CST))
#else
#define fence_sc() (COUNT_FENCE(), __atomic_thread_fence(__ATOMIC_SEQ_CST))
#endif

/*
 * A spin-wait's pause. AArch64: isb, not yield: yield is a no-op on most
 * cores, while isb waits for the pipeline to drain, a delay of the order
 * of x86's pause, which is what the spin counts were tuned for.
 */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("isb" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

/*
 * The run queue protocol's primitives are defined once, for every
 * userspace build, in uapi/goro_runq.h (internal.h includes it); the
 * release CAS on a kernel ring's head under its runtime name.
 */
#define goro__cas_rel_u32(p, o, n) goro_runq_cas_rel((p), (o), (n))

#endif
