/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * goro: the ABI between goro.ko and libgoro.
 *
 * Rules (they are what lets the ABI grow without breaking anyone):
 *  - only fixed-size __u types, no enums, no bitfields, no implicit padding;
 *    every struct's size is asserted below;
 *  - every ioctl struct has reserved fields: the kernel rejects non-zero
 *    reserved fields and unknown flags with -EINVAL, unknown commands with
 *    -ENOTTY;
 *  - GORO_IOC_SETUP returns the size of the shared region, the offset of
 *    every part of it and the feature bits; userspace computes every pointer
 *    from those offsets and never assumes a layout beyond the structs here;
 *  - a new behaviour gets a new ioctl number or a new flag or feature bit,
 *    never a different meaning for an old one. GORO_ABI_VERSION changes only
 *    on an incompatible change; libgoro refuses a module of another version.
 *
 * Errors common to every command: an unknown command is -ENOTTY; a known
 * command number with another size or direction is -EINVAL; a bad pointer
 * is -EFAULT. Every command but VERSION and SETUP (and mmap) is -EINVAL
 * before SETUP, and -EPERM from another process than the one that did
 * SETUP (a forked child shares the file, not the instance: the mapping is
 * not inherited, madvise(MADV_DOFORK) on it is -EINVAL, and the child
 * opens /dev/goro afresh).
 */
#ifndef _UAPI_LINUX_GORO_H
#define _UAPI_LINUX_GORO_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define GORO_DEVICE		"/dev/goro"
#define GORO_ABI_VERSION	1
#define GORO_MAGIC		0x6f726f47U	/* "Goro" little-endian */

/* Size of each P's local run queue ring (a power of two). */
#define GORO_RUNQ_ENTRIES	256
/* "no P", "no M", "no goroutine". */
#define GORO_NONE		0xffffffffU

/*
 * Feature bits, returned by GORO_IOC_VERSION and GORO_IOC_SETUP: every
 * one the ABI defines, in one table. A new bit goes at the end.
 */
#define GORO_FEAT_HANDOFF	(1ULL << 0) /* blocked M's P handed off */
#define GORO_FEAT_KSTEAL	(1ULL << 1) /* PARK steals in the kernel */
#define GORO_FEAT_PARK_DEADLINE	(1ULL << 2) /* GORO_PARK_DEADLINE */
#define GORO_FEAT_PARK_FD	(1ULL << 3) /* GORO_PARK_FD */
#define GORO_FEAT_PREEMPT	(1ULL << 4) /* monitor sets goro_p.preempt */
#define GORO_FEAT_FACTORY	(1ULL << 5) /* GORO_PARK_FACTORY */
#define GORO_FEAT_SETPROCS	(1ULL << 6) /* GORO_IOC_SETPROCS */
#define GORO_FEAT_GREG		(1ULL << 7) /* GORO_IOC_GREGISTER */
#define GORO_FEAT_WAKE_SPARE	(1ULL << 8) /* GORO_WAKE_SPARE */

/*
 * GORO_IOC_VERSION: what this module speaks. Needs no setup; every field is
 * written by the kernel.
 */
struct goro_version {
	__u32 abi_version;	/* GORO_ABI_VERSION of the module */
	__u32 max_procs;	/* largest nprocs GORO_IOC_SETUP accepts */
	__u64 features;		/* GORO_FEAT_* */
	__u32 max_ms;		/* largest max_ms GORO_IOC_SETUP accepts */
	__u32 resv[5];
};

/* Offsets into the shared region mapped at mmap offset 0. */
struct goro_offsets {
	__u64 hdr;		/* struct goro_shared_hdr */
	__u64 procs;		/* nprocs x struct goro_p, p_stride apart */
	__u64 ms;		/* max_ms x struct goro_m, m_stride apart */
	__u32 p_stride;
	__u32 m_stride;
	__u64 resv[4];
};

