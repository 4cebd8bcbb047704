// SPDX-License-Identifier: GPL-2.0
/*
 * P handoff: when an M blocks in the kernel, its P moves on at once.
 *
 * Every attached M carries a preempt notifier. Its sched_out runs inside
 * the context switch with the rq lock held and IRQs off, so it only flips
 * state under inst->lock (a raw spinlock taken nowhere a scheduler lock is
 * taken inside it) and defers every wake-up to an irq_work, which runs as
 * soon as the switch has finished. When the M blocks (not preempted: its
 * task left the run queue) holding a P, and userspace did not say
 * "goro_m.locks != 0", the P goes:
 *  - to an M waiting for a P to run its goroutine (back from a block),
 *  - else, if the P has work (ring, runnext, global queue), to the most
 *    recently parked M, woken through its irq_work: one wake-up;
 *  - else it is marked GORO_P_BLOCKED: still the blocked M's, but anyone
 *    who needs a P may take it (GORO_IOC_WAKE, PARK, a waiting M).
 *    With work and no parked M, hdr.spare_wanted asks userspace for an M.
 *
 * When the M runs again (sched_in, IRQs on) it takes its P back if it is
 * still GORO_P_BLOCKED and its own: no sleep, no task_work. If the P was
 * taken, a task_work (TWA_RESUME) on the way back to user mode gets it an
 * idle or blocked P, or queues it on inst->waitp (hdr.nmwaitp) until a P
 * holder releases one: the M never returns to goroutine code without a P.
 *
 * That wait is killable and freezable. The system freezer freezes it in
 * place (TASK_FREEZABLE); the cgroup v2 freezer needs the task to reach
 * the signal path, so on a freeze request the M leaves inst->waitp, still
 * GORO_M_WAITP, and returns; the freeze trap sleeps, and the sched_in
 * that follows queues the task_work again, which runs before the return
 * to user mode. Other signals wait for the P (a handler runs only with
 * one), looking for a freeze request every GORO_FREEZE_POLL meanwhile.
 * A freeze cancelled between our leaving and the freeze trap (no sleep,
 * so no sched_in) lets the M return to user mode without a P: its
 * goroutine's code runs on, and the library's next entry reads
 * goro_m.p == GORO_NONE and takes the way of a bracketed call whose P
 * was handed off (the goroutine to the global queue, the M to find a P).
 *
 * Lifetime of the notifier. Only the task itself may take its notifier off
 * its list (the list is walked without a lock by its own context switches),
 * so:
 *  - GORO_IOC_DETACH unregisters in the calling thread (goro_m_detach(),
 *    here; m.c registers at attach);
 *  - when the instance is gone (file released) or the thread exec'd into
 *    another mm, the next block queues a task_work that unregisters in the
 *    task's context (exit_task_work() runs it too if the task is exiting);
 *  - when the thread dies with the notifier still registered, its final
 *    sched_out sees TASK_DEAD: nothing walks that list again, so the
 *    notifier stays on the dead task's list (freed with the task_struct,
 *    which our reference keeps alive until then), and the attachment
 *    reference is dropped from an irq_work, after the switch, since
 *    freeing needs a workqueue and queueing one takes scheduler locks.
 * The M itself is freed from goro_wq after irq_work_sync(), so no irq_work
 * or notifier can touch it afterwards; it holds a module reference, and
 * module exit drains goro_wq.
 */
#include <linux/freezer.h>
#include <linux/sched/jobctl.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>

#include "sched.h"
#include "trace.h"

static void goro_wake_iw(struct irq_work *iw)
{
	struct goro_mthread *mt = container_of(iw, struct goro_mthread,
					       wake_iw);

	wake_up_process(mt->task);
}

static void goro_dead_iw(struct irq_work *iw)
{
	goro_m_put(container_of(iw, struct goro_mthread, dead_iw));
}

/* Queue the task_work of mt on current (mt->task), once. Under lock. */
static void goro_queue_resume_locked(struct goro_mthread *mt)
{
	if (mt->tw_queued)
		return;
	refcount_inc(&mt->ref);
	if (task_work_add(current, &mt->twork, TWA_RESUME)) {
		/* exiting: the final sched_out or exit cleans up */
		refcount_dec(&mt->ref);
		return;
	}
	mt->tw_queued = true;
}

