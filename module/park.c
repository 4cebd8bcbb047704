// SPDX-License-Identifier: GPL-2.0
/*
 * Park and wake: GORO_IOC_PARK (an idle M's one place to sleep, after a
 * last kernel-side look for work) and GORO_IOC_WAKE (Go's wakep).
 *
 * No lost wake-up. A parking M first releases its P and puts itself on
 * inst->parked under inst->lock (npidle and nmidle grow), then issues a
 * full barrier and scans every P's ring, runnext and the global queue
 * size. A producer queues work, issues a full barrier, then reads npidle
 * and nmspinning and calls GORO_IOC_WAKE, which binds an available P to a
 * parked M under the same lock. Either the scan sees the work, or the
 * producer sees the idle P and the parked M: never neither.
 *
 * Everything read from the shared region is hostile: ring indices are
 * masked and length checked (goro_runq.h), steals give up after
 * ksteal_tries attempts per victim, and no loop depends on a value
 * userspace wrote.
 *
 * Locking: M and P state change under inst->lock (sched.c's rules); the
 * rings are read and stolen from without it, by the protocol of
 * goro_runq.h; the M sleeps with no lock held. Lifetimes: the caller is
 * the M itself, so it cannot be freed under us; the fd of GORO_PARK_FD
 * is held (fget) for the whole park, and its wait entries live on our
 * stack until goro_poll_remove() takes them off (a head freed meanwhile
 * has told us through POLLFREE).
 */
#include <linux/file.h>
#include <linux/freezer.h>
#include <linux/fs.h>
#include <linux/poll.h>
#include <linux/rcupdate.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/uaccess.h>
#include <linux/wait.h>

#include "sched.h"
#include "trace.h"

#define GORO_PARK_FLAGS	(GORO_PARK_DEADLINE | GORO_PARK_FD | \
			 GORO_PARK_NOSTEAL | GORO_PARK_FACTORY)
#define GORO_POLL_IN	(EPOLLIN | EPOLLRDNORM | EPOLLERR | EPOLLHUP)
#define GORO_POLL_HEADS	2

/* Waiting on the fd of GORO_PARK_FD (an epoll fd has one wait queue). */
struct goro_pollwait {
	poll_table pt;
	struct task_struct *task;
	bool fired;
	int n;
	struct goro_pollent {
		wait_queue_entry_t wait;
		wait_queue_head_t *head;
		struct goro_pollwait *pw;
	} ent[GORO_POLL_HEADS];
};

static int goro_poll_wake(wait_queue_entry_t *wait, unsigned int mode,
			  int sync, void *key)
{
	struct goro_pollent *pe = container_of(wait, struct goro_pollent,
					       wait);
	__poll_t mask = key_to_poll(key);

	if (mask & POLLFREE) {
		/* The head goes away (as in eventpoll): forget it. */
		list_del_init(&wait->entry);
		/* pairs with smp_load_acquire in goro_poll_remove() */
		smp_store_release(&pe->head, NULL);
	} else if (mask && !(mask & GORO_POLL_IN)) {
		return 0;
	}
	WRITE_ONCE(pe->pw->fired, true);
	return wake_up_process(pe->pw->task);
}

static void goro_poll_queue(struct file *file, wait_queue_head_t *head,
			    poll_table *pt)
{
	struct goro_pollwait *pw = container_of(pt, struct goro_pollwait, pt);
	struct goro_pollent *pe;

	if (pw->n >= GORO_POLL_HEADS)
		return;
	pe = &pw->ent[pw->n++];
	pe->pw = pw;
	pe->head = head;
	init_waitqueue_func_entry(&pe->wait, goro_poll_wake);
	add_wait_queue(head, &pe->wait);
}

static void goro_poll_remove(struct goro_pollwait *pw)
{
	wait_queue_head_t *head;
	int i;

	for (i = 0; i < pw->n; i++) {
		/* A POLLFREE'd head is freed after an RCU grace period. */
		rcu_read_lock();
		/* pairs with smp_store_release in goro_poll_wake() */
		head = smp_load_acquire(&pw->ent[i].head);
		if (head)
			remove_wait_queue(head, &pw->ent[i].wait);
		rcu_read_unlock();
	}
}

