// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/goro: version, global stats, and per instance <pid>/sched (Go's
 * schedtrace line, then scheddetail-like P and M lines and counters).
 *
 * Readers never take inst->lock: they read the kernel's copies and the
 * shared region with READ_ONCE, so a reader can neither stall the
 * scheduler nor be stalled by it; a line may mix two instants. The entry
 * goes away (proc_remove waits for readers) before the instance can be
 * freed.
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "sched.h"

static struct proc_dir_entry *goro_proc_root;

static int goro_version_show(struct seq_file *m, void *v)
{
	seq_printf(m, "goro abi %u features %#llx max_procs %u max_ms %u\n",
		   GORO_ABI_VERSION, goro_features(), goro_max_procs,
		   goro_max_ms);
	return 0;
}

static int goro_stats_show(struct seq_file *m, void *v)
{
	seq_printf(m, "instances %d\n", atomic_read(&goro_stats.instances));
	seq_printf(m, "ms %d\n", atomic_read(&goro_stats.ms));
	seq_printf(m, "handoffs %lld\n", atomic64_read(&goro_stats.handoffs));
	seq_printf(m, "parks %lld\n", atomic64_read(&goro_stats.parks));
	seq_printf(m, "wakes %lld\n", atomic64_read(&goro_stats.wakes));
	seq_printf(m, "ksteals %lld\n", atomic64_read(&goro_stats.ksteals));
	seq_printf(m, "preempt_reqs %lld\n",
		   atomic64_read(&goro_stats.preempt_reqs));
	return 0;
}

static const char *const goro_p_status[] = {
	[GORO_P_IDLE] = "idle",
	[GORO_P_RUNNING] = "running",
	[GORO_P_BLOCKED] = "blocked",
};

static const char *const goro_m_state[] = {
	[GORO_M_FREE] = "free",
	[GORO_M_RUNNING] = "running",
	[GORO_M_BLOCKED] = "blocked",
	[GORO_M_PARKED] = "parked",
	[GORO_M_WAITP] = "waitp",
};

static int goro_sched_show(struct seq_file *m, void *v)
{
	struct goro_inst *inst = m->private;
	struct goro_shared_hdr *h = inst->shdr;
	u64 n, ms = (ktime_get_ns() - inst->start_ns) / NSEC_PER_MSEC;
	u32 np = READ_ONCE(inst->nactive);	/* GORO_IOC_SETPROCS */
	u32 p, i;

	seq_printf(m, "SCHED %llums: gomaxprocs=%u idleprocs=%u threads=%u spinningthreads=%u idlethreads=%u runqueue=%u [",
		   ms, np,
		   READ_ONCE(inst->nidle) + READ_ONCE(inst->nblocked),
		   READ_ONCE(inst->nms), READ_ONCE(h->nmspinning),
		   READ_ONCE(inst->nparked), READ_ONCE(h->runqsize));
	for (p = 0; p < np && p < inst->nprocs; p++)
		seq_printf(m, p ? " %u" : "%u",
			   goro_runq_len(goro_shp(inst, p)));
	seq_puts(m, "]\n");

	n = READ_ONCE(inst->handoff_lat_n);
	seq_printf(m, "  handoffs=%llu handofflat_avg_ns=%llu handofflat_max_ns=%llu parks=%llu wakes=%llu ksteals=%llu preemptreqs=%llu sparewanted=%llu waitp=%u goroutines=%u\n",
		   READ_ONCE(inst->handoffs),
		   n ? READ_ONCE(inst->handoff_lat_sum) / n : 0,
		   READ_ONCE(inst->handoff_lat_max), READ_ONCE(inst->parks),
		   READ_ONCE(inst->wakes), READ_ONCE(inst->ksteals),
		   READ_ONCE(inst->preempt_reqs),
		   READ_ONCE(inst->spare_wanted), READ_ONCE(inst->nwaitp),
		   READ_ONCE(h->ngoroutines));

	for (p = 0; p < inst->nprocs; p++) {
		struct goro_proc *pp = &inst->procs[p];
		struct goro_p *shp = goro_shp(inst, p);
		u32 st = READ_ONCE(pp->status);
		u32 owner = READ_ONCE(pp->owner);

		/* a retired P is shown only while an M still holds it */
		if (p >= np && owner == GORO_NONE)
			continue;
		seq_printf(m, "  P%u: status=%s schedtick=%llu syscalltick=%llu m=%d runqsize=%u runnext=%d handoffs=%llu ksteals=%llu preempt=%u\n",
			   p, st < ARRAY_SIZE(goro_p_status) ?
			   goro_p_status[st] : "?",
			   READ_ONCE(shp->schedtick),
			   READ_ONCE(pp->syscalltick),
			   owner == GORO_NONE ? -1 : (int)owner,
			   goro_runq_len(shp), READ_ONCE(shp->runnext) != 0,
			   READ_ONCE(pp->handoffs), READ_ONCE(pp->ksteals),
			   READ_ONCE(shp->preempt));
	}
	for (i = 0; i < inst->max_ms; i++) {
		struct goro_mview *mv = &inst->mview[i];
		u32 st = READ_ONCE(mv->state);
		u32 mp = READ_ONCE(mv->p);

		if (st == GORO_M_FREE)
			continue;
		seq_printf(m, "  M%u: tid=%u p=%d state=%s locks=%u\n", i,
			   READ_ONCE(mv->tid),
			   mp == GORO_NONE ? -1 : (int)mp,
			   st < ARRAY_SIZE(goro_m_state) ?
			   goro_m_state[st] : "?",
			   READ_ONCE(goro_shm(inst, i)->locks));
	}
	return 0;
}

/* Called with goro_instances_lock held. */
int goro_proc_add(struct goro_inst *inst)
{
	char name[16];

	/* A pid reused while an old instance lives on: no entry. */
	if (goro_tgid_taken(inst->tgid, inst))
		return -EEXIST;
	snprintf(name, sizeof(name), "%d", inst->tgid);
	inst->proc = proc_mkdir(name, goro_proc_root);
	if (!inst->proc)
		return -ENOMEM;
	if (!proc_create_single_data("sched", 0444, inst->proc,
				     goro_sched_show, inst)) {
		proc_remove(inst->proc);
		inst->proc = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* Called with goro_instances_lock held; waits for running readers. */
void goro_proc_del(struct goro_inst *inst)
{
	proc_remove(inst->proc);
	inst->proc = NULL;
}

int goro_proc_init(void)
{
	goro_proc_root = proc_mkdir("goro", NULL);
	if (!goro_proc_root)
		return -ENOMEM;
	if (!proc_create_single("version", 0444, goro_proc_root,
				goro_version_show) ||
	    !proc_create_single("stats", 0444, goro_proc_root,
				goro_stats_show)) {
		proc_remove(goro_proc_root);
		return -ENOMEM;
	}
	return 0;
}

void goro_proc_exit(void)
{
	proc_remove(goro_proc_root);
}
