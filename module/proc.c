// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/goro: version, global stats, pids (the instances the reader may
 * read, named in its pid namespace), and per instance <pid>/:
 *  sched       Go's schedtrace line, then scheddetail-like P and M lines
 *  ps          one line per P
 *  ms          one line per M, with the wait channel of a blocked one
 *  goroutines  the goroutine registry the process published (GREGISTER)
 *
 * Who may read the files of <pid>/: whoever may open /proc/PID/maps of
 * the process, which is ptrace_may_access(PTRACE_MODE_READ_FSCREDS) with
 * every LSM; modules cannot call it, so goro_proc_may_read() asks the
 * kernel by opening that file. The reader's pid namespace must also name
 * the process. Thread ids are shown in the reader's pid namespace.
 * Otherwise -EACCES (-ESRCH once the process is gone).
 *
 * Readers never take inst->lock: they read the kernel's copies and the
 * shared region with READ_ONCE, so a reader can neither stall the
 * scheduler nor be stalled by it; a line may mix two instants. The entry
 * goes away (proc_remove waits for readers) before the instance can be
 * freed.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/kallsyms.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/proc_fs.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/uaccess.h>

#include "sched.h"

static struct proc_dir_entry *goro_proc_root;

/*
 * A thread id (global, as struct goro_mview keeps it) as the reader's pid
 * namespace names it: 0 where it names nothing.
 */
static u32 goro_reader_tid(u32 tid)
{
	u32 nr;

	rcu_read_lock();
	nr = pid_nr_ns(find_pid_ns(tid, &init_pid_ns),
		       task_active_pid_ns(current));
	rcu_read_unlock();
	return nr;
}

static int goro_version_show(struct seq_file *m, void *v)
{
	seq_printf(m, "goro abi %u features %#llx max_procs %u max_ms %u version %s\n",
		   GORO_ABI_VERSION, goro_features(), goro_max_procs,
		   goro_max_ms, GORO_VERSION);
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
	seq_printf(m, "  handoffs=%llu handofflat_avg_ns=%llu handofflat_max_ns=%llu parks=%llu wakes=%llu ksteals=%llu preemptreqs=%llu sparewanted=%llu waitp=%u goroutines=%u blocks=%llu blockedtaken=%llu waitps=%llu nexthands=%llu reclaims=%llu\n",
		   READ_ONCE(inst->handoffs),
		   n ? READ_ONCE(inst->handoff_lat_sum) / n : 0,
		   READ_ONCE(inst->handoff_lat_max), READ_ONCE(inst->parks),
		   READ_ONCE(inst->wakes), READ_ONCE(inst->ksteals),
		   READ_ONCE(inst->preempt_reqs),
		   READ_ONCE(inst->spare_wanted), READ_ONCE(inst->nwaitp),
		   READ_ONCE(h->ngoroutines), READ_ONCE(inst->blocks),
		   READ_ONCE(inst->blocked_taken), READ_ONCE(inst->waitps),
		   READ_ONCE(inst->nexthands), READ_ONCE(inst->reclaims));

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
			   goro_reader_tid(READ_ONCE(mv->tid)),
			   mp == GORO_NONE ? -1 : (int)mp,
			   st < ARRAY_SIZE(goro_m_state) ?
			   goro_m_state[st] : "?",
			   READ_ONCE(goro_shm(inst, i)->locks));
	}
	return 0;
}

/*
 * May current read the /proc files of inst, opened by file? 0, -EACCES,
 * -ESRCH (the process is gone) or -EINTR.
 *
 * The kernel decides: we open <tgid>/task/<tid>/maps of a thread of the
 * process through the proc mount the reader came by, with the reader's
 * credentials. That open is ptrace_may_access(PTRACE_MODE_READ_FSCREDS)
 * (ids, capabilities, dumpability and every LSM: Landlock, SELinux,
 * AppArmor, Yama) after the mount's hidepid and pid namespace, as for
 * /proc/PID/maps itself. mm_access() checks nothing for a thread without
 * an mm, so the thread named must still have the process's mm after the
 * open: exit_mm() clears it for good, so it had it during the check.
 */
