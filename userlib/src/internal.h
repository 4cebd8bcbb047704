/* SPDX-License-Identifier: MIT */
/* goro: the runtime's internal structures (G, M, P, the scheduler). */
#ifndef GORO_INTERNAL_H
#define GORO_INTERNAL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <signal.h>
#include <sys/types.h>

#include "goro.h"
#include "uapi/goro.h"
#include "atomic.h"
#include "uapi/goro_runq.h"
#include "lock.h"

#define HIDDEN __attribute__((visibility("hidden")))
#define NORETURN __attribute__((noreturn))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define CACHELINE 64

/* Goroutine states (g->status). */
enum {
	G_IDLE,		/* being set up */
	G_RUNNABLE,	/* on a run queue */
	G_RUNNING,
	G_WAITING,	/* parked: g->waitreason says on what */
	G_SYSCALL,	/* inside goro_syscall_enter/exit */
	G_DEAD,
};

/* What the context that was switched to does for the one that left. */
enum {
	AFTER_NONE,
	AFTER_RUNQ,	/* put prev on the local run queue (yield) */
	AFTER_GLOBAL,	/* put prev on the global run queue */
	AFTER_UNLOCK,	/* unlock arg: prev is parked (gopark's unlockf) */
	AFTER_CLEAR,	/* store-release 0 to arg: prev is parked, off its
			 * stack (goro__park_clear) */
	AFTER_FREE,	/* prev is dead: free its stack */
};

struct goro_mach;
struct goro_pp;

/*
 * A timer on a P's heap (the runtime's; goro.h's goro_timer is a user's
 * handle around one, timer.c). fn runs with the heap's lock held, on
 * whichever M runs that P's timers, so once goro__timer_del() returns fn
 * is not running; release (optional) runs after the lock is dropped and
 * may free t. Add and del are called with locks clear (goroutine code or
 * a thread without a P); the timer goes on the caller's P (P 0 without
 * one). A timer off its heap (fired or deleted) may be added again, to
 * another P's heap: its owner serialises the adds and dels of one timer,
 * and a timer with a release is added only once (it waits on the fired
 * list through next).
 */
struct goro_rtimer {
	int64_t when;			/* absolute CLOCK_MONOTONIC ns */
	int32_t idx;			/* heap slot, -1 when not in a heap */
	struct goro_pp *pp;		/* whose heap (set by the add) */
	void (*fn)(struct goro_rtimer *t);
	void (*release)(struct goro_rtimer *t);
	struct goro_rtimer *next;	/* fired, waiting for release */
};

/* A stack slot. For pool stacks the G lives at the top of its slot. */
#define STACK_CLS_BIG 0xffU	/* its own mapping, unmapped when freed */
struct goro_stack {
	char *lo;		/* lowest usable byte (above the guard) */
	char *hi;		/* one past the highest */
	uint32_t cls;		/* size class, or STACK_CLS_BIG/NONE */
	uint32_t guarded;	/* a guard page sits below lo */
};

struct goro_g {
	void *sp;			/* saved stack pointer when not running */
	uint64_t *canary;		/* NULL when unchecked */
	struct goro_mach *m;		/* M running it, when running */
	int64_t id;
	uint32_t status;		/* G_*, atomic */
	uint32_t preempt;		/* ask to yield at the next safe point */
	const char *waitreason;
	int64_t waitsince;		/* CLOCK_MONOTONIC ns */
	goro_fn fn;
	void *arg;
	const char *name;
	struct goro_g *schedlink;	/* global run queue */
	struct goro_g *freelink;	/* stack caches */
	/*
	 * The first G of a batch in a stack pool: the next batch, and how
	 * many Gs this one links through freelink (stack.c)
	 */
	struct goro_g *batchlink;
	uint32_t batchn;
	struct goro_stack stk;
	void *asan_fake;		/* ASan fake stack save */
	void *tsan_fiber;
	uint32_t tsan_runs;		/* goroutines that ended on tsan_fiber */
	unsigned vg_id;			/* valgrind stack id */
	uint32_t inuse;			/* slot holds a live G (for the dump) */
	uint32_t async_preempt;		/* GORO_SPAWN_ASYNC_PREEMPT (preempt.c) */
	uintptr_t apc_lo, apc_hi;	/* its code: where a signal may preempt */
	/* g_setwait's last reason and its registry code (a lookup) */
	const char *why_last;
	uint32_t why_code;
	/*
	 * Its registry entry (registry.c), last: a reused slot keeps its
	 * place on the registry's list, so the stack code clears a G only
	 * up to here (G_REUSE_END).
	 */
	struct goro_ginfo gi;
	struct goro_g *allprev, *allnext;	/* the list, under its lock */
	uint32_t greg_on;		/* on the list (a dead G may be) */
};
#define G_REUSE_END offsetof(struct goro_g, gi)

