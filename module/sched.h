/* SPDX-License-Identifier: GPL-2.0 */
/*
 * goro.ko internals shared by the files of the module: the scheduler
 * instance, its Ps and Ms, and the entry points each file provides.
 *
 * Objects and lifetimes
 *  - struct goro_inst: one per open file that did GORO_IOC_SETUP. The file
 *    holds one reference and every attached M one more, so the instance
 *    (and the shared region) outlives the file until its last M is gone.
 *  - struct goro_mthread: one per attached thread. It holds a reference on
 *    its task, on the instance and on the module, and its preempt notifier
 *    stays on the task's list until the task itself unregisters it (detach,
 *    or a task_work once the instance is gone) or the task dies.
 *  - P state lives in struct goro_proc (kernel copy, the truth) and is
 *    published to the shared struct goro_p; the kernel never reads back a
 *    field it writes, and treats every field userspace writes as hostile.
 *
 * Locking: inst->lock (raw spinlock) protects the P and M state, the lists
 * of parked and waiting Ms and the counters. It is taken from the preempt
 * notifier (rq lock held, IRQs off), so under it nothing may wake a task,
 * queue a work or take a scheduler lock; wake-ups happen after unlock, or
 * through an irq_work from the notifier. Readers of /proc take no lock.
 */
#ifndef _GORO_SCHED_H
#define _GORO_SCHED_H

#include <linux/atomic.h>
#include <linux/hrtimer.h>
#include <linux/irq_work.h>
#include <linux/list.h>
#include <linux/preempt.h>
#include <linux/refcount.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/task_work.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "uapi/goro.h"

/*
 * The shared ring protocol, compiled here with the kernel's primitives.
 * Each use says what it pairs with, in goro_runq.h.
 */
#define GORO_LOAD_ACQ(ptr)		smp_load_acquire(ptr) /* see runq.h */
#define GORO_LOAD_RLX(ptr)		READ_ONCE(*(ptr))
#define GORO_STORE_REL(ptr, v)		smp_store_release(ptr, v) /* runq.h */
#define GORO_STORE_RLX(ptr, v)		WRITE_ONCE(*(ptr), v)
#define GORO_CAS_REL(ptr, old, new)	goro_cas_u32(ptr, old, new)

/* cmpxchg is fully ordered: at least the release the protocol needs. */
static inline bool goro_cas_u32(u32 *ptr, u32 old, u32 new)
{
	return cmpxchg(ptr, old, new) == old;
}

#include "uapi/goro_runq.h"

/* params.c: module parameters, module-wide stats and workqueue */
extern unsigned int goro_max_procs;
extern unsigned int goro_max_ms;
extern unsigned int goro_preempt_ms;
extern unsigned int goro_ksteal_tries;
extern unsigned int goro_max_instances_per_user;

extern struct workqueue_struct *goro_wq;	/* Ms are freed from it */

/* Live objects and event totals since load, for /proc/goro/stats. */
struct goro_stats {
	atomic_t instances;
	atomic_t ms;
	atomic64_t handoffs;
	atomic64_t parks;
	atomic64_t wakes;
	atomic64_t ksteals;
	atomic64_t preempt_reqs;
};

extern struct goro_stats goro_stats;

int goro_params_check(void);
/* Feature bits this module implements (GORO_IOC_VERSION, SETUP). */
u64 goro_features(void);

/* Kernel side of a P; published to struct goro_p. */
struct goro_proc {
	u32 status;		/* GORO_P_* */
	u32 owner;		/* M slot, or GORO_NONE */
	u64 syscalltick;	/* blocks of the owner */
	u64 handoffs;		/* handed to another M while its owner blocked */
	u64 ksteals;		/* handles the kernel stole from this P */
	u64 preempt_reqs;	/* preemption requests (monitor) */
	/* monitor (monitor.c), touched only by the monitor timer */
	u64 mon_tick;		/* schedtick seen last */
	u64 mon_since;		/* ns when mon_tick was first seen */
};

/* What /proc shows of an M slot; written under inst->lock. */
struct goro_mview {
	u32 state;
	u32 p;
	u32 tid;
	u64 since;		/* ns when state last changed */
};

struct goro_inst;

