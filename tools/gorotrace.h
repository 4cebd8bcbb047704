/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* gorotrace: what gorotrace.bpf.c and gorotrace.c share. */
#ifndef GOROTRACE_H
#define GOROTRACE_H

#define MAX_SLOTS	32	/* log2 buckets of nanoseconds */
#define MAX_PROCS	256	/* Ps counted per process */

/* What a histogram measures. */
#define HIST_HANDOFF	0	/* goro_handoff: block -> another M runs the P */
#define HIST_PARK	1	/* goro_park: time an M spent parked */
#define HIST_KINDS	2

struct hist_key {
	__u32 tgid;
	__u32 kind;		/* HIST_* */
};

struct hist {
	__u64 slots[MAX_SLOTS];
	__u64 count;
	__u64 sum_ns;
	__u64 max_ns;
};

struct steal_key {
	__u32 tgid;
	__u32 p;		/* the P the handles were stolen from */
};

#endif
