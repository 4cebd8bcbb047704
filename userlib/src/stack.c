/* SPDX-License-Identifier: MIT */
/*
 * goro: goroutine stacks.
 *
 * Slots are carved from large reservations (mmap MAP_NORESERVE, committed
 * page by page on touch), one reservation per size class at a time, so a
 * million goroutines cost a few dozen mappings, not a million (the
 * vm.max_map_count lesson). A slot is [guard page][usable stack], and the
 * goroutine's struct goro_g sits at the top of its own stack: a fresh
 * goroutine has exactly one resident page.
 *
 * Guards: MADV_GUARD_INSTALL (Linux 6.13+) costs no mapping; without it a
 * slot gets an mprotect'ed guard page while the process stays under a map
 * budget, and a canary word at the bottom of the stack, checked at every
 * switch, otherwise.
 *
 * Reuse: freed slots go to the freeing P's cache (per size class), the
 * cache spills half to the global pool (lock_rt: alloc and free run inside
 * the runtime); the sysmon thread gives the deep pages of slots idle in
 * the pool for a full scavenge period back to the kernel (MADV_DONTNEED),
 * keeping the top page, so the hot path never makes a system call.
 *
 * The pool moves slots a batch at a time (Go's gfput/gfget move them one
 * by one under sched.gFree.lock): a spill links its slots together outside
 * the lock and pushes them as one batch, a P whose cache is empty takes a
 * whole batch back. Under the lock only the batch's first G is touched,
 * never the rest of a chain of Gs whose lines the CPU that freed them
 * holds (a goroutine that ends on another P than its spawner's sends its
 * slot there); each of those is fetched ahead, one allocation before its
 * own, by the P that takes the batch.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

#define PAGE 4096UL
#define NCLS 8
#define CLS_MIN (16UL << 10)		/* class k: CLS_MIN << k usable */
#define CLS_BIG STACK_CLS_BIG
#define CHUNK_BYTES (256UL << 20)
#define MAX_CHUNKS 4096
#define MAP_BUDGET 16384		/* mprotect guards before canaries */
#define GSIZE ((sizeof(struct goro_g) + 63) & ~63UL)

struct chunk {
	char *base;
	size_t slot;		/* bytes per slot, guard included */
	uint32_t nslots;
	uint32_t cls;
};

/*
 * dirty, aging, clean: lists of batches (batchlink, then freelink within a
 * batch of batchn); the counts are slots.
 */
struct pool {
	uint32_t lock;
	struct chunk *cur;	/* carving from */
	uint32_t carved;	/* slots carved from cur */
	struct goro_g *dirty, *aging, *clean;
	uint32_t ndirty, naging, nclean;
};

static struct {
	struct pool pools[NCLS];
	struct chunk chunks[MAX_CHUNKS];
	uint32_t nchunks;		/* atomic, append-only */
	uint32_t chunklock;
	int guard_mode;			/* 0 unknown, 1 madv_guard, 2 mprotect */
	uint32_t nprotect;
	uint32_t biglock;
	struct goro_g *big;		/* big stacks in use (linked by freelink) */
} stk;

static unsigned size_cls(size_t size)
{
	unsigned k;

	for (k = 0; k < NCLS; k++)
		if (size <= (CLS_MIN << k))
			return k;
	return CLS_BIG;
}

static struct goro_g *slot_g(char *slot_lo_guard, size_t slotsz)
{
	return (struct goro_g *)(slot_lo_guard + slotsz - GSIZE);
}

/*
 * The first guard the kernel accepted really faults: a write(2) from it
 * fails with EFAULT. qemu-user answers 0 to a madvise() advice it does not
 * know, without passing it on: there the guard would be a plain page and
 * an overflow would run into the next slot.
 */
static bool guard_faults(const char *page)
{
	bool faults;
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return false;
	faults = write(p[1], page, 1) < 0 && errno == EFAULT;
	close(p[0]);
	close(p[1]);
	return faults;
}

static void guard(struct goro_g *g, char *guardpage)
{
	int mode = ld_rlx(&stk.guard_mode);

	g->canary = NULL;
	g->stk.guarded = 0;
	if (mode != 2) {
		if (madvise(guardpage, PAGE, MADV_GUARD_INSTALL) == 0 &&
		    (mode == 1 || guard_faults(guardpage))) {
			st_rlx(&stk.guard_mode, 1);
			g->stk.guarded = 1;
			return;
		}
		st_rlx(&stk.guard_mode, 2);
	}
	if (xadd(&stk.nprotect, 1) < MAP_BUDGET &&
	    mprotect(guardpage, PAGE, PROT_NONE) == 0) {
		g->stk.guarded = 1;
		return;
	}
	/* no guard: a canary at the bottom, checked at every switch */
	g->canary = (uint64_t *)g->stk.lo;
	*g->canary = STACK_CANARY;
}

static struct goro_g *carve(unsigned cls)
{
	struct pool *pl = &stk.pools[cls];
	size_t slotsz = (CLS_MIN << cls) + PAGE;
	struct chunk *c = pl->cur;
	struct goro_g *g;
	char *slot;

