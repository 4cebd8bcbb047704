/* SPDX-License-Identifier: MIT */
/*
 * goro.h: goroutines for C. Go's G/M/P scheduler as a library.
 *
 * The runtime starts by itself at the first call into it. The thread that
 * runs main() becomes goroutine 1, and when main() returns the process ends
 * with whatever goroutines are still alive (Go's rule). Link with -lgoro
 * -pthread; nothing else to set up.
 *
 * Environment. Read once, when the runtime starts; these are all the
 * variables libgoro reads. An empty variable counts as unset. A bad value
 * is fatal: the runtime prints "goro: NAME=VALUE: why" on stderr (e.g.
 * "goro: GORO_PROCS=abc: not a number in 1..256") and exits with status 2
 * at start-up (the first goro_ call), before the program can run on with
 * a setting it did not ask for.
 *   GORO_PROCS, else GOMAXPROCS   number of Ps, 1..GORO_MAX_PROCS; fixes
 *                                 it (see goro_setprocs for the default)
 *   GORO_STACK                    default goroutine stack size in bytes,
 *                                 4096..1073741824 (default 65536),
 *                                 rounded up to pages
 *   GORO_MAXTHREADS               at most this many threads run
 *                                 goroutines, 1..2147483647 (default
 *                                 10000, as Go's); more is a fatal error.
 *                                 On kmod, idle threads beyond nprocs + 4
 *                                 exit after about a second.
 *   GORO_BACKEND                  user or kmod (see goro_backend)
 *   GORO_DEBUG                    0 or 1 (default 0). 1: print on stderr,
 *                                 at start-up, the backend and why, the
 *                                 number of Ps and where it came from,
 *                                 the stack size and GORO_MAXTHREADS in
 *                                 effect; later, each change of the
 *                                 number of Ps that follows the machine.
 *   GORO_CGROUP_ROOT              for tests only: an absolute path to a
 *                                 directory used as the cgroup v2
 *                                 hierarchy's mount instead of the one
 *                                 in /proc/self/mountinfo
 *
 * Goroutine context. Most calls are meant to be made by a goroutine. A
 * "foreign thread" is any thread that is not running a goroutine (a thread
 * the program created with pthread_create, or any thread once main has
 * ended). Each call below says what it does from a foreign thread: it
 * either works (blocking the thread itself instead of a goroutine) or
 * fails with a clear error. Nothing is undefined.
 *
 * Thread-local storage. A goroutine may resume on a different thread after
 * any call that can block or yield (goro_yield, goro_sleep, goro_wg_wait,
 * goro_mutex_lock, ...). Compilers cache the address of thread-local
 * variables (errno included) across calls, so:
 *   - do not keep a pointer to a thread-local variable across such a call;
 *   - read errno right after the call that set it, before any goro_ call;
 *   - thread-local caches of other libraries (e.g. a per-thread allocator
 *     arena) stay correct, they only see the goroutine as a thread user.
 * The runtime itself reaches its per-thread state only through non-inlined
 * accessors, so it never suffers from this.
 *
 * Deadlock. When every goroutine is blocked and nothing (a sleeping
 * goroutine's timer, a thread in goro_syscall_enter) can wake one, the
 * runtime prints "fatal error: all goroutines are asleep - deadlock!" and
 * every goroutine, and exits with status 2, as Go does. The check is off
 * while the process has threads of its own besides the runtime's (they
 * might still release a goroutine).
 *
 * Errors, one convention. A call that returns an integer (int, ssize_t,
 * int64_t) returns a negative errno value on failure (-EINVAL, -ENOMEM,
 * -ETIMEDOUT, ...); errno is not part of its answer (it may change);
 * what it returns on success
 * (0, a count, an id, a descriptor) is never negative. A call that
 * returns a pointer (a channel, a timer, a context, a group, ...) returns
 * NULL on failure with errno set, the only way it can say why. A call
 * that returns a bool answers a question (got the lock? stopped the
 * timer? a value rather than a close?) and cannot fail; one that returns
 * nothing cannot fail either. Misuse that no return value can
 * report is a fatal error with a message (Go's panics: a send on a closed
 * channel, unlocking an unlocked mutex, ...). Two exceptions:
 * goro_exit() from a foreign thread returns, with errno EPERM; and
 * goro_getaddrinfo() also returns the resolver's EAI_ codes, as
 * GORO_EAI_ERR(code), negative and below every -errno.
 *
 * Blocking calls. A goroutine that blocks its thread in the kernel (read on
 * a pipe, a long computation is fine) keeps its P busy. Bracket such calls
 * with goro_syscall_enter()/goro_syscall_exit() (or GORO_SYSCALL()) so the
 * runtime can hand the P to another thread while the call blocks.
 */
#ifndef GORO_H
#define GORO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define GORO_API __attribute__((visibility("default")))
#else
#define GORO_API
#endif

/*
 * The release this header belongs to (the tree's VERSION file, which the
 * build checks these against). The shared library's soname is
 * libgoro.so.GORO_VERSION_MAJOR.
 */
#define GORO_VERSION_MAJOR 1
#define GORO_VERSION_MINOR 0
#define GORO_VERSION_PATCH 0

typedef void (*goro_fn)(void *arg);

/* ---- goroutines -------------------------------------------------------- */

/*
 * Start a goroutine running fn(arg). Returns its id (> 0), or -EINVAL when
 * fn is NULL, -ENOMEM when no stack can be allocated, -EAGAIN when the
 * runtime could not start (no thread could be created).
 * Thread-safe; works from foreign threads (the goroutine goes to the global
 * run queue). The new goroutine runs concurrently with the caller; the
 * caller keeps running (the new goroutine is placed next on its P).
 */
GORO_API int64_t goro_go(goro_fn fn, void *arg);

/* Options for goro_go_opts(). Zero-initialise, then set what you need. */
struct goro_spawn_opts {
	size_t stack_size;	/* usable stack bytes; 0 = default (GORO_STACK
				 * or 64 KiB); rounded up to a page; at most
				 * 1 GiB */
	const char *name;	/* shown by goro_dump(); copied (its first
				 * 31 bytes) at spawn; may be NULL */
	uint32_t flags;		/* GORO_SPAWN_*; others must be 0 */
	uint32_t resv[3];	/* must be 0 */
};

