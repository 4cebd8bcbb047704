// SPDX-License-Identifier: GPL-2.0
/*
 * goro.ko: Go's goroutine scheduler (G/M/P) for C programs, kernel side.
 *
 * This file is the entry point: the misc device /dev/goro, its file
 * operations, the ioctl dispatch, and module init/exit. One scheduler
 * instance lives per open file. The parameters and module-wide stats are
 * in params.c. It takes no lock of its own: the instance of a file is
 * published once by GORO_IOC_SETUP (inst.c) and read with an acquire.
 *
 * Lifetime: every open file and every attached M holds a module
 * reference (fops.owner, m.c), so the module unloads only when neither
 * is left; module exit drains goro_wq, where the last M is freed.
 */
#include <linux/build_bug.h>
#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include "sched.h"

static long goro_ioc_version(void __user *arg)
{
	struct goro_version v = {
		.abi_version = GORO_ABI_VERSION,
		.max_procs = goro_max_procs,
		.features = goro_features(),
		.max_ms = goro_max_ms,
	};

	if (copy_to_user(arg, &v, sizeof(v)))
		return -EFAULT;
	return 0;
}

/* Every command this module knows, by number; see goro_ioctl(). */
static const unsigned int goro_cmds[] = {
	[_IOC_NR(GORO_IOC_VERSION)] = GORO_IOC_VERSION,
	[_IOC_NR(GORO_IOC_SETUP)] = GORO_IOC_SETUP,
	[_IOC_NR(GORO_IOC_ATTACH_M)] = GORO_IOC_ATTACH_M,
	[_IOC_NR(GORO_IOC_DETACH_M)] = GORO_IOC_DETACH_M,
	[_IOC_NR(GORO_IOC_PARK)] = GORO_IOC_PARK,
	[_IOC_NR(GORO_IOC_WAKE)] = GORO_IOC_WAKE,
	[_IOC_NR(GORO_IOC_SETPROCS)] = GORO_IOC_SETPROCS,
	[_IOC_NR(GORO_IOC_GREGISTER)] = GORO_IOC_GREGISTER,
};

static long goro_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	unsigned int nr = _IOC_NR(cmd);
	struct goro_inst *inst;

	/*
	 * Unknown command: -ENOTTY. A known command number with another
	 * size or direction (a caller built against a different struct):
	 * -EINVAL.
	 */
	if (_IOC_TYPE(cmd) != 'G' || nr >= ARRAY_SIZE(goro_cmds) ||
	    !goro_cmds[nr])
		return -ENOTTY;
	if (cmd != goro_cmds[nr])
		return -EINVAL;

	if (cmd == GORO_IOC_VERSION)
		return goro_ioc_version(uarg);
	if (cmd == GORO_IOC_SETUP)
		return goro_ioc_setup(file, uarg);

	/* Everything else needs the instance, from its own process. */
	inst = goro_file_inst(file);
	if (!inst)
		return -EINVAL;
	if (current->mm != inst->mm)
		return -EPERM;
	switch (cmd) {
	case GORO_IOC_ATTACH_M:
		return goro_ioc_attach(inst, uarg);
	case GORO_IOC_DETACH_M:
		return goro_ioc_detach(inst);
	case GORO_IOC_PARK:
		return goro_ioc_park(inst, uarg);
	case GORO_IOC_WAKE:
		return goro_ioc_wake(inst, uarg);
	case GORO_IOC_SETPROCS:
		return goro_ioc_setprocs(inst, uarg);
	case GORO_IOC_GREGISTER:
		return goro_ioc_gregister(inst, uarg);
	}
	return -ENOTTY;
}

static int goro_open(struct inode *inode, struct file *file)
{
	file->private_data = NULL;
	return 0;
}

static int goro_release(struct inode *inode, struct file *file)
{
	struct goro_inst *inst = goro_file_inst(file);

	if (inst)
		goro_inst_release(inst);
	return 0;
}

static const struct file_operations goro_fops = {
	.owner = THIS_MODULE,
	.open = goro_open,
	.release = goro_release,
	.unlocked_ioctl = goro_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = goro_mmap,
	.llseek = noop_llseek,
};

static struct miscdevice goro_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "goro",
	.fops = &goro_fops,
	.mode = 0666,
};

/*
 * The size of every ABI struct, as uapi/goro.h asserts for userspace: a
 * change is an ABI change, and fails the module build too.
 */
static void __init goro_abi_check(void)
{
	BUILD_BUG_ON(sizeof(struct goro_version) != 40);
	BUILD_BUG_ON(sizeof(struct goro_offsets) != 64);
	BUILD_BUG_ON(sizeof(struct goro_setup) != 128);
	BUILD_BUG_ON(sizeof(struct goro_attach) != 32);
	BUILD_BUG_ON(sizeof(struct goro_park) != 40);
	BUILD_BUG_ON(sizeof(struct goro_wake) != 16);
	BUILD_BUG_ON(sizeof(struct goro_setprocs) != 16);
	BUILD_BUG_ON(sizeof(struct goro_shared_hdr) != 128);
	BUILD_BUG_ON(sizeof(struct goro_p) != 128 + 8 * GORO_RUNQ_ENTRIES);
	BUILD_BUG_ON(sizeof(struct goro_m) != 64);
	BUILD_BUG_ON(sizeof(struct goro_gregister) != 32);
	BUILD_BUG_ON(sizeof(struct goro_greg) != 32);
	BUILD_BUG_ON(sizeof(struct goro_ginfo) != 64);
}

static int __init goro_init(void)
{
	int ret;

	goro_abi_check();
	ret = goro_params_check();
	if (ret)
		return ret;
	/*
	 * Frees of Ms and instances: any CPU will do (and since 7.x a
	 * workqueue has to say whether it is per-CPU or unbound)
	 */
	goro_wq = alloc_workqueue("goro", WQ_UNBOUND, 0);
	if (!goro_wq)
		return -ENOMEM;
	preempt_notifier_inc();
	ret = goro_proc_init();
	if (ret)
		goto err_proc;
	ret = misc_register(&goro_misc);
	if (ret)
		goto err_misc;
	pr_info("ABI %u, /dev/goro ready\n", GORO_ABI_VERSION);
	return 0;

err_misc:
	goro_proc_exit();
err_proc:
	preempt_notifier_dec();
	destroy_workqueue(goro_wq);
	return ret;
}

/*
 * Unload is possible only when no file is open and no M is attached (each
 * holds a module reference); the last M's free work may still be returning:
 * destroy_workqueue() waits for it.
 */
static void __exit goro_exit(void)
{
	misc_deregister(&goro_misc);
	goro_proc_exit();
	destroy_workqueue(goro_wq);
	preempt_notifier_dec();
}

module_init(goro_init);
module_exit(goro_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("goro: Go's G/M/P goroutine scheduler for C programs");
MODULE_VERSION(GORO_VERSION);