/*
 * The M of inst that task next is, when it is one back from a block that
 * has no P yet (its sched_in has not run, or its task_work has not found
 * one): it is about to run on this CPU, so a P given to it needs no
 * wake-up. next is not running (the rq lock is held and it is switched
 * to here). Under inst->lock.
 */
static struct goro_mthread *goro_next_wants_p(struct goro_inst *inst,
					      struct task_struct *next)
{
	struct goro_mthread *w = goro_task_m(inst, next);

	if (!w || w->p != GORO_NONE || next->mm != inst->mm ||
	    (next->flags & PF_EXITING))
		return NULL;
	return w->state == GORO_M_BLOCKED || w->state == GORO_M_WAITP ?
	       w : NULL;
}

/* sched_out of a task that is blocking (left the run queue). */
static void goro_m_block(struct goro_mthread *mt, struct task_struct *next)
{
	struct goro_inst *inst = mt->inst;
	struct goro_mthread *w = NULL;
	struct task_struct *tsk = current;
	u64 now;
	u32 p;

	raw_spin_lock(&inst->lock);
	if (mt->gone)
		goto out;
	if (READ_ONCE(inst->dead) || tsk->mm != inst->mm ||
	    (tsk->flags & PF_EXITING)) {
		/* not an M any more: leave, unregister on the way out */
		w = goro_m_remove(inst, mt);
		goro_queue_resume_locked(mt);
		goto out;
	}
	p = mt->p;
	if (mt->in_park || p == GORO_NONE)
		goto out;
	if (READ_ONCE(goro_shm(inst, mt->slot)->locks))
		goto out;
	/* a retired P is nobody else's: its owner keeps it */
	if (goro_p_retired(inst, p))
		goto out;

	now = ktime_get_ns();
	mt->block_ns = now;
	mt->state = GORO_M_BLOCKED;
	inst->blocks++;
	inst->procs[p].syscalltick++;
	w = goro_next_wants_p(inst, next);
	if (w) {
		/* runs next here: its sched_in finds the P, no wake-up */
		goro_bind_p_locked(inst, p, w, GORO_WOKE_WAKE);
		w->state = GORO_M_RUNNING;
		w->unclaimed = false;
		inst->nexthands++;
		goro_publish_m(inst, w);
		w = NULL;
		goto published;
	}
	w = goro_give_p_locked(inst, p, true);
	if (!w) {
		inst->procs[p].status = GORO_P_BLOCKED;
		inst->nblocked++;
		goro_publish_p(inst, p);
		goro_publish_counts(inst);
		/*
		 * npidle grew: a producer that missed it saw no idle P and
		 * will not wake anyone; recheck its queues. Pairs with
		 * userspace's barrier between queueing and reading npidle.
		 */
		smp_mb();
		if (goro_p_has_work(inst, p)) {
			w = goro_give_p_locked(inst, p, true);
			if (!w)
				goro_want_spare_locked(inst);
		}
	}
	if (w) {
		w->given_ns = now;
		w->given_from = task_pid_nr(tsk);
		if (w->woke == GORO_WOKE_HANDOFF) {
			inst->handoffs++;
			inst->procs[p].handoffs++;
			atomic64_inc(&goro_stats.handoffs);
			goro_publish_p(inst, p);
			goro_publish_counts(inst);
		}
	}
published:
	goro_publish_m(inst, mt);
out:
	/*
	 * Queue w's wake-up before unlocking: once unlocked, w (no longer
	 * waiting) may wake by itself, detach or die, and be freed; its
	 * removal takes inst->lock, and its free syncs the irq_work.
	 */
	if (w)
		irq_work_queue(&w->wake_iw);
	raw_spin_unlock(&inst->lock);
}

/* Final sched_out of a dead task: see "Lifetime of the notifier". */
static void goro_m_dead(struct goro_mthread *mt)
{
	struct goro_inst *inst = mt->inst;
	struct goro_mthread *w;

	raw_spin_lock(&inst->lock);
	w = goro_m_remove(inst, mt);
	/* under the lock, as in goro_m_block(): w may leave once unlocked */
	if (w)
		irq_work_queue(&w->wake_iw);
	raw_spin_unlock(&inst->lock);
	mt->registered = false;
	irq_work_queue(&mt->dead_iw);
}

static void goro_sched_out(struct preempt_notifier *pn,
			   struct task_struct *next)
{
	struct goro_mthread *mt = container_of(pn, struct goro_mthread, pn);
	unsigned int state = READ_ONCE(current->__state);