/*
 * GORO_SPAWN_ASYNC_PREEMPT: the goroutine may be preempted anywhere in its
 * own code, not only at preempt points (Go's asynchronous preemption). When
 * it has run 10 ms and still ignores its P's preempt flag ~1 ms later, the
 * monitor sends SIGURG to its thread; the handler makes it yield at the
 * interrupted instruction, every register (vector state included) kept.
 * It acts only while the goroutine runs code of the executable or shared
 * library that holds fn: never inside libgoro, libc or other libraries
 * (calls into them are left to finish), and never between
 * goro_syscall_enter and goro_syscall_exit. Opt-in, because the goroutine's
 * own code must then tolerate a switch at any instruction:
 *   - it must not spin on, or hold across a long loop, a lock that another
 *     goroutine of the same P needs (a hand-written spin lock would spin
 *     forever with 1 P), and it must not run inside a signal handler;
 *   - it may resume on another thread: it must not keep the address of a
 *     thread-local variable (errno included) across instructions;
 *   - SIGURG with SA_RESTART may still end some system calls of other code
 *     early with EINTR (as in Go); a SIGURG handler the program installed
 *     before is still called for SIGURGs the runtime did not send.
 * Needs x86-64 and a dynamically linked libc (goro_go_opts returns
 * -EOPNOTSUPP otherwise, e.g. in a -static program).
 */
#define GORO_SPAWN_ASYNC_PREEMPT 0x1U

/*
 * goro_go() with options. opts may be NULL (same as goro_go). Errors as
 * goro_go(), plus -EINVAL for unknown flags, non-zero resv or a stack size
 * above 1 GiB, -EOPNOTSUPP for GORO_SPAWN_ASYNC_PREEMPT where it is not
 * supported.
 */
GORO_API int64_t goro_go_opts(goro_fn fn, void *arg,
			      const struct goro_spawn_opts *opts);

/*
 * Let other goroutines run; the caller is put back on its P's run queue.
 * From a foreign thread: sched_yield().
 */
GORO_API void goro_yield(void);

/* Id of the calling goroutine; main is 1. 0 from a foreign thread. */
GORO_API int64_t goro_id(void);

/*
 * Name the calling goroutine, for goro_dump(), debuggers and
 * /proc/goro/<pid>/goroutines. name is copied (its first 31 bytes) and may
 * be NULL (no name). 0, or -EPERM from a foreign thread.
 */
GORO_API int goro_setname(const char *name);

/*
 * End the calling goroutine, like Go's runtime.Goexit (no unwinding, no
 * cleanup of C frames). Never returns when called by a goroutine. If main
 * calls it, the program keeps running the other goroutines; when none is
 * left the runtime reports the deadlock and exits with status 2.
 * From a foreign thread it does nothing, sets errno to EPERM and returns.
 */
GORO_API void goro_exit(void);

/*
 * Park the calling goroutine for at least ns nanoseconds; its thread runs
 * other goroutines meanwhile. ns <= 0 returns at once. Returns 0.
 * From a foreign thread: sleeps the thread (nanosleep), returns 0.
 */
GORO_API int goro_sleep(int64_t ns);

/*
 * Set the number of Ps (Go's GOMAXPROCS) to n, 1..GORO_MAX_PROCS; n <= 0
 * only queries. Returns the previous value, or -EINVAL for n above
 * GORO_MAX_PROCS, -ENOMEM. Lowering takes effect as running goroutines
 * reach their next scheduling point. Thread-safe.
 *
 * The number of Ps follows the machine until it is fixed (Go 1.25's
 * rule): it starts at the CPUs of the process's affinity mask (its main
 * thread's, as sched_setaffinity(getpid()) and taskset -p set it), capped
 * by the cgroup v2 CPU quota of the process's cgroup and of its ancestors
 * (cpu.max "QUOTA PERIOD": ceil(QUOTA / PERIOD) CPUs, at least 1; "max":
 * no limit), and the runtime reads both again every second, so a change
 * of either moves it, as goro_setprocs would. GORO_PROCS or GOMAXPROCS at
 * start-up, or a call with n > 0, fixes it: from then on it changes only
 * by goro_setprocs.
 */
#define GORO_MAX_PROCS 256
GORO_API int goro_setprocs(int n);

/* Current number of Ps. Thread-safe. */
GORO_API int goro_numprocs(void);

/*
 * Number of live goroutines, main included. Thread-safe. Exact while no
 * goroutine starts or ends; meanwhile it may be off by those in flight
 * (never below 1 when called from a goroutine, never below 0).
 */
GORO_API int64_t goro_numgoroutine(void);

/*
 * Cheap check (one load) of the calling P's preempt flag, set by the
 * monitor when the goroutine ran for more than 10 ms without giving up its
 * P; yields when set. Put it in long loops. No-op on a foreign thread.
 *
 * Compiler-inserted preempt points: code built with -finstrument-functions
 * and linked with -lgoro_instrument (before -lgoro) makes this check at the
 * entry of every function it compiles (libgoro_instrument.a provides
 * __cyg_profile_func_enter/exit). Programs that do not use the option pay
 * nothing. Functions marked __attribute__((no_instrument_function)) are
 * left out; mark so any signal handler in instrumented code, since a
 * handler must not switch goroutines.
 */
GORO_API void goro_preempt_point(void);

/*
 * Bracket a call that may block the thread in the kernel:
 *     goro_syscall_enter(); n = read(fd, buf, len); goro_syscall_exit();
 * While inside, the monitor may give the goroutine's P to another thread
 * (after ~20 us; on the kmod backend the module does it for any blocking
 * call, bracketed or not), so the other goroutines keep running; goro_syscall_exit()
 * gets a P back (the same one when still free), waiting if needed. Make no
 * other goro_ call between the two. errno is preserved by both. Pairs do
 * not nest. No-ops on a foreign thread.
 */
GORO_API void goro_syscall_enter(void);
GORO_API void goro_syscall_exit(void);
#define GORO_SYSCALL(expr)                                                     \
	(goro_syscall_enter(), goro__syscall_ret((intptr_t)(expr)))
GORO_API intptr_t goro__syscall_ret(intptr_t r);

/*
 * Print every goroutine to stderr, Go traceback style: id, state, wait
 * reason, how long it waits, entry function and name. Also done on
 * SIGQUIT (then the process exits with status 2, as Go does) unless the
 * program installed its own SIGQUIT handler before the runtime started.
 * Thread-safe; reads goroutine state without stopping anything, so a dump
 * taken while goroutines run is a snapshot of moving state.
 */
GORO_API void goro_dump(void);

/*
 * Name of the backend in use, chosen when the runtime starts:
 *   "kmod"  goro.ko (/dev/goro): the Ps' run queues are shared with the
 *           module, idle threads park in the kernel, and the P of a thread
 *           that blocks in the kernel for any reason (a syscall, a page
 *           fault, a lock inside a library) moves to another thread at
 *           once: goro_syscall_enter/exit are not needed (and cost nothing).
 *   "user"  futex parking and a monitor thread; only calls bracketed by
 *           goro_syscall_enter/exit give up their P.
 * kmod is used when /dev/goro can be opened and set up, user otherwise.
 * GORO_BACKEND=kmod|user (read once at start-up) uses that one; with kmod
 * and no usable /dev/goro the runtime prints why on stderr and exits with
 * status 2 at start-up (the first goro_ call), as for any other value.
 * GORO_DEBUG=1 prints which backend, and why.
 * A process that forks should only exec (or _exit) in the child: the
 * child inherits neither the module's instance nor the other threads.
 */
