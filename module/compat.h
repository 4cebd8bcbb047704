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

#include <linux/capability.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/sched.h>
#include <linux/sched/coredump.h>
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
 * 7.x: dumpability moved from mm->flags (and mm->user_ns) to
 * task->exec_state, whose reader task_exec_state_get_dumpable() is not
 * exported; the structure is public, read under RCU here. May current
 * read process t (whose mm is mm) as far as its dumpability goes: is it
 * dumpable by its owner, or has current CAP_SYS_PTRACE over it?
 */
#ifdef SUID_DUMP_USER
static inline bool goro_dump_ok(struct task_struct *t, struct mm_struct *mm)
{
	return get_dumpable(mm) == SUID_DUMP_USER ||
	       ns_capable(mm->user_ns, CAP_SYS_PTRACE);
}
#else
#include <linux/sched/exec_state.h>

static inline bool goro_dump_ok(struct task_struct *t, struct mm_struct *mm)
{
	const struct task_exec_state *es;
	bool ok;

	rcu_read_lock();
	es = rcu_dereference(t->exec_state);
	ok = es->dumpable == TASK_DUMPABLE_OWNER ||
	     ns_capable(es->user_ns, CAP_SYS_PTRACE);
	rcu_read_unlock();
	return ok;
}
#endif

#endif /* GORO_COMPAT_H */
