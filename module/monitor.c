// SPDX-License-Identifier: GPL-2.0
/*
 * The monitor: Go's sysmon preemption request, per instance, from an
 * hrtimer. A P that is running and whose schedtick (bumped by userspace
 * per goroutine scheduled) has not moved for preempt_ms gets
 * goro_p.preempt = 1; the goroutine yields at its next safe point and
 * userspace clears the flag. The timer only reads the shared region and
 * writes the flag and counters: it takes no lock.
 *
 * The timer also notices that the instance's process is gone (its mm has
 * no users: it exited or exec'd, while some other process keeps the file
 * open): it stops for good, and queues the instance's gone work (inst.c),
 * which takes the /proc entry away, since the pid may soon name another
 * process. With preempt_ms = 0 it runs only for that, every
 * GORO_MONITOR_IDLE_MS.
 *
 * Lifetime: the timer is set up with the instance, started once it is
 * published and cancelled (waiting for a running callback) on release,
 * before the file's reference on the instance is dropped (inst.c); the
 * gone work it queues holds a reference of its own.
 */
#include <linux/hrtimer.h>
#include <linux/ktime.h>

#include "sched.h"
#include "trace.h"

#define GORO_MONITOR_IDLE_MS	50

static u64 goro_monitor_period_ns(void)
{
	u64 ns = (u64)goro_preempt_ms * NSEC_PER_MSEC / 2;

	if (!goro_preempt_ms)
		return GORO_MONITOR_IDLE_MS * NSEC_PER_MSEC;
	return max_t(u64, ns, NSEC_PER_MSEC);
}

static enum hrtimer_restart goro_monitor_fn(struct hrtimer *timer)
{
	struct goro_inst *inst = container_of(timer, struct goro_inst,
					      monitor);
	u64 limit = (u64)goro_preempt_ms * NSEC_PER_MSEC;
	u64 now = ktime_get_ns();
	u32 p;

	if (!atomic_read(&inst->mm->mm_users)) {
		/* the process is gone: see the file comment */
		refcount_inc(&inst->ref);
		queue_work(goro_wq, &inst->gone_work);
		return HRTIMER_NORESTART;
	}
	for (p = 0; goro_preempt_ms && p < inst->nprocs; p++) {
		struct goro_proc *pp = &inst->procs[p];
		struct goro_p *shp = goro_shp(inst, p);
		u64 tick = READ_ONCE(shp->schedtick);

		if (READ_ONCE(pp->status) != GORO_P_RUNNING ||
		    tick != pp->mon_tick) {
			pp->mon_tick = tick;
			pp->mon_since = now;
			continue;
		}
		if (now - pp->mon_since < limit)
			continue;
		if (READ_ONCE(shp->preempt)) {
			/* ask again only after another full period */
			pp->mon_since = now;
			continue;
		}
		trace_goro_preempt(inst->tgid, p, now - pp->mon_since);
		pp->mon_since = now;
		WRITE_ONCE(shp->preempt, 1);
		WRITE_ONCE(pp->preempt_reqs, pp->preempt_reqs + 1);
		WRITE_ONCE(inst->preempt_reqs, inst->preempt_reqs + 1);
		WRITE_ONCE(inst->shdr->preempt_reqs, inst->preempt_reqs);
		atomic64_inc(&goro_stats.preempt_reqs);
	}
	hrtimer_forward_now(timer, ns_to_ktime(goro_monitor_period_ns()));
	return HRTIMER_RESTART;
}

void goro_monitor_init(struct goro_inst *inst)
{
	hrtimer_setup(&inst->monitor, goro_monitor_fn, CLOCK_MONOTONIC,
		      HRTIMER_MODE_REL);
}

void goro_monitor_start(struct goro_inst *inst)
{
	hrtimer_start(&inst->monitor, ns_to_ktime(goro_monitor_period_ns()),
		      HRTIMER_MODE_REL);
}

void goro_monitor_stop(struct goro_inst *inst)
{
	hrtimer_cancel(&inst->monitor);
}