GORO_API const char *goro_backend(void);

/* ---- synchronisation ---------------------------------------------------- */
/*
 * All primitives below are plain structs: initialise them with their
 * GORO_*_INIT or zero them; they need no destruction. Their fields are
 * private. Blocking parks the goroutine, not its thread. Every call is
 * thread-safe and also works from a foreign thread (which then blocks
 * itself on a futex). None may be copied after first use.
 */

/* WaitGroup (Go's sync.WaitGroup). */
typedef struct goro_wg {
	int64_t _n;
	uint32_t _lk;
	uint32_t _resv;
	void *_head, *_tail;
} goro_wg;
#define GORO_WG_INIT {0, 0, 0, 0, 0}

/*
 * Add delta (may be negative) to the counter; at zero every waiter is
 * released. A counter going negative aborts the process with
 * "fatal error: sync: negative WaitGroup counter", as Go panics. The
 * counter is 32-bit as in Go: a delta outside int32_t aborts. As in Go, a
 * positive delta while the counter is zero and goroutines are still being
 * released by the previous zero aborts ("WaitGroup misuse").
 * Once the counter is zero, neither the add that made it so nor a
 * returning goro_wg_wait touches the WaitGroup again: the waiter may free
 * it (or return from the frame that holds it) as soon as wait returns.
 */
GORO_API void goro_wg_add(goro_wg *wg, int64_t delta);
/* goro_wg_add(wg, -1). */
GORO_API void goro_wg_done(goro_wg *wg);
/* Block until the counter is zero. */
GORO_API void goro_wg_wait(goro_wg *wg);

/*
 * Mutex (Go's sync.Mutex): not recursive, not owned (any goroutine may
 * unlock it). Fair as Go's is: an unlock wakes the oldest waiter, which
 * competes with goroutines that are running and may lose to them; once a
 * waiter has waited more than 1 ms, unlocks hand the mutex to the waiters
 * in the order they came until the queue is served.
 */
typedef struct goro_mutex {
	uint32_t _state;
	uint32_t _lk;
	void *_head, *_tail;
} goro_mutex;
#define GORO_MUTEX_INIT {0, 0, 0, 0}

GORO_API void goro_mutex_lock(goro_mutex *m);
/* Take the mutex if free; true when taken. Never blocks. */
GORO_API bool goro_mutex_trylock(goro_mutex *m);
/*
 * Unlocking a mutex that is not locked aborts with
 * "fatal error: sync: unlock of unlocked mutex".
 */
GORO_API void goro_mutex_unlock(goro_mutex *m);

/*
 * Reader/writer mutex (Go's sync.RWMutex). Once a writer waits, new
 * readers wait behind it (no writer starvation); a writer's unlock admits
 * every reader that waited.
 */
typedef struct goro_rwmutex {
	uint32_t _lk;
	int32_t _readers;	/* > 0 readers in, -1 a writer in */
	uint32_t _wwait;
	uint32_t _resv;
	void *_rhead, *_rtail, *_whead, *_wtail;
} goro_rwmutex;
#define GORO_RWMUTEX_INIT {0, 0, 0, 0, 0, 0, 0, 0}

GORO_API void goro_rwmutex_rlock(goro_rwmutex *rw);
GORO_API bool goro_rwmutex_tryrlock(goro_rwmutex *rw);
/* Aborts with "fatal error: sync: RUnlock of unlocked RWMutex". */
GORO_API void goro_rwmutex_runlock(goro_rwmutex *rw);
GORO_API void goro_rwmutex_lock(goro_rwmutex *rw);
GORO_API bool goro_rwmutex_trylock(goro_rwmutex *rw);
/* Aborts with "fatal error: sync: Unlock of unlocked RWMutex". */
GORO_API void goro_rwmutex_unlock(goro_rwmutex *rw);

/* Condition variable (Go's sync.Cond), used with a goro_mutex. */
typedef struct goro_cond {
	uint32_t _lk;
	uint32_t _resv;
	void *_head, *_tail;
} goro_cond;
#define GORO_COND_INIT {0, 0, 0, 0}

/*
 * Atomically unlock m and wait; relock m before returning. m must be
 * locked. As in Go, a wake-up does not mean the condition holds: wait in a
 * loop. There are no spurious wake-ups.
 */
GORO_API void goro_cond_wait(goro_cond *c, goro_mutex *m);
/* Wake the longest waiter, if any. */
GORO_API void goro_cond_signal(goro_cond *c);
/* Wake every waiter. */
GORO_API void goro_cond_broadcast(goro_cond *c);

/* Once (Go's sync.Once). */
typedef struct goro_once {
	uint32_t _done;
	uint32_t _resv;
	goro_mutex _m;
} goro_once;
#define GORO_ONCE_INIT {0, 0, GORO_MUTEX_INIT}

/*
 * Run fn(arg) if no call on this once has run it yet; every caller returns
 * only after fn has finished. fn must not call goro_once_do on the same
 * once (it would wait for itself).
 */
GORO_API void goro_once_do(goro_once *o, goro_fn fn, void *arg);

/* ---- Channels, select, timers and I/O ------------------------------------ */
/*
 * Channels (Go's chan). A channel carries elements of a fixed size, copied
 * in and out with memcpy. Every call is thread-safe. A goroutine that
 * blocks parks (its thread runs other goroutines); a foreign thread that
 * blocks sleeps on a futex, so goroutines and threads may talk through the
 * same channel. As in Go, a NULL channel is the nil channel: sending to or
 * receiving from it blocks forever, and a select case on it never fires.
 * Panics of Go (send on a closed channel, closing a closed or nil channel)
 * print "panic: <what>" and end the process with status 2.
 */
typedef struct goro_chan goro_chan;

/*
 * A channel of elements of elem_size bytes (0 allowed: a pure signal, like
 * chan struct{}; below 64 KiB) with a buffer of cap elements; cap 0 is an
 * unbuffered channel (every send meets a receive). Returns NULL with errno
 * EINVAL (elem_size too big, cap * elem_size overflows) or ENOMEM.
 */
GORO_API goro_chan *goro_chan_make(size_t elem_size, size_t cap);

/*
 * Send the element at elem (elem_size bytes; NULL sends zeros), waiting
 * for a receiver or for room in the buffer. Returns 0. Sending on a closed
 * channel, or being blocked in a send when the channel is closed, aborts
 * the process with "panic: send on closed channel", as Go panics.
 */
GORO_API int goro_chan_send(goro_chan *c, const void *elem);

/*
 * Receive into elem (may be NULL to discard), waiting for a sender. True
 * with the element; false when the channel is closed and drained, with
 * elem zeroed (Go's "v, ok := <-c" with ok == false). Elements buffered
 * before close are still received, in order.
 */
