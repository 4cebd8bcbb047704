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
#define xadd(p, v) __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
#define xchg(p, v) __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
/* strong compare-and-swap, sequentially consistent; true when swapped */
#define cas(p, o, n)                                                           \
	__extension__({                                                        \
		__typeof__(*(p)) o_ = (o);                                     \
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
#define fence_sc() __atomic_thread_fence(__ATOMIC_SEQ_CST)
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
