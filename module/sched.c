// SPDX-License-Identifier: GPL-2.0
/*
 * Scheduler instances, their Ps and Ms: GORO_IOC_SETUP, mmap of the shared
 * region, attach and detach of Ms, and the P hand-over rules every path
 * (park, wake, handoff, detach, death) shares.
 *
 * One instance per open file, and at most one live instance per process:
 * a second GORO_IOC_SETUP in the same process is -EBUSY, which keeps
 * /proc/goro/<pid> unambiguous. A forked child shares the open file but
 * not the instance: every call from another mm is -EPERM and the mapping
 * is not copied (VM_DONTCOPY); the child starts fresh with its own open.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "sched.h"
#include "trace.h"

static LIST_HEAD(goro_instances);
static DEFINE_MUTEX(goro_instances_lock);

struct goro_inst *goro_file_inst(struct file *file)
{
	/* Pairs with the cmpxchg publishing the instance in SETUP. */
	return smp_load_acquire(&file->private_data);
}

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
	WRITE_ONCE(shm->tid, tid);
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

static void goro_idle_push(struct goro_inst *inst, u32 p)
{
	inst->idle[inst->nidle++] = p;
}

static void goro_idle_remove(struct goro_inst *inst, u32 p)
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

/* --- M lifetime ----------------------------------------------------------- */

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

/* Any context: the last reference frees mt from goro_wq. */
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

		if (pn->ops != &goro_preempt_ops)
			continue;
		mt = container_of(pn, struct goro_mthread, pn);
		if (mt->inst == inst && !READ_ONCE(mt->gone))
			return mt;
	}
	return NULL;
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
	if ((a.flags & GORO_ATTACH_P) && a.p >= inst->nprocs)
		return -EINVAL;
	if (goro_current_m(inst))
		return -EEXIST;

	mt = kzalloc(sizeof(*mt), GFP_KERNEL);
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

/* --- instances ------------------------------------------------------------ */

static void goro_inst_free(struct goro_inst *inst)
{
	vfree(inst->region);
	kvfree(inst->procs);
	kvfree(inst->idle);
	kvfree(inst->ms);
	kvfree(inst->mview);
	mmdrop(inst->mm);
	kfree(inst);
	atomic_dec(&goro_stats.instances);
}

/* Process context only (the file release, or an M's free work). */
void goro_inst_put(struct goro_inst *inst)
{
	if (refcount_dec_and_test(&inst->ref))
		goro_inst_free(inst);
}

static struct goro_inst *goro_inst_alloc(u32 nprocs, u32 max_ms)
{
	struct goro_shared_hdr *h;
	struct goro_inst *inst;
	u32 p;

	inst = kzalloc(sizeof(*inst), GFP_KERNEL);
	if (!inst)
		return NULL;
	refcount_set(&inst->ref, 1);
	raw_spin_lock_init(&inst->lock);
	INIT_LIST_HEAD(&inst->parked);
	INIT_LIST_HEAD(&inst->waitp);
	INIT_LIST_HEAD(&inst->factory);
	INIT_LIST_HEAD(&inst->node);
	goro_monitor_init(inst);
	inst->nprocs = nprocs;
	inst->nactive = nprocs;
	inst->max_ms = max_ms;
	inst->mm = current->mm;
	mmgrab(inst->mm);
	inst->tgid = task_tgid_nr(current);
	inst->start_ns = ktime_get_ns();
	atomic_inc(&goro_stats.instances);

	/* Layout: header, Ps (cache-line multiples), the M table. */
	inst->off.hdr = 0;
	inst->off.procs = ALIGN(sizeof(struct goro_shared_hdr), 128);
	inst->off.p_stride = ALIGN(sizeof(struct goro_p), 128);
	inst->off.ms = inst->off.procs + (u64)nprocs * inst->off.p_stride;
	inst->off.m_stride = sizeof(struct goro_m);
	inst->map_size = PAGE_ALIGN(inst->off.ms +
				    (u64)max_ms * inst->off.m_stride);

	inst->region = vmalloc_user(inst->map_size);
	inst->procs = kvcalloc(nprocs, sizeof(*inst->procs), GFP_KERNEL);
	inst->idle = kvcalloc(nprocs, sizeof(*inst->idle), GFP_KERNEL);
	inst->ms = kvcalloc(max_ms, sizeof(*inst->ms), GFP_KERNEL);
	inst->mview = kvcalloc(max_ms, sizeof(*inst->mview), GFP_KERNEL);
	if (!inst->region || !inst->procs || !inst->idle || !inst->ms ||
	    !inst->mview) {
		goro_inst_free(inst);
		return NULL;
	}

	h = inst->region;
	inst->shdr = h;
	h->magic = GORO_MAGIC;
	h->abi_version = GORO_ABI_VERSION;
	h->nprocs = nprocs;
	h->max_ms = max_ms;
	h->ring_entries = GORO_RUNQ_ENTRIES;
	/* The idle stack pops P0 first. */
	for (p = nprocs; p-- > 0;) {
		inst->procs[p].status = GORO_P_IDLE;
		inst->procs[p].owner = GORO_NONE;
		goro_idle_push(inst, p);
		goro_publish_p(inst, p);
	}
	for (p = 0; p < max_ms; p++) {
		goro_shm(inst, p)->p = GORO_NONE;
		inst->mview[p].p = GORO_NONE;
	}
	goro_publish_counts(inst);
	return inst;
}