/* A waiter on a sync primitive: a goroutine or a foreign thread. */
struct goro_waiter {
	struct goro_waiter *next;
	struct goro_g *g;	/* NULL: foreign thread sleeping on futex */
	uint32_t futex;
	uint32_t flag;		/* primitive-specific */
};

#define PP_STACK_CACHE 64

/* Private per-P state; the run queue is in kp (uapi struct goro_p). */
struct goro_pp {
	struct goro_p *kp;	/* run queue etc.: ours or the module's */
	int id;
	uint32_t retired;	/* id >= nprocs: being given up */
	struct goro_mach *m;	/* owner, or NULL */
	/*
	 * stack cache per size class: singly linked through g->freelink;
	 * written at every spawn and exit, on a line apart from kp, which
	 * thieves read while they look for work
	 */
	struct goro_g *scache[8] __attribute__((aligned(CACHELINE)));
	uint32_t nscache[8];
	/* sysmon's view */
	uint64_t sm_schedtick;
	int64_t sm_schedwhen;
	uint64_t sm_syscalltick;
	int64_t sm_syscallwhen;
	uint32_t fastrand;
	uint32_t async;		/* its goroutine opted in to async preemption */
	/*
	 * Goroutines spawned minus goroutines ended here (negative when
	 * they end on another P), written by the owner only: registry.c's
	 * goro__ngoroutines() sums them. And ids taken a batch at a time
	 * from goro__sched.goidgen (Go's goidcache): no shared write per spawn.
	 */
	int64_t ngo;
	int64_t goidcache, goidcacheend;
	/*
	 * Timers (goro_sleep, goro_after, I/O deadlines): a binary heap per
	 * P (Go 1.14), run by the owner at scheduling points and by any M
	 * with a P before it goes idle; nexttimer (atomic) is the earliest,
	 * INT64_MAX none.
	 */
	uint32_t tlock;
	uint32_t ntimers;
	uint32_t timercap;
	struct goro_rtimer **timers;
	int64_t nexttimer;
};

struct goro_mach {
	struct goro_g g0;		/* scheduler context on its own stack */
	struct goro_g *curg;
	struct goro_pp *p;
	struct goro_pp *nextp;		/* P handed over by a waker */
	int id;
	pid_t tid;
	pthread_t thread;
	uint32_t spinning;
	uint32_t parkfutex;		/* user backend: 1 = woken */
	uint32_t inpoll;		/* user backend: parked in epoll_wait */
	struct goro_mach *schedlink;	/* idle M list */
	struct goro_mach *alllink;
	uint32_t fastrand;
	uint32_t insyscall;
	/*
	 * Non-zero while the runtime works on this M's P: the kmod backend
	 * points it at goro_m.locks (the module does not hand the P off
	 * then), the user backend at locks_own. Only the M writes it.
	 */
	uint32_t *locks;
	uint32_t locks_own;
	uint32_t inrt;			/* the runtime runs (rt_enter, g0) */
	uint32_t nlocks;		/* runtime locks held or awaited */
	uint32_t kid;			/* kmod: slot in the module's M table */
	struct goro_m *km;		/* kmod: that slot */
	uint32_t dead;			/* retired, on the mfree list */
	/* after-switch action for the context that just left */
	int after;
	struct goro_g *after_g;
	uint32_t *after_lock;
	void *altstack;
	void *g0stack;
	size_t g0size;
};

/*
 * The one scheduler instance of the process (there is one, as there is one
 * Go runtime per process): all global mutable state lives here.
 */
