// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/goro: version, global stats. Readers never take a lock the
 * scheduler takes.
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>

#include "sched.h"

static struct proc_dir_entry *goro_proc_root;

static int goro_version_show(struct seq_file *m, void *v)
{
	seq_printf(m, "goro abi %u features %#llx max_procs %u\n",
		   GORO_ABI_VERSION, goro_features(), goro_max_procs);
	return 0;
}

static int goro_stats_show(struct seq_file *m, void *v)
{
	seq_printf(m, "instances %d\n", atomic_read(&goro_stats.instances));
	seq_printf(m, "ms %d\n", atomic_read(&goro_stats.ms));
	return 0;
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
