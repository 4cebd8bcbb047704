// SPDX-License-Identifier: GPL-2.0
/*
 * The library every other file of the module uses: the P state machine
 * and the hand-over rules every path shares (park, wake, handoff, detach,
 * death), the publishing of kernel state to the shared region, and what
 * every file needs of an M (taking it out of its instance, dropping a
 * reference, finding which M a task is). It calls no other file of the
 * module; the one reference upward is named at goro_task_m().
 *
 * A P moves between three states, in struct goro_proc (the truth) and
 * published to struct goro_p:
 *   IDLE     on inst->idle, no owner; bind makes it RUNNING;
 *   RUNNING  owned by an M;
 *   BLOCKED  its owner blocked and nobody took it: still the owner's (its
 *            sched_in makes it RUNNING again), but anyone who needs a P
 *            may bind it.
 * An owner that lets its P go gives it to a waiting or parked M, else
 * puts it on the idle stack. A retired P (>= nactive, GORO_IOC_SETPROCS)
 * is never given away nor put on the idle stack.
 *
 * Locking: everything here but goro_m_put(), goro_wake_task() and the M
 * lookups runs under inst->lock, possibly from the preempt notifier
 * (rq lock held, IRQs off): nothing here sleeps or wakes a task under it.
 * The M to wake is returned to the caller, which wakes it after unlock
 * (goro_wake_task()) or through the M's irq_work; only a factory M is
 * woken from here, through its irq_work.
 *
 * Lifetime: an M taken out of its instance (mt->gone) stays in memory
 * until its last goro_m_put(), which queues its free work (m.c, set at
 * attach) on goro_wq.
 */
#include <linux/sched/task.h>
#include <linux/workqueue.h>

#include "sched.h"
#include "trace.h"

/* --- publishing kernel state to the shared region (under inst->lock) -- */

void goro_publish_p(struct goro_inst *inst, u32 p)
{
	struct goro_proc *pp = &inst->procs[p];
	struct goro_p *shp = goro_shp(inst, p);

	WRITE_ONCE(shp->status, pp->status);
	WRITE_ONCE(shp->owner, pp->owner);
	WRITE_ONCE(shp->syscalltick, pp->syscalltick);
	WRITE_ONCE(shp->handoffs, pp->handoffs);
	WRITE_ONCE(shp->ksteals, pp->ksteals);
}

void goro_publish_m(struct goro_inst *inst, struct goro_mthread *mt)
{
	struct goro_m *shm = goro_shm(inst, mt->slot);
	struct goro_mview *v = &inst->mview[mt->slot];
	u32 state = mt->gone ? GORO_M_FREE : mt->state;
	u32 p = mt->gone ? GORO_NONE : mt->p;
	u32 tid = mt->gone ? 0 : task_pid_nr(mt->task);

	WRITE_ONCE(shm->state, state);
	WRITE_ONCE(shm->p, p);
	/* the process sees its threads' ids in its own pid namespace */
	WRITE_ONCE(shm->tid, mt->gone ? 0 :
		   task_pid_nr_ns(mt->task, ns_of_pid(inst->pid)));
	if (v->state != state || v->tid != tid)
		WRITE_ONCE(v->since, ktime_get_ns());
	WRITE_ONCE(v->state, state);
	WRITE_ONCE(v->p, p);
	WRITE_ONCE(v->tid, tid);
}

void goro_publish_counts(struct goro_inst *inst)
{
	struct goro_shared_hdr *h = inst->shdr;

	WRITE_ONCE(h->npidle, inst->nidle + inst->nblocked);
	WRITE_ONCE(h->nmidle, inst->nparked);
	WRITE_ONCE(h->nmwaitp, inst->nwaitp);
	WRITE_ONCE(h->spare_wanted, (u32)inst->spare_wanted);
	WRITE_ONCE(h->handoffs, inst->handoffs);
	WRITE_ONCE(h->parks, inst->parks);
	WRITE_ONCE(h->wakes, inst->wakes);
	WRITE_ONCE(h->ksteals, inst->ksteals);
}

/* --- P hand-over (under inst->lock) ------------------------------------ */

/* An available P (idle first, then one whose owner is blocked), or NONE. */
u32 goro_take_p_locked(struct goro_inst *inst, u32 want)
{
	u32 p;

	if (want != GORO_NONE)
		return inst->procs[want].status == GORO_P_IDLE &&
		       !goro_p_retired(inst, want) ? want : GORO_NONE;
	if (inst->nidle)
		return inst->idle[inst->nidle - 1];
	if (!inst->nblocked)
		return GORO_NONE;
	for (p = 0; p < inst->nactive; p++)
		if (inst->procs[p].status == GORO_P_BLOCKED)
			return p;
	return GORO_NONE;
}

