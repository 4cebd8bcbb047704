/* SPDX-License-Identifier: MIT */
/*
 * goro: the `kmod` backend. The Ps live in the region goro.ko maps into the
 * process (/dev/goro), and the kernel owns P assignment:
 *  - an idle M parks in GORO_IOC_PARK, which gives its P up and returns
 *    with the P the kernel handed it (after a last scan of every run queue
 *    and the global queue size, so no wake-up is lost);
 *  - wakep is GORO_IOC_WAKE (an idle P bound to the last parked M);
 *  - when an M blocks in the kernel with goro_m.locks == 0 (goroutine
 *    code: any syscall, page fault or futex), the module hands its P to
 *    another M at once; the M comes back holding that P, another one, or
 *    after waiting for one: the scheduler re-reads goro_m.p whenever it
 *    re-enters from goroutine code (locks_set(), goro__p_moved);
 *  - a P with work that found no parked M wakes the factory M (a thread
 *    parked with GORO_PARK_FACTORY), which starts a new M.
 * Idle Ms parked for RETIRE_NS while more than nprocs + RETIRE_SPARE Ms are
 * parked leave (Go keeps them; a program that once blocked 10,000 threads
 * should not keep them all).
 */
#include "internal.h"
#include "backend.h"
#include "backend_kmod.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define RETIRE_NS (1000 * 1000000LL)
#define RETIRE_SPARE 4
#define FACTORY_POLL_NS (100 * 1000000LL)
#define YIELD_NS (1000000LL)
#define KMOD_FEATURES \
	(GORO_FEAT_HANDOFF | GORO_FEAT_PARK_DEADLINE | GORO_FEAT_FACTORY | \
	 GORO_FEAT_SETPROCS)

static struct {
	int fd;
	char *region;
	struct goro_setup setup;
	struct goro_shared_hdr *hdr;
	uint64_t features;	/* GORO_FEAT_* the module has */
	/*
	 * Ms attached so far, and nattach + 1 as it was just before a WAKE
	 * that asked for a spare M (0: none, or the factory could not start
	 * one): while they match, that M has not attached yet (kmod_wake).
	 */
	uint64_t nattach;
	uint64_t spare_gen;
} K = {.fd = -1};

/* K.hdr for the scheduler's inline reads (backend_kmod.h) */
struct goro_shared_hdr *goro__kmod_hdr;

static int kioctl(unsigned long cmd, void *arg)
{
	int r;

	do
		r = ioctl(K.fd, cmd, arg);
	while (r < 0 && errno == EINTR && cmd != GORO_IOC_PARK);
	return r < 0 ? -errno : 0;
}

int goro__kmod_open(char *why, size_t size)
{
	struct goro_version v = {0};
	struct goro_setup s = {0};
	uint32_t max_ms;
	void *map;
	int err;

	K.fd = open(GORO_DEVICE, O_RDWR | O_CLOEXEC);
	if (K.fd < 0) {
		err = -errno;
		snprintf(why, size, "%s: %s", GORO_DEVICE, strerror(-err));
		return err;
	}
	err = kioctl(GORO_IOC_VERSION, &v);
	if (err) {
		snprintf(why, size, "%s: version: %s", GORO_DEVICE,
			 strerror(-err));
		goto fail;
	}
	K.features = v.features;
	if (v.abi_version != GORO_ABI_VERSION ||
	    (v.features & KMOD_FEATURES) != KMOD_FEATURES) {
		snprintf(why, size,
			 "%s: goro.ko speaks ABI %u (features %#llx), libgoro "
			 "needs ABI %u (features %#llx)",
			 GORO_DEVICE, v.abi_version,
			 (unsigned long long)v.features, GORO_ABI_VERSION,
			 (unsigned long long)KMOD_FEATURES);
		err = -EPROTO;
		goto fail;
	}
	/* every P goro_setprocs may ask for; GORO_IOC_SETPROCS uses fewer */
	s.nprocs = v.max_procs < GORO_MAX_PROCS ? v.max_procs : GORO_MAX_PROCS;
	/* + the factory M, start-up races */
	max_ms = goro__sched.maxthreads + 8;
	if (max_ms > v.max_ms)
		max_ms = v.max_ms;
	if (max_ms < s.nprocs)
		max_ms = s.nprocs;
	s.max_ms = max_ms;
	err = kioctl(GORO_IOC_SETUP, &s);
	if (err) {
		snprintf(why, size, "%s: setup: %s", GORO_DEVICE,
			 strerror(-err));
		goto fail;
	}
	map = mmap(NULL, s.map_size, PROT_READ | PROT_WRITE, MAP_SHARED, K.fd,
		   0);
	if (map == MAP_FAILED) {
		err = -errno;
		snprintf(why, size, "%s: mmap: %s", GORO_DEVICE,
			 strerror(-err));
		goto fail;
	}
	K.region = map;
	K.setup = s;
	K.hdr = (struct goro_shared_hdr *)(K.region + s.off.hdr);
	goro__kmod_hdr = K.hdr;
	st_rel(&goro__lock_hooks, 1);
	/* /proc/goro/<pid>/goroutines reads the registry (optional) */
	if (s.features & GORO_FEAT_GREG)
		goro__greg_register(K.fd);
	snprintf(why, size, "%s: goro.ko ABI %u, %u Ps, %u Ms at most",
		 GORO_DEVICE, v.abi_version, s.nprocs, s.max_ms);
	return 0;
fail:
	close(K.fd);
	K.fd = -1;
	return err;
}

