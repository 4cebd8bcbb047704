/* SPDX-License-Identifier: MIT */
/*
 * goro: WaitGroup, Mutex, RWMutex, Cond, Once. Each keeps a FIFO of
 * struct goro_waiter (on the waiter's stack) under its own internal lock
 * word; a goroutine parks with the lock released after its switch, a
 * foreign thread sleeps on the waiter's futex word. chan.c and netpoll.c
 * use the same waiters. A waiting goroutine parks and is readied through
 * the scheduler core (goro__park, goro__ready: sched.c).
 */
#include "internal.h"

#include <sched.h>

/* Wait queue entries: a goroutine parks, a foreign thread sleeps. */
void goro__waiter_init(struct goro_waiter *w)
{
	w->next = NULL;
	w->g = goro__curg();
	w->futex = 0;
	w->flag = 0;
}

/* Sleep until goro__waiter_wake(w); lk (held) is released. */
void goro__waiter_park(struct goro_waiter *w, uint32_t *lk, const char *why)
{
	if (w->g) {
		goro__park(w->g, lk, why);
		return;
	}
	goro__unlock(lk);
	while (ld_acq(&w->futex) == 0)
		goro__futex_wait(&w->futex, 0, 0);
}

void goro__waiter_park_clear(struct goro_waiter *w, uint32_t *off,
			     const char *why)
{
	if (w->g) {
		goro__park_clear(w->g, off, why);
		return;
	}
	/* a thread's futex word is its own: it may sleep at once */
	st_rel(off, 0);
	while (ld_acq(&w->futex) == 0)
		goro__futex_wait(&w->futex, 0, 0);
}

/*
 * Wait for a waiter to be off its stack. It is a few instructions from
 * its switch, unless its thread lost the CPU there: spin briefly, then
 * give the CPU away (as the internal lock does before it sleeps).
 * Pairs with the store-release of AFTER_CLEAR (sched.c) or of
 * goro__waiter_park_clear.
 */
void goro__wait_off_slow(uint32_t *off)
{
	int i;

	for (i = 0; ld_acq(off); i++) {
		if (i < 100)
			cpu_relax();
		else
			sched_yield();
	}
}

void goro__waiter_wake(struct goro_waiter *w)
{
	struct goro_g *g = w->g;

	if (g) {
		goro__ready(g);
		return;
	}
	/* w may be gone once futex is 1: wake by address only */
	st_rel(&w->futex, 1);
	goro__futex_wake(&w->futex, 1);
}

/* FIFO helpers over (void **head, void **tail) */
static void q_push(void **head, void **tail, struct goro_waiter *w)
{
	w->next = NULL;
	if (*tail)
		((struct goro_waiter *)*tail)->next = w;
	else
		*head = w;
	*tail = w;
}

static struct goro_waiter *q_pop(void **head, void **tail)
{
	struct goro_waiter *w = *head;

	if (w) {
		*head = w->next;
		if (!*head)
			*tail = NULL;
	}
	return w;
}

static void init_rt(void)
{
	/* the first call may be a sync call: start the runtime (goroutine 1) */
	ensure_init();
}

/* ---- WaitGroup ------------------------------------------------------------ */

/*
 * Go's layout: one 64-bit word (wg->_n) holds the counter in its high 32
 * bits (signed) and the number of registered waiters in its low 32 bits.
 * A waiter registers (waiters + 1, while the counter is not zero), then
 * pushes itself on wg->_head (a stack linked through the waiters, on
 * their own stacks) and parks; nothing takes a lock (wg->_lk is unused).
 * The rule that lets a caller free the WaitGroup (typically its own stack
 * frame) as soon as Wait returns: Wait returns only once it has seen the
 * whole word zero, and the Add that makes it zero touches nothing of the
 * WaitGroup afterwards.
 *  - A Done that brings the counter to zero with no waiters: its atomic
 *    add is that last touch.
 *  - With k waiters: the word stays "counter 0, waiters k", so no other
 *    waiter registers or pushes, while that Done waits for the k pushes
 *    (each a few instructions after its registration) and takes the
 *    list; then it resets the word to zero (the last touch) and wakes
 *    the waiters, each once it is off its stack (goro__park_clear). A
 *    Wait that meanwhile finds "counter 0, waiters k" waits for the
 *    reset: it is a few instructions away.
 * A Done with one parked waiter makes one atomic add, a Wait two
 * compare-and-swaps: the lock the waiter list had, taken by both, was
 * half of a fork-join step's locked operations.
 */