/*
 * A P handed to a sleeping M that has not run since (a parked M given a
 * blocked M's P, or an M waiting on inst->waitp): thief, an M back from a
 * block with a goroutine to run and running right now, takes it, and the
 * sleeper goes back to the head of its list before it ever sees it (it
 * sleeps again). The wake-up may land on a busy CPU while the one that
 * freed the P idles; this keeps the P with an M that runs. Not for
 * GORO_IOC_WAKE's Ms: userspace counted those as spinning. Returns the
 * P, bound to thief, or GORO_NONE.
 */
u32 goro_take_unclaimed_locked(struct goro_inst *inst,
			       struct goro_mthread *thief)
{
	struct goro_mthread *old;
	struct goro_proc *pp;
	u32 p;

	for (p = 0; p < inst->nactive; p++) {
		pp = &inst->procs[p];
		if (pp->status != GORO_P_RUNNING || pp->owner >= inst->max_ms)
			continue;
		old = inst->ms[pp->owner];
		if (!old || old == thief || !old->unclaimed || old->p != p)
			continue;
		old->unclaimed = false;
		old->woke = 0;
		old->given_ns = 0;
		old->waiting = true;
		if (old->unclaimed_waitp) {
			old->state = GORO_M_WAITP;
			list_add(&old->wait_node, &inst->waitp);
			inst->nwaitp++;
		} else {
			old->state = GORO_M_PARKED;
			list_add(&old->wait_node, &inst->parked);
			inst->nparked++;
		}
		goro_publish_m(inst, old);
		inst->reclaims++;
		goro_bind_p_locked(inst, p, thief, 0);
		return p;
	}
	return GORO_NONE;
}

void goro_idle_push(struct goro_inst *inst, u32 p)
{
	inst->idle[inst->nidle++] = p;
}

void goro_idle_remove(struct goro_inst *inst, u32 p)
{
	u32 i;

	for (i = inst->nidle; i-- > 0;) {
		if (inst->idle[i] == p) {
			inst->idle[i] = inst->idle[--inst->nidle];
			return;
		}
	}
}

static void goro_unwait_locked(struct goro_inst *inst,
			       struct goro_mthread *mt)
{
	if (!mt->waiting)
		return;
	list_del_init(&mt->wait_node);
	mt->waiting = false;
	if (mt->factory)
		mt->factory = false;
	else if (mt->state == GORO_M_PARKED)
		inst->nparked--;
	else
		inst->nwaitp--;
}

/*
 * A P with work found no parked M: count it and wake a factory M, through
 * its irq_work since this runs in the notifier too.
 */
void goro_want_spare_locked(struct goro_inst *inst)
{
	struct goro_mthread *f;

	inst->spare_wanted++;
	goro_publish_counts(inst);
	if (list_empty(&inst->factory))
		return;
	f = list_first_entry(&inst->factory, struct goro_mthread, wait_node);
	goro_unwait_locked(inst, f);
	f->state = GORO_M_RUNNING;
	f->woke = GORO_WOKE_SPARE;
	goro_publish_m(inst, f);
	irq_work_queue(&f->wake_iw);
}

/*
 * Make mt the owner of P p, taking p from wherever it is: the idle stack,
 * or a blocked owner (which learns it lost p when it wakes up). why is
 * what mt is told when it was sleeping for a P (0: it asked itself).
 */
void goro_bind_p_locked(struct goro_inst *inst, u32 p,
			struct goro_mthread *mt, u32 why)
{
	struct goro_proc *pp = &inst->procs[p];

	if (pp->status == GORO_P_IDLE) {
		goro_idle_remove(inst, p);
	} else {
		struct goro_mthread *old = NULL;

		if (pp->status == GORO_P_BLOCKED) {
			inst->nblocked--;
			inst->blocked_taken++;
		}
		if (pp->owner < inst->max_ms)
			old = inst->ms[pp->owner];
		if (old && old != mt && old->p == p) {
			old->p = GORO_NONE;
			goro_publish_m(inst, old);
		}
	}
	if (mt->waiting) {
		/* handed to a sleeper: see goro_take_unclaimed_locked() */
		mt->unclaimed = !mt->factory &&
			((mt->state == GORO_M_PARKED &&
			  why == GORO_WOKE_HANDOFF) ||
			 (mt->state == GORO_M_WAITP && why == GORO_WOKE_WAKE));
		mt->unclaimed_waitp = mt->state == GORO_M_WAITP;
		goro_unwait_locked(inst, mt);
		mt->state = GORO_M_RUNNING;
	}
	pp->status = GORO_P_RUNNING;
	pp->owner = mt->slot;
	mt->p = p;
	if (why)
		mt->woke = why;
	goro_publish_p(inst, p);
	goro_publish_m(inst, mt);
	goro_publish_counts(inst);
}

/* How far down a list of sleeping Ms goro_pick_near() looks. */
#define GORO_NEAR_SCAN	8

/*
 * The M to wake from a non-empty list (waitp, oldest first; parked, most
 * recent first): among the first few, one that last ran on this CPU, else
 * the first. The scheduler places a wake-up on the task's previous CPU
 * when it finds no idle one nearby (with the caches busy it does not
 * look), and this CPU is the one whose M just let its P go: woken
 * elsewhere, the M waits behind a running task while this CPU idles.
 */
