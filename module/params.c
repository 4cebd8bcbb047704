// SPDX-License-Identifier: GPL-2.0
/*
 * Module-wide state: the module parameters, the stats of
 * /proc/goro/stats, the workqueue Ms are freed from, and the feature bits
 * the module implements. Every other file reads these; this file calls
 * none of them.
 *
 * Locking and lifetimes: the parameters are read-only (0444) once the
 * module is loaded, so they are read without a lock; the stats are
 * atomics, updated from any context (the notifier included). goro_wq is
 * allocated by module init and destroyed by module exit, which drains it
 * first (see main.c).
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>
#include <linux/workqueue.h>

#include "sched.h"

unsigned int goro_max_procs = 256;
module_param_named(max_procs, goro_max_procs, uint, 0444);
MODULE_PARM_DESC(max_procs, "Largest nprocs GORO_IOC_SETUP accepts (default 256)");

unsigned int goro_max_ms = 10000;
module_param_named(max_ms, goro_max_ms, uint, 0444);
MODULE_PARM_DESC(max_ms, "Largest number of Ms (threads) per instance, and the default for max_ms = 0 (default 10000)");

unsigned int goro_preempt_ms = 10;
module_param_named(preempt_ms, goro_preempt_ms, uint, 0444);
MODULE_PARM_DESC(preempt_ms, "Ask a P to preempt its goroutine after it ran this long without a reschedule, 0 = never (default 10)");

unsigned int goro_ksteal_tries = 4;
module_param_named(ksteal_tries, goro_ksteal_tries, uint, 0444);
MODULE_PARM_DESC(ksteal_tries, "Attempts per victim ring of a kernel-side steal before giving up on it (default 4)");

struct goro_stats goro_stats;
struct workqueue_struct *goro_wq;

/* Module init: are the parameters in range? 0 or -EINVAL. */
int goro_params_check(void)
{
	if (!goro_max_procs || goro_max_procs > 4096) {
		pr_err("max_procs=%u out of range 1..4096\n", goro_max_procs);
		return -EINVAL;
	}
	if (goro_max_ms < goro_max_procs || goro_max_ms > 1000000) {
		pr_err("max_ms=%u out of range max_procs..1000000\n",
		       goro_max_ms);
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