	if (!c || pl->carved == c->nslots) {
		uint32_t n;
		void *base;

		goro__lock(&stk.chunklock);
		n = ld_rlx(&stk.nchunks);
		if (n == MAX_CHUNKS) {
			goro__unlock(&stk.chunklock);
			return NULL;
		}
		base = mmap(NULL, CHUNK_BYTES, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (base == MAP_FAILED) {
			goro__unlock(&stk.chunklock);
			return NULL;
		}
		c = &stk.chunks[n];
		c->base = base;
		c->slot = slotsz;
		c->nslots = CHUNK_BYTES / slotsz;
		c->cls = cls;
		st_rel(&stk.nchunks, n + 1);	/* pairs with ld_acq in owner */
		goro__unlock(&stk.chunklock);
		st_rel(&pl->carved, 0);
		st_rel(&pl->cur, c);	/* pairs with ld_acq in foreach */
	}
	slot = c->base + (size_t)pl->carved * slotsz;
	g = slot_g(slot, slotsz);
	memset(g, 0, sizeof(*g));
	g->stk.lo = slot + PAGE;
	g->stk.hi = (char *)g;
	g->stk.cls = cls;
	guard(g, slot);
	/* publish the slot to the dump only once it is initialised */
	st_rel(&pl->carved, pl->carved + 1);
	return g;
}

static struct goro_g *big_alloc(size_t size)
{
	size_t len = size + PAGE + GSIZE;
	char *base;
	struct goro_g *g;

	len = (len + PAGE - 1) & ~(PAGE - 1);
	base = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	g = slot_g(base, len);
	memset(g, 0, sizeof(*g));
	g->stk.lo = base + PAGE;
	g->stk.hi = (char *)g;
	g->stk.cls = CLS_BIG;
	if (mprotect(base, PAGE, PROT_NONE) == 0) {
		g->stk.guarded = 1;
	} else {
		g->canary = (uint64_t *)g->stk.lo;
		*g->canary = STACK_CANARY;
	}
	goro__lock(&stk.biglock);
	g->freelink = stk.big;
	stk.big = g;
	goro__unlock(&stk.biglock);
	return g;
}

static void big_free(struct goro_g *g)
{
	struct goro_g **pp;
	char *base = g->stk.lo - PAGE;
	size_t len = (char *)g + GSIZE - base;

	goro__greg_del(g);
	goro__lock(&stk.biglock);
	for (pp = &stk.big; *pp; pp = &(*pp)->freelink)
		if (*pp == g) {
			*pp = g->freelink;
			break;
		}
	goro__unlock(&stk.biglock);
	munmap(base, len);
}

/*
 * Clear a reused G, keeping its slot description and its place on the
 * registry's list (readers may be walking through it).
 */
static struct goro_g *reset(struct goro_g *g)
{
	struct goro_stack s = g->stk;
	uint64_t *canary = g->canary;
	void *fiber = g->tsan_fiber;
	uint32_t runs = g->tsan_runs;

	memset(g, 0, G_REUSE_END);
	g->stk = s;
	g->canary = canary;
	g->tsan_fiber = fiber;
	g->tsan_runs = runs;
	if (canary)
		*canary = STACK_CANARY;
	return g;
}

/* The G's lines that reset() writes, fetched ahead of its allocation. */
static inline void prefetch_g(struct goro_g *g)
{
	size_t off;

	for (off = 0; off < G_REUSE_END; off += CACHELINE)
		__builtin_prefetch((char *)g + off, 1);
}

/* pl->lock held: the first batch of the first non-empty list, or NULL */
static struct goro_g *pool_take(struct pool *pl)
{
	struct goro_g **lst, *b;
	uint32_t *n;

	if (pl->dirty) {
		lst = &pl->dirty;
		n = &pl->ndirty;
	} else if (pl->aging) {
		lst = &pl->aging;
		n = &pl->naging;
	} else if (pl->clean) {
		lst = &pl->clean;
		n = &pl->nclean;
	} else {
		return NULL;
	}
	b = *lst;
	*lst = b->batchlink;
	*n -= b->batchn;
	return b;
}

/* pl->lock held: push batch b (b->batchn slots) on list *lst */
static void pool_put(struct goro_g **lst, uint32_t *n, struct goro_g *b)
{
	b->batchlink = *lst;
	*lst = b;
	*n += b->batchn;
}

/*
 * A G with a stack of at least size usable bytes, from pp's cache (pp may
 * be NULL on a foreign thread), the pool, or a new slot. NULL: no memory.
 */
struct goro_g *goro__stack_alloc(struct goro_pp *pp, size_t size)
{
	unsigned cls = size_cls(size);
	struct pool *pl;
	struct goro_g *g, *rest = NULL;

