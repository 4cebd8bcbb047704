/* SPDX-License-Identifier: MIT */
/*
 * goro: channels and select. Go's runtime/chan.go and select.go, in C.
 *
 * A channel is a lock word, a ring buffer of cap elements and two FIFO
 * wait queues of sudogs (a waiting sender or receiver: who sleeps, where
 * its element is). A sender that finds a waiting receiver copies its
 * element straight into the receiver's destination and readies it (direct
 * handoff); a receiver that finds a waiting sender on a full buffered
 * channel takes the head of the buffer and puts the sender's element at
 * the tail, so FIFO order holds. Elements are copied only under the
 * channel's lock, and a woken waiter finds its operation done.
 *
 * Parking. A single channel operation parks under the channel's lock,
 * released only once the goroutine is off its stack (gopark's unlockf),
 * so a waker that dequeued the sudog under that lock may ready it at once.
 * A select waits on several channels: it locks them all in address order
 * (Go's lockorder; no deadlock between two selects), enqueues one sudog
 * per case in that order (cases on one channel in random order, so a
 * waker picks among them at random, as among ready cases on entry),
 * unlocks the channels and parks; the select's off word, 1 from before
 * its sudogs are queued, becomes 0 (a store-release) once it is off its
 * stack. A waker claims the select with a CAS on sel->done (the first of
 * several wakers wins; the others skip its sudogs), completes the case,
 * and waits for the off word to be 0 before readying it, so it never
 * readies a goroutine still on its way out. (A lock word held across the
 * switch would do the same with two locked instructions on each side.)
 *
 * Foreign threads use the same queues: their sudog's waiter has no G and
 * they sleep on its futex word (goro__waiter_park/wake).
 *
 * The single waiter. On an unbuffered channel the common case is one
 * goroutine waiting and one peer arriving (ping-pong, a pipeline stage).
 * For it, c->fast holds that waiter's sudog, tagged with its direction,
 * and neither side takes the lock: a goroutine that finds c->fast empty
 * publishes its sudog there with one compare-and-swap and parks; the
 * peer that finds it claims it with one compare-and-swap (0 again),
 * completes the operation and readies it. The parker is off its stack
 * only after the switch, so it parks with sg->off = 1, cleared by a
 * store-release once it is (goro__park_clear), and the claimer waits for
 * the 0 (goro__wait_off) before it readies it: the lock held across the
 * switch, without its two locked instructions. Go's semantics hold:
 *  - c->fast is the values FAST_EMPTY, FAST_SEALED, FAST_CLOSED or a
 *    sudog (8-aligned) | FAST_SEND for a sender; publishing is only
 *    from FAST_EMPTY, and FAST_EMPTY means no waiter anywhere: both
 *    queues are empty and the channel open. So the waiter in c->fast
 *    is the oldest, and it is the only one.
 *  - Whoever takes the lock of an unbuffered channel seals it first
 *    (chan_lock): a CAS to FAST_SEALED, moving a published sudog to the
 *    head of its (empty) queue; sealed, every operation takes the lock
 *    and the queues are the truth (FIFO behind the first waiter, select,
 *    foreign threads, close). A second waiter of the same direction is
 *    what seals. The lock's holder alone writes a sealed word, so a
 *    goroutine that must wait on a sealed channel whose queues are empty
 *    reopens it by publishing itself there with a plain store-release
 *    (park_fast); the unlock leaves it as it is, so that a channel used
 *    by select or by threads does not pay a seal at every lock.
 *  - Close seals, wakes every waiter (a published one is queued by the
 *    seal), and leaves FAST_CLOSED for good: a publish (from FAST_EMPTY
 *    only) can never strand a waiter on a closed channel.
 * Memory order (any CPU, AArch64 included): the publisher's stores to
 * its sudog precede its CAS (seq_cst: a release), the claimer's CAS
 * (seq_cst: an acquire) precedes its reads of the sudog and its stores
 * to the element and success; the claimer's load-acquire of off == 0
 * pairs with AFTER_CLEAR's store-release (sched.c) and the ready's
 * queue release with the acquire of the M that runs the waiter, so the
 * waiter resumes seeing the element, success and its own saved state.
 */
