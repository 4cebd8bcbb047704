/* SPDX-License-Identifier: MIT */
/*
 * goro: contexts (Go's context.Context: WithCancel, WithCancelCause,
 * WithDeadline, WithTimeout). A context is a node in a tree: cancelling
 * one cancels the subtree below it, never above. Cancelling closes the
 * context's done channel (so a goro_select on it fires), records why
 * (err: -ECANCELED or -ETIMEDOUT; cause: what the canceller said) and runs
 * the hooks of whatever waits under it: netpoll.c's I/O waits and sema.c's
 * acquires register a struct goro_ctx_hook that wakes their goroutine.
 *
 * Locks. Each context has its own lock word. The order is parent before
 * child (a cancel walks down, holding each level's lock while it cancels
 * the next), then the locks a hook takes (a descriptor's, a semaphore's,
 * a channel's in goro_chan_close). A deadline's timer cancels from the
 * timer heap, under its lock, so the heap's lock comes before all of
 * those; nothing here takes a heap's lock with a context's held (timers
 * are added and deleted with no context locked), and nothing allocates
 * or frees with one held.
 *
 * Lifetime. A context is freed when its count of references drops to
 * zero. References are held by: its creator (goro_ctx_make*, dropped by
 * goro_ctx_free or goro_ctx_unref), each goro_ctx_ref, each child still
 * linked to it (so a child can always reach its parent to unlink), and
 * its deadline's timer while it is on a heap (dropped by whoever takes it
 * off: the timer's release after it fired, or the one that deletes it,
 * chosen by an exchange on tarmed). The last reference cancels it first,
 * so a freed context is linked to nothing and holds no timer.
 */
#include "internal.h"
#include "chan.h"

#include <errno.h>
#include <stdlib.h>

struct goro_ctx {
	uint32_t lock;
	uint32_t refs;			/* atomic */
	int err;			/* 0 live, else why (release store) */
	int cause;			/* written before err */
	int64_t deadline;		/* effective (parent's included), 0 none */
	struct goro_ctx *parent;	/* under both locks; holds a ref on it */
	struct goro_ctx *sprev, *snext;	/* siblings, under the parent's lock */
	struct goro_ctx *children;	/* under the lock */
	struct goro_ctx_hook *hooks;	/* under the lock */
	goro_chan *done;		/* closed once err is set */
	struct goro_rtimer t;		/* own deadline, when before parent's */
	uint32_t tarmed;		/* t was added and nobody deleted it */
};

static void ctx_put(struct goro_ctx *c);

/* ---- cancelling -------------------------------------------------------------- */

/* c->lock held: unlink child k (its lock held too) from c. */
static void unlink_child_locked(struct goro_ctx *c, struct goro_ctx *k)
{
	if (k->sprev)
		k->sprev->snext = k->snext;
	else
		c->children = k->snext;
	if (k->snext)
		k->snext->sprev = k->sprev;
	k->sprev = k->snext = NULL;
	k->parent = NULL;
	/* k's link reference on c: never the last, c's canceller holds one */
	xadd(&c->refs, -1);
}

/*
 * c->lock held: cancel c and everything below it, unless already done.
 * Bottom up, as Go's Err under the lock appears: the children's err is
 * published before c's, so whoever sees c cancelled sees its subtree
 * cancelled too; and c's err before its done channel closes and its
 * hooks run, so whoever is woken by them sees it. Each hook runs once,
 * here, and is off the list before it runs.
 */
static void cancel_locked(struct goro_ctx *c, int err, int cause)
{
	struct goro_ctx_hook *h;
	struct goro_ctx *k;

	if (c->err)
		return;	/* the lock is held throughout: err says it all */
	while ((k = c->children)) {
		goro__lock(&k->lock);
		cancel_locked(k, err, cause);
		unlink_child_locked(c, k);
		goro__unlock(&k->lock);
	}
	c->cause = cause;
	st_rel(&c->err, err);
	goro_chan_close(c->done);
	while ((h = c->hooks)) {
		c->hooks = h->next;
		if (h->next)
			h->next->prev = NULL;
		h->next = h->prev = NULL;
		h->fired = 1;
		/* its waiter needs c->lock to leave: h stays valid meanwhile */
		h->fn(h);
	}
}

static void cancel(struct goro_ctx *c, int err, int cause)
{
	goro__lock(&c->lock);
	cancel_locked(c, err, cause);
	goro__unlock(&c->lock);
}

/* Take c out of its parent's list, if it is in one. */
static void unlink_from_parent(struct goro_ctx *c)
{
	struct goro_ctx *p;

	goro__lock(&c->lock);
	p = c->parent;
	if (p)
		xadd(&p->refs, 1);	/* alive: c's link holds it */
	goro__unlock(&c->lock);
	if (!p)
		return;
	goro__lock(&p->lock);
	goro__lock(&c->lock);
	if (c->parent == p)
		unlink_child_locked(p, c);
	goro__unlock(&c->lock);
	goro__unlock(&p->lock);
	ctx_put(p);
}

/* Take c's timer off its heap, once; the timer's reference goes with it. */
static void stop_timer(struct goro_ctx *c)
{
	if (!ld_acq(&c->tarmed) || !xchg(&c->tarmed, 0))
		return;
	/* off the heap before it fired: its release will not run */
	if (goro__timer_del(&c->t))
		ctx_put(c);
}

static void ctx_put(struct goro_ctx *c)
{
	if (xadd(&c->refs, -1) != 1)
		return;
	/* nobody holds c: no child, no timer, no waiter */
	cancel(c, -ECANCELED, -ECANCELED);
	unlink_from_parent(c);
	goro_chan_free(c->done);
	free(c);
}

