// SPDX-License-Identifier: GPL-2.0
/*
 * Module-wide state: the module parameters, the stats of
 * /proc/goro/stats, the workqueue Ms are freed from, and the feature bits
 * the module implements. Every other file reads these; this file calls
 * none of them.
 *
 * Locking and lifetimes: every parameter is range-checked by its set op
 * (at load and on a write to sysfs); most are read-only (0444) once the
 * module is loaded, the 0644 ones may be changed by root at any time and
 * are read once per use (READ_ONCE), without a lock;
 * the cross-check max_ms >= max_procs is made at load. The stats are
 * atomics, updated from any context (the notifier included). goro_wq is
 * allocated by module init and destroyed by module exit, which drains it
 * first (see main.c).
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>
#include <linux/workqueue.h>

#include "sched.h"

/*
 * A parameter with its range, checked by its set op: at load (a value
 * given to modprobe) and on a write to /sys/module/goro/parameters/. Out
 * of range is -EINVAL and the value stays as it was.
 */
struct goro_uint_param {
	unsigned int *val;
	unsigned int min;
	unsigned int max;
};

static int goro_param_set(const char *arg, const struct kernel_param *kp)
{
	const struct goro_uint_param *p = kp->arg;
	unsigned int v;
	int ret;

	ret = kstrtouint(arg, 0, &v);
	if (ret)
		return ret;
	if (v < p->min || v > p->max)
		return -EINVAL;
	WRITE_ONCE(*p->val, v);
	return 0;
}

static int goro_param_get(char *buf, const struct kernel_param *kp)
{
	const struct goro_uint_param *p = kp->arg;

	return sysfs_emit(buf, "%u\n", READ_ONCE(*p->val));
}

static const struct kernel_param_ops goro_param_ops = {
	.set = goro_param_set,
	.get = goro_param_get,
};

#define GORO_PARAM(name, var, lo, hi, perm)				\
	static struct goro_uint_param goro_param_##name = {	\
		.val = &(var), .min = (lo), .max = (hi),		\
	};								\
	module_param_cb(name, &goro_param_ops, &goro_param_##name, perm)

/* Fixed once the module is loaded (0444). */
unsigned int goro_max_procs = 256;
GORO_PARAM(max_procs, goro_max_procs, 1, 4096, 0444);
MODULE_PARM_DESC(max_procs, "Largest nprocs GORO_IOC_SETUP accepts, 1..4096 (default 256)");

unsigned int goro_max_ms = 10000;
GORO_PARAM(max_ms, goro_max_ms, 1, 1000000, 0444);
MODULE_PARM_DESC(max_ms, "Largest number of Ms (threads) per instance, and the default for max_ms = 0, max_procs..1000000 (default 10000)");

unsigned int goro_preempt_ms = 10;
GORO_PARAM(preempt_ms, goro_preempt_ms, 0, 10000, 0444);
MODULE_PARM_DESC(preempt_ms, "Ask a P to preempt its goroutine after it ran this long without a reschedule, 0 = never, 0..10000 (default 10)");

/* Writable by root at any time: each use reads the value once. */
unsigned int goro_ksteal_tries = 4;
GORO_PARAM(ksteal_tries, goro_ksteal_tries, 1, 64, 0644);
MODULE_PARM_DESC(ksteal_tries, "Attempts per victim ring of a kernel-side steal before giving up on it, 1..64 (default 4)");

unsigned int goro_max_instances_per_user = 64;
GORO_PARAM(max_instances_per_user, goro_max_instances_per_user, 1, 1048576,
	   0644);
MODULE_PARM_DESC(max_instances_per_user, "Live instances (files that did GORO_IOC_SETUP) one user may have; CAP_SYS_RESOURCE is exempt, 1..1048576 (default 64)");

struct goro_stats goro_stats;
struct workqueue_struct *goro_wq;

/* Module init: do the parameters agree? 0 or -EINVAL. */
int goro_params_check(void)
{
	/* each alone was checked by its set op; together: */
	if (goro_max_ms < goro_max_procs) {
		pr_err("max_ms=%u below max_procs=%u\n", goro_max_ms,
		       goro_max_procs);
		return -EINVAL;
	}
	return 0;
}

u64 goro_features(void)
{
	u64 f = GORO_FEAT_HANDOFF | GORO_FEAT_KSTEAL | GORO_FEAT_PARK_DEADLINE |
		GORO_FEAT_PARK_FD | GORO_FEAT_FACTORY | GORO_FEAT_SETPROCS |
		GORO_FEAT_GREG | GORO_FEAT_WAKE_SPARE;

	if (goro_preempt_ms)
		f |= GORO_FEAT_PREEMPT;
	return f;
}