GORO_API bool goro_chan_recv(goro_chan *c, void *elem);

/* Send without waiting: 0 when sent, -EAGAIN when it would block. */
GORO_API int goro_chan_trysend(goro_chan *c, const void *elem);

/*
 * Receive without waiting: 0 with *ok as goro_chan_recv would return
 * (ok may be NULL), or -EAGAIN when it would block (elem untouched).
 */
GORO_API int goro_chan_tryrecv(goro_chan *c, void *elem, bool *ok);

/*
 * Close: every waiting and future receiver gets the buffered elements,
 * then false; every waiting sender panics. Closing a closed channel aborts
 * with "panic: close of closed channel", a NULL one with "panic: close of
 * nil channel".
 */
GORO_API void goro_chan_close(goro_chan *c);

/*
 * Free a channel nobody uses any more. NULL is a no-op. Freeing a channel
 * with blocked senders or receivers aborts. A channel from goro_after may
 * be freed before its timer fires: it is freed once the timer is done.
 */
GORO_API void goro_chan_free(goro_chan *c);

/* Elements in the buffer (a racy snapshot) and buffer size. 0 for NULL. */
GORO_API size_t goro_chan_len(goro_chan *c);
GORO_API size_t goro_chan_cap(goro_chan *c);

/* A select case: send *elem to chan, or receive from chan into elem. */
#define GORO_SEND 1
#define GORO_RECV 2
struct goro_case {
	int dir;		/* GORO_SEND or GORO_RECV */
	goro_chan *chan;	/* NULL: a case that never fires */
	void *elem;		/* send: the element (read only; NULL sends
				 * zeros); receive: where to put it, or NULL */
	bool *ok;		/* receive: set as goro_chan_recv's result;
				 * may be NULL; unused for sends */
};

/*
 * Go's select: wait until one of the n cases can proceed, perform it and
 * return its index. When several are ready, one is chosen uniformly at
 * random; so is the case that fires when a blocked select has several
 * cases on the channel a sender, receiver or close comes to. A receive
 * case on a closed channel is ready (*ok = false); a send case on a
 * closed channel panics. With block false, returns -EAGAIN when no case
 * is ready (Go's default branch). n == 0 (or only NULL channels) with
 * block true waits forever. -EINVAL for n < 0, n > 65536, cases NULL with
 * n > 0, or a dir other than GORO_SEND/GORO_RECV; -ENOMEM when n > 8 and
 * the case arrays cannot be allocated.
 */
GORO_API int goro_select(struct goro_case *cases, int n, bool block);

/*
 * Go's time.After: a channel (elements int64_t, cap 1) that receives the
 * CLOCK_MONOTONIC time in ns once at least ns nanoseconds have passed
 * (ns <= 0: at once). Free it with goro_chan_free when done (also allowed
 * before it fires). NULL with errno ENOMEM. Thread-safe.
 */
GORO_API goro_chan *goro_after(int64_t ns);

/*
 * The clock of every timer and deadline: CLOCK_MONOTONIC in ns (Go's
 * time.Now for measuring, never going back). Thread-safe, any thread.
 */
GORO_API int64_t goro_now(void);

/*
 * Timers (Go's time.Timer and time.AfterFunc) and tickers (Go's
 * time.Ticker). They live on the runtime's per-P timer heaps, as
 * goro_sleep and goro_after do: an armed timer costs one heap slot and
 * fires on whichever thread runs that heap, never early. A stopped timer
 * holds no slot; the handle itself is freed only by goro_timer_free or
 * goro_ticker_free. Every call is thread-safe (calls on one handle are
 * serialised), works from foreign threads, and accepts NULL as a no-op
 * (false, -EINVAL or NULL where it returns something).
 *
 * Channels follow Go 1.23: the channel of a timer or ticker has elements
 * int64_t (the goro_now() time it fired at) and a buffer of 1; Stop and
 * Reset drop a value that waits unreceived in it, so no receive that
 * starts after they return gets a value from before. A ticker's channel
 * holds at most one tick: ticks a slow receiver has no room for are
 * dropped, as in Go. Do not free a timer while a goroutine waits on its
 * channel (freeing a channel with waiters aborts, see goro_chan_free).
 */
typedef struct goro_timer goro_timer;
typedef struct goro_ticker goro_ticker;

/*
 * Go's time.NewTimer: a timer that sends the time on its channel once,
 * after at least ns nanoseconds (ns <= 0: at once, before the call
 * returns). NULL with errno ENOMEM (or EAGAIN: the runtime could not
 * start).
 */
GORO_API goro_timer *goro_timer_make(int64_t ns);

/*
 * Go's time.AfterFunc: after at least ns nanoseconds, fn(arg) runs in a
 * goroutine of its own, started by the runtime (ns <= 0: started before
 * the call returns). Its channel is NULL (goro_timer_chan). NULL with
 * errno EINVAL (fn NULL), ENOMEM or EAGAIN. If the goroutine cannot be
 * started when the timer fires, the process aborts ("fatal error"), as
 * Go does when out of memory.
 */
GORO_API goro_timer *goro_afterfunc(int64_t ns, goro_fn fn, void *arg);

/* The channel a timer sends on; NULL for a goro_afterfunc timer. */
GORO_API goro_chan *goro_timer_chan(goro_timer *t);

/*
 * Go's Timer.Stop: stop t, so that it delivers nothing more. True when
 * this call stopped a delivery: the timer had not fired, or (a channel
 * timer) its value had not been received yet and is dropped. False when
 * it had already delivered (value received, or the afterfunc's goroutine
 * started or about to be: Stop does not wait for it) or was stopped.
 */
GORO_API bool goro_timer_stop(goro_timer *t);

/*
 * Go's Timer.Reset: stop t as goro_timer_stop does, then arm it to fire
 * once more after ns nanoseconds (ns <= 0: at once), whether or not it
 * had fired. Returns 1 when the stop stopped a delivery, 0 when not (as
 * goro_timer_stop's true and false), -ENOMEM when it could not be armed
 * (it is then stopped), -EINVAL for NULL.
 */
GORO_API int goro_timer_reset(goro_timer *t, int64_t ns);

/*
 * Stop t and free it and its channel. Nothing of it stays behind; an
 * afterfunc goroutine already started runs on.
 */
GORO_API void goro_timer_free(goro_timer *t);

/*
 * Go's time.NewTicker: a ticker that sends the time on its channel every
 * period nanoseconds, the first after one period. It keeps its rhythm:
 * a late tick does not delay the next ones, and ticks missed altogether
 * (a thread that ran the heap late) are skipped. NULL with errno EINVAL
 * (period <= 0, where Go panics), ENOMEM or EAGAIN.
 */
GORO_API goro_ticker *goro_ticker_make(int64_t period);