struct goro_sched {
	/*
	 * Read on the hot paths by every P, written at start-up, by
	 * goro_setprocs or once at exit: lines no other write shares.
	 */
	uint32_t started;		/* 0 no, 1 starting, 2 yes, 3 failed */
	uint32_t procs_fixed;		/* nprocs no longer follows the machine */
	uint32_t debug;			/* GORO_DEBUG=1 */
	int32_t nprocs;
	int32_t nallp;
	uint32_t maxthreads;
	uint32_t seed;			/* random, set once at start-up */
	uint32_t exiting;		/* exit() has begun: run nothing more */
	size_t default_stack;
	const struct goro_backend *be;
	struct goro_pp *allp[GORO_MAX_PROCS];
	/* the global run queue and the Ms, under lock */
	uint32_t lock __attribute__((aligned(CACHELINE)));
	uint32_t runqsize;
	struct goro_g *runqhead, *runqtail;
	uint32_t nmidle;
	int32_t mcount;			/* live Ms */
	int32_t mnext;			/* next M id */
	int32_t msyscall;		/* Ms inside goro_syscall_* */
	struct goro_mach *allm;
	struct goro_mach *mfree;	/* retired Ms for reuse (lock) */
	uint32_t nextra;		/* runtime threads besides Ms and sysmon */
	uint32_t setprocs_lock;		/* serialises changes of nprocs */
	/* written when an M starts or stops spinning, read by every wakep */
	uint32_t nmspinning __attribute__((aligned(CACHELINE)));
	/* a P's batch of goroutine ids; the goroutines of foreign threads */
	int64_t goidgen __attribute__((aligned(CACHELINE)));
	int64_t ngoroutines;		/* + each P's ngo: goro__ngoroutines */
	uint32_t foreign;		/* a foreign thread used the API */
	uint32_t main_exited;		/* main called goro_exit */
	pthread_t sysmon;
	uint32_t sysmon_futex;
	uint32_t dumping;
	pid_t exit_tid;
	/* main goroutine (main thread's stack): written as it runs */
	struct goro_g g1 __attribute__((aligned(CACHELINE)));
};

extern struct goro_sched goro__sched HIDDEN;

/*
 * The calling thread's M, or NULL on a foreign thread. A goroutine may
 * come back on another thread after any switch, so the thread's TLS must
 * be read afresh at every call: in a volatile asm with a memory clobber,
 * which the compiler can neither cache across a switch nor move. On
 * x86-64 one %fs-relative load; on AArch64 the thread pointer (tpidr_el0)
 * plus the variable's offset from the GOT (initial-exec; the linker turns
 * the GOT load into an immediate in a static link); elsewhere a call the
 * compiler cannot see into.
 */
extern __thread struct goro_mach *goro__tls_m HIDDEN
	__attribute__((tls_model("initial-exec")));
struct goro_mach *goro__getm_call(void) HIDDEN;
void goro__setm(struct goro_mach *m) HIDDEN;
/* errno = e, its address found afresh (after a switch of threads) */
void goro__set_errno(int e) HIDDEN;

static inline struct goro_mach *goro__getm(void)
{
#if defined(__x86_64__)
	struct goro_mach *m;

	__asm__ __volatile__("movq goro__tls_m@gottpoff(%%rip), %0\n\t"
			     "movq %%fs:(%0), %0"
			     : "=r"(m) : : "memory");
	return m;
#elif defined(__aarch64__)
	struct goro_mach *m;
	uintptr_t tp;

	__asm__ __volatile__("adrp %0, :gottprel:goro__tls_m\n\t"
			     "ldr %0, [%0, #:gottprel_lo12:goro__tls_m]\n\t"
			     "mrs %1, tpidr_el0\n\t"
			     "ldr %0, [%1, %0]"
			     : "=&r"(m), "=&r"(tp) : : "memory");
	return m;
#else
	return goro__getm_call();
#endif
}

/*
 * The runtime is entered from goroutine code on M m: say so to the kernel
 * (kmod: goro_m.locks, read by the module on this CPU when the M blocks,
 * READ_ONCE() in goro_m_block() in module/handoff.c: a plain store and a
 * compiler barrier are enough), then learn which P m holds now (goro_m.p,
 * WRITE_ONCE() in goro_publish_m() in module/sched.c), since a blocking
 * call in goroutine code may have swapped it.
 * A goroutine switched away inside the runtime resumes with locks set, on
 * whichever M, and its outermost entry clears them there.
 */
