// SPDX-License-Identifier: GPL-2.0
/*
 * The life cycle of a scheduler instance: GORO_IOC_SETUP creates it with
 * its shared region, mmap maps the region, GORO_IOC_SETPROCS changes how
 * many Ps are in use, and the release of the file ends it.
 *
 * One instance per open file, and at most one live instance per process:
 * a second GORO_IOC_SETUP in the same process is -EBUSY, which keeps
 * /proc/goro/<pid> unambiguous. A forked child shares the open file but
 * not the instance: every call from another mm is -EPERM and the mapping
 * is not copied (VM_DONTCOPY, which VM_IO keeps madvise(MADV_DOFORK) from
 * clearing); the child starts fresh with its own open.
 *
 * Locking: goro_instances_lock (a mutex) protects the list of live
 * instances and their /proc entries; inst->lock (see sched.h) the P
 * state SETPROCS changes. The file publishes its instance once, with a
 * release cmpxchg, and goro_file_inst() reads it with an acquire.
 *
 * Limits: everything allocated for an instance (the region, the tables,
 * the Ms in m.c) is charged to the memory cgroup of the caller
 * (__GFP_ACCOUNT), and one user (real uid) may have at most
 * max_instances_per_user live instances, unless it has CAP_SYS_RESOURCE:
 * -EMFILE, as inotify's max_user_instances. A live instance is one whose
 * file is open, wherever that file is now. SETUP checks both limits
 * before it allocates anything, and again under the lock once it has.
 *
 * A process that exits (or execs) while another keeps its file open
 * leaves an instance nobody can use: its monitor stops and queues
 * goro_inst_gone(), which takes the /proc entry away (monitor.c).
 *
 * Lifetime: the file holds one reference on the instance and every
 * attached M one more (m.c); the last goro_inst_put() frees the region
 * and the Ps, from process context only. Release takes the instance off
 * the list and /proc (waiting for readers) and stops its monitor before
 * it drops the file's reference.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>

#include "sched.h"

static LIST_HEAD(goro_instances);
static DEFINE_MUTEX(goro_instances_lock);

struct goro_inst *goro_file_inst(struct file *file)
{
	/* Pairs with the cmpxchg publishing the instance in SETUP. */
	return smp_load_acquire(&file->private_data);
}

static void goro_inst_free(struct goro_inst *inst)
{
	vfree(inst->region);
	kvfree(inst->procs);
	kvfree(inst->idle);
	kvfree(inst->ms);
	kvfree(inst->mview);
	mmdrop(inst->mm);
	put_pid(inst->pid);
	kfree(inst);
	atomic_dec(&goro_stats.instances);
}

/* Process context only (the file release, or an M's free work). */
void goro_inst_put(struct goro_inst *inst)
{
	if (refcount_dec_and_test(&inst->ref))
		goro_inst_free(inst);
}

/* The process of inst is gone: its pid no longer names it in /proc. */
static void goro_inst_gone(struct work_struct *work)
{
	struct goro_inst *inst = container_of(work, struct goro_inst,
					      gone_work);

	mutex_lock(&goro_instances_lock);
	goro_proc_del(inst);
	mutex_unlock(&goro_instances_lock);
	/* the monitor's reference */
	goro_inst_put(inst);
}

static struct goro_inst *goro_inst_alloc(u32 nprocs, u32 max_ms)
{
	struct goro_shared_hdr *h;
	struct goro_inst *inst;
	u32 p;

	inst = kzalloc(sizeof(*inst), GFP_KERNEL_ACCOUNT);
	if (!inst)
		return NULL;
	refcount_set(&inst->ref, 1);
	raw_spin_lock_init(&inst->lock);
	INIT_LIST_HEAD(&inst->parked);
	INIT_LIST_HEAD(&inst->waitp);
	INIT_LIST_HEAD(&inst->factory);
	INIT_LIST_HEAD(&inst->node);
	INIT_WORK(&inst->gone_work, goro_inst_gone);
	goro_monitor_init(inst);
	inst->nprocs = nprocs;
	inst->nactive = nprocs;
	inst->max_ms = max_ms;
	inst->mm = current->mm;
	mmgrab(inst->mm);
	inst->tgid = task_tgid_nr(current);
	inst->pid = get_pid(task_tgid(current));
	inst->uid = current_uid();
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