#include "internal.h"
#include "chan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One select in progress: shared by the sudogs of its cases. */
struct selwait {
	uint32_t done;		/* 0 waiting, 1 claimed by a waker (CAS) */
	uint32_t off;		/* 1 until the selector is off its stack */
	struct sudog *fired;	/* the sudog whose case completed */
	struct goro_waiter w;
};

#define ELEM_MAX (1U << 16)	/* Go's limit on element size */

/* c->fast (see "The single waiter" above) */
#define FAST_EMPTY	((uintptr_t)0)
#define FAST_SEALED	((uintptr_t)1)
#define FAST_CLOSED	((uintptr_t)2)
#define FAST_SEND	((uintptr_t)4)	/* tag: the sudog is a sender's */
#define FAST_SG(f)	((struct sudog *)((f) & ~(uintptr_t)7))
#define FAST_IS_SG(f)	((f) >= 8)
#define SLOW		2	/* fast path: take the lock (not 0, 1, -errno) */

/* ---- helpers --------------------------------------------------------------- */

static inline void elem_copy(const struct goro_chan *c, void *dst,
			     const void *src)
{
	if (!dst || !c->elemsize)
		return;
	if (!src) {
		memset(dst, 0, c->elemsize);
		return;
	}
	/* a word or two: a move, not a call */
	switch (c->elemsize) {
	case 4:
		memcpy(dst, src, 4);
		break;
	case 8:
		memcpy(dst, src, 8);
		break;
	case 16:
		memcpy(dst, src, 16);
		break;
	default:
		memcpy(dst, src, c->elemsize);
	}
}

static inline void *slot(const struct goro_chan *c, size_t i)
{
	return c->buf + i * c->elemsize;
}

NORETURN static void chan_panic(const char *what)
{
	struct goro_g *g = goro__curg();

	goro__fatal("panic: %s\n\ngoroutine %lld [running]\n", what,
		    g ? (long long)g->id : 0LL);
}

/* The caller's waiter; starts the runtime so main is goroutine 1. */
static void waiter_init(struct goro_waiter *w)
{
	ensure_init();
	goro__waiter_init(w);
	if (!w->g && !ld_rlx(&goro__sched.foreign))
		/* a thread may wake goroutines */
		st_rlx(&goro__sched.foreign, 1);
}

static void enqueue(struct waitq *q, struct sudog *sg)
{
	sg->next = NULL;
	sg->prev = q->last;
	if (q->last)
		q->last->next = sg;
	else
		st_rel(&q->first, sg);	/* read by the fast paths */
	q->last = sg;
	sg->queued = 1;
}

static void unlink_sg(struct waitq *q, struct sudog *sg)
{
	if (sg->prev)
		sg->prev->next = sg->next;
	else
		st_rel(&q->first, sg->next);	/* read by the fast paths */
	if (sg->next)
		sg->next->prev = sg->prev;
	else
		q->last = sg->prev;
	sg->next = sg->prev = NULL;
	sg->queued = 0;
}

/*
 * Channel lock held: the first waiter still waiting, taken off q. A
 * select's sudog counts only if this caller wins its claim; sudogs of a
 * select someone else claimed are dropped (Go's waitq.dequeue).
 */
static struct sudog *dequeue(struct waitq *q)
{
	struct sudog *sg;

	while ((sg = q->first)) {
		unlink_sg(q, sg);
		if (!sg->sel)
			return sg;
		if (cas(&sg->sel->done, 0, 1)) {
			sg->sel->fired = sg;
			return sg;
		}
	}
	return NULL;
}

/* Ready the owner of sg, whose operation is complete. Channel unlocked. */
static void wake(struct sudog *sg)
{
	struct selwait *sel = sg->sel;

	if (!sel) {
		/* 0 at once unless sg was published in c->fast */
		goro__wait_off(&sg->off);
		goro__waiter_wake(sg->w);
		return;
	}
	/*
	 * wait until the selector is off its stack: we found its sudog
	 * under a channel lock it had queued it under, with sel->off = 1
	 * stored before (the lock's release and acquire order it), so we
	 * read 1 or the 0 of goro__waiter_park_clear
	 */
	goro__wait_off(&sel->off);
	goro__waiter_wake(&sel->w);
}