/* The channel the ticker sends on. */
GORO_API goro_chan *goro_ticker_chan(goro_ticker *k);

/*
 * Go's Ticker.Stop: no tick is sent after it returns, and a tick waiting
 * unreceived is dropped. The channel stays open (a receive then blocks).
 */
GORO_API void goro_ticker_stop(goro_ticker *k);

/*
 * Go's Ticker.Reset: stop k and start it again with this period, the
 * next tick one period from now (also after goro_ticker_stop). 0, or
 * -EINVAL (period <= 0, NULL), -ENOMEM (it is then stopped).
 */
GORO_API int goro_ticker_reset(goro_ticker *k, int64_t period);

/* Stop k and free it and its channel. */
GORO_API void goro_ticker_free(goro_ticker *k);

/* ---- Contexts, groups and semaphores ------------------------------------ */
/*
 * Contexts (Go's context.Context). A context says when the work done
 * under it should stop: it is cancelled by goro_ctx_cancel, by its
 * deadline, or by the cancel of its parent, and then stays cancelled.
 * Cancelling a context cancels every context made from it, never its
 * parent. What waits under a context (the _ctx I/O calls, goro_fd_wait,
 * goro_sema_acquire, a goro_select on goro_ctx_done) wakes when it is
 * cancelled.
 *
 * NULL is the background context (Go's context.Background): never
 * cancelled, no deadline; goro_ctx_done(NULL) is the nil channel, whose
 * select case never fires. Every call below accepts NULL.
 *
 * Errors. goro_ctx_err is 0 while the context is live, -ECANCELED once
 * it was cancelled (Go's context.Canceled), -ETIMEDOUT once its deadline
 * (or an ancestor's) passed first (Go's context.DeadlineExceeded); a
 * child gets its parent's err. goro_ctx_cause is what the canceller gave
 * (goro_ctx_cancel_cause; Go's context.Cause), else the err.
 *
 * References. A context is freed when its last reference is dropped.
 * Its creator holds one, dropped by goro_ctx_free (which cancels it
 * first: Go's "defer cancel()") or by goro_ctx_unref (which does not);
 * goro_ctx_ref takes another, for a goroutine that uses the context
 * while its creator may free it. A context stays alive while a context
 * made from it does, or while its deadline's timer is pending; dropping
 * the last reference cancels it, so it releases its timer and its place
 * in its parent. Every call given a context needs it alive for the
 * call's duration, and goro_ctx_done's channel lives as long as the
 * context (do not wait on it after dropping your reference). Every
 * context made must be freed (or unref'd) once, or it leaks.
 *
 * Thread-safe; every call works from foreign threads. A deadline's
 * timer runs on the runtime's timer heaps, as goro_timer's do.
 */
typedef struct goro_ctx goro_ctx;

/*
 * Go's context.WithCancel: a new live context below parent (NULL: a
 * root), or one already cancelled when parent is (with its err and
 * cause). NULL with errno ENOMEM or EAGAIN (the runtime could not start).
 */
GORO_API goro_ctx *goro_ctx_make(goro_ctx *parent);

/*
 * Go's context.WithDeadline: as goro_ctx_make, cancelled with
 * -ETIMEDOUT at the absolute goro_now() time deadline (0: none), never
 * before; at once when it has passed. The parent's earlier deadline
 * wins. NULL with errno EINVAL (deadline < 0), ENOMEM or EAGAIN.
 */
GORO_API goro_ctx *goro_ctx_make_deadline(goro_ctx *parent, int64_t deadline);

/*
 * Go's context.WithTimeout: goro_ctx_make_deadline(parent,
 * goro_now() + ns); ns <= 0 gives a context whose deadline has passed.
 */
GORO_API goro_ctx *goro_ctx_make_timeout(goro_ctx *parent, int64_t ns);

/*
 * Cancel c and every context below it (err -ECANCELED), unless c is
 * cancelled already (then nothing changes): its done channel is closed
 * and whatever waits under it wakes. cause (Go's WithCancelCause) is
 * what goro_ctx_cause will say, any non-zero value (a -errno, say); 0
 * means -ECANCELED. c leaves its parent and its timer is stopped.
 */
GORO_API void goro_ctx_cancel_cause(goro_ctx *c, int cause);
/* goro_ctx_cancel_cause(c, 0). */
GORO_API void goro_ctx_cancel(goro_ctx *c);

/*
 * Go's Context.Done: a channel (element size 0) closed when c is
 * cancelled, for goro_chan_recv or a goro_select case. Owned by c.
 */
GORO_API goro_chan *goro_ctx_done(goro_ctx *c);

/* Go's Context.Err: 0 (live), -ECANCELED or -ETIMEDOUT. */
GORO_API int goro_ctx_err(goro_ctx *c);

/* Go's context.Cause: 0 while live, else the cause (see above). */
GORO_API int goro_ctx_cause(goro_ctx *c);

/* Go's Context.Deadline: the absolute goro_now() deadline, 0 for none. */
GORO_API int64_t goro_ctx_deadline(goro_ctx *c);

/* Take a reference on c; returns c. */
GORO_API goro_ctx *goro_ctx_ref(goro_ctx *c);
/* Drop a reference (the last one cancels c, then frees it). */
GORO_API void goro_ctx_unref(goro_ctx *c);
/* goro_ctx_cancel(c), then goro_ctx_unref(c): what the creator calls. */
GORO_API void goro_ctx_free(goro_ctx *c);

/*
 * Weighted semaphore (golang.org/x/sync/semaphore): a size, and weight
 * acquired and released in any amounts. Waiters are served in arrival
 * order, and only from the head: a large request at the head waits for
 * room and holds back smaller ones behind it (it is never starved). A
 * plain struct like the primitives above: GORO_SEMA_INIT(size) or
 * goro_sema_init, no destruction, not copied after first use.
 * Thread-safe; works from foreign threads.
 */
typedef struct goro_sema {
	int64_t _size;
	int64_t _cur;
	uint32_t _lk;
	uint32_t _resv;
	void *_head, *_tail;
} goro_sema;
#define GORO_SEMA_INIT(size) {(size), 0, 0, 0, 0, 0}

/* Initialise s with size n >= 0 (nothing held): 0 or -EINVAL. */
GORO_API int goro_sema_init(goro_sema *s, int64_t n);

/*
 * Go's Weighted.Acquire: wait until n can be had (FIFO, as above), take
 * it, return 0. Under a context (ctx may be NULL): its err, with nothing
 * taken, when ctx is cancelled before the weight is had or while the
 * call returns (a cancelled ctx wins even when the weight is free, as
 * in Go). -EINVAL for n < 0 or n > size (where Go would wait for ctx
 * forever).
 */
GORO_API int goro_sema_acquire(goro_sema *s, int64_t n, goro_ctx *ctx);