static struct goro_p *kmod_p_create(int id)
{
	if (id < 0 || (uint32_t)id >= K.setup.nprocs)
		return NULL;
	return (struct goro_p *)(K.region + K.setup.off.procs +
				 (size_t)id * K.setup.off.p_stride);
}

static struct goro_m *kmod_m_slot(uint32_t id)
{
	return (struct goro_m *)(K.region + K.setup.off.ms +
				 (size_t)id * K.setup.off.m_stride);
}

/* The P the kernel says m holds (kernel-written goro_m.p), or NULL. */
static struct goro_pp *kmod_current_p(struct goro_mach *m)
{
	uint32_t p = ld_acq(&m->km->p);
	struct goro_pp *pp;

	if (p >= (uint32_t)ld_acq(&goro__sched.nallp))
		return NULL;
	pp = goro__sched.allp[p];
	pp->m = m;
	return pp;
}

/* locks_set() (internal.h) found that the kernel moved m's P */
void goro__p_moved(struct goro_mach *m)
{
	m->p = kmod_current_p(m);
}

static void kmod_set_nprocs(int n)
{
	struct goro_setprocs s = {.nprocs = (uint32_t)n};
	int i, err;

	for (i = 0; i < goro__sched.nallp; i++) {
		struct goro_pp *pp = goro__sched.allp[i];

		st_rlx(&pp->retired, i >= n);
		if (i >= n)
			st_rlx(&pp->kp->preempt, 1);
	}
	err = kioctl(GORO_IOC_SETPROCS, &s);
	if (err)
		goro__fatal("goro: GORO_IOC_SETPROCS %d: %s\n", n,
			    strerror(-err));
}

/*
 * Attach the calling thread; it takes an idle P when one is free (a new
 * M is started because there is work), published as m->nextp.
 */
static int kmod_m_attach(struct goro_mach *m)
{
	struct goro_attach a = {0};
	/* acquire: allp[i] below nprocs is published (see stealwork) */
	int i, n = ld_acq(&goro__sched.nprocs), err = -EBUSY;

	/*
	 * Whatever was queued before this point, this M finds: it looks at
	 * the run queues with the P it attaches with, or in PARK's last
	 * look. The barrier pairs with the one in goro__wakep (see
	 * kmod_wake); PARK's look is after smp_mb() in goro_park()
	 * (module/park.c).
	 */
	xadd(&K.nattach, 1);
	fence_sc();
	for (i = 0; i < n && err == -EBUSY; i++) {
		if (ld_rlx(&goro__sched.allp[i]->kp->status) != GORO_P_IDLE)
			continue;
		a.flags = GORO_ATTACH_P;
		a.p = (uint32_t)i;
		err = kioctl(GORO_IOC_ATTACH_M, &a);
	}
	if (err) {
		memset(&a, 0, sizeof(a));
		err = kioctl(GORO_IOC_ATTACH_M, &a);
	}
	if (err)
		return err;
	m->kid = a.m;
	m->km = kmod_m_slot(a.m);
	m->locks = &m->km->locks;
	*(volatile uint32_t *)m->locks = 1;	/* in the runtime */
	__asm__ __volatile__("" ::: "memory");
	m->nextp = kmod_current_p(m);
	return 0;
}

static void kmod_m_detach(struct goro_mach *m)
{
	kioctl(GORO_IOC_DETACH_M, NULL);
	m->locks = &m->locks_own;
	m->km = NULL;
}