/*
 * The channel's lock; an unbuffered channel is sealed too (see "The
 * single waiter"): a published sudog goes to its queue, every operation
 * takes the lock until chan_unlock reopens it.
 */
static inline void chan_lock(struct goro_chan *c)
{
	uintptr_t f;

	goro__lock(&c->lock);
	if (c->cap)
		return;
	for (;;) {
		f = ld_acq(&c->fast);
		if (f == FAST_SEALED || f == FAST_CLOSED)
			return;
		if (cas(&c->fast, f, FAST_SEALED))
			break;
	}
	if (FAST_IS_SG(f))	/* the only waiter: both queues are empty */
		enqueue(f & FAST_SEND ? &c->sendq : &c->recvq, FAST_SG(f));
}

static inline void chan_unlock(struct goro_chan *c)
{
	goro__unlock(&c->lock);
}

/*
 * Lock held, the caller (sg, tag FAST_SEND or 0) must wait: on a sealed
 * unbuffered channel with both queues empty, a goroutine reopens it by
 * publishing itself in c->fast, unlocks and parks; true when it did (and
 * is woken). Only the lock's holder writes a sealed word (publish and
 * claim CAS from other values), so a store-release does: it orders the
 * critical section and sg's fields before the CAS of the claimer that
 * reads sg, and before the next locker's seal. Otherwise (a buffered
 * channel, a queue, a thread) the caller queues sg under the lock.
 */
static bool park_fast(struct goro_chan *c, struct sudog *sg, uintptr_t tag,
		      const char *why)
{
	if (c->cap || c->recvq.first || c->sendq.first || !sg->w->g ||
	    ld_rlx(&c->fast) != FAST_SEALED)
		return false;
	sg->queued = 0;
	sg->off = 1;
	st_rel(&c->fast, (uintptr_t)sg | tag);
	goro__unlock(&c->lock);
	goro__park_clear(sg->w->g, &sg->off, why);
	return true;
}

/* Lock held: hand src to the waiting receiver sg. */
static inline void send_direct(struct goro_chan *c, struct sudog *sg,
			       const void *src)
{
	elem_copy(c, sg->elem, src);
	sg->success = true;
}

/*
 * Lock held: receive from the waiting sender sg. Unbuffered: straight from
 * the sender. Buffered (so full): the head of the buffer, and the sender's
 * element goes to the tail.
 */
static inline void recv_direct(struct goro_chan *c, struct sudog *sg,
			       void *dst)
{
	if (c->cap == 0) {
		elem_copy(c, dst, sg->elem);
	} else {
		void *s = slot(c, c->recvx);

		elem_copy(c, dst, s);
		elem_copy(c, s, sg->elem);
		if (++c->recvx == c->cap)
			c->recvx = 0;
		c->sendx = c->recvx;
	}
	sg->success = true;
}

static inline void buf_put(struct goro_chan *c, const void *src)
{
	elem_copy(c, slot(c, c->sendx), src);
	if (++c->sendx == c->cap)
		c->sendx = 0;
	st_rel(&c->qcount, c->qcount + 1);	/* see chanrecv */
}

static inline void buf_get(struct goro_chan *c, void *dst)
{
	elem_copy(c, dst, slot(c, c->recvx));
	if (++c->recvx == c->cap)
		c->recvx = 0;
	st_rel(&c->qcount, c->qcount - 1);	/* see chanrecv */
}

/* Park forever (an operation on a nil channel, an empty select). */
NORETURN static void block_forever(const char *why)
{
	struct goro_waiter w;
	uint32_t lk = 1;

	waiter_init(&w);
	for (;;)
		goro__waiter_park(&w, &lk, why);
}

/* ---- channels -------------------------------------------------------------- */