/*
 * Go's Weighted.TryAcquire: take n if it is free and nobody waits; true
 * when taken. Never blocks. False for n < 0.
 */
GORO_API bool goro_sema_tryacquire(goro_sema *s, int64_t n);

/*
 * Go's Weighted.Release: give back n and serve the waiters that now fit.
 * Releasing more than is held (or n < 0) aborts with "fatal error:
 * semaphore: released more than held", as Go panics.
 */
GORO_API void goro_sema_release(goro_sema *s, int64_t n);

/*
 * Groups (golang.org/x/sync/errgroup): goroutines working on parts of
 * one task. Each returns 0 or an error (any non-zero int, a -errno say);
 * the first error is kept, and cancels the group's context (its cause is
 * that error) so the others can stop early. goro_group_wait waits for
 * all and returns the first error. Calls on one group are thread-safe.
 */
typedef struct goro_group goro_group;
typedef int (*goro_group_fn)(goro_ctx *ctx, void *arg);

/*
 * Go's errgroup.WithContext: a group whose context is a child of parent
 * (NULL: a root). NULL with errno ENOMEM or EAGAIN.
 */
GORO_API goro_group *goro_group_make(goro_ctx *parent);

/*
 * The group's context, passed to each fn: cancelled by the first error
 * and by goro_group_wait. Owned by the group (goro_ctx_ref it to keep it
 * past goro_group_free).
 */
GORO_API goro_ctx *goro_group_ctx(goro_group *g);

/*
 * Go's Group.SetLimit: at most n of the group's goroutines run at once
 * (n < 0: no limit, the default). 0, -EINVAL (n == 0, which would block
 * every goro_group_go: Go deadlocks there), -EBUSY when goroutines of
 * the group are running (Go panics).
 */
GORO_API int goro_group_setlimit(goro_group *g, int64_t n);

/*
 * Go's Group.Go: run fn(ctx, arg) in a new goroutine of the group,
 * waiting first while the limit is reached. 0, or -EINVAL (fn NULL),
 * -ENOMEM, -EAGAIN as goro_go (nothing started).
 */
GORO_API int goro_group_go(goro_group *g, goro_group_fn fn, void *arg);

/* Go's Group.TryGo: as goro_group_go, but -EAGAIN at the limit. */
GORO_API int goro_group_trygo(goro_group *g, goro_group_fn fn, void *arg);

/*
 * Go's Group.Wait: wait until every goroutine of the group has returned,
 * cancel the group's context (cause: the first error, or -ECANCELED),
 * and return the first error, 0 when none. The group may take more
 * goroutines afterwards (they see a cancelled context).
 */
GORO_API int goro_group_wait(goro_group *g);

/* Free a group (after goro_group_wait), its context included. */
GORO_API void goro_group_free(goro_group *g);

/*
 * Goroutine-friendly I/O. Each call tries the operation at once; when the
 * file descriptor is not ready the goroutine parks until the netpoller
 * (epoll, edge-triggered) says it may be, and its thread runs other
 * goroutines meanwhile. Sockets are used with MSG_DONTWAIT and keep their
 * flags; other descriptors (pipes, ttys), listening sockets and sockets
 * given to goro_connect are switched to O_NONBLOCK, as Go does for the
 * descriptors it polls. Errors are returned as -errno; EINTR is retried.
 * Several goroutines may wait on one descriptor. goro_close wakes every
 * call waiting on the descriptor (they return -EBADF, Go's "use of
 * closed network connection"); a plain close(2) does not. From a foreign
 * thread the calls work, sleeping the thread in poll(2).
 *
 * The _deadline variants take an absolute CLOCK_MONOTONIC time in ns (0 =
 * none) and return -ETIMEDOUT once it has passed with nothing done, never
 * before.
 *
 * The _ctx variants wait under a context (see Contexts above; NULL: the
 * plain call): when ctx is cancelled while the call waits, or before it
 * would wait, the call returns ctx's err with nothing done: -ECANCELED,
 * or -ETIMEDOUT when ctx's deadline (or an ancestor's) passed. ctx's
 * deadline is the call's. ctx must stay alive for the call's duration.
 *
 * Both are checked only when the call would wait: a ready descriptor wins
 * over a passed deadline or a cancelled context (the call tries the
 * operation first), and the writes return the bytes written when the
 * deadline or the cancel stopped them after some. A connect that ended
 * early leaves its attempt under way: goro_connect again on the socket
 * waits for it, or close it with goro_close. Nothing of an ended call stays
 * registered: the descriptor serves later calls as before.
 */
#include <sys/types.h>
#include <sys/socket.h>

/* One read: bytes read (0 at end of file), or -errno. */
GORO_API ssize_t goro_read(int fd, void *buf, size_t n);
GORO_API ssize_t goro_read_deadline(int fd, void *buf, size_t n,
				   int64_t deadline);
GORO_API ssize_t goro_read_ctx(int fd, void *buf, size_t n, goro_ctx *ctx);

/*
 * Write all n bytes (looping over short writes; writing to a socket whose
 * peer is gone gives -EPIPE, never SIGPIPE). Returns n, or the bytes
 * written when an error, the deadline or ctx's cancel stopped it after
 * some, else -errno.
 */
GORO_API ssize_t goro_write(int fd, const void *buf, size_t n);
GORO_API ssize_t goro_write_deadline(int fd, const void *buf, size_t n,
				    int64_t deadline);
GORO_API ssize_t goro_write_ctx(int fd, const void *buf, size_t n,
			       goro_ctx *ctx);

/* accept4(fd, sa, len, SOCK_CLOEXEC): the new descriptor, or -errno. */
GORO_API int goro_accept(int fd, struct sockaddr *sa, socklen_t *len);
GORO_API int goro_accept_deadline(int fd, struct sockaddr *sa, socklen_t *len,
				  int64_t deadline);
GORO_API int goro_accept_ctx(int fd, struct sockaddr *sa, socklen_t *len,
			     goro_ctx *ctx);

/* connect(2), waiting for it to complete: 0 or -errno (-ECONNREFUSED...). */
GORO_API int goro_connect(int fd, const struct sockaddr *sa, socklen_t len);
GORO_API int goro_connect_deadline(int fd, const struct sockaddr *sa,
				   socklen_t len, int64_t deadline);
GORO_API int goro_connect_ctx(int fd, const struct sockaddr *sa,
			      socklen_t len, goro_ctx *ctx);

/*
 * Sockets with flags and addresses: recvfrom(2), sendto(2), recvmsg(2),
 * sendmsg(2), one call each, with MSG_DONTWAIT added to flags (and
 * MSG_NOSIGNAL to a send's: -EPIPE, never SIGPIPE). They park while the
 * socket has nothing to give or no room, as goro_read does. The bytes
 * received or sent (0 from a receive: end of stream, or an empty
 * datagram; a send may be partial on a stream, as the system call's),
 * or -errno; -ETIMEDOUT from the _deadline forms, ctx's err from the
 * _ctx forms, as above.
 */