/*
 * GORO_IOC_SETUP: create the scheduler instance of this open file.
 * One instance per open file; a second SETUP on the same file is -EBUSY,
 * and so is a SETUP while the process has a live instance on another open
 * file (one instance per process: /proc/goro/<pid> names it). The instance
 * lives until the file is released and its last M has left.
 * In: nprocs (1..max_procs), max_ms (0 = module default, else
 * nprocs..max_ms), flags (none defined: must be 0), resv zero.
 * Out: features, map_size (mmap exactly that at offset 0), off.
 */
struct goro_setup {
	__u32 nprocs;
	__u32 max_ms;
	__u32 flags;
	__u32 resv0;
	__u64 features;
	__u64 map_size;
	struct goro_offsets off;
	__u64 resv[4];
};

/*
 * GORO_IOC_ATTACH_M: the calling thread becomes an M of the instance.
 * In: flags: GORO_ATTACH_P binds P number p to the new M (the P must be
 * idle); without it the M starts with no P (it parks to get one).
 * Out: m, the M's slot in the M table. -EEXIST if the thread is already an
 * M, -ENOSPC when max_ms Ms are attached, -EBUSY if P p is not idle.
 * The thread stays an M until GORO_IOC_DETACH_M (-EPERM if it is none),
 * its exit (its P is released), an exec, or the release of the file.
 */
#define GORO_ATTACH_P		(1U << 0)
struct goro_attach {
	__u32 flags;
	__u32 p;
	__u32 m;
	__u32 resv[5];
};

/*
 * GORO_IOC_PARK: the calling M gives up its P and sleeps until it is given
 * one (by GORO_IOC_WAKE or a handoff), the deadline passes, fd is readable
 * or a signal arrives (-EINTR; the M then holds no P).
 *
 * Before sleeping the kernel scans every P's ring and hdr.runqsize: if work
 * exists it steals half of a victim's ring into the caller's P (or, with
 * only global work, keeps the P) and returns at once with the P. This scan
 * and the sleep are atomic with respect to GORO_IOC_WAKE: no lost wake-up.
 *
 * Out: p (the P now owned, or GORO_NONE), why (GORO_WOKE_*), nstolen.
 * The caller must be an M (-EPERM). fd and deadline_ns are read only with
 * their flag; fd: -EBADF if not open, -EINVAL if it cannot be polled (an
 * epoll fd is the intended one: readable, error or hang-up wakes);
 * deadline_ns beyond the clock's range means none. An M without a P that
 * finds work takes a P: the P with the work itself if nobody runs it
 * (GORO_WOKE_HANDOFF), else an idle one to steal into.
 */
#define GORO_PARK_DEADLINE	(1U << 0) /* deadline_ns: CLOCK_MONOTONIC */
#define GORO_PARK_FD		(1U << 1) /* also wake when fd polls in */
#define GORO_PARK_NOSTEAL	(1U << 2) /* skip the kernel-side steal */
/*
 * GORO_PARK_FACTORY: park as a factory M, the one userspace thread that
 * starts new Ms. It never gets a P from WAKE or a handoff and does not
 * scan for work; it returns (holding no P) with GORO_WOKE_SPARE when a P
 * with work found no parked M (hdr.spare_wanted grew). Feature
 * GORO_FEAT_FACTORY.
 */
#define GORO_PARK_FACTORY	(1U << 3)

#define GORO_WOKE_STOLEN	1	/* nstolen handles moved into p */
#define GORO_WOKE_GLOBAL	2	/* hdr.runqsize != 0: run the global queue */
#define GORO_WOKE_WAKE		3	/* GORO_IOC_WAKE gave us p */
#define GORO_WOKE_HANDOFF	4	/* a blocked M's P (with work) is ours */
#define GORO_WOKE_DEADLINE	5
#define GORO_WOKE_FD		6
#define GORO_WOKE_LOCAL		7	/* our own P still had work */
#define GORO_WOKE_SPARE		8	/* factory: start a spare M */

