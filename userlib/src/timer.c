/* SPDX-License-Identifier: MIT */
/*
 * goro: every timer. A binary heap per P (Go 1.14; struct goro_rtimer,
 * internal.h): goro_sleep's sleepers, goro_after's channels, the
 * netpoller's I/O deadlines and the user's timers, tickers and
 * afterfuncs (goro_timer, goro_ticker: Go's time package) go on the heap
 * of the caller's P; the P's owner runs the due ones at its scheduling
 * points, an M about to go idle runs every P's and then waits no later
 * than the earliest (goro__timers_next).
 *
 * Calls down into netpoll.c (a new earliest timer interrupts the M in the
 * poller) and chan.c (the channels timers send on). Calls up into the
 * scheduler core (sched.c), since a timer's work is a goroutine's: a
 * sleeper parks (goro__park) and its timer readies it (goro__ready), an
 * afterfunc starts one (goro_go, after the heap's lock is dropped), and a
 * new earliest timer wakes an idle M (goro__wakep).
 */
#include "internal.h"
#include "sched.h"
#include "chan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- timers: a heap per P (Go 1.14) --------------------------------------- */

static void heap_set(struct goro_rtimer **h, uint32_t i, struct goro_rtimer *t)
{
	h[i] = t;
	t->idx = (int32_t)i;
}

static void heap_up(struct goro_rtimer **h, uint32_t i)
{
	struct goro_rtimer *t = h[i];

	while (i > 0) {
		uint32_t p = (i - 1) / 2;

		if (h[p]->when <= t->when)
			break;
		heap_set(h, i, h[p]);
		i = p;
	}
	heap_set(h, i, t);
}