#define WG_CNT(s) ((int32_t)((uint64_t)(s) >> 32))
#define WG_WAITERS(s) ((uint32_t)(s))

static uint64_t *wg_state(goro_wg *wg)
{
	return (uint64_t *)&wg->_n;
}

/*
 * The counter went to zero with k waiters registered: the list of all k,
 * oldest first, once each has pushed itself (pairs with the release of
 * the push in goro_wg_wait). None registers meanwhile, so the list's head
 * is ours to clear.
 */
static struct goro_waiter *wg_take(goro_wg *wg, uint32_t k)
{
	struct goro_waiter *list, *w, *fifo = NULL;
	uint32_t n;
	int i;

	for (i = 0;; i++) {
		list = ld_acq(&wg->_head);
		for (n = 0, w = list; w; w = w->next)
			n++;
		if (n == k)
			break;
		if (n > k)
			goro__throw("sync: WaitGroup misuse: Add called "
				    "concurrently with Wait");
		/* a waiter between its registration and its push */
		if (i < 100)
			cpu_relax();
		else
			sched_yield();
	}
	st_rlx(&wg->_head, NULL);
	while (list) {
		w = list->next;
		list->next = fifo;
		fifo = list;
		list = w;
	}
	return fifo;
}

void goro_wg_add(goro_wg *wg, int64_t delta)
{
	uint64_t *st = wg_state(wg);
	struct goro_waiter *list;
	uint64_t s;
	int32_t v;

	if (delta > INT32_MAX || delta < INT32_MIN)
		goro__throw("sync: WaitGroup delta out of range");
	COUNT_RMW();
	s = __atomic_add_fetch(st, (uint64_t)delta << 32, __ATOMIC_SEQ_CST);
	v = WG_CNT(s);
	if (v < 0)
		goro__throw("sync: negative WaitGroup counter");
	if (v > 0 || WG_WAITERS(s) == 0)
		return;	/* after the add, nothing of wg is touched */
	/* zero with waiters: no Wait returns before the reset below */
	list = wg_take(wg, WG_WAITERS(s));
	if (ld_sc(st) != s)
		goro__throw("sync: WaitGroup is reused before previous Wait "
			    "has returned");
	/*
	 * The last touch of wg. Release: the clear of the list's head
	 * comes before it, for the next round's waiters (their ld_sc).
	 */
	st_rel(st, 0);
	/* from here on only the waiters (their own stacks) are touched */
	while (list) {
		struct goro_waiter *next = list->next;

		/* pairs with the store-release of goro__waiter_park_clear */
		goro__wait_off(&list->flag);
		goro__waiter_wake(list);
		list = next;
	}
}

void goro_wg_done(goro_wg *wg)
{
	goro_wg_add(wg, -1);
}

