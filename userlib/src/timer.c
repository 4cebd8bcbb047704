/* SPDX-License-Identifier: MIT */
/*
 * goro: every timer. A binary heap per P (Go 1.14; struct goro_timer,
 * internal.h): goro_sleep's sleepers, goro_after's channels and the
 * netpoller's I/O deadlines go on the heap of the caller's P; the P's
 * owner runs the due ones at its scheduling points, an M about to go
 * idle runs every P's and then waits no later than the earliest
 * (goro__timers_next).
 *
 * Calls down into netpoll.c (a new earliest timer interrupts the M in the
 * poller) and chan.c (goro_after's channel). Calls up into the scheduler
 * core (sched.c), since a timer's work is a goroutine's: a sleeper parks
 * (goro__park) and its timer readies it (goro__ready), and a new earliest
 * timer wakes an idle M (goro__wakep).
 */
#include "internal.h"
#include "sched.h"
#include "chan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- timers: a heap per P (Go 1.14) --------------------------------------- */

static void heap_set(struct goro_timer **h, uint32_t i, struct goro_timer *t)
{
	h[i] = t;
	t->idx = (int32_t)i;
}

static void heap_up(struct goro_timer **h, uint32_t i)
{
	struct goro_timer *t = h[i];

	while (i > 0) {
		uint32_t p = (i - 1) / 2;

		if (h[p]->when <= t->when)
			break;
		heap_set(h, i, h[p]);
		i = p;
	}
	heap_set(h, i, t);
}

static void heap_down(struct goro_timer **h, uint32_t n, uint32_t i)
{
	struct goro_timer *t = h[i];

	for (;;) {
		uint32_t l = 2 * i + 1, s = l;

		if (l >= n)
			break;
		if (l + 1 < n && h[l + 1]->when < h[l]->when)
			s = l + 1;
		if (t->when <= h[s]->when)
			break;
		heap_set(h, i, h[s]);
		i = s;
	}
	heap_set(h, i, t);
}

/* pp->tlock held: take t out of pp's heap. */
static void heap_remove(struct goro_pp *pp, struct goro_timer *t)
{
	uint32_t i = (uint32_t)t->idx, last = --pp->ntimers;

	if (i != last) {
		heap_set(pp->timers, i, pp->timers[last]);
		heap_down(pp->timers, pp->ntimers, i);
		heap_up(pp->timers, i);
	}
	t->idx = -1;
	st_sc(&pp->nexttimer, pp->ntimers ? pp->timers[0]->when : INT64_MAX);
}

void goro__timers_run(struct goro_pp *pp)
{
	struct goro_timer *done = NULL, *t;
	int64_t now = nanotime();

	if (ld_rlx(&pp->nexttimer) > now)
		return;
	goro__lock(&pp->tlock);
	while (pp->ntimers && pp->timers[0]->when <= now) {
		void (*release)(struct goro_timer *t);

		t = pp->timers[0];
		heap_remove(pp, t);
		/*
		 * without release, t may be gone once fn returns (a
		 * sleeper's, on its stack, runs elsewhere at once)
		 */
		release = t->release;
		t->fn(t);
		if (release) {
			t->next = done;
			done = t;
		}
	}
	goro__unlock(&pp->tlock);
	while ((t = done)) {
		done = t->next;
		t->release(t);
	}
}

void goro__timers_run_all(void)
{
	int i, n = ld_acq(&goro__sched.nallp);

	for (i = 0; i < n; i++)
		if (ld_rlx(&goro__sched.allp[i]->nexttimer) != INT64_MAX)
			goro__timers_run(goro__sched.allp[i]);
}

int64_t goro__timers_next(void)
{
	int i, n = ld_acq(&goro__sched.nallp);
	int64_t next = INT64_MAX;

	for (i = 0; i < n; i++) {
		int64_t w = ld_sc(&goro__sched.allp[i]->nexttimer);

		if (w < next)
			next = w;
	}
	return next;
}

/*
 * Put t on the heap of the caller's P (P 0's for a thread without one) and
 * return that P with its tlock held and, when e is set, the runtime
 * entered (rt_leave after the unlock). Called with locks clear: a full heap
 * grows outside the runtime, with the lock dropped, since an M holding a
 * P waits for pp->tlock with locks set (no handoff) and libc's allocator
 * lock may be held by an M that blocked in the kernel and now waits for
 * that P. The P may change meanwhile: the new array goes to whichever heap
 * is full when the lock is held again. What it replaced is left in *old
 * for the caller to free with locks clear. NULL: out of memory.
 */