	if (cls == CLS_BIG)
		return big_alloc(size);
	if (pp && pp->scache[cls]) {
		g = pp->scache[cls];
		pp->scache[cls] = g->freelink;
		pp->nscache[cls]--;
		if (g->freelink)
			prefetch_g(g->freelink);
		return reset(g);
	}
	pl = &stk.pools[cls];
	lock_rt(&pl->lock);
	g = pool_take(pl);
	if (g && !pp && g->batchn > 1) {
		/* no cache to refill: the rest of the batch goes back */
		rest = g->freelink;
		rest->batchn = g->batchn - 1;
		pool_put(&pl->dirty, &pl->ndirty, rest);
		rest = NULL;
	} else if (g) {
		rest = g->freelink;
	}
	if (!g)
		g = carve(cls);
	unlock_rt(&pl->lock);
	if (!g)
		return NULL;
	if (rest) {
		/* pp's cache was empty: the batch's other slots refill it */
		pp->scache[cls] = rest;
		pp->nscache[cls] = g->batchn - 1;
		prefetch_g(rest);
	}
	return reset(g);
}

/* Give g's slot back: to pp's cache, spilling half to the pool when full. */
void goro__stack_free(struct goro_pp *pp, struct goro_g *g)
{
	unsigned cls = g->stk.cls;
	struct pool *pl;
	struct goro_g *t;
	uint32_t n;

	st_rel(&g->inuse, 0);
	if (cls == CLS_BIG) {
		big_free(g);
		return;
	}
	if (pp && pp->nscache[cls] < PP_STACK_CACHE) {
		g->freelink = pp->scache[cls];
		pp->scache[cls] = g;
		pp->nscache[cls]++;
		return;
	}
	/* spill g plus half of the cache as one batch, linked before the lock */
	t = g;
	n = 1;
	if (pp) {
		while (n <= PP_STACK_CACHE / 2) {
			struct goro_g *x = pp->scache[cls];

			pp->scache[cls] = x->freelink;
			pp->nscache[cls]--;
			t->freelink = x;
			t = x;
			n++;
		}
	}
	t->freelink = NULL;
	g->batchn = n;
	pl = &stk.pools[cls];
	lock_rt(&pl->lock);
	pool_put(&pl->dirty, &pl->ndirty, g);
	unlock_rt(&pl->lock);
}

/*
 * sysmon, every scavenge period: slots that sat in a pool for a whole
 * period lose their deep pages (all but the top one) and leave the
 * goroutine registry's list, where they were dead entries.
 */
void goro__stack_scavenge(void)
{
	unsigned cls;

	for (cls = 0; cls < NCLS; cls++) {
		struct pool *pl = &stk.pools[cls];
		struct goro_g *old, *b, *next, *g;

		goro__lock(&pl->lock);
		old = pl->aging;
		pl->aging = pl->dirty;
		pl->naging = pl->ndirty;
		pl->dirty = NULL;
		pl->ndirty = 0;
		goro__unlock(&pl->lock);
		for (b = old; b; b = next) {
			next = b->batchlink;
			for (g = b; g; g = g->freelink) {
				char *top = (char *)((uintptr_t)g & ~(PAGE - 1));

				goro__greg_del(g);	/* idle: off the registry */

				if (top > g->stk.lo)
					madvise(g->stk.lo, top - g->stk.lo,
						MADV_DONTNEED);
				if (g->canary)
					*g->canary = STACK_CANARY;
			}
			goro__lock(&pl->lock);
			pool_put(&pl->clean, &pl->nclean, b);
			goro__unlock(&pl->lock);
		}
	}
}

/* The pool G whose slot (guard page included) holds addr, or NULL. */
struct goro_g *goro__stack_owner(void *addr)
{
	uint32_t i, n = ld_acq(&stk.nchunks);
	char *a = addr;
	struct goro_g *g;

	for (i = 0; i < n; i++) {
		struct chunk *c = &stk.chunks[i];

		if (a >= c->base && a < c->base + (size_t)c->nslots * c->slot) {
			size_t k = (size_t)(a - c->base) / c->slot;

			return slot_g(c->base + k * c->slot, c->slot);
		}
	}
	/* big stacks: only read from the fault handler, racy but bounded */
	for (g = stk.big; g; g = g->freelink)
		if (a >= g->stk.lo - PAGE && a < g->stk.hi)
			return g;
	return NULL;
}

/* Call fn on every G that is in use (pool and big stacks). */
void goro__stack_foreach(void (*fn)(struct goro_g *g, void *arg), void *arg)
{
	uint32_t i, n = ld_acq(&stk.nchunks);
	struct goro_g *g;

	for (i = 0; i < n; i++) {
		struct chunk *c = &stk.chunks[i];
		struct pool *pl = &stk.pools[c->cls];
		uint32_t k, used = c->nslots;

		if (ld_acq(&pl->cur) == c)
			used = ld_acq(&pl->carved);
		for (k = 0; k < used; k++) {
			g = slot_g(c->base + (size_t)k * c->slot, c->slot);
			if (ld_acq(&g->inuse))
				fn(g, arg);
		}
	}
	goro__lock(&stk.biglock);
	for (g = stk.big; g; g = g->freelink)
		if (ld_acq(&g->inuse))
			fn(g, arg);
	goro__unlock(&stk.biglock);
}

void goro__stack_init(void)
{
}