void goro_wg_wait(goro_wg *wg)
{
	uint64_t *st = wg_state(wg);
	struct goro_waiter w;
	void *next;
	uint64_t s;

	s = ld_sc(st);
	if (s == 0)
		return;
	init_rt();
	goro__waiter_init(&w);
	for (;;) {
		if (s == 0)
			return;
		if (WG_CNT(s) == 0) {
			/* a last Done is releasing waiters: wait for its reset */
			sched_yield();
			s = ld_sc(st);
			continue;
		}
		COUNT_RMW();
		if (__atomic_compare_exchange_n(st, &s, s + 1, false,
						__ATOMIC_SEQ_CST,
						__ATOMIC_SEQ_CST))
			break;
	}
	/* registered: the Done that reaches zero waits for this push */
	w.flag = 1;	/* on our stack until the park clears it */
	next = ld_rlx(&wg->_head);
	do {
		w.next = next;
		COUNT_RMW();
	} while (!__atomic_compare_exchange_n(&wg->_head, &next, (void *)&w,
					      false, __ATOMIC_RELEASE,
					      __ATOMIC_RELAXED));
	/* woken by the last Done after its reset; wg is not touched */
	goro__waiter_park_clear(&w, &w.flag, "sync.WaitGroup.Wait");
}

/* ---- Mutex ------------------------------------------------------------------- */

/*
 * Go's sync.Mutex. _state: LOCKED, WOKEN (a waiter was woken to compete:
 * an unlock wakes no other), STARVING, and the number of queued waiters
 * (in units of M_WAITER; changed under _lk only, by CAS since the other
 * bits change without it).
 *
 * Normal mode: an unlock releases the mutex and wakes the oldest waiter,
 * which competes for it with the goroutines that are running, and loses
 * mostly: they are on a CPU already. Handing the mutex over at every
 * unlock instead makes each contended lock a park and a switch (a
 * convoy). A woken waiter that loses goes back to the head of the queue;
 * one that has waited longer than 1 ms switches the mutex to starvation
 * mode: unlock then hands it to the oldest waiter directly (w.flag 1),
 * and newcomers queue instead of taking it. The waiter that gets it ends
 * the mode when it is the last one or has waited less than 1 ms.
 */
#define M_LOCKED 1U
#define M_WOKEN 2U
#define M_STARVING 4U
#define M_WAITER 8U
#define STARVE_NS 1000000