struct goro_park {
	__u32 flags;
	__s32 fd;
	__u64 deadline_ns;
	__u32 p;
	__u32 why;
	__u32 nstolen;
	__u32 resv[3];
};

/*
 * GORO_IOC_WAKE: Go's wakep. Bind an idle P to one parked M and wake it.
 * Out: nwoken (0 when no M is parked or no P is idle; the caller may then
 * start a new M). An idle P is one in GORO_P_IDLE or GORO_P_BLOCKED. Any
 * thread of the process may call it; it need not be an M.
 * GORO_WAKE_SPARE: when no M is parked but a P is idle, ask the factory M
 * for a new one instead (hdr.spare_wanted grows, nspare = 1), so that the
 * caller, which may hold a P, need not start a thread itself: thread
 * creation takes libc's allocator lock, which an M waiting in the kernel
 * for a P may hold. Feature GORO_FEAT_WAKE_SPARE.
 */
#define GORO_WAKE_SPARE		(1U << 0)

struct goro_wake {
	__u32 flags;
	__u32 nwoken;
	__u32 nspare;	/* out: a spare M was asked for */
	__u32 resv;
};

/*
 * GORO_IOC_SETPROCS: how many of the nprocs Ps fixed at SETUP are in use
 * (Go's GOMAXPROCS below the size of the instance). Ps numbered nprocs and
 * above are retired: never handed to an M by WAKE, PARK, a handoff or
 * ATTACH_M, not counted in hdr.npidle; an M holding one keeps it, even
 * when it blocks, until it parks, detaches or exits, which leaves it idle
 * and out of use. Raising nprocs puts idle retired Ps back into use.
 * In: nprocs (1..the nprocs of SETUP), flags (must be 0), resv zero.
 * Feature GORO_FEAT_SETPROCS.
 */
struct goro_setprocs {
	__u32 nprocs;
	__u32 flags;
	__u32 resv[2];
};

/*
 * GORO_IOC_GREGISTER: register (addr != 0) or forget (addr == 0) the
 * goroutine registry header (struct goro_greg, below) at user address
 * addr (8-byte aligned). The header is read once at registration:
 * -EFAULT if it cannot be, -EINVAL on a bad magic or version, a
 * misaligned addr, flags or resv non-zero. Feature GORO_FEAT_GREG.
 */
struct goro_gregister {
	__u64 addr;		/* struct goro_greg, or 0 */
	__u32 flags;		/* none defined: 0 */
	__u32 resv[5];
};

/* Every ioctl the ABI defines, in one table. A new one goes at the end. */
#define GORO_IOC_VERSION	_IOR('G', 0x00, struct goro_version)
#define GORO_IOC_SETUP		_IOWR('G', 0x01, struct goro_setup)
#define GORO_IOC_ATTACH_M	_IOWR('G', 0x02, struct goro_attach)
#define GORO_IOC_DETACH_M	_IO('G', 0x03)
#define GORO_IOC_PARK		_IOWR('G', 0x04, struct goro_park)
#define GORO_IOC_WAKE		_IOWR('G', 0x05, struct goro_wake)
#define GORO_IOC_SETPROCS	_IOW('G', 0x06, struct goro_setprocs)
#define GORO_IOC_GREGISTER	_IOW('G', 0x07, struct goro_gregister)

/*
 * The shared region. Every field says who writes it; the other side only
 * reads it, and the kernel treats everything userspace can write as hostile.
 */

/* P status (goro_p.status, written by the kernel). */
#define GORO_P_IDLE		0	/* on the idle list, no owner */
#define GORO_P_RUNNING		1	/* owner M runs goroutines */
/*
 * GORO_P_BLOCKED: the owner M blocked in the kernel and nobody took the P
 * (it had no work, or no M was parked: hdr.spare_wanted); anyone who needs
 * a P may take it, else the owner takes it back when it wakes up.
 */