static struct goro_mthread *goro_pick_near(struct list_head *head)
{
	unsigned int cpu = raw_smp_processor_id();
	struct goro_mthread *w;
	int n = 0;

	list_for_each_entry(w, head, wait_node) {
		if (task_cpu(w->task) == cpu)
			return w;
		if (++n == GORO_NEAR_SCAN)
			break;
	}
	return list_first_entry(head, struct goro_mthread, wait_node);
}

/*
 * P p is leaving its owner: give it to an M that waits for a P to run its
 * goroutine (back from a block), else, when p has work (need_work) or in
 * any case (!need_work), to the most recently parked M. Returns the M to
 * wake, or NULL when nobody took p.
 */
struct goro_mthread *goro_give_p_locked(struct goro_inst *inst, u32 p,
					bool need_work)
{
	struct goro_mthread *w;

	if (goro_p_retired(inst, p))
		return NULL;
	if (!list_empty(&inst->waitp)) {
		w = goro_pick_near(&inst->waitp);
		goro_bind_p_locked(inst, p, w, GORO_WOKE_WAKE);
		return w;
	}
	if (!list_empty(&inst->parked) &&
	    (!need_work || goro_p_has_work(inst, p))) {
		w = goro_pick_near(&inst->parked);
		goro_bind_p_locked(inst, p, w, GORO_WOKE_HANDOFF);
		return w;
	}
	return NULL;
}

/*
 * mt gives up its P for good (park, detach, exit): to a waiting M, to a
 * parked M if it has work, else to the idle stack. Returns the M to wake.
 */
struct goro_mthread *goro_release_p_locked(struct goro_inst *inst,
					   struct goro_mthread *mt)
{
	struct goro_mthread *w;
	struct goro_proc *pp;
	u32 p = mt->p;

	if (p == GORO_NONE)
		return NULL;
	w = goro_give_p_locked(inst, p, true);
	if (w)
		return w;
	pp = &inst->procs[p];
	if (!goro_p_retired(inst, p) && goro_p_has_work(inst, p))
		goro_want_spare_locked(inst);
	if (pp->status == GORO_P_BLOCKED)
		inst->nblocked--;
	pp->status = GORO_P_IDLE;
	pp->owner = GORO_NONE;
	/* a retired P stays out of use, off the idle stack */
	if (!goro_p_retired(inst, p))
		goro_idle_push(inst, p);
	mt->p = GORO_NONE;
	goro_publish_p(inst, p);
	goro_publish_m(inst, mt);
	goro_publish_counts(inst);
	return NULL;
}

/* Take mt out of the instance (detach, exit, orphan). Returns M to wake. */
static struct goro_mthread *goro_m_remove_locked(struct goro_inst *inst,
						 struct goro_mthread *mt)
{
	struct goro_mthread *w;

	goro_unwait_locked(inst, mt);
	mt->unclaimed = false;
	w = goro_release_p_locked(inst, mt);
	trace_goro_detach(inst->tgid, task_pid_nr(mt->task), mt->slot);
	mt->gone = true;
	mt->state = GORO_M_FREE;
	inst->ms[mt->slot] = NULL;
	inst->nms--;
	goro_publish_m(inst, mt);
	goro_publish_counts(inst);
	return w;
}

struct goro_mthread *goro_m_remove(struct goro_inst *inst,
				   struct goro_mthread *mt)
{
	return mt->gone ? NULL : goro_m_remove_locked(inst, mt);
}

/* Wake a task found under inst->lock (a reference was taken there). */
void goro_wake_task(struct task_struct *task)
{
	if (task) {
		wake_up_process(task);
		put_task_struct(task);
	}
}

/* --- Ms: references and identity --------------------------------------- */

/*
 * Any context: the last reference frees mt from goro_wq, with the free
 * work m.c set at attach.
 */
void goro_m_put(struct goro_mthread *mt)
{
	if (refcount_dec_and_test(&mt->ref))
		queue_work(goro_wq, &mt->free_work);
}

/* The M of inst that the calling thread is, or NULL. */
struct goro_mthread *goro_current_m(struct goro_inst *inst)
{
	/* Only the task itself changes its notifier list. */
	return goro_task_m(inst, current);
}

/*
 * The M of inst that task t is, or NULL. t is current, or a task that
 * cannot run meanwhile (its notifier list, which only it changes, holds
 * still).
 */
struct goro_mthread *goro_task_m(struct goro_inst *inst,
				 struct task_struct *t)
{
	struct preempt_notifier *pn;

	hlist_for_each_entry(pn, &t->preempt_notifiers, link) {
		struct goro_mthread *mt;

		/*
		 * The one reference from this file to one above it: our
		 * notifiers are those with handoff.c's ops.
		 */
		if (pn->ops != &goro_preempt_ops)
			continue;
		mt = container_of(pn, struct goro_mthread, pn);
		if (mt->inst == inst && !READ_ONCE(mt->gone))
			return mt;
	}
	return NULL;
}