static void goro_count_steal(struct goro_inst *inst, u32 victim, u32 thief,
			     u32 n)
{
	trace_goro_steal(inst->tgid, task_pid_nr(current), victim, thief, n);
	raw_spin_lock_irq(&inst->lock);
	inst->procs[victim].ksteals += n;
	inst->ksteals += n;
	goro_publish_p(inst, victim);
	goro_publish_counts(inst);
	raw_spin_unlock_irq(&inst->lock);
	atomic64_add(n, &goro_stats.ksteals);
}

/*
 * Steal half of a victim's ring into P p (which we own). Only into an
 * empty ring: the grab writes from p's tail on and does not know p's room.
 */
static u32 goro_steal_into(struct goro_inst *inst, u32 p, u32 *victim)
{
	struct goro_p *shp = goro_shp(inst, p);
	u32 i, v, n;

	if (goro_runq_len(shp))
		return 0;
	for (i = 1; i < inst->nprocs; i++) {
		v = (p + i) % inst->nprocs;
		if (!goro_runq_len(goro_shp(inst, v)))
			continue;
		n = goro_runq_grab(goro_shp(inst, v), shp,
				   READ_ONCE(shp->tail),
				   READ_ONCE(goro_ksteal_tries));
		if (n) {
			goro_runq_publish(shp, READ_ONCE(shp->tail), n);
			goro_count_steal(inst, v, p, n);
			*victim = v;
			return n;
		}
	}
	return 0;
}

/* The M holds P p: anything to run before it lets p go? */
static u32 goro_find_work_own(struct goro_inst *inst, u32 p, u32 *nstolen)
{
	struct goro_p *shp = goro_shp(inst, p);
	u32 victim;

	if (goro_runq_len(shp) || READ_ONCE(shp->runnext))
		return GORO_WOKE_LOCAL;
	if (READ_ONCE(inst->shdr->runqsize))
		return GORO_WOKE_GLOBAL;
	*nstolen = goro_steal_into(inst, p, &victim);
	return *nstolen ? GORO_WOKE_STOLEN : 0;
}

/*
 * The M is parked and holds no P: if some P has work and a P is
 * available, take one and return why; 0: nothing to do (sleep);
 * -EAGAIN: took a P but lost the steal race (park again).
 */
static int goro_find_work_parked(struct goro_inst *inst,
				 struct goro_mthread *mt, u32 *nstolen)
{
	u32 i, v, p, victim = GORO_NONE, global;
	struct goro_proc *vp;
	int why;

	for (i = 0; i < inst->nprocs; i++) {
		v = (mt->slot + i) % inst->nprocs;
		if (goro_runq_len(goro_shp(inst, v)) ||
		    READ_ONCE(goro_shp(inst, v)->runnext)) {
			victim = v;
			break;
		}
	}
	global = READ_ONCE(inst->shdr->runqsize);
	if (victim == GORO_NONE && !global)
		return 0;

	raw_spin_lock_irq(&inst->lock);
	if (mt->woke || !mt->waiting) {
		/* given a P meanwhile: the sleep loop returns at once */
		raw_spin_unlock_irq(&inst->lock);
		return 0;
	}
	p = GORO_NONE;
	if (victim != GORO_NONE) {
		vp = &inst->procs[victim];
		if ((vp->status == GORO_P_IDLE ||
		     vp->status == GORO_P_BLOCKED) &&
		    !goro_p_retired(inst, victim))
			p = victim;
	}
	if (p == GORO_NONE) {
		p = goro_take_p_locked(inst, GORO_NONE);
		/* an idle or blocked P may hold work of its own */
		if (p != GORO_NONE && (goro_runq_len(goro_shp(inst, p)) ||
				       READ_ONCE(goro_shp(inst, p)->runnext)))
			victim = p;
	}
	if (p == GORO_NONE) {
		/* every P is running: their owners will find the work */
		raw_spin_unlock_irq(&inst->lock);
		return 0;
	}
	why = 0;
	if (p == victim) {
		/* a P with work nobody runs: take it whole */
		if (inst->procs[p].status == GORO_P_BLOCKED) {
			inst->handoffs++;
			inst->procs[p].handoffs++;
			atomic64_inc(&goro_stats.handoffs);
		}
		why = GORO_WOKE_HANDOFF;
	}
	goro_bind_p_locked(inst, p, mt, 0);
	raw_spin_unlock_irq(&inst->lock);
	if (why)
		return why;

