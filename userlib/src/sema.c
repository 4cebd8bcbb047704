/* SPDX-License-Identifier: MIT */
/*
 * goro: the weighted semaphore (golang.org/x/sync/semaphore). A size, the
 * weight held (cur) and a FIFO of waiters (struct semwait, on the
 * waiter's stack), all under the semaphore's lock word. A release hands
 * weight to waiters from the head only while the head fits: a large
 * waiter at the head holds back the smaller ones behind it, so it is
 * never starved (Go's rule). An acquire under a context registers a hook
 * (context.c) that takes the waiter off the queue when the context is
 * cancelled; the hook runs under the context's lock and takes the
 * semaphore's (the order context.c states). Waiters are goroutines or
 * foreign threads (struct goro_waiter: park or futex, sync.c).
 */
#include "internal.h"

#include <errno.h>

enum { S_NEW, S_QUEUED, S_GRANTED, S_CANCELED };

struct semwait {
	struct goro_waiter w;
	struct semwait *next, *prev;
	struct goro_ctx_hook h;
	goro_sema *s;
	int64_t n;
	int state;		/* S_*, under the semaphore's lock */
};

static void q_unlink(goro_sema *s, struct semwait *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		s->_head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		s->_tail = w->prev;
	w->next = w->prev = NULL;
}

/*
 * s->_lk held: grant weight to the waiters at the head while the head
 * fits; they are returned linked by next, for waking once unlocked.
 */
static struct semwait *notify_locked(goro_sema *s)
{
	struct semwait *list = NULL, **tail = &list, *w;

	while ((w = s->_head) && s->_size - s->_cur >= w->n) {
		s->_cur += w->n;
		q_unlink(s, w);
		w->state = S_GRANTED;
		*tail = w;
		tail = &w->next;
	}
	return list;
}

static void wake_list(struct semwait *w)
{
	while (w) {
		struct semwait *next = w->next;	/* w may go once woken */

		goro__waiter_wake(&w->w);
		w = next;
	}
}

/* The context of a waiter was cancelled (under the context's lock). */
static void sema_cancel(struct goro_ctx_hook *h)
{
	struct semwait *w = (struct semwait *)((char *)h -
					       offsetof(struct semwait, h));
	goro_sema *s = w->s;
	struct semwait *list = NULL;
	bool wake = false;

	goro__lock(&s->_lk);
	if (w->state == S_QUEUED) {
		bool front = s->_head == w;

		q_unlink(s, w);
		w->state = S_CANCELED;
		wake = true;
		/* it held back the ones behind it: they may fit now */
		if (front)
			list = notify_locked(s);
	} else if (w->state == S_NEW) {
		w->state = S_CANCELED;	/* it will not queue */
	}
	goro__unlock(&s->_lk);
	wake_list(list);
	if (wake)
		goro__waiter_wake(&w->w);
}

int goro_sema_init(goro_sema *s, int64_t n)
{
	if (!s || n < 0)
		return -EINVAL;
	*s = (goro_sema)GORO_SEMA_INIT(n);
	return 0;
}

bool goro_sema_tryacquire(goro_sema *s, int64_t n)
{
	bool ok;

	if (!s || n < 0)
		return false;
	goro__lock(&s->_lk);
	ok = s->_size - s->_cur >= n && !s->_head;
	if (ok)
		s->_cur += n;
	goro__unlock(&s->_lk);
	return ok;
}

int goro_sema_acquire(goro_sema *s, int64_t n, goro_ctx *ctx)
{
	struct semwait w;
	int err;

	if (!s || n < 0 || n > s->_size)
		return -EINVAL;
	ensure_init();
	/* a cancelled context wins even when the weight is there (Go's) */
	err = goro_ctx_err(ctx);
	if (err)
		return err;
	if (goro_sema_tryacquire(s, n))
		return 0;
	goro__waiter_init(&w.w);
	w.s = s;
	w.n = n;
	w.next = w.prev = NULL;
	w.state = S_NEW;
	w.h.fn = sema_cancel;
	if (ctx) {
		err = goro__ctx_hook_add(ctx, &w.h);
		if (err)
			return err;
	}
	goro__lock(&s->_lk);
	if (w.state == S_CANCELED) {
		goro__unlock(&s->_lk);
	} else if (s->_size - s->_cur >= n && !s->_head) {
		s->_cur += n;
		w.state = S_GRANTED;
		goro__unlock(&s->_lk);
	} else {
		w.state = S_QUEUED;
		w.prev = s->_tail;
		if (w.prev)
			w.prev->next = &w;
		else
			s->_head = &w;
		s->_tail = &w;
		/* woken by a release (granted) or the hook (cancelled) */
		goro__waiter_park(&w.w, &s->_lk, "semaphore.Acquire");
	}
	if (!ctx)
		return 0;
	goro__ctx_hook_del(ctx, &w.h);
	err = goro_ctx_err(ctx);
	if (w.state == S_GRANTED && err)
		goro_sema_release(s, n);	/* cancelled meanwhile: give back */
	return err;
}

void goro_sema_release(goro_sema *s, int64_t n)
{
	struct semwait *list;

	if (!s || n < 0)
		goro__throw("semaphore: bad release");
	goro__lock(&s->_lk);
	s->_cur -= n;
	if (s->_cur < 0) {
		goro__unlock(&s->_lk);
		goro__throw("semaphore: released more than held");
	}
	list = notify_locked(s);
	goro__unlock(&s->_lk);
	wake_list(list);
}