/*
 * The kernel hands Ps over; the scheduler's "take an idle P" only gets
 * back the P the kernel still says m holds (it is released at PARK), and
 * never a retired one.
 */
static struct goro_pp *kmod_p_acquire(struct goro_mach *m)
{
	struct goro_pp *pp;

	if (!m || !m->km)
		return NULL;
	pp = kmod_current_p(m);
	m->nextp = NULL;
	if (pp && ld_rlx(&pp->retired))
		return NULL;
	return pp;
}

static uint32_t kmod_npidle(void)
{
	return ld_sc(&K.hdr->npidle);
}

/* Leave for good: an idle M among too many (see the file comment). */
NORETURN static void kmod_retire(struct goro_mach *m)
{
	kmod_m_detach(m);
	goro__mexit(m);
}

static struct goro_pp *kmod_m_park(struct goro_mach *m, int64_t deadline)
{
	int64_t idle_since = nanotime();
	struct goro_pp *pp = NULL;
	bool can_retire = !m->g0stack;	/* not the main thread */

	if (deadline && deadline <= nanotime()) {
		/* no P to run due timers on: ready them to the global
		 * queue, which PARK's last look then finds */
		goro__timers_run_all();
		deadline = goro__timers_next();
		if (deadline == INT64_MAX)
			deadline = 0;
	}
	goro__lock(&goro__sched.lock);
	xadd(&goro__sched.nmidle, 1);
	goro__checkdead_locked(true);
	goro__unlock(&goro__sched.lock);
	for (;;) {
		struct goro_park a = {0};
		int64_t dl = deadline, retire_at = idle_since + RETIRE_NS;
		bool retire_dl = false, poll = false;
		int err;

		if (can_retire && (!dl || dl > retire_at)) {
			dl = retire_at;
			retire_dl = true;
		}
		if (dl) {
			a.flags = GORO_PARK_DEADLINE;
			a.deadline_ns = (uint64_t)dl;
		}
		/* one idle M sleeps on the epoll fd too (Go's netpoll) */
		if ((K.features & GORO_FEAT_PARK_FD) &&
		    goro__netpoll_claim(dl)) {
			poll = true;
			a.flags |= GORO_PARK_FD;
			a.fd = goro__netpoll_fd();
		}
		err = kioctl(GORO_IOC_PARK, &a);
		if (poll) {
			struct goro_g *list;

			goro__netpoll_unclaim();
			list = goro__netpoll(0);
			if (list)
				goro__inject(NULL, list, false);
			if (!err && a.p == GORO_NONE && a.why == GORO_WOKE_FD)
				break;	/* the caller looks again */
		}
		if (!err && a.p != GORO_NONE) {
			pp = kmod_current_p(m);
			/* goro__wakep counted the M it wakes as spinning */
			if (pp && a.why == GORO_WOKE_WAKE)
				m->spinning = 1;
			break;
		}
		if (err || a.why != GORO_WOKE_DEADLINE || !retire_dl)
			break;
		/* idle for RETIRE_NS: leave if enough others are parked */
		if (xadd(&goro__sched.nmidle, -1) >
		    (uint32_t)ld_rlx(&goro__sched.nprocs) + RETIRE_SPARE)
			kmod_retire(m);
		xadd(&goro__sched.nmidle, 1);
		idle_since = nanotime();
	}
	xadd(&goro__sched.nmidle, -1);
	return pp;
}

struct goro_pp *goro__kmod_p_yield(struct goro_mach *m)
{
	struct goro_park a = {.flags = GORO_PARK_NOSTEAL | GORO_PARK_DEADLINE};

	/* PARK gives the P to the longest waiting M first */
	a.deadline_ns = (uint64_t)(nanotime() + YIELD_NS);
	if (kioctl(GORO_IOC_PARK, &a) || a.p == GORO_NONE)
		return NULL;
	return kmod_current_p(m);
}

/*
 * Go's wakep: 1 an M was woken with a P; 2 no M parked, a P is idle and
 * the factory M starts one; 0 the same but the caller must start it (a
 * module without GORO_WAKE_SPARE); -1 no P idle. The caller may hold a P
 * with locks set: starting a thread here could wait for ever on libc's
 * allocator lock held by an M that waits in the kernel for that P.
 */