void goro__p_moved(struct goro_mach *m) HIDDEN;

static inline void locks_set(struct goro_mach *m)
{
	if (!*(volatile uint32_t *)m->locks) {
		*(volatile uint32_t *)m->locks = 1;
		__asm__ __volatile__("" ::: "memory");
		if (m->km) {
			/* kmod: usually the kernel says m still holds m->p */
			uint32_t p = ld_acq(&m->km->p);
			struct goro_pp *pp = m->p;

			if (likely(pp && (uint32_t)pp->id == p)) {
				if (unlikely(pp->m != m))
					pp->m = m;
			} else {
				goro__p_moved(m);
			}
		}
	}
}

/*
 * goro__lock()/goro__unlock(): lock_rt()/unlock_rt() plus, on the kmod
 * backend (goro__lock_hooks), the M's account of the runtime locks it
 * holds or awaits (m->nlocks), so that it keeps its P if it blocks
 * meanwhile.
 * The unlock may run on the next context after a park's switch: on the
 * same M, which is what the account is about.
 */
extern uint32_t goro__lock_hooks HIDDEN;

static inline void goro__lock(uint32_t *l)
{
	if (unlikely(goro__lock_hooks)) {
		struct goro_mach *m = goro__getm();

		if (m && m->nlocks++ == 0)
			locks_set(m);
	}
	lock_rt(l);
}

static inline void goro__unlock(uint32_t *l)
{
	unlock_rt(l);
	if (unlikely(goro__lock_hooks)) {
		struct goro_mach *m = goro__getm();

		if (!m || !m->nlocks)
			return;
		if (--m->nlocks == 0 && !m->inrt) {
			__asm__ __volatile__("" ::: "memory");
			*(volatile uint32_t *)m->locks = 0;
		}
	}
}

/* start the runtime if needed; 0 or -errno */
int goro__init(void) HIDDEN;
static inline int ensure_init(void)
{
	if (likely(ld_acq(&goro__sched.started) == 2))
		return 0;
	return goro__init();
}

/* the clock and the fatal exit (lock.c) */
int64_t nanotime(void) HIDDEN;
NORETURN void goro__fatal(const char *fmt, ...) HIDDEN;
NORETURN void goro__throw(const char *msg) HIDDEN;
/* The process is exiting: say so (on_exit_stop), stop an M (exit_stop). */
void goro__on_exit_stop(void) HIDDEN;
void goro__exit_stop(void) HIDDEN;

/* the scheduler core (sched.c) */
struct goro_g *goro__curg(void) HIDDEN;
void goro__park(struct goro_g *g, uint32_t *unlock_after, const char *why) HIDDEN;
/*
 * Park g (the caller); once g is off its stack, *off (non-zero) becomes
 * 0 with a store-release. A waker that found g's wait record waits for
 * that (goro__wait_off) before it readies g: the handshake of a lock
 * held across the switch, without a locked instruction on either side.
 */
void goro__park_clear(struct goro_g *g, uint32_t *off, const char *why) HIDDEN;
void goro__ready(struct goro_g *g) HIDDEN;
bool goro__runq_empty(struct goro_pp *pp) HIDDEN;
void goro__wakep(void) HIDDEN;

/* waiters on sync primitives, channels and descriptors (sync.c) */
void goro__waiter_park(struct goro_waiter *w, uint32_t *lk, const char *why) HIDDEN;
void goro__waiter_wake(struct goro_waiter *w) HIDDEN;
void goro__waiter_init(struct goro_waiter *w) HIDDEN;
/* Sleep until goro__waiter_wake(w); *off becomes 0 once w sleeps. */
void goro__waiter_park_clear(struct goro_waiter *w, uint32_t *off,
			     const char *why) HIDDEN;
/* Wait until *off is 0 (a waiter is off its stack: goro__park_clear). */
void goro__wait_off_slow(uint32_t *off) HIDDEN;
static inline void goro__wait_off(uint32_t *off)
{
	if (unlikely(ld_acq(off)))
		goro__wait_off_slow(off);
}

