/* SPDX-License-Identifier: MIT */
/* goro: channel internals shared by chan.c and netpoll.c (goro_after). */
#ifndef GORO_CHAN_H
#define GORO_CHAN_H

#include "internal.h"

struct selwait;

/* A goroutine or foreign thread waiting in a channel's queue (Go's sudog). */
struct sudog {
	struct sudog *next, *prev;
	struct goro_waiter *w;	/* who sleeps */
	struct selwait *sel;	/* the select it belongs to, or NULL */
	struct goro_chan *c;
	void *elem;		/* send: source; receive: destination or NULL */
	int idx;		/* select: case index */
	uint32_t off;		/* 1 until the waiter is off its stack: a
				 * sudog published in c->fast (chan.c) */
	uint8_t queued;		/* on c's queue (under c->lock) */
	bool success;		/* false: woken by close */
};

struct waitq {
	struct sudog *first;	/* written under the lock; read racily */
	struct sudog *last;
};

struct goro_chan {
	/*
	 * Unbuffered channels: the one waiting goroutine, published and
	 * claimed without the lock, or the lock's seal (chan.c: "The
	 * single waiter"). Unused (0) on a buffered channel.
	 */
	uintptr_t fast;
	uint32_t lock;
	uint32_t closed;	/* set under lock; read racily (release) */
	uint32_t refs;		/* goro_chan_free drops one; timers hold one */
	uint32_t elemsize;
	size_t cap;
	size_t qcount;		/* written under lock; read racily */
	size_t sendx, recvx;
	struct waitq recvq, sendq;
	char *buf;
};

/* one more reference, dropped by goro_chan_free */
void goro__chan_ref(struct goro_chan *c) HIDDEN;

#endif
