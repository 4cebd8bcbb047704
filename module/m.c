// SPDX-License-Identifier: GPL-2.0
/*
 * The life cycle of an M: GORO_IOC_ATTACH_M makes the calling thread an M
 * of the instance (a slot in the M table, a P if it asks for one, and its
 * preempt notifier registered on its own task), GORO_IOC_DETACH_M ends
 * that, and the last reference on the M frees it.
 *
 * Locking: the slot and the P are taken under inst->lock. Only the task
 * itself adds or removes its notifier (with preemption off, since its
 * own context switches walk the list), so attach registers in the
 * calling thread and detach unregisters there; the other ways an M
 * leaves (the instance is released, the task exec'd or died) are in
 * handoff.c, which owns what the notifier does and when it comes off.
 *
 * Lifetime: an attached M holds references on its task, its instance and
 * the module; its own count (mt->ref) is the attachment plus a pending
 * task_work. The last goro_m_put() (sched.c) queues goro_m_free() on
 * goro_wq, which waits for the M's irq_works and drops the three
 * references; module exit drains goro_wq. Dropping the instance
 * reference is this file's one call into inst.c.
 */
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "sched.h"
#include "trace.h"

static void goro_m_free(struct work_struct *work)
{
	struct goro_mthread *mt = container_of(work, struct goro_mthread,
					       free_work);

	irq_work_sync(&mt->wake_iw);
	irq_work_sync(&mt->dead_iw);
	put_task_struct(mt->task);
	goro_inst_put(mt->inst);
	kfree(mt);
	atomic_dec(&goro_stats.ms);
	/* goro_exit() drains goro_wq, so returning from here is safe. */
	module_put(THIS_MODULE);
}

long goro_ioc_attach(struct goro_inst *inst, struct goro_attach __user *uarg)
{
	struct goro_mthread *mt;
	struct goro_attach a;
	long ret;
	u32 i, slot;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.flags & ~GORO_ATTACH_P)
		return -EINVAL;
	if (!goro_resv_zero(a.resv, sizeof(a.resv)))
		return -EINVAL;
	if (a.flags & GORO_ATTACH_P) {
		if (a.p >= inst->nprocs)
			return -EINVAL;
		/* no speculative P past the table either */
		a.p = array_index_nospec(a.p, inst->nprocs);
	}
	if (goro_current_m(inst))
		return -EEXIST;

	mt = kzalloc(sizeof(*mt), GFP_KERNEL_ACCOUNT);
	if (!mt)
		return -ENOMEM;
	refcount_set(&mt->ref, 1);
	mt->inst = inst;
	mt->task = get_task_struct(current);
	mt->p = GORO_NONE;
	mt->state = GORO_M_RUNNING;
	INIT_LIST_HEAD(&mt->wait_node);
	INIT_WORK(&mt->free_work, goro_m_free);
	goro_m_init_hooks(mt);

	raw_spin_lock_irq(&inst->lock);
	ret = -ENOSPC;
	if (inst->nms >= inst->max_ms)
		goto err_unlock;
	for (i = 0; i < inst->max_ms; i++) {
		slot = (inst->ms_hint + i) % inst->max_ms;
		if (!inst->ms[slot])
			break;
	}
	ret = -EBUSY;
	if ((a.flags & GORO_ATTACH_P) &&
	    goro_take_p_locked(inst, a.p) == GORO_NONE)
		goto err_unlock;
	mt->slot = slot;
	inst->ms[slot] = mt;
	inst->ms_hint = slot + 1;
	inst->nms++;
	if (a.flags & GORO_ATTACH_P)
		goro_bind_p_locked(inst, a.p, mt, 0);
	goro_publish_m(inst, mt);
	raw_spin_unlock_irq(&inst->lock);

	/* The M's references: the instance, the module (the notifier). */
	refcount_inc(&inst->ref);
	__module_get(THIS_MODULE);
	atomic_inc(&goro_stats.ms);

	preempt_disable();
	preempt_notifier_register(&mt->pn);
	mt->registered = true;
	preempt_enable();

	trace_goro_attach(inst->tgid, task_pid_nr(current), slot,
			  READ_ONCE(mt->p));
	a.m = slot;
	if (copy_to_user(uarg, &a, sizeof(a))) {
		goro_m_detach(mt);
		return -EFAULT;
	}
	return 0;

err_unlock:
	raw_spin_unlock_irq(&inst->lock);
	put_task_struct(mt->task);
	kfree(mt);
	return ret;
}

long goro_ioc_detach(struct goro_inst *inst)
{
	struct goro_mthread *mt = goro_current_m(inst);

	if (!mt)
		return -EPERM;
	goro_m_detach(mt);
	return 0;
}