static int goro_proc_may_read(struct goro_inst *inst,
			      const struct file *file)
{
	struct vfsmount *mnt = file->f_path.mnt;
	struct pid_namespace *ns = proc_pid_ns(mnt->mnt_sb);
	struct task_struct *leader, *t, *found = NULL;
	char name[48];
	struct file *f;
	int ret = 0;

	/* stricter than /proc: the reader's own pid namespace must name it */
	if (!pid_nr_ns(inst->pid, task_active_pid_ns(current)))
		return -EACCES;
	/* a mount of part of proc has no <pid>/ to ask */
	if (mnt->mnt_root != mnt->mnt_sb->s_root)
		return -EACCES;
	rcu_read_lock();
	leader = pid_task(inst->pid, PIDTYPE_TGID);
	if (leader) {
		for_each_thread(leader, t) {
			if (READ_ONCE(t->mm) == inst->mm) {
				found = get_task_struct(t);
				break;
			}
		}
	}
	rcu_read_unlock();
	if (!found)
		return -ESRCH;
	snprintf(name, sizeof(name), "%d/task/%d/maps",
		 pid_nr_ns(inst->pid, ns), task_pid_nr_ns(found, ns));
	f = file_open_root_mnt(mnt, name, O_RDONLY, 0);
	if (IS_ERR(f)) {
		ret = PTR_ERR(f);
		/* not there for this reader (pid namespace, hidepid) */
		if (ret == -ENOENT || ret == -EPERM)
			ret = -EACCES;
	} else {
		fput(f);
		task_lock(found);
		if (found->mm != inst->mm)
			ret = -ESRCH;
		task_unlock(found);
	}
	put_task_struct(found);
	return ret;
}

static int goro_proc_open(struct inode *inode, struct file *file,
			  int (*show)(struct seq_file *, void *), size_t size)
{
	struct goro_inst *inst = pde_data(inode);
	int ret = goro_proc_may_read(inst, file);

	if (ret)
		return ret;
	return single_open_size(file, show, inst, size);
}

/* <pid>/ps: one line per P. */
static int goro_ps_show(struct seq_file *m, void *v)
{
	struct goro_inst *inst = m->private;
	u32 p;

	seq_puts(m, "P    STATUS     M   RUNQ    SCHEDTICK  SYSCALLTICK   HANDOFFS     STEALS   PREEMPTS\n");
	for (p = 0; p < inst->nprocs; p++) {
		struct goro_proc *pp = &inst->procs[p];
		struct goro_p *shp = goro_shp(inst, p);
		u32 st = READ_ONCE(pp->status);
		u32 owner = READ_ONCE(pp->owner);

		seq_printf(m, "%-4u %-8s %3d %6u %12llu %12llu %10llu %10llu %10llu\n",
			   p, st < ARRAY_SIZE(goro_p_status) ?
			   goro_p_status[st] : "?",
			   owner == GORO_NONE ? -1 : (int)owner,
			   goro_runq_len(shp), READ_ONCE(shp->schedtick),
			   READ_ONCE(pp->syscalltick), READ_ONCE(pp->handoffs),
			   READ_ONCE(pp->ksteals), READ_ONCE(pp->preempt_reqs));
	}
	return 0;
}

/*
 * Is addr in a scheduler function, one /proc/PID/wchan skips? The kernel
 * asks in_sched_functions() (the __sched text), which modules cannot: the
 * names of the __sched functions a sleeping task's stack starts with do.
 */
static bool goro_sched_fn(unsigned long addr)
{
	static const char *const skip[] = {
		"__switch_to", "__schedule", "schedule", "io_schedule",
		"preempt_schedule",
		"__cond_resched", "do_nanosleep",
		"__wait_for_common", "wait_for_completion",
		"__mutex_lock", "__down", "rwsem_down",
	};
	char sym[KSYM_SYMBOL_LEN];
	size_t i;

	sprint_symbol_no_offset(sym, addr);
	for (i = 0; i < ARRAY_SIZE(skip); i++)
		if (!strncmp(sym, skip[i], strlen(skip[i])))
			return true;
	return false;
}

/*
 * The kernel function task t sleeps in, as get_wchan() finds it: the
 * first return address outside the scheduler, or 0 when t is not asleep.
 * t's pi_lock keeps it asleep (a wake-up takes it) and so its stack alive
 * while we walk it; a dying task (TASK_DEAD) is never walked.
 */