	*nstolen = goro_steal_into(inst, p, &victim);
	if (*nstolen)
		return GORO_WOKE_STOLEN;
	if (global)
		return GORO_WOKE_GLOBAL;
	return -EAGAIN;
}

/* Release our P and go on inst->parked (or inst->factory). */
static void goro_park_enter(struct goro_inst *inst, struct goro_mthread *mt,
			    bool factory)
{
	struct task_struct *t = NULL;
	struct goro_mthread *w;

	raw_spin_lock_irq(&inst->lock);
	w = goro_release_p_locked(inst, mt);
	mt->state = GORO_M_PARKED;
	mt->woke = 0;
	mt->waiting = true;
	mt->factory = factory;
	if (factory) {
		list_add_tail(&mt->wait_node, &inst->factory);
	} else {
		list_add(&mt->wait_node, &inst->parked);
		inst->nparked++;
	}
	goro_publish_m(inst, mt);
	goro_publish_counts(inst);
	if (w)
		t = get_task_struct(w->task);
	raw_spin_unlock_irq(&inst->lock);
	goro_wake_task(t);
}

static int goro_park_sleep(struct goro_inst *inst, struct goro_mthread *mt,
			   struct goro_park *a, struct file *file)
{
	struct goro_pollwait pw = { .task = current };
	bool timed_out = false;
	ktime_t exp = KTIME_MAX;

	if (a->flags & GORO_PARK_DEADLINE)
		exp = a->deadline_ns > KTIME_MAX ? KTIME_MAX :
						   ns_to_ktime(a->deadline_ns);
	if (file) {
		init_poll_funcptr(&pw.pt, goro_poll_queue);
		if (vfs_poll(file, &pw.pt) & GORO_POLL_IN)
			pw.fired = true;
	}
	for (;;) {
		set_current_state(TASK_INTERRUPTIBLE | TASK_FREEZABLE);
		if (READ_ONCE(mt->woke) || READ_ONCE(pw.fired) || timed_out ||
		    signal_pending(current))
			break;
		if (exp != KTIME_MAX)
			timed_out = !schedule_hrtimeout_range(&exp,
						current->timer_slack_ns,
						HRTIMER_MODE_ABS);
		else
			schedule();
	}
	__set_current_state(TASK_RUNNING);
	if (file)
		goro_poll_remove(&pw);

	if (READ_ONCE(pw.fired))
		return GORO_WOKE_FD;
	if (timed_out)
		return GORO_WOKE_DEADLINE;
	return -EINTR;
}

static int goro_park(struct goro_inst *inst, struct goro_mthread *mt,
		     struct goro_park *a, struct file *file)
{
	u64 lat, start = ktime_get_ns();
	u32 flags = a->flags;
	pid_t from = 0;
	u32 nstolen = 0;
	int why = 0, round;

	WRITE_ONCE(mt->in_park, true);
	raw_spin_lock_irq(&inst->lock);
	inst->parks++;
	goro_publish_counts(inst);
	raw_spin_unlock_irq(&inst->lock);
	atomic64_inc(&goro_stats.parks);

	/* The factory M parks for spare requests only: no scan. */
	if (flags & GORO_PARK_FACTORY)
		flags |= GORO_PARK_NOSTEAL;
	/* A retired P is given up whatever work there is. */
	if (!(flags & GORO_PARK_NOSTEAL) && mt->p != GORO_NONE &&
	    mt->p < READ_ONCE(inst->nactive)) {
		why = goro_find_work_own(inst, mt->p, &nstolen);
		if (why)
			goto out;
	}
	for (round = 0;; round++) {
		goro_park_enter(inst, mt, flags & GORO_PARK_FACTORY);
		if ((flags & GORO_PARK_NOSTEAL) || round >= 2)
			break;
		/* Pairs with the producer's barrier: see the file comment. */
		smp_mb();
		why = goro_find_work_parked(inst, mt, &nstolen);
		if (why > 0)
			goto out;
		if (why == 0)
			break;
	}