/* Is there a live instance named tgid already? (goro_instances_lock) */
static bool goro_tgid_taken(pid_t tgid, struct goro_inst *self)
{
	struct goro_inst *inst;

	list_for_each_entry(inst, &goro_instances, node)
		if (inst != self && inst->tgid == tgid && inst->proc)
			return true;
	return false;
}

long goro_ioc_setup(struct file *file, struct goro_setup __user *uarg)
{
	struct goro_inst *inst, *other;
	struct goro_setup s;
	long ret;

	if (copy_from_user(&s, uarg, sizeof(s)))
		return -EFAULT;
	if (s.flags || s.resv0)
		return -EINVAL;
	if (!goro_resv_zero(s.resv, sizeof(s.resv)))
		return -EINVAL;
	if (!s.nprocs || s.nprocs > goro_max_procs)
		return -EINVAL;
	if (!s.max_ms)
		s.max_ms = max(goro_max_ms, s.nprocs);
	if (s.max_ms < s.nprocs || s.max_ms > goro_max_ms)
		return -EINVAL;
	if (!current->mm)
		return -EINVAL;
	if (goro_file_inst(file))
		return -EBUSY;

	inst = goro_inst_alloc(s.nprocs, s.max_ms);
	if (!inst)
		return -ENOMEM;

	mutex_lock(&goro_instances_lock);
	ret = -EBUSY;
	list_for_each_entry(other, &goro_instances, node)
		if (other->mm == inst->mm)
			goto err_unlock;
	/* Pairs with smp_load_acquire in goro_file_inst(). */
	if (cmpxchg_release(&file->private_data, NULL, inst))
		goto err_unlock;
	list_add_tail(&inst->node, &goro_instances);
	/* A pid reused while an old instance lives on: no entry. */
	if (!goro_tgid_taken(inst->tgid, inst))
		goro_proc_add(inst);
	goro_monitor_start(inst);
	mutex_unlock(&goro_instances_lock);

	s.features = goro_features();
	s.map_size = inst->map_size;
	s.off = inst->off;
	if (copy_to_user(uarg, &s, sizeof(s)))
		return -EFAULT;	/* the instance stays, as io_uring's does */
	return 0;

err_unlock:
	mutex_unlock(&goro_instances_lock);
	goro_monitor_stop(inst);
	goro_inst_put(inst);
	return ret;
}

long goro_ioc_setprocs(struct goro_inst *inst,
		       struct goro_setprocs __user *uarg)
{
	struct goro_setprocs a;
	u32 p, old;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.flags)
		return -EINVAL;
	if (!goro_resv_zero(a.resv, sizeof(a.resv)))
		return -EINVAL;
	if (!a.nprocs || a.nprocs > inst->nprocs)
		return -EINVAL;

	raw_spin_lock_irq(&inst->lock);
	old = inst->nactive;
	inst->nactive = a.nprocs;
	/* Retire: off the idle stack; a blocked owner keeps its P. */
	for (p = a.nprocs; p < old; p++) {
		struct goro_proc *pp = &inst->procs[p];

		if (pp->status == GORO_P_IDLE) {
			goro_idle_remove(inst, p);
		} else if (pp->status == GORO_P_BLOCKED) {
			pp->status = GORO_P_RUNNING;
			inst->nblocked--;
			goro_publish_p(inst, p);
		}
	}
	/* Back into use: an idle P goes on the idle stack (P0 on top). */
	for (p = a.nprocs; p-- > old;)
		if (inst->procs[p].status == GORO_P_IDLE)
			goro_idle_push(inst, p);
	goro_publish_counts(inst);
	raw_spin_unlock_irq(&inst->lock);
	return 0;
}

int goro_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct goro_inst *inst = goro_file_inst(file);
	unsigned long size = vma->vm_end - vma->vm_start;

	if (!inst)
		return -EINVAL;
	if (current->mm != inst->mm)
		return -EPERM;
	if (vma->vm_pgoff || size != inst->map_size)
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED) || (vma->vm_flags & VM_EXEC))
		return -EINVAL;
	vma->vm_flags &= ~VM_MAYEXEC;
	vma->vm_flags |= VM_DONTEXPAND | VM_DONTCOPY | VM_DONTDUMP;
	return remap_vmalloc_range(vma, inst->region, 0);
}

/*
 * The file is gone: no new calls can come. Ms still attached leave at
 * their next block (or return to user mode) or when they die; an M waiting
 * for a P is woken to leave now. The instance lives until the last M has.
 */
void goro_inst_release(struct goro_inst *inst)
{
	struct goro_mthread *mt;

	mutex_lock(&goro_instances_lock);
	list_del_init(&inst->node);
	goro_proc_del(inst);
	mutex_unlock(&goro_instances_lock);
	goro_monitor_stop(inst);

	raw_spin_lock_irq(&inst->lock);
	WRITE_ONCE(inst->dead, true);
	list_for_each_entry(mt, &inst->waitp, wait_node)
		irq_work_queue(&mt->wake_iw);
	list_for_each_entry(mt, &inst->parked, wait_node)
		irq_work_queue(&mt->wake_iw);
	list_for_each_entry(mt, &inst->factory, wait_node)
		irq_work_queue(&mt->wake_iw);
	raw_spin_unlock_irq(&inst->lock);
	goro_inst_put(inst);
}
