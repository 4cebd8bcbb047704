/* SPDX-License-Identifier: MIT */
/*
 * goro: start-up. The first call into the API starts the runtime
 * (goro__init): the settings (every environment variable libgoro reads,
 * checked here: GORO_PROCS, GOMAXPROCS, GORO_STACK, GORO_MAXTHREADS,
 * GORO_BACKEND, GORO_DEBUG, GORO_CGROUP_ROOT), the backend's choice, the
 * Ps (procs.c), the main thread adopted as M0 running goroutine 1, then
 * sysmon.
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* M0's scheduler context (goroutine 1 runs on the main stack) */
static void g0_main(void *arg)
{
	goro__schedule(arg);
}

/* ---- start-up -------------------------------------------------------------- */

/*
 * The settings, from the environment, read once here. goro.h's rule: an
 * empty variable is unset, and a bad value is fatal, named on stderr
 * ("goro: NAME=VALUE: why") before anything starts.
 */
static struct {
	int procs;			/* 0: the machine's */
	const char *procs_from;		/* the variable that set procs */
	const char *cgroot;		/* GORO_CGROUP_ROOT, or NULL */
	bool stack_set, maxthreads_set;
} env;

/* name's value, a number in lo..hi; def when unset */
static long env_num(const char *name, long lo, long hi, long def, bool *set)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		goro__fatal("goro: %s=%s: not a number in %ld..%ld\n", name, s,
			    lo, hi);
	if (set)
		*set = true;
	return v;
}

static void read_env(void)
{
	const char *s;
	struct stat st;

	goro__sched.debug = (uint32_t)env_num("GORO_DEBUG", 0, 1, 0, NULL);
	env.procs = (int)env_num("GORO_PROCS", 1, GORO_MAX_PROCS, 0, NULL);
	env.procs_from = "GORO_PROCS";
	if (!env.procs) {
		env.procs = (int)env_num("GOMAXPROCS", 1, GORO_MAX_PROCS, 0,
					 NULL);
		env.procs_from = "GOMAXPROCS";
	}
	goro__sched.default_stack = (size_t)env_num("GORO_STACK", 4096,
						    (long)MAX_STACK,
						    (long)DEFAULT_STACK,
						    &env.stack_set);
	goro__sched.maxthreads = (uint32_t)env_num("GORO_MAXTHREADS", 1,
						   INT_MAX, 10000,
						   &env.maxthreads_set);
	s = getenv("GORO_CGROUP_ROOT");
	if (s && *s) {
		if (s[0] != '/' || stat(s, &st) || !S_ISDIR(st.st_mode))
			goro__fatal("goro: GORO_CGROUP_ROOT=%s: not an absolute "
				    "path to a directory\n", s);
		env.cgroot = s;
	}
	s = getenv("GORO_BACKEND");
	if (s && *s && strcmp(s, "user") && strcmp(s, "kmod"))
		goro__fatal("goro: GORO_BACKEND=%s: not user or kmod\n", s);
}

/* GORO_DEBUG=1: the settings in effect, after the backend's line */
static void print_settings(const char *procs_why)
{
	fprintf(stderr, "goro: procs %d (%s)\n", ld_rlx(&goro__sched.nprocs),
		procs_why);
	fprintf(stderr, "goro: stack %zu bytes (%s)\n",
		goro__sched.default_stack,
		env.stack_set ? "GORO_STACK" : "default");
	fprintf(stderr, "goro: maxthreads %u (%s)\n", goro__sched.maxthreads,
		env.maxthreads_set ? "GORO_MAXTHREADS" : "default");
	if (env.cgroot)
		fprintf(stderr, "goro: cgroup hierarchy at %s "
			"(GORO_CGROUP_ROOT, for tests)\n", env.cgroot);
}

/*
 * GORO_BACKEND=user|kmod forces a backend (kmod without a usable
 * /dev/goro is fatal); else kmod when /dev/goro works, user otherwise.
 * GORO_DEBUG: say which, and why, on stderr.
 */
static void choose_backend(void)
{
	const char *want = getenv("GORO_BACKEND");	/* checked: read_env */
	char why[256] = "";

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
	if (goro__sched.debug)
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
	goro__sigmask_m_apply();	/* only the runtime's signals change */
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
	char procs_why[PATH_MAX + 256];
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
	goro__sigmask_init();	/* this thread's mask becomes the Ms' */
	if (getrandom(&goro__sched.seed, sizeof(goro__sched.seed),
		      GRND_NONBLOCK) != sizeof(goro__sched.seed))
		goro__sched.seed = (uint32_t)nanotime() ^ (uint32_t)getpid();
	read_env();
	choose_backend();
	goro__sched.goidgen = 1;
	goro__stack_init();
	err = goro__procs_start(env.procs, env.procs_from, env.cgroot,
				procs_why, sizeof(procs_why));
	if (!err && goro__sched.debug)
		print_settings(procs_why);
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

const char *goro_backend(void)
{
	if (ensure_init())
		return "user";
	return goro__sched.be->name;
}