GORO_API ssize_t goro_recvfrom(int fd, void *buf, size_t n, int flags,
			       struct sockaddr *sa, socklen_t *salen);
GORO_API ssize_t goro_recvfrom_deadline(int fd, void *buf, size_t n, int flags,
					struct sockaddr *sa, socklen_t *salen,
					int64_t deadline);
GORO_API ssize_t goro_recvfrom_ctx(int fd, void *buf, size_t n, int flags,
				   struct sockaddr *sa, socklen_t *salen,
				   goro_ctx *ctx);
GORO_API ssize_t goro_sendto(int fd, const void *buf, size_t n, int flags,
			     const struct sockaddr *dst, socklen_t dstlen);
GORO_API ssize_t goro_sendto_deadline(int fd, const void *buf, size_t n,
				      int flags, const struct sockaddr *dst,
				      socklen_t dstlen, int64_t deadline);
GORO_API ssize_t goro_sendto_ctx(int fd, const void *buf, size_t n, int flags,
				 const struct sockaddr *dst, socklen_t dstlen,
				 goro_ctx *ctx);
GORO_API ssize_t goro_recvmsg(int fd, struct msghdr *msg, int flags);
GORO_API ssize_t goro_recvmsg_deadline(int fd, struct msghdr *msg, int flags,
				       int64_t deadline);
GORO_API ssize_t goro_recvmsg_ctx(int fd, struct msghdr *msg, int flags,
				  goro_ctx *ctx);
GORO_API ssize_t goro_sendmsg(int fd, const struct msghdr *msg, int flags);
GORO_API ssize_t goro_sendmsg_deadline(int fd, const struct msghdr *msg,
				       int flags, int64_t deadline);
GORO_API ssize_t goro_sendmsg_ctx(int fd, const struct msghdr *msg, int flags,
				  goro_ctx *ctx);

/*
 * Wait until fd is ready (Go's syscall.RawConn Read/Write: for calls the
 * program makes itself, non-blocking). events: GORO_FD_READ, GORO_FD_WRITE
 * or both (ready when either is). Readiness is checked at once, so a
 * descriptor already ready returns without parking, and the program can
 * loop "try the call; on EAGAIN goro_fd_wait" without losing a wake-up.
 * Returns the ready events among those asked (> 0; hang-up and error
 * count as ready for both, since a call would return at once), else
 * -ETIMEDOUT once the absolute deadline (0: none; relative:
 * goro_now() + ns) has passed, ctx's err (-ECANCELED or -ETIMEDOUT) once
 * ctx (may be NULL) is cancelled, -EBADF when fd is not open or
 * goro_close closes it meanwhile, -EINVAL for other events or a negative
 * deadline. A ready descriptor wins over a passed deadline or a
 * cancelled context, as for the calls above.
 */
#define GORO_FD_READ 0x1
#define GORO_FD_WRITE 0x2
GORO_API int goro_fd_wait(int fd, int events, int64_t deadline, goro_ctx *ctx);

/*
 * close(2) for a descriptor used with the calls above (Go's
 * net.Conn.Close). Every call on fd waiting when goro_close starts
 * returns -EBADF, and so does any that starts while it runs; fd is
 * closed only once all of them have left, so none of them can act on (or
 * wake for) the file that gets the number next. A goroutine caller parks
 * meanwhile (the calls are woken first: it is short). The netpoller
 * registers a descriptor once and epoll forgets it when its file closes,
 * so a descriptor number that is closed and reused for another file
 * (other than through goro_accept or goro_connect, which register their
 * descriptor afresh) must have been closed with goro_close, or its
 * waiters may never wake. A call that starts on fd after goro_close has
 * returned acts on whatever fd is then, as with close(2). 0 or -errno
 * (-EBADF: fd < 0, or another goro_close of fd is under way).
 * Thread-safe.
 */
GORO_API int goro_close(int fd);

/* ---- Signals ------------------------------------------------------------- */
/*
 * Signal masks. The thread that makes the first goro_ call (main, usually)
 * gives its signal mask to the runtime: every thread that runs goroutines
 * (main's included) keeps it, except that SIGURG (asynchronous
 * preemption), SIGSEGV and SIGBUS (the stack overflow report) are always
 * unblocked there. So a signal blocked before the first goro_ call stays
 * blocked while goroutines run: the signalfd(2) or sigwaitinfo(2) pattern
 * works (block the signal in main first, then read it). A goroutine may
 * move between threads: changing the mask from goroutine code changes one
 * thread's, for a while; do it before the first goro_ call. The runtime's
 * other threads block every signal. SIGQUIT keeps its dump (goro_dump).
 *
 * Go's os/signal: goro_signal_notify(c, sig) has the runtime catch sig and
 * send its number (an int) on channel c each time it arrives. The send
 * never waits: when c has no room, that delivery to c is dropped, so give
 * c a buffer (goro_chan_make(sizeof(int), 1) is enough to learn that a
 * signal came; deliveries of one signal before the receive may coalesce
 * into one). Several channels may want one signal: each gets it. The
 * sends come from a runtime thread of its own, which is also where a
 * signal blocked in the program's mask (above) is let in while a channel
 * wants it: notify works for those too, and goro_signal_stop blocks them
 * again. Signals the program handles itself are untouched: only those
 * given to goro_signal_notify get the runtime's handler.
 */

/*
 * Send sig to c (elements int, see above) from now on; adding one
 * already there does nothing. The first channel for sig installs the
 * runtime's handler (the disposition sig had is kept for
 * goro_signal_stop). 0, or -EINVAL: c NULL or not of int elements, sig
 * not a signal, SIGKILL or SIGSTOP (which cannot be caught), a signal
 * libc keeps for itself (32 and 33 in glibc), or a fault's signal
 * (SIGILL, SIGFPE, SIGTRAP, SIGSYS: a handler returning would run the
 * faulting instruction again); -EBUSY: a signal the runtime uses itself
 * (SIGURG, SIGSEGV, SIGBUS, and SIGQUIT while it prints the dump, i.e.
 * unless the program had its own SIGQUIT handler before the runtime
 * started); -ENOMEM; -EAGAIN (the runtime or its signal thread could not
 * start). Thread-safe; works from foreign threads.
 */
GORO_API int goro_signal_notify(goro_chan *c, int sig);

/*
 * Go's signal.Stop: no signal is sent to c once this returns (c may then
 * be freed). A signal no channel wants any more gets back the
 * disposition it had before the first goro_signal_notify for it (the
 * default action, usually), and is blocked again in the runtime's signal
 * thread first, so one the program had blocked stays blocked. NULL, or a
 * channel never given to goro_signal_notify, is a no-op. Thread-safe.
 */
GORO_API void goro_signal_stop(goro_chan *c);

