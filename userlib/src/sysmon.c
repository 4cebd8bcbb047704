/* SPDX-License-Identifier: MIT */
/*
 * goro: sysmon, Go's system monitor thread (not an M: it never runs
 * goroutines). It wakes every 20 us, backing off to 10 ms while nothing
 * needs it, and
 *  - retakes Ps from Ms stuck in a blocking call (goro_syscall_enter)
 *    for more than one of its ticks, handing them to other Ms;
 *  - sets the preempt flag of a P whose goroutine has run 10 ms, and
 *    signals its M when that goroutine opted in to asynchronous
 *    preemption and does not yield (preempt.c);
 *  - wakes an M when a sleeping goroutine is due and no M will notice;
 *  - returns the memory of long-idle stacks (goro__stack_scavenge);
 *  - every second, has the number of Ps follow the machine's CPUs and
 *    cgroup quota, unless it was fixed (goro__procs_follow, procs.c);
 *  - on the kmod backend, shows goro.ko the goroutine count.
 */
#include "internal.h"
#include "backend.h"
#include "backend_kmod.h"

#include <signal.h>
#include <time.h>

#define PREEMPT_NS (10 * 1000000LL)
#define SCAVENGE_NS (500 * 1000000LL)
#define PROCS_NS (1000 * 1000000LL)

/*
 * kmod: the goroutine count /proc/goro/<pid>/sched shows, at most one
 * tick (10 ms) old. Not stored at each spawn and exit: the header's
 * first cache line, which every scheduling path reads, would then move
 * between the CPUs twice per goroutine.
 */
static void publish_ngoroutines(void)
{
	kmod_publish_ngoroutines((uint32_t)goro__ngoroutines());
}

static void *sysmon_main(void *arg)
{
	int64_t delay = 20000, lastscav = nanotime(), lastprocs = lastscav;
	int idle = 0;

	(void)arg;
	for (;;) {
		struct timespec ts = {0, delay};
		int64_t now;
		bool acted = false;
		int i, n;

		nanosleep(&ts, NULL);
		now = nanotime();
		n = ld_acq(&goro__sched.nallp);
		for (i = 0; i < n; i++) {
			struct goro_pp *pp = goro__sched.allp[i];
			struct goro_p *kp = pp->kp;
			bool insys, sysretake = false;
			uint64_t tick = 0;

			/* kmod: none; the module hands off blocked Ps */
			insys = goro__sched.be->in_syscall &&
				goro__sched.be->in_syscall(pp, &tick);
			if (!insys && ld_rlx(&kp->status) != GORO_P_RUNNING)
				continue;
			if (pp->sm_schedtick != ld_rlx(&kp->schedtick)) {
				pp->sm_schedtick = ld_rlx(&kp->schedtick);
				pp->sm_schedwhen = now;
			} else if (now - pp->sm_schedwhen >= PREEMPT_NS) {
				st_rlx(&kp->preempt, 1);
				pp->sm_schedwhen = now;
				/*
				 * Go's sysretake: a goroutine that has kept
				 * its P for 10 ms through short syscalls
				 * (a new syscalltick at every look) loses it
				 * at the next one.
				 */
				sysretake = insys;
			} else if (!insys && ld_rlx(&pp->async) &&
				   ld_rlx(&kp->preempt)) {
				/* opted in, and ignoring the flag: signal */
				goro__async_preempt_tick(pp, now,
							 pp->sm_schedwhen);
			}
			if (!insys)
				continue;
			if (!sysretake && pp->sm_syscalltick != tick) {
				pp->sm_syscalltick = tick;
				pp->sm_syscallwhen = now;
				continue;
			}
			/* no work waits and someone could take it: leave
			 * it for up to 10 ms (Go's rule) */
			if (goro__runq_empty(pp) &&
			    ld_sc(&goro__sched.nmspinning) +
					    goro__sched.be->npidle() > 0 &&
			    now - pp->sm_syscallwhen < PREEMPT_NS)
				continue;
			if (goro__sched.be->retake(pp, tick)) {
				goro__handoffp(pp);
				acted = true;
			}
		}
		/* nobody polled for a while (all busy): poll for them */
		if (now - goro__netpoll_lastpoll() > PREEMPT_NS &&
		    goro__netpoll_check(NULL, false))
			acted = true;
		if (goro__timers_next() <= now) {
			goro__wakep();
			acted = true;
		}
		publish_ngoroutines();
		if (now - lastscav >= SCAVENGE_NS) {
			goro__stack_scavenge();
			lastscav = now;
		}
		if (now - lastprocs >= PROCS_NS) {
			goro__procs_follow();
			lastprocs = now;
		}
		if (acted) {
			idle = 0;
			delay = 20000;
		} else if (++idle > 50 && delay < 10000000) {
			delay *= 2;
			if (delay > 10000000)
				delay = 10000000;
		}
	}
	return NULL;
}

void goro__sysmon_start(void)
{
	pthread_attr_t a;
	sigset_t all, old;

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 128 << 10);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_create(&goro__sched.sysmon, &a, sysmon_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&a);
}