/* Kernel side of an M: an attached thread. */
struct goro_mthread {
	struct preempt_notifier pn;	/* on task's list while registered */
	struct goro_inst *inst;
	struct task_struct *task;	/* reference held */
	refcount_t ref;			/* attachment + pending task_work */
	u32 slot;			/* index in inst->ms and the M table */
	/* under inst->lock */
	u32 state;			/* GORO_M_* */
	u32 p;				/* owned P or GORO_NONE */
	u32 woke;			/* GORO_WOKE_* when given a P */
	bool gone;			/* no longer an M of inst */
	bool in_park;			/* inside GORO_IOC_PARK */
	bool tw_queued;			/* twork is pending */
	bool waiting;			/* on parked, factory or waitp */
	bool factory;			/* parked as the factory M */
	bool unclaimed;			/* handed a P asleep, not running yet */
	bool unclaimed_waitp;		/* ... while on waitp (else parked) */
	bool resume_pending;		/* left waitp for a freeze */
	struct list_head wait_node;
	u64 block_ns;			/* when it last blocked with its P */
	u64 given_ns;			/* block_ns of the M whose P we got */
	pid_t given_from;		/* tid of that M */
	/* touched only by the task itself */
	bool registered;		/* notifier on the task's list */
	struct callback_head twork;	/* on the way back to user mode */
	struct irq_work wake_iw;	/* wake task (from the notifier) */
	struct irq_work dead_iw;	/* task died: drop the attachment */
	struct work_struct free_work;
};

struct goro_inst {
	refcount_t ref;			/* the file + each attached M */
	raw_spinlock_t lock;
	struct mm_struct *mm;		/* mmgrab'd: the owner process */
	pid_t tgid;
	struct pid *pid;		/* its thread group, for /proc access */
	kuid_t uid;			/* counted against its limit */
	u32 nprocs;
	u32 nactive;			/* Ps in use: 0..nactive-1 (lock) */
	u32 max_ms;
	bool dead;			/* file released */
	u64 start_ns;

	/* the shared region (vmalloc); "sh" = shared with userspace */
	void *region;
	size_t map_size;
	struct goro_offsets off;
	struct goro_shared_hdr *shdr;

	/* under lock */
	struct goro_proc *procs;
	u32 *idle;			/* stack of GORO_P_IDLE Ps */
	u32 nidle;
	u32 nblocked;			/* Ps in GORO_P_BLOCKED */
	struct goro_mthread **ms;	/* M slots */
	struct goro_mview *mview;
	u32 nms;
	u32 ms_hint;			/* where to look for a free slot */
	struct list_head parked;	/* Ms in PARK, most recent first */
	struct list_head waitp;		/* Ms waiting for a P, oldest first */
	struct list_head factory;	/* factory Ms parked */
	u32 nparked;
	u32 nwaitp;
	u64 handoffs;
	u64 handoff_lat_sum;		/* ns */
	u64 handoff_lat_max;
	u64 handoff_lat_n;
	u64 parks;
	u64 wakes;
	u64 ksteals;
	u64 spare_wanted;
	u64 blocks;			/* Ms that blocked holding a P */
	u64 blocked_taken;		/* Ps taken from a blocked owner */
	u64 waitps;			/* Ms back from a block without a P */
	u64 nexthands;			/* Ps given to the next task, no wake */
	u64 reclaims;			/* unclaimed handoffs taken back */
	u64 preempt_reqs;		/* monitor only */
	u64 greg;			/* user address of struct goro_greg */

	struct hrtimer monitor;
	struct work_struct gone_work;	/* the process is gone (monitor.c) */
	struct proc_dir_entry *proc;
	struct list_head node;		/* goro_instances */
};

/* Pointers into the shared region. */
static inline struct goro_p *goro_shp(struct goro_inst *inst, u32 p)
{
	return inst->region + inst->off.procs + (size_t)p * inst->off.p_stride;
}

static inline struct goro_m *goro_shm(struct goro_inst *inst, u32 m)
{
	return inst->region + inst->off.ms + (size_t)m * inst->off.m_stride;
}

/* Does P p have work userspace published (its ring, runnext, global)? */
static inline bool goro_p_has_work(struct goro_inst *inst, u32 p)
{
	struct goro_p *shp = goro_shp(inst, p);

	return goro_runq_len(shp) || READ_ONCE(shp->runnext) ||
	       READ_ONCE(inst->shdr->runqsize);
}

