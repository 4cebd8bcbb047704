/* SPDX-License-Identifier: MIT */
/*
 * goro: groups of goroutines working on one task (golang.org/x/sync's
 * errgroup). A WaitGroup counts the group's goroutines; the first
 * non-zero result is kept (a compare-and-swap from 0) and cancels the
 * group's context with that result as its cause, so the others can see
 * it and stop; goro_group_wait cancels it too once all are done. An
 * optional limit on the goroutines running at once is a weighted
 * semaphore (sema.c) of that size, each goroutine holding 1.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>

struct goro_group {
	goro_wg wg;
	goro_ctx *ctx;
	goro_sema lim;		/* used when limited */
	int64_t limit;		/* < 0: none */
	int err;		/* the first non-zero result (atomic) */
	uint32_t active;	/* started and not yet done (atomic) */
};

/* what a goroutine of the group runs: freed by it */
struct member {
	struct goro_group *g;
	goro_group_fn fn;
	void *arg;
};

static void member_run(void *arg)
{
	struct member *mb = arg;
	struct goro_group *g = mb->g;
	int err = mb->fn(g->ctx, mb->arg);

	free(mb);
	if (err && cas(&g->err, 0, err))
		goro_ctx_cancel_cause(g->ctx, err);
	if (g->limit > 0)
		goro_sema_release(&g->lim, 1);
	xadd(&g->active, -1);
	goro_wg_done(&g->wg);	/* the last touch of g: wait may free it */
}

goro_group *goro_group_make(goro_ctx *parent)
{
	struct goro_group *g = calloc(1, sizeof(*g));

	if (!g) {
		errno = ENOMEM;
		return NULL;
	}
	g->ctx = goro_ctx_make(parent);
	if (!g->ctx) {
		int e = errno;

		free(g);
		errno = e;
		return NULL;
	}
	g->limit = -1;
	return g;
}

goro_ctx *goro_group_ctx(goro_group *g)
{
	return g ? g->ctx : NULL;
}

int goro_group_setlimit(goro_group *g, int64_t n)
{
	if (!g || n == 0)
		return -EINVAL;
	if (ld_acq(&g->active))
		return -EBUSY;
	g->limit = n < 0 ? -1 : n;
	if (n > 0)
		goro_sema_init(&g->lim, n);
	return 0;
}

/* Start fn in the group, the slot (if limited) already taken. */
static int start(struct goro_group *g, goro_group_fn fn, void *arg)
{
	struct member *mb = malloc(sizeof(*mb));
	int64_t id;

	if (!mb) {
		id = -ENOMEM;
		goto fail;
	}
	mb->g = g;
	mb->fn = fn;
	mb->arg = arg;
	xadd(&g->active, 1);
	goro_wg_add(&g->wg, 1);
	id = goro_go(member_run, mb);
	if (id >= 0)
		return 0;
	free(mb);
	xadd(&g->active, -1);
	goro_wg_done(&g->wg);
fail:
	if (g->limit > 0)
		goro_sema_release(&g->lim, 1);
	return (int)id;
}

int goro_group_go(goro_group *g, goro_group_fn fn, void *arg)
{
	if (!g || !fn)
		return -EINVAL;
	if (g->limit > 0)
		goro_sema_acquire(&g->lim, 1, NULL);
	return start(g, fn, arg);
}

int goro_group_trygo(goro_group *g, goro_group_fn fn, void *arg)
{
	if (!g || !fn)
		return -EINVAL;
	if (g->limit > 0 && !goro_sema_tryacquire(&g->lim, 1))
		return -EAGAIN;
	return start(g, fn, arg);
}

int goro_group_wait(goro_group *g)
{
	int err;

	if (!g)
		return -EINVAL;
	goro_wg_wait(&g->wg);
	err = ld_acq(&g->err);
	/* as Go's: the context ends with the group's work */
	goro_ctx_cancel_cause(g->ctx, err);
	return err;
}

void goro_group_free(goro_group *g)
{
	if (!g)
		return;
	goro_ctx_free(g->ctx);
	free(g);
}