	if (unlikely(state == TASK_DEAD)) {
		goro_m_dead(mt);
		return;
	}
	/*
	 * Preempted or yielding (still runnable): keep the P. A task that
	 * blocks can stay on the run queue, dequeue delayed (6.12's EEVDF):
	 * it is blocking all the same.
	 */
	if (state == TASK_RUNNING || task_is_runnable(current))
		return;
	/* Blocking with a P, or an M that has to leave (see goro_m_block). */
	if (READ_ONCE(mt->gone))
		return;
	if ((READ_ONCE(mt->p) != GORO_NONE && !READ_ONCE(mt->in_park)) ||
	    unlikely(READ_ONCE(mt->inst->dead) || current->mm != mt->inst->mm ||
		     (current->flags & PF_EXITING)))
		goro_m_block(mt, next);
}

/*
 * mt, back from a block without its P and running: take an idle P, one
 * whose owner is blocked, or a handoff its parked M has not claimed yet.
 */
static bool goro_resume_take_p_locked(struct goro_inst *inst,
				      struct goro_mthread *mt)
{
	u32 p = goro_take_p_locked(inst, GORO_NONE);

	if (p != GORO_NONE) {
		goro_bind_p_locked(inst, p, mt, 0);
		return true;
	}
	return goro_take_unclaimed_locked(inst, mt) != GORO_NONE;
}

/* Back from a freeze: wait for a P again before user mode. */
static void goro_sched_in_resume(struct goro_mthread *mt)
{
	struct goro_inst *inst = mt->inst;

	raw_spin_lock_irq(&inst->lock);
	if (mt->resume_pending && !mt->gone) {
		mt->resume_pending = false;
		goro_queue_resume_locked(mt);
	}
	raw_spin_unlock_irq(&inst->lock);
}

static void goro_sched_in(struct preempt_notifier *pn, int cpu)
{
	struct goro_mthread *mt = container_of(pn, struct goro_mthread, pn);
	struct goro_inst *inst = mt->inst;
	u32 p;

	if (unlikely(READ_ONCE(mt->resume_pending)))
		goro_sched_in_resume(mt);
	if (likely(READ_ONCE(mt->state) != GORO_M_BLOCKED))
		return;
	raw_spin_lock_irq(&inst->lock);
	if (mt->gone || mt->state != GORO_M_BLOCKED)
		goto out;
	p = mt->p;
	if (p != GORO_NONE) {
		/* Fast path: nobody took our P. */
		if (inst->procs[p].status == GORO_P_BLOCKED)
			inst->nblocked--;
		inst->procs[p].status = GORO_P_RUNNING;
		mt->state = GORO_M_RUNNING;
		goro_publish_p(inst, p);
		goro_publish_counts(inst);
	} else if (goro_resume_take_p_locked(inst, mt)) {
		mt->state = GORO_M_RUNNING;
	} else {
		mt->state = GORO_M_WAITP;
		goro_queue_resume_locked(mt);
	}
	goro_publish_m(inst, mt);
out:
	raw_spin_unlock_irq(&inst->lock);
}

struct preempt_ops goro_preempt_ops = {
	.sched_in = goro_sched_in,
	.sched_out = goro_sched_out,
};

/* How often an M waiting for a P with a signal pending looks for a freeze. */
#define GORO_FREEZE_POLL	(HZ / 100 ?: 1)

/* Does a freezer (system or cgroup v2) want current? */
static bool goro_freeze_wanted(void)
{
	return freezing(current) ||
	       (READ_ONCE(current->jobctl) & JOBCTL_TRAP_FREEZE);
}

/*
 * Wait on inst->waitp until a P is given to us (or we must give up).
 * True: a freezer wants us, leave for the signal path (file comment).
 */
static bool goro_m_wait_p(struct goro_inst *inst, struct goro_mthread *mt)
{
	bool freeze = false, sig;

	for (;;) {
		/*
		 * Interruptible, so that a freeze request wakes us; with
		 * another signal pending, killable (its handler runs only
		 * once we hold a P) and polling for a freeze request.
		 */
		sig = signal_pending(current);
		set_current_state((sig ? TASK_KILLABLE : TASK_INTERRUPTIBLE) |
				  TASK_FREEZABLE);
		if (READ_ONCE(mt->woke) || READ_ONCE(inst->dead) ||
		    READ_ONCE(mt->gone) || fatal_signal_pending(current))
			break;
		if (sig && goro_freeze_wanted()) {
			freeze = true;
			break;
		}
		if (sig)
			schedule_timeout(GORO_FREEZE_POLL);
		else
			schedule();
	}
	__set_current_state(TASK_RUNNING);
	return freeze;
}