	/* not vmalloc_user(), which is not charged: see goro_mmap() */
	inst->region = __vmalloc(inst->map_size,
				 GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	inst->procs = kvcalloc(nprocs, sizeof(*inst->procs),
			       GFP_KERNEL_ACCOUNT);
	inst->idle = kvcalloc(nprocs, sizeof(*inst->idle), GFP_KERNEL_ACCOUNT);
	inst->ms = kvcalloc(max_ms, sizeof(*inst->ms), GFP_KERNEL_ACCOUNT);
	inst->mview = kvcalloc(max_ms, sizeof(*inst->mview),
			       GFP_KERNEL_ACCOUNT);
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

/*
 * May the caller have one more instance? 0, -EBUSY (its process has one)
 * or -EMFILE (its user has max_instances_per_user). goro_instances_lock.
 */
static int goro_setup_allowed(struct goro_inst *self)
{
	unsigned int max = READ_ONCE(goro_max_instances_per_user);
	kuid_t uid = current_uid();
	struct goro_inst *inst;
	unsigned int n = 0;

	list_for_each_entry(inst, &goro_instances, node) {
		if (inst == self)
			continue;
		if (inst->mm == current->mm)
			return -EBUSY;
		if (uid_eq(inst->uid, uid))
			n++;
	}
	if (n >= max && !capable(CAP_SYS_RESOURCE))
		return -EMFILE;
	return 0;
}

long goro_ioc_setup(struct file *file, struct goro_setup __user *uarg)
{
	struct goro_inst *inst;
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
	/* before allocating, so that refused calls cost nothing */
	mutex_lock(&goro_instances_lock);
	ret = goro_setup_allowed(NULL);
	mutex_unlock(&goro_instances_lock);
	if (ret)
		return ret;

	inst = goro_inst_alloc(s.nprocs, s.max_ms);
	if (!inst)
		return -ENOMEM;

	mutex_lock(&goro_instances_lock);
	/* again: another SETUP may have won meanwhile */
	ret = goro_setup_allowed(inst);
	if (ret)
		goto err_unlock;
	ret = -EBUSY;
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
	unsigned long off, size = vma->vm_end - vma->vm_start;
	int ret;

	if (!inst)
		return -EINVAL;
	if (current->mm != inst->mm)
		return -EPERM;
	if (vma->vm_pgoff || size != inst->map_size)
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED) || (vma->vm_flags & VM_EXEC))
		return -EINVAL;
	vm_flags_clear(vma, VM_MAYEXEC);
	/*
	 * Never in a child: VM_DONTCOPY, and VM_IO so that MADV_DOFORK is
	 * -EINVAL rather than clearing it. VM_IO also keeps the region out
	 * of get_user_pages() (the kernel uses its own mapping) and of core
	 * dumps, as VM_DONTDUMP does already.
	 */
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTCOPY | VM_DONTDUMP | VM_IO);
	/*
	 * The region is charged vmalloc memory, which remap_vmalloc_range()
	 * refuses (it wants vmalloc_user()'s VM_USERMAP): insert its pages
	 * one by one, as that function does.
	 */
	for (off = 0; off < size; off += PAGE_SIZE) {
		ret = vm_insert_page(vma, vma->vm_start + off,
				     vmalloc_to_page(inst->region + off));
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * References to the live instances that have a /proc entry, for a reader
 * of /proc/goro/pids: *n of them, in an array to give back to
 * goro_inst_put_all(); NULL if out of memory. Process context.
 */
struct goro_inst **goro_inst_get_all(unsigned int *n)
{
	struct goro_inst *inst, **v;
	unsigned int i = 0, max = 0;

	mutex_lock(&goro_instances_lock);
	list_for_each_entry(inst, &goro_instances, node)
		max += !!inst->proc;
	v = kvmalloc_array(max ?: 1, sizeof(*v), GFP_KERNEL_ACCOUNT);
	if (v) {
		list_for_each_entry(inst, &goro_instances, node) {
			if (!inst->proc)
				continue;
			refcount_inc(&inst->ref);
			v[i++] = inst;
		}
	}
	mutex_unlock(&goro_instances_lock);
	*n = i;
	return v;
}

void goro_inst_put_all(struct goro_inst **v, unsigned int n)
{
	while (n--)
		goro_inst_put(v[n]);
	kvfree(v);
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
