/* SPDX-License-Identifier: MIT */
/*
 * goro: what the scheduler reads of the kmod backend inline, on its hot
 * paths: goro.ko's shared header (uapi struct goro_shared_hdr) and the
 * M's slot in the module's M table. On the user backend the header is
 * NULL and an M has no slot, and every helper here is a load and a
 * predicted branch. Everything else of the backend is in backend_kmod.c.
 */
#ifndef GORO_BACKEND_KMOD_H
#define GORO_BACKEND_KMOD_H

#include "internal.h"

/* The module's shared header; NULL on the user backend. */
extern struct goro_shared_hdr *goro__kmod_hdr HIDDEN;

/* M m is attached to goro.ko, which may swap its P while it blocks. */
static inline bool kmod_m(const struct goro_mach *m)
{
	return m->km != NULL;
}

/*
 * An M back from a block waits for a P (the module's nmwaitp, written by
 * goro_publish_counts() in module/sched.c). Read inline: it is checked
 * on every scheduling path.
 */
static inline bool kmod_p_wanted(void)
{
	struct goro_shared_hdr *h = goro__kmod_hdr;

	return h && unlikely(ld_rlx(&h->nmwaitp) != 0);
}

/*
 * goro__sched.lock held: the global queue's size, read by PARK's last
 * look after its barrier (goro_find_work_parked() in module/park.c).
 */
static inline void kmod_publish_runqsize(uint32_t n)
{
	struct goro_shared_hdr *h = goro__kmod_hdr;

	if (h)
		st_sc(&h->runqsize, n);
}

/* The goroutine count /proc/goro/<pid>/sched shows (sysmon.c). */
static inline void kmod_publish_ngoroutines(uint32_t n)
{
	struct goro_shared_hdr *h = goro__kmod_hdr;

	if (h && ld_rlx(&h->ngoroutines) != n)
		st_rlx(&h->ngoroutines, n);
}

/*
 * kmod_p_wanted(): give m's P (with its run queue) to the M that waits
 * for one, and park m briefly; returns the P m holds afterwards, or NULL.
 */
struct goro_pp *goro__kmod_p_yield(struct goro_mach *m) HIDDEN;

#endif