static void heap_down(struct goro_rtimer **h, uint32_t n, uint32_t i)
{
	struct goro_rtimer *t = h[i];

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
static void heap_remove(struct goro_pp *pp, struct goro_rtimer *t)
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
	struct goro_rtimer *done = NULL, *t;
	int64_t now = nanotime();

	if (ld_rlx(&pp->nexttimer) > now)
		return;
	goro__lock(&pp->tlock);
	while (pp->ntimers && pp->timers[0]->when <= now) {
		void (*release)(struct goro_rtimer *t);

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
static struct goro_pp *timer_insert(struct goro_rtimer *t, bool *e,
				    struct goro_rtimer ***old)
{
	struct goro_mach *m = goro__getm();
	struct goro_rtimer **h = NULL;
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

int goro__timer_add(struct goro_rtimer *t)
{
	struct goro_rtimer **old;
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

bool goro__timer_del(struct goro_rtimer *t)
{
	struct goro_pp *pp = t->pp;	/* set by the last add */
	bool was;

	goro__lock(&pp->tlock);
	was = t->idx >= 0;
	if (was)
		heap_remove(pp, t);
	goro__unlock(&pp->tlock);
	return was;
}

/*
 * pp->tlock held, t just run off pp's heap (its fn runs): back on the
 * same heap, at t->when. No allocation: t's slot is still free.
 */
static void timer_readd_locked(struct goro_pp *pp, struct goro_rtimer *t)
{
	pp->timers[pp->ntimers] = t;
	heap_up(pp->timers, pp->ntimers++);
	if (t->idx == 0)
		st_sc(&pp->nexttimer, t->when);
}

int64_t goro__timers_pending(void)
{
	int i, n = ld_acq(&goro__sched.nallp);
	int64_t sum = 0;

	for (i = 0; i < n; i++) {
		struct goro_pp *pp = goro__sched.allp[i];

		goro__lock(&pp->tlock);
		sum += pp->ntimers;
		goro__unlock(&pp->tlock);
	}
	return sum;
}

/* goro_sleep's timer, on the sleeper's stack while it is parked */
struct sleeper {
	struct goro_rtimer t;
	struct goro_g *g;
};

static void sleep_fire(struct goro_rtimer *t)
{
	goro__ready(((struct sleeper *)t)->g);
}

/* g sleeps on its M's P's heap; called from goroutine code. */
static int sleep_g(struct goro_g *g, int64_t ns)
{
	struct sleeper s = {.t = {.fn = sleep_fire, .idx = -1}, .g = g};
	struct goro_rtimer **old;
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
	struct goro_rtimer t;
	struct goro_chan *c;
};

static void after_fire(struct goro_rtimer *t)
{
	struct after *a = (struct after *)t;
	int64_t now = nanotime();

	goro_chan_trysend(a->c, &now);	/* cap 1, only sender: never full */
}

static void after_release(struct goro_rtimer *t)
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

/* ---- timers, tickers, goro_afterfunc (Go's time.Timer, Ticker, AfterFunc) -- */

/*
 * A user's timer. A channel timer or ticker is its own heap timer (rt):
 * its fn sends the time on c, under the heap's lock, and a ticker puts
 * itself back on the same heap. An afterfunc's heap timer is a node of
 * its own (struct afunc): its release starts the goroutine after the
 * heap's lock is dropped, possibly while the handle is stopped, reset or
 * freed, so each node has two owners once it fired (the handle and the
 * firing), counted in refs; a reset while a fired node is still being
 * released arms a new one. mu serialises the calls on one handle; the
 * firing path takes only the heap's lock.
 */
struct afunc {
	struct goro_rtimer rt;
	goro_fn fn;
	void *arg;
	uint32_t refs;
};

struct goro_timer {
	struct goro_rtimer rt;		/* channel timer, ticker */
	goro_mutex mu;
	struct goro_chan *c;		/* NULL: an afterfunc */
	int64_t period;			/* ticker: > 0 */
	struct afunc *af;		/* afterfunc: the last armed node */
	goro_fn fn;			/* afterfunc */
	void *arg;
	bool armed;			/* rt or af was added since the last del */
};

struct goro_ticker {
	struct goro_timer t;
};

int64_t goro_now(void)
{
	return nanotime();
}

/* Under the heap's lock: the time goes out; a full channel drops it. */
static void chan_fire(struct goro_rtimer *rt)
{
	struct goro_timer *t = (struct goro_timer *)rt;
	int64_t now = nanotime();

	goro_chan_trysend(t->c, &now);
	if (t->period > 0) {
		/* the next tick after now, skipping those missed (Go's) */
		rt->when += t->period * (1 + (now - rt->when) / t->period);
		timer_readd_locked(rt->pp, rt);
	}
}

static void afunc_put(struct afunc *af)
{
	if (xadd(&af->refs, -1) == 1)
		free(af);
}

/* Under the heap's lock: the firing owns a reference until its release. */
static void afunc_fire(struct goro_rtimer *rt)
{
	xadd(&((struct afunc *)rt)->refs, 1);
}

static void afunc_release(struct goro_rtimer *rt)
{
	struct afunc *af = (struct afunc *)rt;

	if (goro_go(af->fn, af->arg) < 0)
		goro__throw("goro_afterfunc: cannot start the goroutine");
	afunc_put(af);
}

/*
 * mu held: stop t. True when this took back a delivery: the timer was on
 * its heap, or (channel timers) its value still waited in the channel,
 * now dropped so that no stale value is received after the stop.
 */
static bool timer_stop_locked(struct goro_timer *t)
{
	bool stopped = false;

	if (t->armed) {
		stopped = goro__timer_del(t->af ? &t->af->rt : &t->rt);
		t->armed = false;
	}
	if (t->c && goro_chan_tryrecv(t->c, NULL, NULL) == 0)
		stopped = true;
	return stopped;
}

/*
 * mu held, t stopped: arm t to fire in ns (<= 0: now, in the caller).
 * 0 or -ENOMEM. The allocations (a node, a bigger heap) are made here,
 * with no runtime lock held.
 */
static int timer_arm_locked(struct goro_timer *t, int64_t ns)
{
	struct goro_rtimer *rt = &t->rt;

	if (ns <= 0 && !t->period) {
		int64_t now = nanotime();

		if (t->c)
			goro_chan_trysend(t->c, &now);
		else if (goro_go(t->fn, t->arg) < 0)
			return -ENOMEM;
		return 0;
	}
	if (!t->c) {
		/* a node still owned by its firing stays with it */
		if (t->af && ld_acq(&t->af->refs) != 1) {
			afunc_put(t->af);
			t->af = NULL;
		}
		if (!t->af) {
			t->af = calloc(1, sizeof(*t->af));
			if (!t->af)
				return -ENOMEM;
			t->af->rt.fn = afunc_fire;
			t->af->rt.release = afunc_release;
			t->af->rt.idx = -1;
			t->af->fn = t->fn;
			t->af->arg = t->arg;
			t->af->refs = 1;
		}
		rt = &t->af->rt;
	}
	rt->when = nanotime() + (ns > 0 ? ns : 0);
	if (goro__timer_add(rt))
		return -ENOMEM;
	t->armed = true;
	return 0;
}

static struct goro_timer *timer_new(size_t size, bool chan)
{
	struct goro_timer *t;

	if (ensure_init()) {
		errno = EAGAIN;
		return NULL;
	}
	t = calloc(1, size);
	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	t->rt.idx = -1;
	t->rt.fn = chan_fire;
	if (chan) {
		t->c = goro_chan_make(sizeof(int64_t), 1);
		if (!t->c) {
			free(t);
			errno = ENOMEM;
			return NULL;
		}
	}
	return t;
}

static void timer_free(struct goro_timer *t)
{
	goro_mutex_lock(&t->mu);
	timer_stop_locked(t);
	goro_mutex_unlock(&t->mu);
	if (t->af)
		afunc_put(t->af);
	goro_chan_free(t->c);
	free(t);
}

goro_timer *goro_timer_make(int64_t ns)
{
	struct goro_timer *t = timer_new(sizeof(*t), true);

	if (t && timer_arm_locked(t, ns)) {
		timer_free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

goro_timer *goro_afterfunc(int64_t ns, goro_fn fn, void *arg)
{
	struct goro_timer *t;

	if (!fn) {
		errno = EINVAL;
		return NULL;
	}
	t = timer_new(sizeof(*t), false);
	if (!t)
		return NULL;
	t->fn = fn;
	t->arg = arg;
	if (timer_arm_locked(t, ns)) {
		timer_free(t);
		errno = ENOMEM;
		return NULL;
	}
	return t;
}

goro_chan *goro_timer_chan(goro_timer *t)
{
	return t ? t->c : NULL;
}

bool goro_timer_stop(goro_timer *t)
{
	bool stopped;

	if (!t)
		return false;
	goro_mutex_lock(&t->mu);
	stopped = timer_stop_locked(t);
	goro_mutex_unlock(&t->mu);
	return stopped;
}

int goro_timer_reset(goro_timer *t, int64_t ns)
{
	bool stopped;
	int err;

	if (!t)
		return -EINVAL;
	goro_mutex_lock(&t->mu);
	stopped = timer_stop_locked(t);
	err = timer_arm_locked(t, ns);
	goro_mutex_unlock(&t->mu);
	return err ? err : stopped;
}

void goro_timer_free(goro_timer *t)
{
	if (t)
		timer_free(t);
}

goro_ticker *goro_ticker_make(int64_t period)
{
	struct goro_ticker *k;

	if (period <= 0) {
		errno = EINVAL;
		return NULL;
	}
	k = (struct goro_ticker *)timer_new(sizeof(*k), true);
	if (!k)
		return NULL;
	k->t.period = period;
	if (timer_arm_locked(&k->t, period)) {
		timer_free(&k->t);
		errno = ENOMEM;
		return NULL;
	}
	return k;
}

goro_chan *goro_ticker_chan(goro_ticker *k)
{
	return k ? k->t.c : NULL;
}

void goro_ticker_stop(goro_ticker *k)
{
	if (k)
		goro_timer_stop(&k->t);
}

int goro_ticker_reset(goro_ticker *k, int64_t period)
{
	int err;

	if (!k || period <= 0)
		return -EINVAL;
	goro_mutex_lock(&k->t.mu);
	timer_stop_locked(&k->t);
	k->t.period = period;
	err = timer_arm_locked(&k->t, period);
	goro_mutex_unlock(&k->t.mu);
	return err;
}

void goro_ticker_free(goro_ticker *k)
{
	if (k)
		timer_free(&k->t);
}