/* the number of Ps (procs.c) */
/*
 * Start-up: n Ps (fixed, set by the variable from), or n <= 0 for the
 * machine's. cgroot: GORO_CGROUP_ROOT or NULL. why: where the number came
 * from, for GORO_DEBUG. 0 or -ENOMEM.
 */
int goro__procs_start(int n, const char *from, const char *cgroot,
		      char *why, size_t size) HIDDEN;
/* sysmon, every second: nprocs follows the machine unless fixed */
void goro__procs_follow(void) HIDDEN;

/* sysmon (sysmon.c) */
void goro__sysmon_start(void) HIDDEN;
/*
 * The last M parks: a deadlock if nothing can run again. recheck: the
 * run queues may look empty for a moment (kmod: PARK steals for an M
 * already counted idle), look again a while later.
 */
void goro__checkdead_locked(bool recheck) HIDDEN;

/* timers (timer.c) */
/* Ready pp's due sleepers (onto the caller's P, else the global queue). */
void goro__timers_run(struct goro_pp *pp) HIDDEN;
/* ... every P's. */
void goro__timers_run_all(void) HIDDEN;
/* The earliest sleep deadline over all Ps, INT64_MAX when none. */
int64_t goro__timers_next(void) HIDDEN;
/* 0 or -ENOMEM. */
int goro__timer_add(struct goro_rtimer *t) HIDDEN;
/* Take t off its heap: true when it was on it (it had not fired). */
bool goro__timer_del(struct goro_rtimer *t) HIDDEN;
/* Timers on every P's heap (a racy sum): for the tests. */
int64_t goro__timers_pending(void) HIDDEN;

/* Ms (m.c) */
void goro__startm(struct goro_pp *pp, bool spinning) HIDDEN;
/* Start an M for pp (NULL: it parks for one); false: no thread. */
bool goro__newm(struct goro_pp *pp, bool spinning) HIDDEN;
bool goro__newm_spare(void) HIDDEN;
NORETURN void goro__mexit(struct goro_mach *m) HIDDEN;
void goro__handoffp(struct goro_pp *pp) HIDDEN;

/* the netpoller (netpoll.c) */
bool goro__netpoll_inited(void) HIDDEN;
bool goro__netpoll_waiters(void) HIDDEN;
int64_t goro__netpoll_lastpoll(void) HIDDEN;
/* until: the absolute deadline the claimer waits to, 0 none */
bool goro__netpoll_claim(int64_t until) HIDDEN;
/*
 * A timer now due at when: wake the M waiting in the poller past it;
 * false when no M waits there.
 */
bool goro__netpoll_wake_before(int64_t when) HIDDEN;
void goro__netpoll_unclaim(void) HIDDEN;
int goro__netpoll_fd(void) HIDDEN;
void goro__netpoll_break(void) HIDDEN;
struct goro_g *goro__netpoll(int64_t delay_ns) HIDDEN;
/* Make netpoll's goroutines runnable: on m's P, else the global queue. */
struct goro_g *goro__inject(struct goro_mach *m, struct goro_g *list,
			    bool take) HIDDEN;
/* Poll without waiting if the poller is free (findrunnable, sysmon). */
struct goro_g *goro__netpoll_check(struct goro_mach *m, bool take) HIDDEN;

/*
 * contexts (context.c): what waits under a context registers a hook,
 * whose fn runs once, under the context's lock, when it is cancelled
 * (so fn may take only locks that come after a context's: a
 * descriptor's, a semaphore's, a channel's; it must not allocate).
 */
struct goro_ctx_hook {
	struct goro_ctx_hook *next, *prev;
	void (*fn)(struct goro_ctx_hook *h);
	uint32_t fired;		/* fn ran (under the context's lock) */
};
/* 0 added; else c is cancelled already: its err, h not added. */
int goro__ctx_hook_add(goro_ctx *c, struct goro_ctx_hook *h) HIDDEN;
/* h is off c's list; once this returns, h->fn is not running. */
void goro__ctx_hook_del(goro_ctx *c, struct goro_ctx_hook *h) HIDDEN;

/* asynchronous preemption (preempt.c) */
int goro__async_preempt_range(goro_fn fn, uintptr_t *lo, uintptr_t *hi) HIDDEN;
void goro__async_preempt_tick(struct goro_pp *pp, int64_t now,
			      int64_t since) HIDDEN;

