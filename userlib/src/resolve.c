/* SPDX-License-Identifier: MIT */
/*
 * goro: name resolution that never holds a P while it waits (Go's cgo
 * resolver, net/cgo_unix.go). getaddrinfo(3) may wait seconds on a DNS
 * server; it runs between goro_syscall_enter and goro_syscall_exit, so
 * on the user backend the monitor hands the caller's P to another thread
 * after ~20 us (on kmod the module does so by itself), and the other
 * goroutines keep running. Each lookup holds a thread for its whole
 * duration, so at most `limit` run at once (Go's threadLimit, 500; here
 * also at most half of GORO_MAXTHREADS, which would otherwise be fatal);
 * the others wait on a semaphore, parked, not on a thread.
 *
 * Under a context the lookup runs in a goroutine of its own and the
 * caller waits on a one-slot semaphore with the context (Go's
 * doBlockingWithCtx): a cancelled caller returns at once and leaves the
 * lookup to finish on its own. The state both share (struct lookup) has
 * two references; the last one dropped frees it, and with it the result
 * nobody took. getaddrinfo cannot be interrupted, so an abandoned lookup
 * still holds its thread and its slot of the limit until it ends.
 *
 * Errors: getaddrinfo's EAI_* codes travel as GORO_EAI_ERR(code), below
 * every -errno (see goro.h); EAI_SYSTEM becomes -errno, EAI_MEMORY
 * -ENOMEM.
 */
#include "internal.h"

#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <stdlib.h>

#define LOOKUP_LIMIT 500

static goro_sema limit;
static goro_once limit_once = GORO_ONCE_INIT;

static void limit_init(void *arg)
{
	int64_t n = goro__sched.maxthreads / 2;

	(void)arg;
	if (n > LOOKUP_LIMIT)
		n = LOOKUP_LIMIT;
	goro_sema_init(&limit, n > 0 ? n : 1);
}

/* getaddrinfo's result in goro.h's convention */
static int gai_ret(int r, int err)
{
	if (r == 0)
		return 0;
	if (r == EAI_SYSTEM)
		return err > 0 ? -err : -EIO;
	if (r == EAI_MEMORY)
		return -ENOMEM;
	return GORO_EAI_ERR(r);
}

/* one blocking getaddrinfo, with the P given up around it */
static int lookup(const char *node, const char *service,
		  const struct addrinfo *hints, struct addrinfo **res)
{
	int r, err;

	goro_syscall_enter();
	errno = 0;
	r = getaddrinfo(node, service, hints, res);
	err = errno;
	goro_syscall_exit();
	return gai_ret(r, err);
}

/* a lookup under a context, shared by its caller and its goroutine */
struct lookup {
	goro_sema done;		/* held until the result is in */
	uint32_t refs;		/* caller + goroutine (atomic) */
	uint32_t finished;	/* ret and res are set (atomic) */
	uint32_t taken;		/* the caller took res (atomic) */
	int ret;
	struct addrinfo *res;
	struct addrinfo hints;
	bool has_hints;
	char *node, *service;
};

static void lookup_put(struct lookup *l)
{
	if (__atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL))
		return;
	if (!__atomic_load_n(&l->taken, __ATOMIC_ACQUIRE) && l->res)
		freeaddrinfo(l->res);
	free(l->node);
	free(l->service);
	free(l);
}

static void lookup_run(void *arg)
{
	struct lookup *l = arg;

	l->ret = lookup(l->node, l->service, l->has_hints ? &l->hints : NULL,
			&l->res);
	if (l->ret)
		l->res = NULL;
	/* pairs with the caller's load of finished */
	__atomic_store_n(&l->finished, 1, __ATOMIC_RELEASE);
	goro_sema_release(&l->done, 1);
	goro_sema_release(&limit, 1);
	lookup_put(l);
}

static char *dup_or_null(const char *s, bool *fail)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*fail = true;
	return d;
}

int goro_getaddrinfo_ctx(const char *node, const char *service,
			 const struct addrinfo *hints, struct addrinfo **res,
			 goro_ctx *ctx)
{
	struct lookup *l;
	bool fail = false;
	int64_t id;
	int r;

	if (!res || (!node && !service))
		return -EINVAL;
	*res = NULL;
	if (goro__init())
		return -EAGAIN;
	goro_once_do(&limit_once, limit_init, NULL);
	r = goro_sema_acquire(&limit, 1, ctx);
	if (r)
		return r;
	if (!ctx) {
		r = lookup(node, service, hints, res);
		goro_sema_release(&limit, 1);
		if (r)
			*res = NULL;
		return r;
	}

	l = calloc(1, sizeof(*l));
	if (!l) {
		goro_sema_release(&limit, 1);
		return -ENOMEM;
	}
	l->node = dup_or_null(node, &fail);
	l->service = dup_or_null(service, &fail);
	if (hints) {
		l->hints = *hints;
		l->has_hints = true;
	}
	goro_sema_init(&l->done, 1);
	goro_sema_acquire(&l->done, 1, NULL);	/* free: never waits */
	l->refs = 2;
	id = fail ? -ENOMEM : goro_go(lookup_run, l);
	if (id < 0) {
		r = (int)id;
		goro_sema_release(&limit, 1);
		l->refs = 1;
		lookup_put(l);
		return r;
	}

	r = goro_sema_acquire(&l->done, 1, ctx);
	/* a finished lookup wins over a cancelled context */
	if (r == 0 || __atomic_load_n(&l->finished, __ATOMIC_ACQUIRE)) {
		r = l->ret;
		*res = l->res;
		__atomic_store_n(&l->taken, 1, __ATOMIC_RELEASE);
	}
	lookup_put(l);
	return r;
}

int goro_getaddrinfo(const char *node, const char *service,
		     const struct addrinfo *hints, struct addrinfo **res)
{
	return goro_getaddrinfo_ctx(node, service, hints, res, NULL);
}
