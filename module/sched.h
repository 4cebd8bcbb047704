/* SPDX-License-Identifier: GPL-2.0 */
/*
 * goro.ko internals shared by the files of the module: the scheduler
 * instance, its Ps and Ms, and the entry points each file provides.
 */
#ifndef _GORO_SCHED_H
#define _GORO_SCHED_H

#include <linux/atomic.h>
#include <linux/types.h>

#include "uapi/goro.h"

/* Module parameters (main.c). */
extern unsigned int goro_max_procs;
extern unsigned int goro_max_ms;

/* Live objects and event totals since load, for /proc/goro/stats. */
struct goro_stats {
	atomic_t instances;
	atomic_t ms;
};

extern struct goro_stats goro_stats;

/* Feature bits this module implements (GORO_IOC_VERSION, SETUP). */
u64 goro_features(void);

/* proc.c */
int goro_proc_init(void);
void goro_proc_exit(void);

#endif /* _GORO_SCHED_H */