	for (;;) {
		why = goro_park_sleep(inst, mt, a, file);
		raw_spin_lock_irq(&inst->lock);
		mt->unclaimed = false;
		/*
		 * Woken for a handoff that an M back from a block took back
		 * before we ran (goro_take_unclaimed_locked): we are on
		 * inst->parked again, as if never woken.
		 */
		if (why != -EINTR || mt->woke || !mt->waiting || mt->gone ||
		    READ_ONCE(inst->dead) || signal_pending(current))
			break;
		raw_spin_unlock_irq(&inst->lock);
	}
	if (mt->woke) {
		/* given a P: that wins over a deadline, fd or signal */
		why = mt->woke;
		lat = 0;
		if (why == GORO_WOKE_HANDOFF && mt->given_ns) {
			lat = ktime_get_ns() - mt->given_ns;
			from = mt->given_from;
			inst->handoff_lat_sum += lat;
			inst->handoff_lat_n++;
			if (lat > inst->handoff_lat_max)
				inst->handoff_lat_max = lat;
		}
		mt->given_ns = 0;
	} else if (mt->waiting) {
		list_del_init(&mt->wait_node);
		mt->waiting = false;
		if (mt->factory)
			mt->factory = false;
		else
			inst->nparked--;
	}
	mt->state = GORO_M_RUNNING;
	goro_publish_m(inst, mt);
	goro_publish_counts(inst);
	raw_spin_unlock_irq(&inst->lock);
	if (from)
		trace_goro_handoff(inst->tgid, from, task_pid_nr(current),
				   READ_ONCE(mt->p), lat);
out:
	WRITE_ONCE(mt->in_park, false);
	a->p = READ_ONCE(mt->p);
	a->why = why > 0 ? why : 0;
	a->nstolen = nstolen;
	trace_goro_park(inst->tgid, task_pid_nr(current), a->p, a->why,
			nstolen, ktime_get_ns() - start);
	return why > 0 ? 0 : why;
}

long goro_ioc_park(struct goro_inst *inst, struct goro_park __user *uarg)
{
	struct goro_mthread *mt;
	struct file *file = NULL;
	struct goro_park a;
	long ret;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.flags & ~GORO_PARK_FLAGS)
		return -EINVAL;
	if (!goro_resv_zero(a.resv, sizeof(a.resv)))
		return -EINVAL;
	mt = goro_current_m(inst);
	if (!mt)
		return -EPERM;
	if (a.flags & GORO_PARK_FD) {
		file = fget(a.fd);
		if (!file)
			return -EBADF;
		if (!file_can_poll(file)) {
			fput(file);
			return -EINVAL;
		}
	}
	ret = goro_park(inst, mt, &a, file);
	if (file)
		fput(file);
	if (ret)
		return ret;
	if (copy_to_user(uarg, &a, sizeof(a)))
		return -EFAULT;
	return 0;
}

long goro_ioc_wake(struct goro_inst *inst, struct goro_wake __user *uarg)
{
	struct task_struct *t = NULL;
	struct goro_mthread *w;
	struct goro_wake a;
	u32 p;

	if (copy_from_user(&a, uarg, sizeof(a)))
		return -EFAULT;
	if (a.flags & ~GORO_WAKE_SPARE)
		return -EINVAL;
	if (a.resv)
		return -EINVAL;

	a.nwoken = 0;
	a.nspare = 0;
	raw_spin_lock_irq(&inst->lock);
	if (list_empty(&inst->parked)) {
		if ((a.flags & GORO_WAKE_SPARE) &&
		    goro_take_p_locked(inst, GORO_NONE) != GORO_NONE) {
			goro_want_spare_locked(inst);
			a.nspare = 1;
		}
	} else {
		p = goro_take_p_locked(inst, GORO_NONE);
		if (p != GORO_NONE) {
			w = list_first_entry(&inst->parked,
					     struct goro_mthread, wait_node);
			goro_bind_p_locked(inst, p, w, GORO_WOKE_WAKE);
			trace_goro_wake(inst->tgid, task_pid_nr(current),
					task_pid_nr(w->task), p);
			inst->wakes++;
			goro_publish_counts(inst);
			t = get_task_struct(w->task);
			a.nwoken = 1;
		}
	}
	raw_spin_unlock_irq(&inst->lock);
	if (t) {
		atomic64_inc(&goro_stats.wakes);
		goro_wake_task(t);
	}
	if (copy_to_user(uarg, &a, sizeof(a)))
		return -EFAULT;
	return 0;
}