goro_chan *goro_chan_make(size_t elem_size, size_t cap)
{
	struct goro_chan *c;
	size_t hdr = (sizeof(*c) + 15) & ~(size_t)15, bytes;

	if (elem_size >= ELEM_MAX ||
	    (elem_size && cap > (SIZE_MAX / 2 - hdr) / elem_size) ||
	    cap > (size_t)INT64_MAX) {
		errno = EINVAL;
		return NULL;
	}
	ensure_init();
	bytes = hdr + elem_size * cap;
	c = aligned_alloc(16, (bytes + 15) & ~(size_t)15);
	if (!c) {
		errno = ENOMEM;
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	c->elemsize = (uint32_t)elem_size;
	c->cap = cap;
	c->refs = 1;
	c->buf = (char *)c + hdr;
	return c;
}

void goro__chan_ref(struct goro_chan *c)
{
	xadd(&c->refs, 1);
}

void goro_chan_free(goro_chan *c)
{
	if (!c)
		return;
	if (xadd(&c->refs, -1) != 1)
		return;	/* a pending goro_after timer still holds it */
	chan_lock(c);	/* a published waiter is queued by the seal */
	if (c->recvq.first || c->sendq.first)
		goro__throw("goro_chan_free: channel has blocked senders or "
			    "receivers");
	goro__unlock(&c->lock);
	free(c);
}

size_t goro_chan_len(goro_chan *c)
{
	return c ? ld_rlx(&c->qcount) : 0;
}

size_t goro_chan_cap(goro_chan *c)
{
	return c ? c->cap : 0;
}

/*
 * An unbuffered channel without its lock (see "The single waiter"): a
 * waiting receiver is claimed, or the caller (a goroutine) publishes
 * itself and parks. 0 sent, -EAGAIN (block false: nobody waits), SLOW:
 * take the lock (sealed, closed, a sender waits already, a thread).
 */
static int send_fast(struct goro_chan *c, const void *elem, bool block)
{
	struct goro_waiter w;
	struct sudog sg;
	uintptr_t f;

	for (;;) {
		f = ld_acq(&c->fast);
		if (FAST_IS_SG(f) && !(f & FAST_SEND)) {
			struct sudog *r = FAST_SG(f);

			if (!cas(&c->fast, f, FAST_EMPTY))
				continue;
			send_direct(c, r, elem);
			wake(r);
			return 0;
		}
		if (f != FAST_EMPTY)
			return SLOW;
		if (!block)
			return -EAGAIN;	/* open, and no receiver waits */
		waiter_init(&w);
		if (!w.g)
			return SLOW;
		sg.w = &w;
		sg.sel = NULL;
		sg.elem = (void *)elem;
		sg.c = c;
		sg.success = false;
		sg.queued = 0;
		sg.off = 1;
		if (cas(&c->fast, FAST_EMPTY, (uintptr_t)&sg | FAST_SEND))
			break;
	}
	goro__park_clear(w.g, &sg.off, "chan send");
	if (!sg.success)
		chan_panic("send on closed channel");
	return 0;
}

/* The same for a receive: 1 received, -EAGAIN, SLOW. */
static int recv_fast(struct goro_chan *c, void *elem, bool block)
{
	struct goro_waiter w;
	struct sudog sg;
	uintptr_t f;

	for (;;) {
		f = ld_acq(&c->fast);
		if (FAST_IS_SG(f) && (f & FAST_SEND)) {
			struct sudog *s = FAST_SG(f);

			if (!cas(&c->fast, f, FAST_EMPTY))
				continue;
			recv_direct(c, s, elem);
			wake(s);
			return 1;
		}
		if (f != FAST_EMPTY)
			return SLOW;
		if (!block)
			return -EAGAIN;	/* open, and no sender waits */
		waiter_init(&w);
		if (!w.g)
			return SLOW;
		sg.w = &w;
		sg.sel = NULL;
		sg.elem = elem;
		sg.c = c;
		sg.success = false;
		sg.queued = 0;
		sg.off = 1;
		if (cas(&c->fast, FAST_EMPTY, (uintptr_t)&sg))
			break;
	}
	goro__park_clear(w.g, &sg.off, "chan receive");
	/* closed: the closer zeroed elem */
	return sg.success ? 1 : 0;
}

/* Go's chansend; block false: -EAGAIN instead of waiting. */
static int chansend(struct goro_chan *c, const void *elem, bool block)
{
	struct goro_waiter w;
	struct sudog sg, *r;

	if (!c) {
		if (!block)
			return -EAGAIN;
		block_forever("chan send (nil chan)");
	}
	if (c->cap == 0) {
		int ret = send_fast(c, elem, block);

		if (ret != SLOW)
			return ret;
	} else if (!block && !ld_rlx(&c->closed) &&
		   ld_rlx(&c->qcount) == c->cap) {
		/* Go's fast path: not closed and full: would block */
		return -EAGAIN;
	}
	chan_lock(c);
	if (unlikely(c->closed)) {
		chan_unlock(c);
		chan_panic("send on closed channel");
	}
	r = dequeue(&c->recvq);
	if (r) {
		send_direct(c, r, elem);
		chan_unlock(c);
		wake(r);
		return 0;
	}
	if (c->qcount < c->cap) {
		buf_put(c, elem);
		chan_unlock(c);
		return 0;
	}
	if (!block) {
		chan_unlock(c);
		return -EAGAIN;
	}
	waiter_init(&w);
	sg.w = &w;
	sg.sel = NULL;
	sg.elem = (void *)elem;
	sg.c = c;
	sg.success = false;
	sg.off = 0;
	if (!park_fast(c, &sg, FAST_SEND, "chan send")) {
		enqueue(&c->sendq, &sg);
		goro__waiter_park(&w, &c->lock, "chan send");
	}
	if (!sg.success)
		chan_panic("send on closed channel");
	return 0;
}

/* Go's chanrecv: 1 received, 0 closed and drained, -EAGAIN. */
static int chanrecv(struct goro_chan *c, void *elem, bool block)
{
	struct goro_waiter w;
	struct sudog sg, *s;

	if (!c) {
		if (!block)
			return -EAGAIN;
		block_forever("chan receive (nil chan)");
	}
	/*
	 * Go's fast path: empty and not closed: would block. The emptiness
	 * must be read before closed (acquire loads: the second cannot be
	 * satisfied before the first): read the other way round, a channel
	 * that was open and full, then closed, then drained, would answer
	 * "would block" though it never was open and empty. qcount and
	 * sendq.first are stored with release under the lock (buf_put,
	 * buf_get, enqueue, unlink_sg), after the close they may follow.
	 */
	if (c->cap == 0) {
		int ret = recv_fast(c, elem, block);

		if (ret != SLOW)
			return ret;
	} else if (!block && ld_acq(&c->qcount) == 0) {
		/* empty: closed (drained), or would block */
		if (!ld_acq(&c->closed))
			return -EAGAIN;
	}
	chan_lock(c);
	if (c->closed && c->qcount == 0) {
		chan_unlock(c);
		elem_copy(c, elem, NULL);
		return 0;
	}
	s = dequeue(&c->sendq);
	if (s) {
		recv_direct(c, s, elem);
		chan_unlock(c);
		wake(s);
		return 1;
	}
	if (c->qcount > 0) {
		buf_get(c, elem);
		chan_unlock(c);
		return 1;
	}
	if (!block) {
		chan_unlock(c);
		return -EAGAIN;
	}
	waiter_init(&w);
	sg.w = &w;
	sg.sel = NULL;
	sg.elem = elem;
	sg.c = c;
	sg.success = false;
	sg.off = 0;
	if (!park_fast(c, &sg, 0, "chan receive")) {
		enqueue(&c->recvq, &sg);
		goro__waiter_park(&w, &c->lock, "chan receive");
	}
	/* closed: the closer zeroed elem */
	return sg.success ? 1 : 0;
}

int goro_chan_send(goro_chan *c, const void *elem)
{
	return chansend(c, elem, true);
}

bool goro_chan_recv(goro_chan *c, void *elem)
{
	return chanrecv(c, elem, true) == 1;
}

int goro_chan_trysend(goro_chan *c, const void *elem)
{
	return chansend(c, elem, false);
}

int goro_chan_tryrecv(goro_chan *c, void *elem, bool *ok)
{
	int r = chanrecv(c, elem, false);

	if (r < 0)
		return r;
	if (ok)
		*ok = r == 1;
	return 0;
}

void goro_chan_close(goro_chan *c)
{
	struct sudog *list = NULL, *sg;

	if (!c)
		chan_panic("close of nil channel");
	chan_lock(c);
	if (c->closed) {
		chan_unlock(c);
		chan_panic("close of closed channel");
	}
	st_rel(&c->closed, 1);
	/* every receiver gets the zero value and ok == false */
	while ((sg = dequeue(&c->recvq))) {
		elem_copy(c, sg->elem, NULL);
		sg->success = false;
		sg->next = list;
		list = sg;
	}
	/* every sender wakes to panic */
	while ((sg = dequeue(&c->sendq))) {
		sg->success = false;
		sg->next = list;
		list = sg;
	}
	/* sealed by chan_lock: only we write it; for good, no publish */
	if (!c->cap)
		st_rel(&c->fast, FAST_CLOSED);
	goro__unlock(&c->lock);
	while (list) {
		sg = list;
		list = sg->next;	/* read before wake: sg may vanish */
		wake(sg);
	}
}

/* ---- select ---------------------------------------------------------------- */

struct selent {
	struct goro_chan *c;
	int i;
};

static int selent_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)((const struct selent *)a)->c;
	uintptr_t y = (uintptr_t)((const struct selent *)b)->c;

	return x < y ? -1 : x > y;
}