/*
 * task_work, on the way back to user mode (or in exit_task_work()): get a
 * P back after a block, or leave the instance if we are no M of it any
 * more.
 */
static void goro_m_resume(struct callback_head *cb)
{
	struct goro_mthread *mt = container_of(cb, struct goro_mthread, twork);
	struct goro_inst *inst = mt->inst;
	struct task_struct *t = NULL;
	struct goro_mthread *w;
	bool freeze;

	raw_spin_lock_irq(&inst->lock);
	mt->tw_queued = false;
	mt->resume_pending = false;
	if (mt->gone || READ_ONCE(inst->dead) || current->mm != inst->mm ||
	    (current->flags & PF_EXITING)) {
		raw_spin_unlock_irq(&inst->lock);
		goro_m_detach(mt);
		goto out;
	}
	/*
	 * Only an M that lost its P in a block waits for one here; if it
	 * went through PARK since (which says whether it holds a P), done.
	 */
	if (mt->state != GORO_M_WAITP) {
		raw_spin_unlock_irq(&inst->lock);
		goto out;
	}
	if (mt->p == GORO_NONE)
		goro_resume_take_p_locked(inst, mt);
	if (mt->p != GORO_NONE) {
		mt->state = GORO_M_RUNNING;
		goro_publish_m(inst, mt);
		raw_spin_unlock_irq(&inst->lock);
		goto out;
	}
	mt->state = GORO_M_WAITP;
	mt->woke = 0;
	mt->waiting = true;
	list_add_tail(&mt->wait_node, &inst->waitp);
	inst->nwaitp++;
	inst->waitps++;
	goro_publish_m(inst, mt);
	goro_publish_counts(inst);
	raw_spin_unlock_irq(&inst->lock);

	for (;;) {
		freeze = goro_m_wait_p(inst, mt);
		raw_spin_lock_irq(&inst->lock);
		mt->unclaimed = false;
		/* a P given to us and taken back before we ran: wait again */
		if (mt->woke || !mt->waiting || mt->gone ||
		    READ_ONCE(inst->dead) || fatal_signal_pending(current))
			break;
		if (freeze) {
			/* off waitp until the freezer is done with us */
			list_del_init(&mt->wait_node);
			mt->waiting = false;
			inst->nwaitp--;
			mt->resume_pending = true;
			goro_publish_counts(inst);
			raw_spin_unlock_irq(&inst->lock);
			goto out;
		}
		raw_spin_unlock_irq(&inst->lock);
	}
	w = NULL;
	if (mt->waiting) {
		list_del_init(&mt->wait_node);
		mt->waiting = false;
		inst->nwaitp--;
		goro_publish_counts(inst);
	}
	if (!mt->gone) {
		mt->state = GORO_M_RUNNING;
		goro_publish_m(inst, mt);
		/* killed with a P just given: pass it on */
		if (fatal_signal_pending(current))
			w = goro_release_p_locked(inst, mt);
		if (w)
			t = get_task_struct(w->task);
	}
	raw_spin_unlock_irq(&inst->lock);
	goro_wake_task(t);
out:
	goro_m_put(mt);
}

/*
 * The calling thread stops being an M (mt->task == current): leave the
 * instance, then take the notifier off our own list, which only the task
 * itself may do.
 */
void goro_m_detach(struct goro_mthread *mt)
{
	struct goro_inst *inst = mt->inst;
	struct task_struct *t = NULL;
	struct goro_mthread *w;

	raw_spin_lock_irq(&inst->lock);
	w = goro_m_remove(inst, mt);
	if (w)
		t = get_task_struct(w->task);
	raw_spin_unlock_irq(&inst->lock);
	goro_wake_task(t);

	if (mt->registered) {
		preempt_disable();
		preempt_notifier_unregister(&mt->pn);
		preempt_enable();
		mt->registered = false;
		goro_m_put(mt);
	}
}

void goro_m_init_hooks(struct goro_mthread *mt)
{
	preempt_notifier_init(&mt->pn, &goro_preempt_ops);
	init_task_work(&mt->twork, goro_m_resume);
	init_irq_work(&mt->wake_iw, goro_wake_iw);
	init_irq_work(&mt->dead_iw, goro_dead_iw);
}