#define GORO_P_BLOCKED		2

/* M state (goro_m.state, written by the kernel). */
#define GORO_M_FREE		0	/* slot unused */
#define GORO_M_RUNNING		1
#define GORO_M_BLOCKED		2	/* blocked in the kernel (not parked) */
#define GORO_M_PARKED		3	/* in GORO_IOC_PARK */
#define GORO_M_WAITP		4	/* back from a block, waiting for a P */

struct goro_shared_hdr {
	__u32 magic;		/* kernel: GORO_MAGIC */
	__u32 abi_version;	/* kernel: GORO_ABI_VERSION */
	__u32 nprocs;		/* kernel */
	__u32 max_ms;		/* kernel */
	__u32 ring_entries;	/* kernel: GORO_RUNQ_ENTRIES */
	__u32 resv0[3];
	/*
	 * Counters of state, kept exact by the kernel. npidle counts the Ps
	 * WAKE can give to an M: GORO_P_IDLE and GORO_P_BLOCKED. spare_wanted
	 * counts the times a P with work found no parked M (start one).
	 */
	__u32 npidle;		/* Ps idle or blocked */
	__u32 nmidle;		/* Ms in GORO_IOC_PARK */
	__u32 nmwaitp;		/* Ms back from a block waiting for a P */
	__u32 spare_wanted;	/* kernel: no parked M for a P with work */
	/* written by userspace */
	__u32 nmspinning;	/* Ms looking for work (Go's nmspinning) */
	__u32 runqsize;		/* length of the global run queue */
	__u32 ngoroutines;	/* live goroutines (for /proc), <= 10 ms old */
	__u32 resv1;
	/* event counters, kernel-written */
	__u64 handoffs;
	__u64 parks;
	__u64 wakes;
	__u64 ksteals;
	__u64 preempt_reqs;
	__u64 resv2[3];
};

struct goro_p {
	/* cache line 0: written by the kernel unless noted */
	__u32 status;		/* GORO_P_* */
	__u32 owner;		/* M slot owning this P, or GORO_NONE */
	__u32 preempt;		/* kernel sets 1; userspace clears on yield */
	__u32 resv0;
	__u64 schedtick;	/* userspace: +1 per goroutine scheduled */
	__u64 syscalltick;	/* kernel: +1 per block of the owner */
	__u64 handoffs;		/* kernel */
	__u64 ksteals;		/* kernel: handles stolen from this P */
	__u64 resv1[2];
	/*
	 * cache line 1: the run queue. tail and ring are written only by the
	 * owner (the owning M in userspace, or the kernel on its behalf inside
	 * GORO_IOC_PARK); head is advanced by compare-and-swap by the owner
	 * and by thieves. Indices run free and are masked on use.
	 */
	__u32 head;
	__u32 tail;
	__u64 runnext;		/* owner, and thieves by compare-and-swap */
	__u64 resv2[6];
	__u64 ring[GORO_RUNQ_ENTRIES];
};

struct goro_m {
	__u32 state;		/* kernel: GORO_M_* */
	__u32 p;		/* kernel: P owned, or GORO_NONE */
	__u32 tid;		/* kernel */
	/* userspace: non-zero = do not hand off the P (inside the runtime) */
	__u32 locks;
	__u64 curg;		/* userspace: handle of the running goroutine */
	__u64 resv[5];
};

/*
 * The goroutine registry: where the process publishes its goroutines for
 * /proc/goro/<pid>/goroutines (GORO_IOC_GREGISTER). Userspace owns it
 * entirely; the kernel only reads it, from the /proc reader, never trusts
 * it, and shows what it can: the walk stops at a bad pointer, a loop,
 * GORO_GREG_MAX entries shown (16 times as many walked) or a bad header,
 * and skips entries it cannot read or that keep changing while it reads
 * them.
 */
#define GORO_GREG_MAGIC		0x67657267U	/* "greg" little-endian */
#define GORO_GREG_VERSION	1
#define GORO_GREG_MAX		10000	/* entries /proc shows at most */

