// SPDX-License-Identifier: MIT
/*
 * goro: the goroutine registry, the list of goroutines that the process
 * publishes for debuggers and for /proc/goro/<pid>/goroutines (uapi
 * struct goro_greg). Each G embeds its struct goro_ginfo; the list runs
 * through ginfo.next and is changed under one lock.
 *
 * Like Go's allgs, the list holds G slots, not only live goroutines: a
 * goroutine that ends is marked GORO_G_DEAD and its slot stays linked, so
 * the next goroutine on that slot (from its P's stack cache) is published
 * without the lock or a write to another goroutine's entry: spawn and
 * exit touch no shared line. Slots leave the list when their stack is
 * unmapped, or when they idled in the stack pool for a scavenge period
 * (stack.c), so dead entries are a bounded, recent few. Readers (the
 * kernel, gdb) take no lock and skip dead entries: they may see a
 * goroutine that is just leaving or miss one just born, and the kernel
 * copes with a list that changes under it.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "internal.h"

struct goro_greg goro__greg HIDDEN = {
	.magic = GORO_GREG_MAGIC,
	.version = GORO_GREG_VERSION,
};

static uint32_t greg_lock;
static struct goro_g *greg_tail;	/* last on the list */

static void copy_name(struct goro_g *g, const char *name)
{
	size_t i;

	for (i = 0; name && i < GORO_GNAME_LEN - 1 && name[i]; i++)
		st_rlx(&g->gi.name[i], (uint8_t)name[i]);
	st_rlx(&g->gi.name[i], 0);
}

void goro__greg_add(struct goro_g *g)
{
	st_rlx(&g->gi.id, (uint64_t)g->id);
	st_rlx(&g->gi.waitreason, GORO_WAIT_NONE);
	st_rlx(&g->gi.entry,
	       g == &goro__sched.g1 ? 0 : (uint64_t)(uintptr_t)g->fn);
	copy_name(g, g->name);
	/* the spawner's string may go: from now on the copy is the name */
	if (g->name)
		st_rlx(&g->name, (const char *)g->gi.name);
	/* a reused slot's entry comes back to life last */
	st_rel(&g->gi.state, ld_rlx(&g->status));
	if (g->greg_on)
		return;
	st_rlx(&g->gi.next, 0);
	g->allnext = NULL;
	lock_rt(&greg_lock);
	g->allprev = greg_tail;
	/* the entry is complete before it is reachable */
	if (greg_tail)
		st_rel(&greg_tail->gi.next, (uint64_t)(uintptr_t)&g->gi);
	else
		st_rel(&goro__greg.first, (uint64_t)(uintptr_t)&g->gi);
	if (greg_tail)
		greg_tail->allnext = g;
	greg_tail = g;
	g->greg_on = 1;
	st_rlx(&goro__greg.count, goro__greg.count + 1);
	unlock_rt(&greg_lock);
}

void goro__greg_del(struct goro_g *g)
{
	uint64_t next;

	/* g ended: its entry says GORO_G_DEAD already (g_setstatus) */
	if (!g->greg_on)
		return;
	lock_rt(&greg_lock);
	/* under the lock: an add may just have linked a G after g */
	next = ld_rlx(&g->gi.next);
	if (g->allprev)
		st_rel(&g->allprev->gi.next, next);
	else
		st_rel(&goro__greg.first, next);
	if (g->allnext)
		g->allnext->allprev = g->allprev;
	else
		greg_tail = g->allprev;
	if (g->allprev)
		g->allprev->allnext = g->allnext;
	g->greg_on = 0;
	st_rlx(&goro__greg.count, goro__greg.count - 1);
	unlock_rt(&greg_lock);
}

static const struct {
	const char *why;
	uint32_t code;
} reasons[] = {
	{ "chan send", GORO_WAIT_CHAN_SEND },
	{ "chan receive", GORO_WAIT_CHAN_RECV },
	{ "select", GORO_WAIT_SELECT },
	{ "sleep", GORO_WAIT_SLEEP },
	{ "IO wait", GORO_WAIT_IO },
	{ "sync.WaitGroup.Wait", GORO_WAIT_WAITGROUP },
	{ "sync.Mutex.Lock", GORO_WAIT_MUTEX },
	{ "sync.RWMutex.RLock", GORO_WAIT_RWMUTEX_R },
	{ "sync.RWMutex.Lock", GORO_WAIT_RWMUTEX_W },
	{ "sync.Cond.Wait", GORO_WAIT_COND },
	{ "syscall", GORO_WAIT_SYSCALL },
	{ "chan send (nil chan)", GORO_WAIT_NIL_CHAN },
	{ "chan receive (nil chan)", GORO_WAIT_NIL_CHAN },
	{ "select (no cases)", GORO_WAIT_NIL_CHAN },
};

uint32_t goro__greg_reason(const char *why)
{
	size_t i;

	if (!why)
		return GORO_WAIT_NONE;
	/* the linker merges equal literals: the pointer usually matches */
	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (why == reasons[i].why)
			return reasons[i].code;
	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (!strcmp(why, reasons[i].why))
			return reasons[i].code;
	return GORO_WAIT_OTHER;
}

int goro__greg_register(int devfd)
{
	struct goro_gregister r = { .addr = (uint64_t)(uintptr_t)&goro__greg };

	return ioctl(devfd, GORO_IOC_GREGISTER, &r) < 0 ? -errno : 0;
}

int goro_setname(const char *name)
{
	struct goro_g *g = ensure_init() ? NULL : goro__curg();

	if (!g)
		return -EPERM;
	copy_name(g, name);
	st_rlx(&g->name, (const char *)g->gi.name);
	return 0;
}

/* ---- counting live goroutines ---------------------------------------------- */

/*
 * The sum is read while goroutines start and end: one that started on a
 * P already read and ended on a P not yet read counts only its end, so
 * the sum may be low (Go's gcount clamps the same way).
 */
int64_t goro__ngoroutines(void)
{
	int64_t n = ld_rlx(&goro__sched.ngoroutines);
	int i, np = ld_acq(&goro__sched.nallp);

	for (i = 0; i < np; i++)
		n += ld_rlx(&goro__sched.allp[i]->ngo);
	return n < 0 ? 0 : n;
}

int64_t goro_numgoroutine(void)
{
	int64_t n;

	if (ensure_init())
		return 0;
	n = goro__ngoroutines();
	return n < 1 && goro__getm() ? 1 : n;
}