/* ---- Subprocesses -------------------------------------------------------- */
/*
 * Go's os/exec: start a program, and wait for it parking the goroutine,
 * not its thread. The child is started by posix_spawn (a vfork-like
 * clone that runs nothing of the runtime, then execve); the runtime holds
 * a pidfd for it, waits for it in the netpoller and signals it through
 * the pidfd, so no signal can reach another process that got the pid
 * after the child was reaped. The child gets the program's signal mask
 * at its first goro_ call (see Signals), the default action for every
 * signal the program or the runtime caught, and every descriptor of the
 * caller that is not close-on-exec: create pipes for it with
 * pipe2(fds, O_CLOEXEC) (its 0, 1 and 2 are dup2'd copies, which lose the
 * flag), or the child keeps the other ends open and a reader never sees
 * end of file.
 *
 * fork(2) in a goroutine program: the child has only the thread that
 * forked (no Ms, no sysmon, no goro.ko instance) and may hold copies of
 * locks other threads held (the runtime's, malloc's). Between fork and
 * execve or _exit it may only make async-signal-safe calls, and no goro_
 * call; a goroutine program that wants a child should use
 * goro_proc_start. A child that calls goro_ functions is undefined.
 */
typedef struct goro_proc goro_proc;

/* Options for goro_proc_start(). Zero-initialise, then set what you need. */
struct goro_proc_opts {
	int fd[3];		/* the child's 0, 1, 2 (stdin, stdout,
				 * stderr): the caller's descriptor fd[i],
				 * when flags has GORO_PROC_STDIN << i;
				 * else the child shares the caller's */
	uint32_t flags;		/* GORO_PROC_*; others must be 0 */
	char *const *envp;	/* the environment; NULL: the caller's */
	const char *dir;	/* working directory; NULL: the caller's */
	uint32_t resv[3];	/* must be 0 */
};
#define GORO_PROC_STDIN 0x1U	/* fd[0] is the child's stdin */
#define GORO_PROC_STDOUT 0x2U	/* fd[1] is its stdout */
#define GORO_PROC_STDERR 0x4U	/* fd[2] is its stderr */
#define GORO_PROC_PATH 0x8U	/* look path up in PATH as execvp does,
				 * when it has no slash */

/*
 * Start path with argv (argv[0] first, NULL-terminated; opts may be
 * NULL). Returns the running child, or NULL with errno: EINVAL (path or
 * argv NULL, unknown flags, non-zero resv), EBADF (a redirected
 * descriptor is not open), ENOENT, EACCES, ENOEXEC... (execve failed in
 * the child, which then is gone), ENOMEM, EAGAIN. The caller's thread
 * waits until the child has called execve (a blocking call: its P may
 * move meanwhile). Thread-safe; works from foreign threads. Every child
 * started must be given to goro_proc_free.
 */
GORO_API goro_proc *goro_proc_start(const char *path, char *const argv[],
				    const struct goro_proc_opts *opts);

/* The child's process id (kept after it is reaped); -EINVAL for NULL. */
GORO_API pid_t goro_proc_pid(goro_proc *p);

/*
 * Go's Cmd.Wait: wait until the child exits and reap it, parking the
 * goroutine (a foreign thread sleeps in poll(2)). Returns its wait
 * status (>= 0: read it with WIFEXITED, WEXITSTATUS, WIFSIGNALED,
 * WTERMSIG of <sys/wait.h>), the same for every call once reaped, and
 * for several goroutines waiting at once; or ctx's err (ctx may be
 * NULL), with the child left running, when ctx is cancelled first;
 * -ECHILD when something else reaped it (SIGCHLD ignored, a
 * waitpid(-1) of the program); -EINVAL for NULL.
 */
GORO_API int goro_proc_wait(goro_proc *p, goro_ctx *ctx);

/*
 * Go's Process.Signal (and Kill, with SIGKILL): send sig to the child
 * (0 tests that it can be). 0, or -ESRCH once it has been reaped (Go's
 * "process already finished"), -EINVAL for a bad sig or NULL, -EPERM.
 */
GORO_API int goro_proc_signal(goro_proc *p, int sig);

/*
 * Free p: its pidfd is closed with goro_close. No wait may be under way.
 * A child never waited for stays a zombie after it exits, until the
 * program ends (unless SIGCHLD is ignored), as with waitpid.
 */
GORO_API void goro_proc_free(goro_proc *p);

/*
 * Name resolution (Go's net.Resolver with cgo): getaddrinfo(3) without
 * holding a P while it waits on a DNS server (seconds, at worst): the
 * call runs as if bracketed by goro_syscall_enter/exit, so the other
 * goroutines keep running on every backend. Same arguments and result
 * as getaddrinfo; free *res with freeaddrinfo(3). At most 500 lookups
 * (and at most half of GORO_MAXTHREADS) wait on threads at once; the
 * others park until one ends. From a foreign thread: a plain
 * getaddrinfo, under the same limit.
 *
 * Returns 0 and sets *res, or a negative value with *res NULL:
 *   - -errno: -EINVAL (res NULL, or both node and service NULL),
 *     -ENOMEM (EAI_MEMORY, or no memory here), -EAGAIN (the runtime
 *     could not start, or no goroutine could be made), the errno of
 *     EAI_SYSTEM (-EIO if it had none), and the context's err;
 *   - getaddrinfo's own answers, EAI_NONAME, EAI_AGAIN (the server did
 *     not answer in time), EAI_FAIL, EAI_SERVICE, EAI_FAMILY, ...:
 *     GORO_EAI_ERR(code), code - 4096 (the EAI_* codes of glibc and
 *     musl are negative), so below every -errno and never mistaken for
 *     one. GORO_EAI(ret) gives the EAI_* code back (for gai_strerror),
 *     0 when ret is not one.
 *
 * goro_getaddrinfo_ctx under a context (NULL: none, the plain call):
 * the lookup runs in a goroutine of its own and the caller returns the
 * context's err (-ECANCELED, -ETIMEDOUT) as soon as it is cancelled; a
 * lookup already finished wins over a cancelled context. A lookup left
 * behind cannot be interrupted: it ends on its own (its thread and its
 * place in the limit held until then) and its result is freed.
 * Thread-safe.
 */
#define GORO_EAI_ERR(eai) ((int)(eai) - 4096)
#define GORO_EAI(ret) ((ret) < -4095 ? (int)(ret) + 4096 : 0)
struct addrinfo;
GORO_API int goro_getaddrinfo(const char *node, const char *service,
			      const struct addrinfo *hints,
			      struct addrinfo **res);
GORO_API int goro_getaddrinfo_ctx(const char *node, const char *service,
				  const struct addrinfo *hints,
				  struct addrinfo **res, goro_ctx *ctx);

#ifdef __cplusplus
}
#endif

#endif /* GORO_H */