/* ---- deadlines ----------------------------------------------------------------- */

/* Under the heap's lock. */
static void ctx_fire(struct goro_rtimer *t)
{
	cancel((struct goro_ctx *)((char *)t - offsetof(struct goro_ctx, t)),
	       -ETIMEDOUT, -ETIMEDOUT);
}

/* After the heap's lock is dropped: the timer's reference. */
static void ctx_release(struct goro_rtimer *t)
{
	ctx_put((struct goro_ctx *)((char *)t - offsetof(struct goro_ctx, t)));
}

/* ---- the API ---------------------------------------------------------------------- */

/* A child of parent (NULL: a root) with its own deadline (0: none). */
static goro_ctx *ctx_new(goro_ctx *parent, int64_t deadline)
{
	struct goro_ctx *c;
	bool dead;

	if (ensure_init()) {
		errno = EAGAIN;
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	c->done = goro_chan_make(0, 0);
	if (!c->done) {
		free(c);
		errno = ENOMEM;
		return NULL;
	}
	c->refs = 1;
	c->t.idx = -1;
	c->t.fn = ctx_fire;
	c->t.release = ctx_release;
	c->deadline = deadline;
	if (parent) {
		/* parent's deadline is fixed at its creation: no lock needed */
		if (parent->deadline &&
		    (!deadline || parent->deadline <= deadline)) {
			c->deadline = parent->deadline;
			deadline = 0;	/* the parent's timer cancels us */
		}
		goro__lock(&parent->lock);
		dead = parent->err != 0;
		if (dead) {
			c->cause = parent->cause;
			c->err = parent->err;
		} else {
			c->parent = parent;
			c->snext = parent->children;
			if (c->snext)
				c->snext->sprev = c;
			parent->children = c;
			xadd(&parent->refs, 1);
		}
		goro__unlock(&parent->lock);
		/* else c is the parent's to cancel from now on: not c->err */
		if (dead) {
			goro_chan_close(c->done);
			return c;
		}
	}
	if (deadline) {
		if (deadline <= nanotime()) {
			cancel(c, -ETIMEDOUT, -ETIMEDOUT);
			return c;
		}
		c->t.when = deadline;
		xadd(&c->refs, 1);	/* the timer's */
		st_rel(&c->tarmed, 1);
		if (goro__timer_add(&c->t)) {
			st_rel(&c->tarmed, 0);
			xadd(&c->refs, -1);
			goro_ctx_free(c);
			errno = ENOMEM;
			return NULL;
		}
	}
	return c;
}

goro_ctx *goro_ctx_make(goro_ctx *parent)
{
	return ctx_new(parent, 0);
}

goro_ctx *goro_ctx_make_deadline(goro_ctx *parent, int64_t deadline)
{
	if (deadline < 0) {
		errno = EINVAL;
		return NULL;
	}
	return ctx_new(parent, deadline);
}

goro_ctx *goro_ctx_make_timeout(goro_ctx *parent, int64_t ns)
{
	int64_t now;

	/* from when the runtime runs: a first call's start-up is not ns's */
	if (ensure_init()) {
		errno = EAGAIN;
		return NULL;
	}
	now = nanotime();

	/* ns <= 0: already past; a deadline of now is not 0 (none) */
	if (ns <= 0)
		return ctx_new(parent, now > 0 ? now : 1);
	return ctx_new(parent, ns > INT64_MAX - now ? INT64_MAX : now + ns);
}

void goro_ctx_cancel_cause(goro_ctx *c, int cause)
{
	if (!c)
		return;
	cancel(c, -ECANCELED, cause ? cause : -ECANCELED);
	/* as Go's cancel: the parent forgets c, the timer goes */
	unlink_from_parent(c);
	stop_timer(c);
}

void goro_ctx_cancel(goro_ctx *c)
{
	goro_ctx_cancel_cause(c, 0);
}

goro_chan *goro_ctx_done(goro_ctx *c)
{
	return c ? c->done : NULL;
}

int goro_ctx_err(goro_ctx *c)
{
	return c ? ld_acq(&c->err) : 0;
}

int goro_ctx_cause(goro_ctx *c)
{
	if (!c || !ld_acq(&c->err))
		return 0;
	return c->cause;	/* written before err's release */
}

int64_t goro_ctx_deadline(goro_ctx *c)
{
	return c ? c->deadline : 0;
}

goro_ctx *goro_ctx_ref(goro_ctx *c)
{
	if (c)
		xadd(&c->refs, 1);
	return c;
}

void goro_ctx_unref(goro_ctx *c)
{
	if (c)
		ctx_put(c);
}

void goro_ctx_free(goro_ctx *c)
{
	if (!c)
		return;
	goro_ctx_cancel(c);
	ctx_put(c);
}

/* ---- hooks (netpoll.c, sema.c) ------------------------------------------------ */

int goro__ctx_hook_add(goro_ctx *c, struct goro_ctx_hook *h)
{
	int err;

	h->prev = NULL;
	h->fired = 0;
	goro__lock(&c->lock);
	err = c->err;
	if (!err) {
		h->next = c->hooks;
		if (h->next)
			h->next->prev = h;
		c->hooks = h;
	}
	goro__unlock(&c->lock);
	return err;
}

void goro__ctx_hook_del(goro_ctx *c, struct goro_ctx_hook *h)
{
	goro__lock(&c->lock);
	if (!h->fired) {
		if (h->prev)
			h->prev->next = h->next;
		else
			c->hooks = h->next;
		if (h->next)
			h->next->prev = h->prev;
	}
	goro__unlock(&c->lock);
}