static unsigned long goro_wchan(struct task_struct *t)
{
	unsigned long entries[16];
	unsigned long flags, addr = 0;
	unsigned int st, i, n;

	raw_spin_lock_irqsave(&t->pi_lock, flags);
	st = READ_ONCE(t->__state);
	smp_rmb(); /* as get_wchan(): see try_to_wake_up() */
	if (st == TASK_RUNNING || st == TASK_WAKING || (st & TASK_DEAD) ||
	    task_is_runnable(t) || t->exit_state)
		goto out;
	n = stack_trace_save_tsk(t, entries, ARRAY_SIZE(entries), 0);
	for (i = 0; i < n && !addr; i++)
		if (!goro_sched_fn(entries[i]))
			addr = entries[i];
out:
	raw_spin_unlock_irqrestore(&t->pi_lock, flags);
	return addr;
}

/* <pid>/ms: one line per attached M. */
static int goro_ms_show(struct seq_file *m, void *v)
{
	struct goro_inst *inst = m->private;
	u64 now = ktime_get_ns();
	u32 i;

	seq_puts(m, "M         TID     P STATE    STATE_MS WCHAN\n");
	for (i = 0; i < inst->max_ms; i++) {
		struct goro_mview *mv = &inst->mview[i];
		u32 st = READ_ONCE(mv->state);
		u32 mp = READ_ONCE(mv->p);
		u32 tid = READ_ONCE(mv->tid);
		u64 since = READ_ONCE(mv->since);
		unsigned long wchan = 0;

		if (st == GORO_M_FREE)
			continue;
		if (st == GORO_M_BLOCKED) {
			struct task_struct *t;

			/* by tid, checked to be a thread of the instance */
			rcu_read_lock();
			t = pid_task(find_pid_ns(tid, &init_pid_ns),
				     PIDTYPE_PID);
			if (t && (t->tgid != inst->tgid || t->mm != inst->mm))
				t = NULL;
			if (t)
				get_task_struct(t);
			rcu_read_unlock();
			if (t) {
				wchan = goro_wchan(t);
				put_task_struct(t);
			}
		}
		seq_printf(m, "%-4u %8u %5d %-8s %8llu ", i,
			   goro_reader_tid(tid),
			   mp == GORO_NONE ? -1 : (int)mp,
			   st < ARRAY_SIZE(goro_m_state) ?
			   goro_m_state[st] : "?",
			   now > since ? (now - since) / NSEC_PER_MSEC : 0);
		if (wchan)
			seq_printf(m, "%ps\n", (void *)wchan);
		else
			seq_puts(m, "-\n");
	}
	return 0;
}

/* --- the goroutine registry ---------------------------------------------- */

long goro_ioc_gregister(struct goro_inst *inst,
			struct goro_gregister __user *uarg)
{
	struct goro_gregister r;
	struct goro_greg h;

	if (copy_from_user(&r, uarg, sizeof(r)))
		return -EFAULT;
	if (r.flags)
		return -EINVAL;
	if (!goro_resv_zero(r.resv, sizeof(r.resv)))
		return -EINVAL;
	if (r.addr) {
		if (r.addr & 7)
			return -EINVAL;
		if (copy_from_user(&h, u64_to_user_ptr(r.addr), sizeof(h)))
			return -EFAULT;
		if (h.magic != GORO_GREG_MAGIC ||
		    h.version != GORO_GREG_VERSION)
			return -EINVAL;
	}
	WRITE_ONCE(inst->greg, r.addr);
	return 0;
}

/*
 * Copy len bytes at user address addr of mm (a reference held) into buf:
 * 0, or -EFAULT when any byte is not mapped readable. Sleeps.
 */
static int goro_read_user(struct mm_struct *mm, u64 addr, void *buf,
			  size_t len)
{
	if (addr >= TASK_SIZE_MAX || len > TASK_SIZE_MAX - addr)
		return -EFAULT;
	while (len) {
		size_t off = offset_in_page(addr);
		size_t n = min_t(size_t, len, PAGE_SIZE - off);
		struct page *page;
		void *kaddr;
		long got;

		if (mmap_read_lock_killable(mm))
			return -EINTR;
		got = get_user_pages_remote(mm, addr, 1, 0, &page, NULL);
		mmap_read_unlock(mm);
		if (got != 1)
			return -EFAULT;
		kaddr = kmap_local_page(page);
		memcpy(buf, kaddr + off, n);
		kunmap_local(kaddr);
		put_page(page);
		buf += n;
		addr += n;
		len -= n;
	}
	return 0;
}

