/* SPDX-License-Identifier: MIT */
/*
 * goro: start-up. The first call into the API starts the runtime
 * (goro__init): the environment (GORO_PROCS, GOMAXPROCS, GORO_STACK,
 * GORO_MAXTHREADS, GORO_BACKEND, GORO_DEBUG), the backend's choice, the
 * Ps (created here as nprocs grows: goro_setprocs), the main thread
 * adopted as M0 running goroutine 1, then sysmon.
 *
 * The top of the runtime: it calls into every other file and none calls
 * into it except through goro__init (ensure_init(), internal.h).
 */
#include "internal.h"
#include "sched.h"
#include "switch.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

/* M0's scheduler context (goroutine 1 runs on the main stack) */
static void g0_main(void *arg)
{
	goro__schedule(arg);
}

/* ---- start-up -------------------------------------------------------------- */

static int env_int(const char *name)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return 0;
	v = strtol(s, &end, 10);
	if (*end || v <= 0 || v > INT_MAX)
		return 0;
	return (int)v;
}

static int default_procs(void)
{
	cpu_set_t set;
	int n = env_int("GORO_PROCS");

	if (!n)
		n = env_int("GOMAXPROCS");
	if (!n && sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
	if (n <= 0)
		n = 1;
	if (n > GORO_MAX_PROCS)
		n = GORO_MAX_PROCS;
	return n;
}

/*
 * goro__sched.lock held: make Ps 0..n-1 exist. They come from mmap, not libc's
 * allocator, whose lock may be held by an M waiting in the kernel for a P.
 */
static int grow_procs(int n)
{
	while (goro__sched.nallp < n) {
		struct goro_pp *pp = mmap(NULL, sizeof(*pp),
					  PROT_READ | PROT_WRITE,
					  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		int id = goro__sched.nallp;

		if (pp == MAP_FAILED)
			return -ENOMEM;
#ifdef GORO_ASAN
		/* its timer heap is malloc'd: LSan must scan it */
		__lsan_register_root_region(pp, sizeof(*pp));
#endif
		pp->kp = goro__sched.be->p_create(id);
		if (!pp->kp) {
#ifdef GORO_ASAN
			__lsan_unregister_root_region(pp, sizeof(*pp));
#endif
			munmap(pp, sizeof(*pp));
			return -ENOMEM;
		}
		pp->id = id;
		pp->retired = 1;	/* setprocs brings it in */
		pp->fastrand = fastrand_seed((uint32_t)id ^ 0x80000000u);
		pp->nexttimer = INT64_MAX;
		goro__sched.allp[id] = pp;
		st_rel(&goro__sched.nallp, id + 1);
	}
	return 0;
}

/*
 * GORO_BACKEND=user|kmod forces a backend (kmod without a usable
 * /dev/goro is fatal); else kmod when /dev/goro works, user otherwise.
 * GORO_DEBUG: say which, and why, on stderr.
 */
static void choose_backend(void)
{
	const char *want = getenv("GORO_BACKEND");
	char why[256] = "";

	if (want && *want && strcmp(want, "user") && strcmp(want, "kmod"))
		goro__fatal("goro: GORO_BACKEND=%s: not user or kmod\n", want);
	if (want && !strcmp(want, "user")) {
		goro__sched.be = &goro__backend_user;
		snprintf(why, sizeof(why), "GORO_BACKEND=user");
	} else if (goro__kmod_open(why, sizeof(why)) == 0) {
		goro__sched.be = &goro__backend_kmod;
	} else if (want && !strcmp(want, "kmod")) {
		goro__fatal("goro: GORO_BACKEND=kmod, but %s\n", why);
	} else {
		goro__sched.be = &goro__backend_user;
	}
	if (getenv("GORO_DEBUG"))
		fprintf(stderr, "goro: backend %s (%s)\n",
			goro__sched.be->name, why);
}

/* The main thread becomes M0 running goroutine 1 on its own stack. */
static int adopt_main(void)
{
	struct goro_mach *m = goro__allocm();
	struct goro_pp *pp;
	void *stk;

	if (!m)
		return -ENOMEM;
	stk = mmap(NULL, G0_STACK, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (stk == MAP_FAILED)
		return -ENOMEM;
	m->g0stack = stk;
	m->g0size = G0_STACK;
	m->tid = (pid_t)syscall(SYS_gettid);
	m->thread = pthread_self();
	m->g0.stk.lo = stk;
	m->g0.stk.hi = (char *)stk + G0_STACK - 64;
	m->g0.stk.cls = 0xfe;
	m->g0.fn = g0_main;
	m->g0.arg = m;
	goro__g_prepare(&m->g0);
	m->g0.stk.hi = (char *)stk + G0_STACK;

	goro__sched.g1.id = 1;
	goro__sched.g1.status = G_RUNNING;
	goro__sched.g1.m = m;
	goro__sched.g1.name = "main";
	goro__stack_bounds_self(&goro__sched.g1.stk);
#ifdef GORO_TSAN
	goro__sched.g1.tsan_fiber = __tsan_get_current_fiber();
#endif
	goro__sched.ngoroutines = 1;
	*m->locks = 1;
	m->inrt = 1;
	if (goro__sched.be->m_attach && goro__sched.be->m_attach(m))
		return -EAGAIN;
	goro__greg_add(&goro__sched.g1);
	goro__setm(m);
	goro__altstack_init(m);
	m->curg = &goro__sched.g1;
	pp = goro__sched.be->p_acquire(m);
	if (pp) {
		acquirep(m, pp);
	} else {
		/* every P is busy (foreign threads started goroutines) */
		goro__gswitch(m, &goro__sched.g1, &m->g0, AFTER_GLOBAL, NULL);
	}
	rt_leave(goro__sched.g1.m, true);	/* back to main's code */
	return 0;
}

int goro__init(void)
{
	int st, err = 0;
	bool main_thread;

	while ((st = ld_acq(&goro__sched.started)) != 2) {
		if (st == 3)
			return -EAGAIN;
		if (st == 0 && cas(&goro__sched.started, 0, 1))
			break;
		sched_yield();
	}
	if (st == 2)
		return 0;
	main_thread = syscall(SYS_gettid) == getpid();
	if (getrandom(&goro__sched.seed, sizeof(goro__sched.seed),
		      GRND_NONBLOCK) != sizeof(goro__sched.seed))
		goro__sched.seed = (uint32_t)nanotime() ^ (uint32_t)getpid();
	goro__sched.maxthreads = env_int("GORO_MAXTHREADS");
	if (!goro__sched.maxthreads)
		goro__sched.maxthreads = 10000;
	choose_backend();
	goro__sched.default_stack = env_int("GORO_STACK");
	if (!goro__sched.default_stack)
		goro__sched.default_stack = DEFAULT_STACK;
	if (goro__sched.default_stack > MAX_STACK)
		goro__sched.default_stack = MAX_STACK;
	goro__sched.goidgen = 1;
	goro__stack_init();
	goro__lock(&goro__sched.lock);
	err = grow_procs(default_procs());
	goro__unlock(&goro__sched.lock);
	if (!err) {
		goro__sched.be->set_nprocs(goro__sched.nallp);
		st_sc(&goro__sched.nprocs, goro__sched.nallp);
	}
	goro__signals_init();
	atexit(goro__on_exit_stop);
	if (!err && main_thread)
		err = adopt_main();
	if (!err)
		goro__sysmon_start();
	if (!err && goro__sched.be->start)
		goro__sched.be->start();
	st_rel(&goro__sched.started, err ? 3 : 2);
	return err;
}

int goro_setprocs(int n)
{
	int old, i, err;

	if (n > GORO_MAX_PROCS)
		return -EINVAL;
	if (ensure_init())
		return -EAGAIN;
	if (n <= 0)
		return ld_rlx(&goro__sched.nprocs);
	goro__lock(&goro__sched.setprocs_lock);
	goro__lock(&goro__sched.lock);
	err = grow_procs(n);
	goro__unlock(&goro__sched.lock);
	if (err) {
		goro__unlock(&goro__sched.setprocs_lock);
		return err;
	}
	old = ld_rlx(&goro__sched.nprocs);
	goro__sched.be->set_nprocs(n);
	st_sc(&goro__sched.nprocs, n);
	goro__unlock(&goro__sched.setprocs_lock);
	for (i = old; i < n; i++)
		goro__wakep();
	return old;
}

int goro_numprocs(void)
{
	if (ensure_init())
		return 1;
	return ld_rlx(&goro__sched.nprocs);
}

const char *goro_backend(void)
{
	if (ensure_init())
		return "user";
	return goro__sched.be->name;
}