static int kmod_wake(void)
{
	struct goro_wake w = {0};
	uint64_t gen = ld_sc(&K.nattach) + 1;

	/*
	 * A spare M asked for earlier has not attached yet and no M is
	 * parked: WAKE would only ask for one more, and every spawn of a
	 * burst would add a thread. That M looks at every run queue after
	 * it attaches (after our caller's barrier), so the work is found;
	 * like Go's nmspinning for an M being started.
	 */
	if (ld_sc(&K.spare_gen) == gen && !ld_sc(&K.hdr->nmidle))
		return 2;
	if (K.setup.features & GORO_FEAT_WAKE_SPARE)
		w.flags = GORO_WAKE_SPARE;
	if (kioctl(GORO_IOC_WAKE, &w) == 0) {
		if (w.nwoken)
			return 1;
		if (w.nspare) {
			/* no match if an M attached since we read nattach */
			st_sc(&K.spare_gen, gen);
			return 2;
		}
	}
	return ld_sc(&K.hdr->npidle) ? 0 : -1;
}

/* Go's startm: the kernel picks the P and the M (kmod_wake). */
static bool kmod_startm(struct goro_pp *pp, bool spinning)
{
	int r;

	if (pp)	/* a P the caller owns: for a new M */
		return goro__newm(pp, spinning);
	r = kmod_wake();
	if (r == 1)
		return true;
	return r == 0 &&
	       (uint32_t)ld_rlx(&goro__sched.mcount) < goro__sched.maxthreads &&
	       goro__newm(NULL, spinning);
}

/* The module hands the P off if the call blocks: m holds what it says. */
static bool kmod_syscall_exit(struct goro_mach *m)
{
	m->p = kmod_current_p(m);
	return m->p != NULL;
}

/* A P whose M is blocked has work, and no M is parked to take it. */
static bool blocked_with_work(void)
{
	/* acquire: allp[i] below nprocs is published (see stealwork) */
	int i, n = ld_acq(&goro__sched.nprocs);

	if (ld_acq(&K.hdr->nmidle))
		return false;
	for (i = 0; i < n; i++) {
		struct goro_pp *pp = goro__sched.allp[i];

		if (ld_acq(&pp->kp->status) == GORO_P_BLOCKED &&
		    (!goro__runq_empty(pp) || ld_rlx(&K.hdr->runqsize)))
			return true;
	}
	return false;
}

/* The factory M: starts an M each time a P with work found none parked. */
static void *factory_main(void *arg)
{
	struct goro_attach at = {0};
	uint32_t seen;

	(void)arg;
	if (kioctl(GORO_IOC_ATTACH_M, &at))
		return NULL;
	kmod_m_slot(at.m)->locks = 1;
	seen = 0;	/* requests from before we were parked count too */
	for (;;) {
		struct goro_park a = {.flags = GORO_PARK_FACTORY |
						GORO_PARK_DEADLINE};
		uint32_t now, n;
		int err = 0;

		/* requests that came while we were starting Ms: no sleep */
		if (ld_acq(&K.hdr->spare_wanted) == seen) {
			a.deadline_ns = (uint64_t)nanotime() + FACTORY_POLL_NS;
			err = kioctl(GORO_IOC_PARK, &a);
			if (err && err != -EINTR)
				break;
		}
		now = ld_acq(&K.hdr->spare_wanted);
		n = now - seen;
		seen = now;
		if (!err && a.why == GORO_WOKE_SPARE && n == 0)
			n = 1;
		if (!n && blocked_with_work())
			n = 1;	/* a request we may have missed */
		/* each new M parks, and PARK gives it the P with work */
		while (n-- > 0)
			if (!goro__newm_spare()) {
				/* none comes: let wakep ask again */
				st_sc(&K.spare_gen, 0);
				break;
			}
	}
	return NULL;
}

static void kmod_start(void)
{
	pthread_attr_t a;
	sigset_t all, old;
	pthread_t t;

	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 << 10);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (pthread_create(&t, &a, factory_main, NULL) == 0)
		xadd(&goro__sched.nextra, 1);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&a);
}

const struct goro_backend goro__backend_kmod = {
	.name = "kmod",
	.p_create = kmod_p_create,
	.set_nprocs = kmod_set_nprocs,
	.p_acquire = kmod_p_acquire,
	.npidle = kmod_npidle,
	.m_park = kmod_m_park,
	.startm = kmod_startm,
	.syscall_exit = kmod_syscall_exit,
	.start = kmod_start,
	.m_attach = kmod_m_attach,
};