static const char *const goro_g_state[] = {
	[GORO_G_IDLE] = "idle",
	[GORO_G_RUNNABLE] = "runnable",
	[GORO_G_RUNNING] = "running",
	[GORO_G_WAITING] = "waiting",
	[GORO_G_SYSCALL] = "syscall",
	[GORO_G_DEAD] = "dead",
};

static const char *const goro_g_wait[GORO_WAIT_MAX + 1] = {
	[GORO_WAIT_NONE] = "-",
	[GORO_WAIT_OTHER] = "other",
	[GORO_WAIT_CHAN_SEND] = "chan_send",
	[GORO_WAIT_CHAN_RECV] = "chan_receive",
	[GORO_WAIT_SELECT] = "select",
	[GORO_WAIT_SLEEP] = "sleep",
	[GORO_WAIT_IO] = "io_wait",
	[GORO_WAIT_WAITGROUP] = "waitgroup",
	[GORO_WAIT_MUTEX] = "mutex",
	[GORO_WAIT_RWMUTEX_R] = "rwmutex_rlock",
	[GORO_WAIT_RWMUTEX_W] = "rwmutex_lock",
	[GORO_WAIT_COND] = "cond",
	[GORO_WAIT_SYSCALL] = "syscall",
	[GORO_WAIT_NIL_CHAN] = "forever",
};

static void goro_ginfo_show(struct seq_file *m, struct goro_ginfo *g)
{
	char name[GORO_GNAME_LEN];
	size_t i;

	for (i = 0; i < sizeof(name) - 1 && g->name[i]; i++)
		name[i] = g->name[i] >= 0x20 && g->name[i] < 0x7f ?
			  g->name[i] : '?';
	name[i] = 0;
	seq_printf(m, "%-8llu %-8s %-13s ", g->id, goro_g_state[g->state],
		   goro_g_wait[g->waitreason]);
	if (name[0])	/* no trailing blanks when there is no name */
		seq_printf(m, "%#-18llx %s\n", g->entry, name);
	else
		seq_printf(m, "%#llx\n", g->entry);
}

/* Entries walked at most: dead ones are walked, not shown. */
#define GORO_GREG_WALK	(16 * GORO_GREG_MAX)

/*
 * Copy one entry. Userspace rewrites a reused slot in place and stores
 * its state last, so a copy (the id first in memory) may pair the ended
 * goroutine's id with the new one's state: read the id again after the
 * copy and retry when it moved. 0, -EFAULT, or -EAGAIN if it kept moving.
 */
static int goro_read_ginfo(struct mm_struct *mm, u64 addr,
			   struct goro_ginfo *g)
{
	u64 id;
	int i;

	for (i = 0; i < 3; i++) {
		if (goro_read_user(mm, addr, g, sizeof(*g)))
			return -EFAULT;
		smp_rmb();	/* the id again, after the rest */
		if (goro_read_user(mm, addr, &id, sizeof(id)))
			return -EFAULT;
		if (id == g->id)
			return 0;
	}
	return -EAGAIN;
}

/*
 * <pid>/goroutines: walk the registry in the process's memory, trusting
 * nothing: show at most GORO_GREG_MAX entries and walk at most
 * GORO_GREG_WALK, stop at a misaligned or unreadable pointer and at a
 * loop (Brent's: the tortoise jumps to the hare at every power of two),
 * skip entries with unknown values or that kept changing while read.
 * Dead entries (slots kept for the next goroutine) are counted, not
 * shown. The last line says how the walk ended. No lock is held while
 * user memory is read.
 */