/* P p is out of use (GORO_IOC_SETPROCS lowered nprocs). Under lock. */
static inline bool goro_p_retired(struct goro_inst *inst, u32 p)
{
	return p >= inst->nactive;
}

/*
 * What each file provides, by the file that defines it, lowest first
 * (params.c, above, is read by all). Calls go down only:
 *  - main.c calls inst.c and m.c, and park.c and proc.c for their ioctls;
 *  - inst.c calls sched.c, monitor.c and proc.c; m.c calls sched.c,
 *    handoff.c, and inst.c only to drop an M's instance reference;
 *  - park.c, handoff.c, monitor.c and proc.c call sched.c only;
 *  - sched.c calls none of them; it matches handoff.c's notifier ops in
 *    goro_task_m().
 */

/* sched.c: P publishing, the P state machine and hand-over rules */
void goro_publish_p(struct goro_inst *inst, u32 p);
void goro_publish_m(struct goro_inst *inst, struct goro_mthread *mt);
void goro_publish_counts(struct goro_inst *inst);
u32 goro_take_p_locked(struct goro_inst *inst, u32 want);
u32 goro_take_unclaimed_locked(struct goro_inst *inst,
			       struct goro_mthread *thief);
void goro_idle_push(struct goro_inst *inst, u32 p);
void goro_idle_remove(struct goro_inst *inst, u32 p);
void goro_want_spare_locked(struct goro_inst *inst);
void goro_bind_p_locked(struct goro_inst *inst, u32 p,
			struct goro_mthread *mt, u32 why);
struct goro_mthread *goro_give_p_locked(struct goro_inst *inst, u32 p,
					bool need_work);
struct goro_mthread *goro_release_p_locked(struct goro_inst *inst,
					   struct goro_mthread *mt);
struct goro_mthread *goro_m_remove(struct goro_inst *inst,
				   struct goro_mthread *mt);
void goro_wake_task(struct task_struct *task);
/* sched.c: Ms, their references and identity */
void goro_m_put(struct goro_mthread *mt);
struct goro_mthread *goro_current_m(struct goro_inst *inst);
struct goro_mthread *goro_task_m(struct goro_inst *inst,
				 struct task_struct *t);

/* handoff.c: the preempt notifier of an M, its hooks and unregistration */
extern struct preempt_ops goro_preempt_ops;
void goro_m_init_hooks(struct goro_mthread *mt);
void goro_m_detach(struct goro_mthread *mt);

/* park.c: GORO_IOC_PARK and GORO_IOC_WAKE */
long goro_ioc_park(struct goro_inst *inst, struct goro_park __user *uarg);
long goro_ioc_wake(struct goro_inst *inst, struct goro_wake __user *uarg);

/* monitor.c: the preemption request timer of an instance */
void goro_monitor_init(struct goro_inst *inst);
void goro_monitor_start(struct goro_inst *inst);
void goro_monitor_stop(struct goro_inst *inst);

/* proc.c: /proc/goro, and GORO_IOC_GREGISTER whose registry it shows */
long goro_ioc_gregister(struct goro_inst *inst,
			struct goro_gregister __user *uarg);
int goro_proc_init(void);
void goro_proc_exit(void);
int goro_proc_add(struct goro_inst *inst);
void goro_proc_del(struct goro_inst *inst);

/* inst.c: the instance life cycle */
long goro_ioc_setup(struct file *file, struct goro_setup __user *uarg);
int goro_mmap(struct file *file, struct vm_area_struct *vma);
long goro_ioc_setprocs(struct goro_inst *inst,
		       struct goro_setprocs __user *uarg);
void goro_inst_release(struct goro_inst *inst);
void goro_inst_put(struct goro_inst *inst);
struct goro_inst **goro_inst_get_all(unsigned int *n);
void goro_inst_put_all(struct goro_inst **v, unsigned int n);
struct goro_inst *goro_file_inst(struct file *file);

/* m.c: the M life cycle */
long goro_ioc_attach(struct goro_inst *inst, struct goro_attach __user *uarg);
long goro_ioc_detach(struct goro_inst *inst);

/* Reserved ioctl fields must be zero: true if every one is. */
static inline bool goro_resv_zero(const void *resv, size_t size)
{
	return !memchr_inv(resv, 0, size);
}

#endif /* _GORO_SCHED_H */