static void sellock(struct selent *lo, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (i == 0 || lo[i].c != lo[i - 1].c)
			chan_lock(lo[i].c);
}

static void selunlock(struct selent *lo, int n)
{
	int i;

	for (i = n - 1; i >= 0; i--)
		if (i == 0 || lo[i].c != lo[i - 1].c)
			chan_unlock(lo[i].c);
}

static uint32_t rand32(void)
{
	static __thread uint32_t foreign_rand;
	struct goro_mach *m = goro__getm();
	uint32_t *s = m ? &m->fastrand : &foreign_rand;

	if (!*s)
		*s = (uint32_t)(uintptr_t)&foreign_rand * 2654435761U |
		     (uint32_t)nanotime() | 1;
	return fastrand(s);
}

#define SEL_STACK 8

/*
 * Pass 1, every channel locked (lo, in lock order): the first ready case
 * in poll order (po) is done and its index returned, the channels
 * unlocked. -1: none is ready, the channels are still locked.
 */
static int select_poll(struct goro_case *cases, struct selent *lo,
		       const int *po, int np)
{
	int k;

	for (k = 0; k < np; k++) {
		struct goro_case *cs = &cases[po[k]];
		struct goro_chan *c = cs->chan;
		struct sudog *sg;

		if (cs->dir == GORO_RECV) {
			sg = dequeue(&c->sendq);
			if (sg) {
				recv_direct(c, sg, cs->elem);
				selunlock(lo, np);
				wake(sg);
				if (cs->ok)
					*cs->ok = true;
				return po[k];
			}
			if (c->qcount > 0) {
				buf_get(c, cs->elem);
				selunlock(lo, np);
				if (cs->ok)
					*cs->ok = true;
				return po[k];
			}
			if (c->closed) {
				selunlock(lo, np);
				elem_copy(c, cs->elem, NULL);
				if (cs->ok)
					*cs->ok = false;
				return po[k];
			}
		} else {
			if (c->closed) {
				selunlock(lo, np);
				chan_panic("send on closed channel");
			}
			sg = dequeue(&c->recvq);
			if (sg) {
				send_direct(c, sg, cs->elem);
				selunlock(lo, np);
				wake(sg);
				return po[k];
			}
			if (c->qcount < c->cap) {
				buf_put(c, cs->elem);
				selunlock(lo, np);
				return po[k];
			}
		}
	}
	return -1;
}