/* The registry header; userspace writes every field. */
struct goro_greg {
	__u32 magic;		/* GORO_GREG_MAGIC */
	__u32 version;		/* GORO_GREG_VERSION */
	__u32 count;		/* entries on the list (informational) */
	__u32 resv0;
	__u64 first;		/* user address of the first goro_ginfo, 0 */
	__u64 resv;
};

/* Goroutine state (goro_ginfo.state). */
#define GORO_G_IDLE		0	/* being set up */
#define GORO_G_RUNNABLE		1	/* on a run queue */
#define GORO_G_RUNNING		2
#define GORO_G_WAITING		3	/* parked: waitreason says on what */
#define GORO_G_SYSCALL		4	/* in a blocking call */
#define GORO_G_DEAD		5

/* What a waiting goroutine waits for (goro_ginfo.waitreason). */
#define GORO_WAIT_NONE		0
#define GORO_WAIT_OTHER		1
#define GORO_WAIT_CHAN_SEND	2
#define GORO_WAIT_CHAN_RECV	3
#define GORO_WAIT_SELECT	4
#define GORO_WAIT_SLEEP		5
#define GORO_WAIT_IO		6
#define GORO_WAIT_WAITGROUP	7
#define GORO_WAIT_MUTEX		8
#define GORO_WAIT_RWMUTEX_R	9
#define GORO_WAIT_RWMUTEX_W	10
#define GORO_WAIT_COND		11
#define GORO_WAIT_SYSCALL	12
#define GORO_WAIT_NIL_CHAN	13	/* nil channel, empty select: forever */
#define GORO_WAIT_MAX		13

#define GORO_GNAME_LEN		32

/*
 * One goroutine; userspace writes every field. An entry in state
 * GORO_G_DEAD is the slot of a goroutine that ended, kept on the list
 * for the next one: readers skip it.
 */
struct goro_ginfo {
	__u64 id;
	__u32 state;		/* GORO_G_* */
	__u32 waitreason;	/* GORO_WAIT_* */
	__u64 entry;		/* address of the entry function */
	__u64 next;		/* user address of the next entry, 0 ends */
	__u8 name[GORO_GNAME_LEN];	/* NUL-terminated, or empty */
};

#ifndef __KERNEL__
#ifdef __cplusplus
#define GORO_STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define GORO_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif
GORO_STATIC_ASSERT(sizeof(struct goro_version) == 40, "goro_version");
GORO_STATIC_ASSERT(sizeof(struct goro_offsets) == 64, "goro_offsets");
GORO_STATIC_ASSERT(sizeof(struct goro_setup) == 128, "goro_setup");
GORO_STATIC_ASSERT(sizeof(struct goro_attach) == 32, "goro_attach");
GORO_STATIC_ASSERT(sizeof(struct goro_park) == 40, "goro_park");
GORO_STATIC_ASSERT(sizeof(struct goro_wake) == 16, "goro_wake");
GORO_STATIC_ASSERT(sizeof(struct goro_setprocs) == 16, "goro_setprocs");
GORO_STATIC_ASSERT(sizeof(struct goro_shared_hdr) == 128, "goro_shared_hdr");
GORO_STATIC_ASSERT(sizeof(struct goro_p) == 128 + 8 * GORO_RUNQ_ENTRIES, "goro_p");
GORO_STATIC_ASSERT(sizeof(struct goro_m) == 64, "goro_m");
GORO_STATIC_ASSERT(sizeof(struct goro_gregister) == 32, "goro_gregister");
GORO_STATIC_ASSERT(sizeof(struct goro_greg) == 32, "goro_greg");
GORO_STATIC_ASSERT(sizeof(struct goro_ginfo) == 64, "goro_ginfo");
#undef GORO_STATIC_ASSERT
#endif

#endif /* _UAPI_LINUX_GORO_H */