bool goro_mutex_trylock(goro_mutex *m)
{
	uint32_t s = ld_rlx(&m->_state);

	if (s & (M_LOCKED | M_STARVING))
		return false;
	COUNT_RMW();
	return __atomic_compare_exchange_n(&m->_state, &s, s | M_LOCKED, false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static void q_push_front(void **head, void **tail, struct goro_waiter *w)
{
	w->next = *head;
	*head = w;
	if (!*tail)
		*tail = w;
}

static void mutex_lock_slow(goro_mutex *m)
{
	struct goro_waiter w;
	int64_t start = 0;
	bool woken = false;
	uint32_t s, n;
	int i;

	/*
	 * brief spin, the holder may be running: 30 looks, a pause apart.
	 * Here, unlike the runtime's lock, fewer looks further apart (4, 30
	 * pauses apart) cost 5x: a waiter that misses the release parks,
	 * and parking and waking are what a contended mutex pays for.
	 */
	for (i = 0; i < 30; i++) {
		cpu_relax();
		if (goro_mutex_trylock(m))
			return;
	}
	init_rt();
	for (;;) {
		goro__lock(&m->_lk);
		for (;;) {
			s = ld_rlx(&m->_state);
			/* a woken waiter clears WOKEN whatever it does next */
			n = woken ? s & ~M_WOKEN : s;
			if (!(s & (M_LOCKED | M_STARVING))) {
				COUNT_RMW();
				if (__atomic_compare_exchange_n(&m->_state, &s,
								n | M_LOCKED,
								false,
								__ATOMIC_ACQUIRE,
								__ATOMIC_RELAXED)) {
					goro__unlock(&m->_lk);
					return;
				}
				continue;
			}
			n += M_WAITER;
			if (woken && (s & M_LOCKED) &&
			    nanotime() - start > STARVE_NS)
				n |= M_STARVING;
			if (cas(&m->_state, s, n))
				break;
		}
		if (!start)
			start = nanotime();
		goro__waiter_init(&w);	/* a thread's futex word: 0 again */
		if (woken)	/* lost the race: first in line again */
			q_push_front(&m->_head, &m->_tail, &w);
		else
			q_push(&m->_head, &m->_tail, &w);
		goro__waiter_park(&w, &m->_lk, "sync.Mutex.Lock");
		if (w.flag)
			break;	/* handed over (starvation mode) */
		woken = true;
	}
	/* ours: end starvation mode if we are the last or did not starve */
	s = ld_rlx(&m->_state);
	if (nanotime() - start < STARVE_NS || s < M_WAITER)
		while (!cas(&m->_state, s, s & ~M_STARVING))
			s = ld_rlx(&m->_state);
}

void goro_mutex_lock(goro_mutex *m)
{
	uint32_t z = 0;

	COUNT_RMW();
	if (__atomic_compare_exchange_n(&m->_state, &z, M_LOCKED, false,
					__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
		return;
	mutex_lock_slow(m);
}

/*
 * s: the state our unlock left. The mode is decided by it: STARVING there
 * means nobody could take the mutex since (STARVING is set only while it
 * is locked, and stops newcomers). Set later, it was set while another
 * goroutine holds the mutex, whose unlock hands it over.
 */
static void mutex_unlock_slow(goro_mutex *m, uint32_t s)
{
	struct goro_waiter *w;

	/*
	 * Normal mode with nobody queued, or a woken waiter on its way:
	 * nothing to do. A waiter queues under _lk after it has looked at
	 * the state (and found the mutex locked), so a look without _lk is
	 * enough to leave (Go's unlockSlow).
	 */
	if (!(s & M_STARVING) && (s < M_WAITER || (s & M_WOKEN)))
		return;
	goro__lock(&m->_lk);
	if (!(s & M_STARVING)) {
		s = ld_rlx(&m->_state);
		for (;;) {
			/* nobody waits, or it is taken, or one is on its way */
			if (s < M_WAITER ||
			    (s & (M_LOCKED | M_WOKEN | M_STARVING))) {
				goro__unlock(&m->_lk);
				return;
			}
			if (cas(&m->_state, s, s - M_WAITER + M_WOKEN))
				break;
			s = ld_rlx(&m->_state);
		}
		w = q_pop(&m->_head, &m->_tail);
		w->flag = 0;	/* to compete */
	} else {
		/* only a queued waiter sets STARVING: one is there */
		s = ld_rlx(&m->_state);
		while (!cas(&m->_state, s, s - M_WAITER + M_LOCKED))
			s = ld_rlx(&m->_state);
		w = q_pop(&m->_head, &m->_tail);
		w->flag = 1;	/* the mutex stays locked: it is w's */
	}
	goro__unlock(&m->_lk);
	goro__waiter_wake(w);
}

void goro_mutex_unlock(goro_mutex *m)
{
	uint32_t s;

	COUNT_RMW();
	s = __atomic_sub_fetch(&m->_state, M_LOCKED, __ATOMIC_RELEASE);
	if (likely(s == 0))
		return;
	if (!((s + M_LOCKED) & M_LOCKED))
		goro__throw("sync: unlock of unlocked mutex");
	mutex_unlock_slow(m, s);
}

/* ---- RWMutex ----------------------------------------------------------------- */

bool goro_rwmutex_tryrlock(goro_rwmutex *rw)
{
	bool ok = false;

	goro__lock(&rw->_lk);
	if (rw->_readers >= 0 && rw->_wwait == 0) {
		rw->_readers++;
		ok = true;
	}
	goro__unlock(&rw->_lk);
	return ok;
}

void goro_rwmutex_rlock(goro_rwmutex *rw)
{
	struct goro_waiter w;

	init_rt();
	goro__waiter_init(&w);
	goro__lock(&rw->_lk);
	if (rw->_readers >= 0 && rw->_wwait == 0) {
		rw->_readers++;
		goro__unlock(&rw->_lk);
		return;
	}
	q_push(&rw->_rhead, &rw->_rtail, &w);
	/* woken with the read lock counted for us */
	goro__waiter_park(&w, &rw->_lk, "sync.RWMutex.RLock");
}

void goro_rwmutex_runlock(goro_rwmutex *rw)
{
	struct goro_waiter *w = NULL;

	goro__lock(&rw->_lk);
	if (rw->_readers <= 0)
		goro__throw("sync: RUnlock of unlocked RWMutex");
	if (--rw->_readers == 0 && rw->_whead) {
		w = q_pop(&rw->_whead, &rw->_wtail);
		rw->_wwait--;
		rw->_readers = -1;
	}
	goro__unlock(&rw->_lk);
	if (w)
		goro__waiter_wake(w);
}

bool goro_rwmutex_trylock(goro_rwmutex *rw)
{
	bool ok = false;

	goro__lock(&rw->_lk);
	if (rw->_readers == 0) {
		rw->_readers = -1;
		ok = true;
	}
	goro__unlock(&rw->_lk);
	return ok;
}

void goro_rwmutex_lock(goro_rwmutex *rw)
{
	struct goro_waiter w;

	init_rt();
	goro__waiter_init(&w);
	goro__lock(&rw->_lk);
	if (rw->_readers == 0) {
		rw->_readers = -1;
		goro__unlock(&rw->_lk);
		return;
	}
	rw->_wwait++;
	q_push(&rw->_whead, &rw->_wtail, &w);
	goro__waiter_park(&w, &rw->_lk, "sync.RWMutex.Lock");
}

void goro_rwmutex_unlock(goro_rwmutex *rw)
{
	struct goro_waiter *rl = NULL, *w = NULL;

	goro__lock(&rw->_lk);
	if (rw->_readers != -1)
		goro__throw("sync: Unlock of unlocked RWMutex");
	rw->_readers = 0;
	if (rw->_rhead) {
		/* admit every waiting reader */
		struct goro_waiter *x;

		rl = rw->_rhead;
		for (x = rl; x; x = x->next)
			rw->_readers++;
		rw->_rhead = rw->_rtail = NULL;
	} else if (rw->_whead) {
		w = q_pop(&rw->_whead, &rw->_wtail);
		rw->_wwait--;
		rw->_readers = -1;
	}
	goro__unlock(&rw->_lk);
	while (rl) {
		struct goro_waiter *next = rl->next;

		goro__waiter_wake(rl);
		rl = next;
	}
	if (w)
		goro__waiter_wake(w);
}

/* ---- Cond ----------------------------------------------------------------------- */

void goro_cond_wait(goro_cond *c, goro_mutex *m)
{
	struct goro_waiter w;

	init_rt();
	goro__waiter_init(&w);
	goro__lock(&c->_lk);
	q_push(&c->_head, &c->_tail, &w);
	goro_mutex_unlock(m);
	goro__waiter_park(&w, &c->_lk, "sync.Cond.Wait");
	goro_mutex_lock(m);
}

void goro_cond_signal(goro_cond *c)
{
	struct goro_waiter *w;

	goro__lock(&c->_lk);
	w = q_pop(&c->_head, &c->_tail);
	goro__unlock(&c->_lk);
	if (w)
		goro__waiter_wake(w);
}

void goro_cond_broadcast(goro_cond *c)
{
	struct goro_waiter *w;

	goro__lock(&c->_lk);
	w = c->_head;
	c->_head = c->_tail = NULL;
	goro__unlock(&c->_lk);
	while (w) {
		struct goro_waiter *next = w->next;

		goro__waiter_wake(w);
		w = next;
	}
}

/* ---- Once ------------------------------------------------------------------------ */

void goro_once_do(goro_once *o, goro_fn fn, void *arg)
{
	if (ld_acq(&o->_done))
		return;
	goro_mutex_lock(&o->_m);
	if (!o->_done) {
		fn(arg);
		st_rel(&o->_done, 1);
	}
	goro_mutex_unlock(&o->_m);
}