/*
 * Passes 2 and 3, every channel locked and none ready: wait on every
 * channel (a sudog of sgs each, queued in lock order, where the cases on
 * one channel are in random order), then leave every other queue once one
 * fired. Returns the fired case's index, the channels unlocked.
 */
static int select_wait(struct goro_case *cases, struct selent *lo,
		       struct sudog *sgs, int np)
{
	struct goro_case *cs;
	struct selwait sel;
	struct sudog *f;
	int k;

	/* pass 2: wait on every channel */
	waiter_init(&sel.w);
	sel.done = 0;
	/* before the sudogs are queued (see wake) */
	st_rlx(&sel.off, 1);
	sel.fired = NULL;
	for (k = 0; k < np; k++) {
		struct goro_case *cs = &cases[lo[k].i];
		struct sudog *sg = &sgs[k];

		sg->w = &sel.w;
		sg->sel = &sel;
		sg->elem = cs->elem;
		sg->c = cs->chan;
		sg->idx = lo[k].i;
		sg->success = false;
		sg->off = 0;	/* the select's is sel.off */
		enqueue(cs->dir == GORO_SEND ? &cs->chan->sendq
					     : &cs->chan->recvq,
			sg);
	}
	selunlock(lo, np);
	goro__waiter_park_clear(&sel.w, &sel.off, "select");