static struct goro_pp *timer_insert(struct goro_timer *t, bool *e,
				    struct goro_timer ***old)
{
	struct goro_mach *m = goro__getm();
	struct goro_timer **h = NULL;
	struct goro_pp *pp;
	uint32_t cap = 0;

	*old = NULL;
	for (;;) {
		*e = m && rt_enter(m);
		pp = m && m->p ? m->p : goro__sched.allp[0];
		goro__lock(&pp->tlock);
		if (pp->ntimers == pp->timercap && h && cap > pp->timercap) {
			if (pp->ntimers)
				memcpy(h, pp->timers,
				       pp->ntimers * sizeof(*h));
			*old = pp->timers;
			pp->timers = h;
			pp->timercap = cap;
			h = NULL;
		}
		if (pp->ntimers < pp->timercap)
			break;
		cap = pp->timercap ? 2 * pp->timercap : 64;
		goro__unlock(&pp->tlock);
		if (m)
			rt_leave(m, *e);
		free(h);
		h = malloc(cap * sizeof(*h));
		if (!h)
			return NULL;
	}
	/* an array this P did not need: *old is free then, see above */
	if (h)
		*old = h;
	t->pp = pp;
	pp->timers[pp->ntimers] = t;
	heap_up(pp->timers, pp->ntimers++);
	if (t->idx == 0) {
		st_sc(&pp->nexttimer, t->when);
		/* an M asleep past it must look again (Go's wakeNetPoller) */
		if (!goro__netpoll_wake_before(t->when))
			goro__wakep();
	}
	return pp;
}

int goro__timer_add(struct goro_timer *t)
{
	struct goro_timer **old;
	struct goro_mach *m = goro__getm();
	struct goro_pp *pp;
	bool e;

	pp = timer_insert(t, &e, &old);
	if (!pp)
		return -ENOMEM;
	goro__unlock(&pp->tlock);
	if (m)
		rt_leave(m, e);
	free(old);
	return 0;
}

void goro__timer_del(struct goro_timer *t)
{
	struct goro_pp *pp = t->pp;	/* set once, by the add */

	goro__lock(&pp->tlock);
	if (t->idx >= 0)
		heap_remove(pp, t);
	goro__unlock(&pp->tlock);
}

/* goro_sleep's timer, on the sleeper's stack while it is parked */
struct sleeper {
	struct goro_timer t;
	struct goro_g *g;
};

static void sleep_fire(struct goro_timer *t)
{
	goro__ready(((struct sleeper *)t)->g);
}

/* g sleeps on its M's P's heap; called from goroutine code. */
static int sleep_g(struct goro_g *g, int64_t ns)
{
	struct sleeper s = {.t = {.fn = sleep_fire, .idx = -1}, .g = g};
	struct goro_timer **old;
	struct goro_pp *pp;
	bool e;

	s.t.when = nanotime() + ns;
	pp = timer_insert(&s.t, &e, &old);
	if (!pp)
		return -ENOMEM;
	goro__park(g, &pp->tlock, "sleep");
	rt_leave(g->m, e);
	free(old);
	return 0;
}

int goro_sleep(int64_t ns)
{
	struct goro_g *g;

	if (ns <= 0)
		return 0;
	g = goro__self();
	if (!g) {
		struct timespec ts = {ns / 1000000000, ns % 1000000000};

		while (nanosleep(&ts, &ts) && errno == EINTR)
			;
		return 0;
	}
	return sleep_g(g, ns);
}

/* ---- goro_after ------------------------------------------------------------------- */

struct after {
	struct goro_timer t;
	struct goro_chan *c;
};

static void after_fire(struct goro_timer *t)
{
	struct after *a = (struct after *)t;
	int64_t now = nanotime();

	goro_chan_trysend(a->c, &now);	/* cap 1, only sender: never full */
}

static void after_release(struct goro_timer *t)
{
	struct after *a = (struct after *)t;

	goro_chan_free(a->c);		/* the timer's reference */
	free(a);
}

goro_chan *goro_after(int64_t ns)
{
	goro_chan *c = goro_chan_make(sizeof(int64_t), 1);
	struct after *a;

	if (!c)
		return NULL;
	if (ns <= 0) {
		int64_t now = nanotime();

		goro_chan_trysend(c, &now);
		return c;
	}
	a = calloc(1, sizeof(*a));
	if (!a) {
		goro_chan_free(c);
		errno = ENOMEM;
		return NULL;
	}
	a->t.idx = -1;
	a->t.when = nanotime() + ns;
	a->t.fn = after_fire;
	a->t.release = after_release;
	a->c = c;
	goro__chan_ref(c);
	if (goro__timer_add(&a->t)) {
		goro_chan_free(c);
		goro_chan_free(c);
		free(a);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}
