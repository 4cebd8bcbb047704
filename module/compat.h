/* SPDX-License-Identifier: GPL-2.0 */
/*
 * goro: every difference between the kernels goro.ko builds on, and only
 * here. The module is written against the newest kernel API; each shim
 * below gives an older kernel the newer name, so the other files read the
 * same on every version, and a kernel dropped from support is dropped by
 * deleting its shims. Tested kernels: 6.1 (and 6.1-rt), 6.12, the newest
 * Debian ships (README "Supported kernels").
 */
#ifndef GORO_COMPAT_H
#define GORO_COMPAT_H

#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/stacktrace.h>
#include <linux/version.h>

/* 6.3: vma->vm_flags became read-only, written through these */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline void vm_flags_set(struct vm_area_struct *vma, vm_flags_t flags)
{
	vma->vm_flags |= flags;
}

static inline void vm_flags_clear(struct vm_area_struct *vma,
				  vm_flags_t flags)
{
	vma->vm_flags &= ~flags;
}
#endif

/* 6.5: get_user_pages_remote() lost its vmas argument */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 5, 0)
#define get_user_pages_remote(mm, start, nr, gup_flags, pages, locked) \
	get_user_pages_remote(mm, start, nr, gup_flags, pages, NULL, locked)
#endif

/*
 * 6.12: a task that blocks may stay on its run queue, its dequeue delayed
 * (EEVDF): on_rq alone no longer says it can run
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
static inline bool task_is_runnable(struct task_struct *p)
{
	return READ_ONCE(p->on_rq);
}
#endif

/* 6.13: hrtimer_setup() sets the callback; 6.15 removed hrtimer_init() */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
static inline void hrtimer_setup(struct hrtimer *timer,
				 enum hrtimer_restart (*function)(struct hrtimer *),
				 clockid_t clock_id, enum hrtimer_mode mode)
{
	hrtimer_init(timer, clock_id, mode);
	timer->function = function;
}
#endif

/*
 * 6.7: stack_trace_save_tsk() is exported. Before, a module walks a
 * sleeping task's stack itself: on x86 with the unwinder (exported), on
 * arm64 along the frame records (the kernel keeps frame pointers) from
 * the context cpu_switch_to() saved (declared, not exported: the shim
 * takes the name). Unlike the kernel's, these keep the
 * scheduler's own frames; the caller skips them by name anyway. The
 * caller keeps t asleep (its pi_lock), so its stack stays as it is.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 7, 0)
#if defined(CONFIG_X86)
#include <asm/unwind.h>

static inline unsigned int goro_stack_trace_save_tsk(struct task_struct *t,
						     unsigned long *store,
						     unsigned int size,
						     unsigned int skipnr)
{
	struct unwind_state state;
	unsigned long addr;
	unsigned int n = 0;

	for (unwind_start(&state, t, NULL, NULL);
	     !unwind_done(&state) && n < size; unwind_next_frame(&state)) {
		addr = unwind_get_return_address(&state);
		if (!addr)
			break;
		if (skipnr) {
			skipnr--;
			continue;
		}
		store[n++] = addr;
	}
	return n;
}
#elif defined(CONFIG_ARM64)
#include <linux/sched/task_stack.h>
#include <asm/pointer_auth.h>

static inline unsigned int goro_stack_trace_save_tsk(struct task_struct *t,
						     unsigned long *store,
						     unsigned int size,
						     unsigned int skipnr)
{
	unsigned long low = (unsigned long)task_stack_page(t);
	unsigned long high = low + THREAD_SIZE;
	unsigned long fp = thread_saved_fp(t);
	unsigned long addr = thread_saved_pc(t);
	unsigned int n = 0;

	for (;;) {
		if (skipnr)
			skipnr--;
		else if (n < size)
			store[n++] = addr;
		else
			break;
		/* a frame record: the caller's fp, then the return address */
		if (fp < low || fp > high - 16 || (fp & 7))
			break;
		addr = ptrauth_strip_insn_pac(READ_ONCE_NOCHECK(((unsigned long *)fp)[1]));
		if (!addr)
			break;
		/* callers' records are further up: a loop ends here */
		if (READ_ONCE_NOCHECK(((unsigned long *)fp)[0]) <= fp)
			break;
		fp = READ_ONCE_NOCHECK(((unsigned long *)fp)[0]);
	}
	return n;
}
#else
#error "goro.ko: no stack walk for this architecture before 6.7"
#endif
#define stack_trace_save_tsk goro_stack_trace_save_tsk
#endif

#endif /* GORO_COMPAT_H */