	/* pass 3: off every other queue; the waker took the fired one */
	sellock(lo, np);
	for (k = 0; k < np; k++) {
		struct sudog *sg = &sgs[k];

		if (sg->queued)
			unlink_sg(cases[sg->idx].dir == GORO_SEND
					  ? &sg->c->sendq
					  : &sg->c->recvq,
				  sg);
	}
	selunlock(lo, np);
	f = sel.fired;
	cs = &cases[f->idx];
	if (cs->dir == GORO_SEND) {
		if (!f->success)
			chan_panic("send on closed channel");
	} else if (cs->ok) {
		*cs->ok = f->success;	/* false: closed, zeroed */
	}
	return f->idx;
}

int goro_select(struct goro_case *cases, int n, bool block)
{
	struct selent lo_s[SEL_STACK], *lo = lo_s;
	int po_s[SEL_STACK], *po = po_s;
	struct sudog sg_s[SEL_STACK], *sgs = sg_s;
	int i, k, np = 0, ret = -EAGAIN;
	bool heap = false;

	if (n < 0 || n > 65536 || (n && !cases))
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (cases[i].dir != GORO_SEND && cases[i].dir != GORO_RECV)
			return -EINVAL;
	if (n > SEL_STACK) {
		lo = malloc(n * sizeof(*lo));
		po = malloc(n * sizeof(*po));
		sgs = malloc(n * sizeof(*sgs));
		heap = true;
		if (!lo || !po || !sgs) {
			ret = -ENOMEM;
			goto out;
		}
	}
	/* poll order: a random permutation of the non-nil cases */
	for (i = 0; i < n; i++) {
		uint32_t j;

		if (!cases[i].chan)
			continue;
		j = np ? rand32() % (uint32_t)(np + 1) : 0;
		po[np] = po[j];
		po[j] = i;
		np++;
	}
	if (np == 0) {
		if (block)
			block_forever("select (no cases)");
		goto out;
	}
	/*
	 * lock order: by channel address, from the poll order. The sort
	 * compares addresses only, so cases on one channel stay in random
	 * order (the insertion sort keeps their poll order; qsort moves
	 * them by the addresses alone). select_wait queues them in lock
	 * order, so a waker takes a random one, not the first listed (Go
	 * builds lockorder from pollorder for this).
	 */
	for (k = 0; k < np; k++) {
		lo[k].c = cases[po[k]].chan;
		lo[k].i = po[k];
	}
	if (np <= 16) {
		for (i = 1; i < np; i++) {
			struct selent e = lo[i];

			for (k = i; k > 0 && (uintptr_t)lo[k - 1].c >
						     (uintptr_t)e.c; k--)
				lo[k] = lo[k - 1];
			lo[k] = e;
		}
	} else {
		qsort(lo, np, sizeof(*lo), selent_cmp);
	}
	sellock(lo, np);

	ret = select_poll(cases, lo, po, np);
	if (ret >= 0)
		goto out;
	if (!block) {
		selunlock(lo, np);
		ret = -EAGAIN;
		goto out;
	}
	ret = select_wait(cases, lo, sgs, np);
out:
	if (heap) {
		free(lo);
		free(po);
		free(sgs);
	}
	return ret;
}