/* stacks (stack.c) */
struct goro_g *goro__stack_alloc(struct goro_pp *pp, size_t size) HIDDEN;
void goro__stack_free(struct goro_pp *pp, struct goro_g *g) HIDDEN;
void goro__stack_scavenge(void) HIDDEN;
struct goro_g *goro__stack_owner(void *addr) HIDDEN;
void goro__stack_foreach(void (*fn)(struct goro_g *g, void *arg), void *arg) HIDDEN;
void goro__stack_init(void) HIDDEN;
#define STACK_CANARY 0x676f726f2d737463ULL

/* the Ms' signal mask, delivery to channels (signal.c) */
extern sigset_t goro__sigmask_prog HIDDEN;
void goro__sigmask_init(void) HIDDEN;
void goro__sigmask_m_apply(void) HIDDEN;
bool goro__signal_wanted(void) HIDDEN;

/* dump and signals (dump.c) */
void goro__signals_init(void) HIDDEN;
bool goro__quit_owned(void) HIDDEN;
void goro__altstack_init(struct goro_mach *m) HIDDEN;
void goro__dump_all(int fd) HIDDEN;
const char *goro__fn_name(void *fn, char *buf, size_t size) HIDDEN;

/* Live goroutines (registry.c): exact once nobody spawns or ends one. */
int64_t goro__ngoroutines(void) HIDDEN;

/* goroutine registry (registry.c); G_* are the uapi's GORO_G_* */
extern struct goro_greg goro__greg HIDDEN;
/*
 * add: a new goroutine on g's slot is published (linked if the slot is
 * not on the list yet). An ended goroutine is only marked dead
 * (g_setstatus): its slot stays on the list for the next one. del: the
 * slot leaves the list (its stack is unmapped, or idle in the pool).
 */
void goro__greg_add(struct goro_g *g) HIDDEN;
void goro__greg_del(struct goro_g *g) HIDDEN;
uint32_t goro__greg_reason(const char *why) HIDDEN;
/* Publish the registry to goro.ko: 0 or -errno (-ENOTTY: an old module). */
int goro__greg_register(int devfd) HIDDEN;
_Static_assert(G_IDLE == GORO_G_IDLE && G_RUNNABLE == GORO_G_RUNNABLE &&
		       G_RUNNING == GORO_G_RUNNING &&
		       G_WAITING == GORO_G_WAITING &&
		       G_SYSCALL == GORO_G_SYSCALL && G_DEAD == GORO_G_DEAD,
	       "G states are the uapi's");

/* Set g's status (and its registry entry's). */
static inline void g_setstatus(struct goro_g *g, uint32_t status)
{
	st_rlx(&g->status, status);
	st_rlx(&g->gi.state, status);
}

/*
 * Set g's wait reason (and its registry entry's). A reason is set by g
 * itself (a reset to NULL by anyone): its code is looked up once per
 * change of reason, not at every park.
 */
static inline void g_setwait(struct goro_g *g, const char *why)
{
	st_rlx(&g->waitreason, why);
	if (!why) {
		st_rlx(&g->gi.waitreason, 0);
		return;
	}
	if (unlikely(why != g->why_last)) {
		g->why_code = goro__greg_reason(why);
		g->why_last = why;
	}
	st_rlx(&g->gi.waitreason, g->why_code);
}

/* context switch (switch_x86_64.S, switch_aarch64.S) */
struct goro_mach *goro__ctx_swap(void **save_sp, void *new_sp, struct goro_mach *m) HIDDEN;
void goro__ctx_entry(void) HIDDEN;

/* sanitizers (switch.h, switch.c) */
#if defined(__SANITIZE_ADDRESS__)
#define GORO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GORO_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define GORO_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GORO_TSAN 1
#endif
#endif

static inline uint32_t fastrand(uint32_t *s)
{
	/* xorshift32 */
	uint32_t x = *s;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

/*
 * The first state of the fastrand of M or P number id: the process's
 * random seed mixed with id, never 0. Two runs of a program, or two Ms of
 * one, do not share their "random" choices (select, steal order).
 */
static inline uint32_t fastrand_seed(uint32_t id)
{
	return (goro__sched.seed ^ id * 2654435761U) | 1;
}

#endif