static int goro_goroutines_show(struct seq_file *m, void *v)
{
	struct goro_inst *inst = m->private;
	struct mm_struct *mm = inst->mm;
	u64 addr = READ_ONCE(inst->greg);
	u64 tortoise = 0, power = 1, lam = 0;
	u32 n = 0, shown = 0, dead = 0, skipped = 0;
	const char *end = "end";
	int err;
	struct goro_ginfo g;
	struct goro_greg h;

	seq_puts(m, "ID       STATE    WAIT          ENTRY              NAME\n");
	if (!addr) {
		seq_puts(m, "# no registry\n");
		return 0;
	}
	if (!mmget_not_zero(mm)) {
		seq_puts(m, "# process gone\n");
		return 0;
	}
	if (goro_read_user(mm, addr, &h, sizeof(h)) ||
	    h.magic != GORO_GREG_MAGIC || h.version != GORO_GREG_VERSION) {
		end = "bad header";
		goto out;
	}
	for (addr = h.first; addr; addr = g.next) {
		if (shown >= GORO_GREG_MAX || n >= GORO_GREG_WALK) {
			end = "truncated";
			break;
		}
		if (addr & 7) {
			end = "bad pointer";
			break;
		}
		if (addr == tortoise) {
			end = "loop";
			break;
		}
		if (lam == power) {
			tortoise = addr;
			power <<= 1;
			lam = 0;
		}
		lam++;
		err = goro_read_ginfo(mm, addr, &g);
		if (err == -EFAULT) {
			end = "bad pointer";
			break;
		}
		n++;
		if (err || g.state >= ARRAY_SIZE(goro_g_state) ||
		    g.waitreason > GORO_WAIT_MAX) {
			skipped++;
		} else if (g.state == GORO_G_DEAD) {
			dead++;
		} else {
			goro_ginfo_show(m, &g);
			shown++;
		}
		if (fatal_signal_pending(current)) {
			end = "interrupted";
			break;
		}
		cond_resched();
	}
out:
	mmput(mm);
	seq_printf(m, "# %u entries, %u dead, %u skipped, %s\n", n, dead,
		   skipped, end);
	return 0;
}

static int goro_goroutines_open(struct inode *inode, struct file *file)
{
	/* most registries fit: a bigger one restarts the walk, bounded */
	return goro_proc_open(inode, file, goro_goroutines_show,
			      4 * PAGE_SIZE);
}

#define GORO_PROC_OPS(name)						\
static int goro_##name##_open(struct inode *inode, struct file *file)	\
{									\
	return goro_proc_open(inode, file, goro_##name##_show, PAGE_SIZE); \
}									\
static const struct proc_ops goro_##name##_ops = {			\
	.proc_open = goro_##name##_open,				\
	.proc_read = seq_read,						\
	.proc_lseek = seq_lseek,					\
	.proc_release = single_release,					\
}

GORO_PROC_OPS(sched);
GORO_PROC_OPS(ps);
GORO_PROC_OPS(ms);

static const struct proc_ops goro_goroutines_ops = {
	.proc_open = goro_goroutines_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
};

/*
 * pids: the instances the reader may read, one line each: the name of its
 * directory here (the global pid), then its pid in the reader's pid
 * namespace. The directory itself is not listable by others (0551).
 */
static int goro_pids_show(struct seq_file *m, void *v)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct goro_inst **insts;
	unsigned int i, n;

	insts = goro_inst_get_all(&n);
	if (!insts)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (goro_proc_may_read(insts[i], m->file))
			continue;
		seq_printf(m, "%d %d\n", insts[i]->tgid,
			   pid_nr_ns(insts[i]->pid, ns));
	}
	goro_inst_put_all(insts, n);
	return 0;
}

/*
 * Called with goro_instances_lock held, once the caller has made sure no
 * other live instance has the entry named inst->tgid.
 */
int goro_proc_add(struct goro_inst *inst)
{
	char name[16];

	snprintf(name, sizeof(name), "%d", inst->tgid);
	inst->proc = proc_mkdir(name, goro_proc_root);
	if (!inst->proc)
		return -ENOMEM;
	if (!proc_create_data("sched", 0444, inst->proc, &goro_sched_ops,
			      inst) ||
	    !proc_create_data("ps", 0444, inst->proc, &goro_ps_ops, inst) ||
	    !proc_create_data("ms", 0444, inst->proc, &goro_ms_ops, inst) ||
	    !proc_create_data("goroutines", 0400, inst->proc,
			      &goro_goroutines_ops, inst)) {
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
	/* others may look up a name, not list them: they read pids */
	goro_proc_root = proc_mkdir_mode("goro", 0551, NULL);
	if (!goro_proc_root)
		return -ENOMEM;
	if (!proc_create_single("version", 0444, goro_proc_root,
				goro_version_show) ||
	    !proc_create_single("stats", 0444, goro_proc_root,
				goro_stats_show) ||
	    !proc_create_single("pids", 0444, goro_proc_root,
				goro_pids_show)) {
		proc_remove(goro_proc_root);
		return -ENOMEM;
	}
	return 0;
}

void goro_proc_exit(void)
{
	proc_remove(goro_proc_root);
}
