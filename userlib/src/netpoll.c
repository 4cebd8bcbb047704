/* SPDX-License-Identifier: MIT */
/*
 * goro: the netpoller (Go's runtime/netpoll_epoll.go and internal/poll)
 * and I/O deadlines.
 *
 * A goroutine doing I/O tries the call at once, non-blocking. On EAGAIN it
 * parks on the descriptor's poll descriptor (struct pd, one per fd number)
 * and its M runs other goroutines. Descriptors are in one epoll set,
 * edge-triggered, read and write interest together. Every event bumps a
 * per-direction sequence number under the pd's lock and wakes every
 * goroutine waiting in that direction (and those waiting for either,
 * goro_fd_wait); a waiter samples the sequence before its attempt and
 * does not park if it moved since, so an edge that fires between the
 * attempt and the park is never lost (Go's pdReady). Every wake-up is a
 * hint: the woken goroutine retries the call. A foreign thread waits in
 * poll(2) on the descriptor and an eventfd of its own, listed on the pd
 * (fq) so that what ends a wait can reach it.
 *
 * Ending a wait early. A waiter ends with -ETIMEDOUT at its deadline (a
 * heap timer), with its context's err when the context (of a _ctx call
 * or goro_fd_wait) is cancelled (a hook, context.c: it runs under the
 * context's lock and takes the pd's),
 * or with -EBADF when goro_close closes the descriptor (Go's
 * "use of closed network connection"). Each takes the waiter off its
 * queue under pd->lock and sets its state there, so exactly one of them
 * (or an event) ends a wait.
 *
 * Closing without a reuse race (Go's fdMutex). Every call counts itself
 * in pd->ref while it runs (pd_enter, pd_leave). goro_close sets
 * PD_CLOSING there, so that no call starts or parks any more, wakes every
 * waiter with -EBADF, waits until the calls in flight have left, and only
 * then clears the pd and calls close(2). A call that was running when
 * goro_close began therefore never sees the file that gets the number
 * next.
 *
 * A descriptor is registered once, at its first wait (or when goro_accept
 * or goro_connect hand it out: a new file), read and write interest
 * together, so a park costs no system call. epoll forgets a descriptor
 * when its file is closed, and a new file may get the same number:
 * goro_close() drops the registration, and descriptors from goro_accept
 * and goro_connect are registered afresh whatever their number was.
 *
 * The scheduler polls (Go's netpoll): findrunnable takes what is ready
 * with goro__netpoll(0) before its M goes idle, the last M to go idle
 * waits in epoll_wait (user backend) or in GORO_IOC_PARK on the epoll fd
 * (kmod) until the nearest timer, and sysmon polls when nobody has for a
 * while. A waker that hands a P to the M blocked in epoll_wait interrupts
 * it through an eventfd in the set (goro__netpoll_break, Go's
 * netpollBreak).
 *
 * Timers. goro_after and I/O deadlines, like goro_sleep, are timers on
 * the per-P heaps of the scheduler (struct goro_rtimer, timer.c; Go 1.14):
 * a P's owner runs them at its scheduling points, an M about to go idle
 * runs every P's due ones and then waits (in the poller or parked) no
 * later than the earliest, and a new earliest timer interrupts the M in
 * the poller when it would wait past it (goro__netpoll_wake_before, Go's
 * wakeNetPoller) or wakes an idle M. Deadlines are absolute
 * CLOCK_MONOTONIC, so never early.
 */
#include "internal.h"
#include "chan.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- poll descriptors ------------------------------------------------------ */

/* RW: a goro_fd_wait for either direction */
enum { RD, WR, RW };

struct iowait {
	struct iowait *next;
	struct goro_waiter w;
	struct goro_rtimer t;		/* the deadline */
	struct goro_ctx_hook h;		/* the context's cancel */
	struct pd *pd;
	int mode;
	int state;			/* W_* under pd->lock */
	int efd;			/* foreign thread: its eventfd, else -1 */
};

enum { W_NEW, W_QUEUED, W_WOKEN, W_TIMEDOUT, W_CANCELED, W_CLOSED };

#define PD_CLOSING 0x80000000U

struct pd {
	uint32_t lock;
	uint32_t seq[2];	/* events seen, per direction (atomic) */
	uint32_t notsock;	/* recv gave ENOTSOCK: use read/write */
	uint32_t armed;		/* in the epoll set (under lock) */
	uint32_t ref;		/* calls running | PD_CLOSING (atomic) */
	struct iowait *q[3];	/* goroutines waiting, per mode */
	struct iowait *fq;	/* foreign threads waiting */
	struct goro_waiter *closer;	/* goro_close waiting for ref */
};

#define PD_CHUNK 1024
#define PD_TOP 4096		/* fds below 4 Mi */

#define KEY_BREAK UINT64_MAX

static struct {
	uint32_t lock;		/* start-up */
	uint32_t state;		/* 0 not started, 1 running, 2 failed */
	int epfd;
	int brkfd;		/* eventfd: interrupts a blocked epoll_wait */
	uint32_t brkpending;	/* a break is written and not yet read */
	uint32_t blocked;	/* an M waits in the poller (claimed) */
	int64_t until;		/* ... until then (0: no deadline) */
	uint32_t nwait;		/* goroutines parked on descriptors */
	int64_t lastpoll;	/* when epoll_wait last returned */
	struct pd *pds[PD_TOP];
} np;

static struct pd *pd_get(int fd)
{
	struct pd *ch;
	unsigned hi;

	if (fd < 0)
		return NULL;
	hi = (unsigned)fd / PD_CHUNK;
	if (hi >= PD_TOP)
		return NULL;
	ch = ld_acq(&np.pds[hi]);
	if (!ch) {
		struct pd *nc = calloc(PD_CHUNK, sizeof(*nc));

		if (!nc)
			return NULL;
		if (!__atomic_compare_exchange_n(&np.pds[hi], &ch, nc, false,
						 __ATOMIC_ACQ_REL,
						 __ATOMIC_ACQUIRE))
			free(nc);	/* lost the race; ch is the winner's */
		else
			ch = nc;
	}
	return &ch[(unsigned)fd % PD_CHUNK];
}

/* ---- the poller ------------------------------------------------------------------ */

/* pd->lock held: take the waiters of queue q onto *list (by schedlink). */
static void pd_take(struct iowait **q, struct goro_g **list)
{
	struct iowait *w;

	while ((w = *q)) {
		*q = w->next;
		w->state = W_WOKEN;
		/* w lives on the parked g's stack: g is off it */
		w->w.g->schedlink = *list;
		*list = w->w.g;
	}
}

/* Take pd's waiters for the events ev onto *list (linked by schedlink). */
static void pd_event(struct pd *pd, uint32_t ev, struct goro_g **list)
{
	int mode;

	goro__lock(&pd->lock);
	for (mode = RD; mode <= WR; mode++) {
		uint32_t want = mode == RD ? EPOLLIN | EPOLLRDHUP | EPOLLPRI
					   : EPOLLOUT;

		if (!(ev & (want | EPOLLHUP | EPOLLERR)))
			continue;
		st_rel(&pd->seq[mode], pd->seq[mode] + 1);
		pd_take(&pd->q[mode], list);
		pd_take(&pd->q[RW], list);
	}
	goro__unlock(&pd->lock);
}

bool goro__netpoll_inited(void)
{
	return ld_acq(&np.state) == 1;
}

/* Is there anything a poll could find (Go's netpollAnyWaiters)? */
bool goro__netpoll_waiters(void)
{
	return ld_acq(&np.state) == 1 && ld_rlx(&np.nwait);
}

int64_t goro__netpoll_lastpoll(void)
{
	return ld_rlx(&np.lastpoll);
}

/* Claim the right to block in the poller; false when another M has it. */
bool goro__netpoll_claim(int64_t until)
{
	if (ld_acq(&np.state) != 1 || ld_rlx(&np.blocked) != 0 ||
	    !cas(&np.blocked, 0, 1))
		return false;
	st_sc(&np.until, until);
	return true;
}

bool goro__netpoll_wake_before(int64_t when)
{
	int64_t until;

	if (ld_acq(&np.state) != 1 || !ld_sc(&np.blocked))
		return false;
	until = ld_sc(&np.until);
	if (!until || until > when)
		goro__netpoll_break();
	return true;
}

void goro__netpoll_unclaim(void)
{
	st_sc(&np.blocked, 0);
}

int goro__netpoll_fd(void)
{
	return np.epfd;
}

/* Make a blocked epoll_wait return (Go's netpollBreak). */
void goro__netpoll_break(void)
{
	uint64_t one = 1;
	ssize_t r;

	if (ld_acq(&np.state) != 1 || !cas(&np.brkpending, 0, 1))
		return;
	r = write(np.brkfd, &one, sizeof(one));
	(void)r;
}

/*
 * Poll: delay_ns 0 does not wait, < 0 waits until something happens, else
 * up to delay_ns. The goroutines of ready descriptors are returned
 * (still waiting, linked by schedlink) for the caller to inject.
 */
struct goro_g *goro__netpoll(int64_t delay_ns)
{
	struct epoll_event ev[128];
	struct goro_g *list = NULL;
	int ms, k, i;

	if (ld_acq(&np.state) != 1)
		return NULL;
	if (delay_ns < 0)
		ms = -1;
	else if (delay_ns == 0)
		ms = 0;
	else if (delay_ns >= 1000000000LL * 1000)
		ms = 1000000;
	else
		ms = (int)((delay_ns + 999999) / 1000000);
	k = epoll_wait(np.epfd, ev, 128, ms);
	st_rlx(&np.lastpoll, nanotime());
	for (i = 0; i < k; i++) {
		if (ev[i].data.u64 == KEY_BREAK) {
			uint64_t x;
			ssize_t r;

			/*
			 * the break is for the M blocked in the poller: a
			 * non-blocking poll leaves it readable for that M
			 */
			if (delay_ns == 0)
				continue;
			r = read(np.brkfd, &x, sizeof(x));
			(void)r;
			st_rel(&np.brkpending, 0);
		} else {
			pd_event(pd_get((int)ev[i].data.u64), ev[i].events,
				 &list);
		}
	}
	return list;
}

struct goro_g *goro__netpoll_check(struct goro_mach *m, bool take)
{
	struct goro_g *list;

	if (!goro__netpoll_waiters() || ld_rlx(&np.blocked))
		return NULL;
	list = goro__netpoll(0);
	if (!list)
		return NULL;
	return goro__inject(m, list, take);
}

/* Start the poller once: 0 or -errno. */
static int np_init(void)
{
	struct epoll_event ev;
	int err = 0;

	if (likely(ld_acq(&np.state) == 1))
		return 0;
	goro__lock(&np.lock);
	if (np.state) {
		err = np.state == 1 ? 0 : -EAGAIN;
		goro__unlock(&np.lock);
		return err;
	}
	np.epfd = epoll_create1(EPOLL_CLOEXEC);
	np.brkfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (np.epfd < 0 || np.brkfd < 0) {
		err = -errno;
		goto fail;
	}
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = KEY_BREAK;
	if (epoll_ctl(np.epfd, EPOLL_CTL_ADD, np.brkfd, &ev)) {
		err = -errno;
		goto fail;
	}
	st_rlx(&np.lastpoll, nanotime());
	st_rel(&np.state, 1);
	goro__unlock(&np.lock);
	return 0;
fail:
	if (np.epfd >= 0)
		close(np.epfd);
	if (np.brkfd >= 0)
		close(np.brkfd);
	st_rel(&np.state, 2);
	goro__unlock(&np.lock);
	return err;
}

/* ---- waiting for a descriptor ------------------------------------------------- */

/* Wake a foreign thread's poll(2): under pd->lock, while efd is open. */
static void efd_signal(int efd)
{
	uint64_t one = 1;
	ssize_t r = write(efd, &one, sizeof(one));

	(void)r;
}

/*
 * End w's wait with state (W_TIMEDOUT, W_CANCELED) unless something else
 * ended it first. Not under pd->lock; from a timer (under the heap's
 * lock) or a context's hook (under the context's lock).
 */
static void io_abort(struct iowait *w, int state)
{
	struct pd *pd = w->pd;
	struct iowait **pl;
	bool wake = false;

	goro__lock(&pd->lock);
	if (w->state == W_QUEUED) {
		for (pl = w->efd >= 0 ? &pd->fq : &pd->q[w->mode]; *pl;
		     pl = &(*pl)->next)
			if (*pl == w) {
				*pl = w->next;
				break;
			}
		w->state = state;
		if (w->efd >= 0)
			efd_signal(w->efd);
		else
			wake = true;
	} else if (w->state == W_NEW) {
		w->state = state;	/* it will not park */
	}
	goro__unlock(&pd->lock);
	if (wake)
		goro__waiter_wake(&w->w);
}

static void io_timeout(struct goro_rtimer *t)
{
	io_abort((struct iowait *)((char *)t - offsetof(struct iowait, t)),
		 W_TIMEDOUT);
}

static void io_cancel(struct goro_ctx_hook *h)
{
	io_abort((struct iowait *)((char *)h - offsetof(struct iowait, h)),
		 W_CANCELED);
}

/* What a wait that ended in state returns. */
static int wait_result(int state, goro_ctx *ctx)
{
	switch (state) {
	case W_TIMEDOUT:
		return -ETIMEDOUT;
	case W_CLOSED:
		return -EBADF;
	case W_CANCELED:
		return goro_ctx_err(ctx);
	}
	return 0;
}

/* Set up w and start what may end it early. 0, or -errno / ctx's err. */
static int wait_start(struct iowait *w, struct pd *pd, int mode,
		      int64_t deadline, goro_ctx *ctx)
{
	int err;

	w->pd = pd;
	w->mode = mode;
	w->state = W_NEW;
	w->next = NULL;
	if (ctx) {
		w->h.fn = io_cancel;
		err = goro__ctx_hook_add(ctx, &w->h);
		if (err)
			return err;
	}
	if (deadline) {
		w->t.when = deadline;
		w->t.idx = -1;
		w->t.fn = io_timeout;
		w->t.release = NULL;
		if (goro__timer_add(&w->t)) {
			if (ctx)
				goro__ctx_hook_del(ctx, &w->h);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Stop what wait_start started; the state is settled after this. */
static int wait_end(struct iowait *w, int64_t deadline, goro_ctx *ctx)
{
	if (deadline)
		goro__timer_del(&w->t);
	if (ctx)
		goro__ctx_hook_del(ctx, &w->h);
	return wait_result(w->state, ctx);
}

/*
 * Put fd in the epoll set unless it is there: once per file (fresh: a new
 * file, whatever pd says about the number). 0 or -errno.
 */
static int np_register(int fd, struct pd *pd, bool fresh)
{
	struct epoll_event ev;
	int err = 0;

	if (!fresh && ld_acq(&pd->armed))
		return 0;
	err = np_init();
	if (err)
		return err;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLPRI | EPOLLET;
	ev.data.u64 = (uint64_t)fd;
	goro__lock(&pd->lock);
	if (fresh)
		st_rlx(&pd->notsock, 0);	/* a socket, whatever was here */
	if (fresh || !pd->armed) {
		if (epoll_ctl(np.epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ||
		    errno == EEXIST)
			st_rel(&pd->armed, 1);
		else
			err = -errno;
	}
	goro__unlock(&pd->lock);
	return err;
}

/* pd->lock held: a descriptor being closed takes no new waiter */
static inline bool pd_closing(struct pd *pd)
{
	return ld_acq(&pd->ref) & PD_CLOSING;
}

/* The events seen so far, per direction (a waiter's sample). */
struct seqs {
	uint32_t s[2];
};

/* pd->lock held: an event came for mode since q was sampled */
static bool seq_moved(struct pd *pd, int mode, const struct seqs *q)
{
	return ((mode == RD || mode == RW) &&
		ld_rlx(&pd->seq[RD]) != q->s[RD]) ||
	       ((mode == WR || mode == RW) &&
		ld_rlx(&pd->seq[WR]) != q->s[WR]);
}

/*
 * The calling goroutine waits until fd may be ready for mode (an event
 * since q was sampled), the deadline, ctx's cancel or goro_close. 0:
 * retry the call; -ETIMEDOUT; ctx's err; -EBADF (closed); -errno when fd
 * cannot be polled.
 */
static int netwait(int fd, struct pd *pd, int mode, const struct seqs *q,
		   int64_t deadline, goro_ctx *ctx)
{
	struct iowait w;
	int err;

	if (deadline && nanotime() >= deadline)
		return -ETIMEDOUT;
	err = np_register(fd, pd, false);
	if (err)
		return err;
	goro__waiter_init(&w.w);
	w.efd = -1;
	err = wait_start(&w, pd, mode, deadline, ctx);
	if (err)
		return err;
	goro__lock(&pd->lock);
	if (w.state == W_NEW && pd_closing(pd))
		w.state = W_CLOSED;
	if (w.state != W_NEW || seq_moved(pd, mode, q)) {
		goro__unlock(&pd->lock);
	} else {
		w.state = W_QUEUED;
		w.next = pd->q[mode];
		pd->q[mode] = &w;
		xadd(&np.nwait, 1);
		goro__waiter_park(&w.w, &pd->lock, "IO wait");
		xadd(&np.nwait, -1);
	}
	/* the timer and the hook ran or cannot run any more */
	return wait_end(&w, deadline, ctx);
}

/*
 * A foreign thread waits in poll(2) on fd and on an eventfd through which
 * a deadline's timer, a cancel or goro_close end its wait. Results as
 * netwait's.
 */
static int foreign_wait(int fd, struct pd *pd, int mode, int64_t deadline,
			goro_ctx *ctx)
{
	short ev = (short)((mode != WR ? POLLIN | POLLPRI : 0) |
			   (mode != RD ? POLLOUT : 0));
	struct pollfd p[2] = {{fd, ev, 0}, {-1, POLLIN, 0}};
	struct iowait w;
	int ms = -1, err;
	bool queued;

	if (deadline) {
		int64_t left = deadline - nanotime();

		if (left <= 0)
			return -ETIMEDOUT;
		ms = (int)((left + 999999) / 1000000);
	}
	w.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w.efd < 0)
		return -errno;
	p[1].fd = w.efd;
	goro__waiter_init(&w.w);
	/* the poll(2) below ends at the deadline: no timer needed */
	err = wait_start(&w, pd, mode, 0, ctx);
	if (err) {
		close(w.efd);
		return err;
	}
	goro__lock(&pd->lock);
	if (w.state == W_NEW && pd_closing(pd))
		w.state = W_CLOSED;
	queued = w.state == W_NEW;
	if (queued) {
		w.state = W_QUEUED;
		w.next = pd->fq;
		pd->fq = &w;
	}
	goro__unlock(&pd->lock);
	if (queued)
		poll(p, 2, ms);
	goro__lock(&pd->lock);
	if (w.state == W_QUEUED) {
		struct iowait **pl;

		for (pl = &pd->fq; *pl != &w; pl = &(*pl)->next)
			;
		*pl = w.next;
		/* a hint, as a goroutine's wake-up: the call is retried */
		w.state = W_WOKEN;
	}
	goro__unlock(&pd->lock);
	/* no one signals efd once the wait ended under the lock */
	close(w.efd);
	return wait_end(&w, 0, ctx);
}

/* Wait by whichever means the caller has. */
static int io_wait(bool gor, int fd, struct pd *pd, int mode,
		   const struct seqs *q, int64_t deadline, goro_ctx *ctx)
{
	if (gor)
		return netwait(fd, pd, mode, q, deadline, ctx);
	return foreign_wait(fd, pd, mode, deadline, ctx);
}

/*
 * A call on fd begins (pd_enter: 0, or -EBADF when goro_close has begun)
 * and ends (pd_leave: the last call out wakes a waiting goro_close).
 */
static int pd_enter(struct pd *pd);
static void pd_leave(struct pd *pd);

/*
 * The system calls, each in a function of its own that returns -errno:
 * errno is thread-local and the compiler may keep its address across the
 * park in the retry loops, where the goroutine can change threads.
 */
__attribute__((noinline)) static ssize_t sys_recv(int fd, void *b, size_t n)
{
	ssize_t r = recv(fd, b, n, MSG_DONTWAIT);

	return r < 0 ? -errno : r;
}

__attribute__((noinline)) static ssize_t sys_send(int fd, const void *b,
						  size_t n)
{
	ssize_t r = send(fd, b, n, MSG_DONTWAIT | MSG_NOSIGNAL);

	return r < 0 ? -errno : r;
}

__attribute__((noinline)) static int sys_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	if (!(fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

__attribute__((noinline)) static ssize_t sys_read(int fd, void *b, size_t n)
{
	ssize_t r = sys_nonblock(fd);

	if (r)
		return r;
	r = read(fd, b, n);
	return r < 0 ? -errno : r;
}

__attribute__((noinline)) static ssize_t sys_write(int fd, const void *b,
						   size_t n)
{
	ssize_t r = sys_nonblock(fd);

	if (r)
		return r;
	r = write(fd, b, n);
	return r < 0 ? -errno : r;
}

__attribute__((noinline)) static int sys_accept(int fd, struct sockaddr *sa,
						socklen_t *len)
{
	int r = sys_nonblock(fd);

	if (r)
		return r;
	r = accept4(fd, sa, len, SOCK_CLOEXEC);
	return r < 0 ? -errno : r;
}

__attribute__((noinline)) static int sys_connect(int fd,
						 const struct sockaddr *sa,
						 socklen_t len)
{
	int r = sys_nonblock(fd);

	if (r)
		return r;
	return connect(fd, sa, len) < 0 ? -errno : 0;
}

/* 0 connected, > 0 still connecting, < 0 -errno */
__attribute__((noinline)) static int sys_connected(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int e = 0;
	socklen_t el = sizeof(e);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) < 0)
		return -errno;
	if (e == EINPROGRESS || e == EALREADY || e == EINTR)
		return 1;
	if (e)
		return -e;
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0)
		return 0;
	return errno == ENOTCONN ? 1 : -errno;
}

/* A goroutine (true) or a foreign thread; starts the runtime. */
static bool is_goroutine(void)
{
	ensure_init();
	return goro__curg() != NULL;
}

/* Sample the events seen so far (pairs with st_rel in pd_event). */
static inline void seq_of(struct pd *pd, struct seqs *q)
{
	q->s[RD] = ld_acq(&pd->seq[RD]);
	q->s[WR] = ld_acq(&pd->seq[WR]);
}

static int pd_enter(struct pd *pd)
{
	if (xadd(&pd->ref, 1) & PD_CLOSING) {
		pd_leave(pd);
		return -EBADF;
	}
	return 0;
}

static void pd_leave(struct pd *pd)
{
	struct goro_waiter *c;

	if (xadd(&pd->ref, -1) != PD_CLOSING + 1)
		return;
	/* the last call out of a descriptor being closed */
	goro__lock(&pd->lock);
	c = pd->closer;
	pd->closer = NULL;
	goro__unlock(&pd->lock);
	if (c)
		goro__waiter_wake(c);
}

/*
 * A call on fd begins: its pd, counted in (pd_leave when done), and
 * whether the caller is a goroutine. 0 or -errno.
 */
static int io_begin(int fd, struct pd **pd, bool *gor)
{
	*gor = is_goroutine();
	*pd = pd_get(fd);
	if (!*pd)
		return fd < 0 ? -EBADF : -ENOMEM;
	return pd_enter(*pd);
}

/* ---- the calls ---------------------------------------------------------------------- */

/*
 * One function per call, io_*, given what may end its waits early: a
 * deadline (0: none) and a context (NULL: none). The public forms (plain,
 * _deadline, _ctx) pass it neither or one of them.
 */

static ssize_t io_read(int fd, void *buf, size_t n, int64_t deadline,
		       goro_ctx *ctx)
{
	struct pd *pd;
	struct seqs q;
	bool gor;
	ssize_t r = io_begin(fd, &pd, &gor);

	if (r)
		return r;
	for (;;) {
		seq_of(pd, &q);
		r = -ENOTSOCK;
		if (!ld_rlx(&pd->notsock)) {
			r = sys_recv(fd, buf, n);
			if (r == -ENOTSOCK)
				st_rlx(&pd->notsock, 1);
		}
		if (r == -ENOTSOCK)
			r = sys_read(fd, buf, n);
		if (r >= 0)
			break;
		if (r == -EINTR)
			continue;
		if (r != -EAGAIN && r != -EWOULDBLOCK)
			break;
		r = io_wait(gor, fd, pd, RD, &q, deadline, ctx);
		if (r)
			break;
	}
	pd_leave(pd);
	return r;
}

ssize_t goro_read(int fd, void *buf, size_t n)
{
	return io_read(fd, buf, n, 0, NULL);
}

ssize_t goro_read_deadline(int fd, void *buf, size_t n, int64_t deadline)
{
	return io_read(fd, buf, n, deadline, NULL);
}

ssize_t goro_read_ctx(int fd, void *buf, size_t n, goro_ctx *ctx)
{
	return io_read(fd, buf, n, 0, ctx);
}

/* bytes written before a wait ended early win over its error */
static ssize_t io_write(int fd, const void *buf, size_t n, int64_t deadline,
			goro_ctx *ctx)
{
	struct pd *pd;
	struct seqs q;
	size_t done = 0;
	bool gor;
	ssize_t r = io_begin(fd, &pd, &gor);

	if (r)
		return r;
	for (;;) {
		const char *p = (const char *)buf + done;

		seq_of(pd, &q);
		r = -ENOTSOCK;
		if (!ld_rlx(&pd->notsock)) {
			r = sys_send(fd, p, n - done);
			if (r == -ENOTSOCK)
				st_rlx(&pd->notsock, 1);
		}
		if (r == -ENOTSOCK)
			r = sys_write(fd, p, n - done);
		if (r >= 0) {
			done += (size_t)r;
			if (done == n) {
				r = (ssize_t)n;
				break;
			}
			continue;
		}
		if (r == -EINTR)
			continue;
		if (r == -EAGAIN || r == -EWOULDBLOCK)
			r = io_wait(gor, fd, pd, WR, &q, deadline, ctx);
		if (r) {
			if (done)
				r = (ssize_t)done;
			break;
		}
	}
	pd_leave(pd);
	return r;
}

ssize_t goro_write(int fd, const void *buf, size_t n)
{
	return io_write(fd, buf, n, 0, NULL);
}

ssize_t goro_write_deadline(int fd, const void *buf, size_t n,
			    int64_t deadline)
{
	return io_write(fd, buf, n, deadline, NULL);
}

ssize_t goro_write_ctx(int fd, const void *buf, size_t n, goro_ctx *ctx)
{
	return io_write(fd, buf, n, 0, ctx);
}

static int io_accept(int fd, struct sockaddr *sa, socklen_t *len,
		     int64_t deadline, goro_ctx *ctx)
{
	struct pd *pd;
	struct seqs q;
	bool gor;
	int r = io_begin(fd, &pd, &gor);

	if (r)
		return r;
	for (;;) {
		seq_of(pd, &q);
		r = sys_accept(fd, sa, len);
		if (r >= 0) {
			struct pd *npd = pd_get(r);

			/*
			 * a new file: register it (epoll may still hold a
			 * closed one's number only in our pd)
			 */
			if (npd)
				np_register(r, npd, true);
			break;
		}
		if (r == -EINTR || r == -ECONNABORTED)
			continue;
		if (r != -EAGAIN && r != -EWOULDBLOCK)
			break;
		r = io_wait(gor, fd, pd, RD, &q, deadline, ctx);
		if (r)
			break;
	}
	pd_leave(pd);
	return r;
}

int goro_accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	return io_accept(fd, sa, len, 0, NULL);
}

int goro_accept_deadline(int fd, struct sockaddr *sa, socklen_t *len,
			 int64_t deadline)
{
	return io_accept(fd, sa, len, deadline, NULL);
}

int goro_accept_ctx(int fd, struct sockaddr *sa, socklen_t *len,
		    goro_ctx *ctx)
{
	return io_accept(fd, sa, len, 0, ctx);
}

/*
 * The connection is looked at before each wait, the first included: one
 * made at once (loopback completes the handshake inside connect(2), which
 * still says EINPROGRESS) wins over a passed deadline or a cancelled
 * context, as a ready descriptor does for the other calls.
 */
static int io_connect(int fd, const struct sockaddr *sa, socklen_t len,
		      int64_t deadline, goro_ctx *ctx)
{
	struct pd *pd;
	struct seqs q;
	bool gor;
	int r = io_begin(fd, &pd, &gor);

	if (r)
		return r;
	r = np_register(fd, pd, true);
	if (r)
		goto out;
	r = sys_connect(fd, sa, len);
	if (r == -EISCONN)
		r = 0;
	if (r != -EINPROGRESS && r != -EALREADY && r != -EINTR)
		goto out;
	for (;;) {
		seq_of(pd, &q);
		r = sys_connected(fd);
		if (r <= 0)
			break;
		r = io_wait(gor, fd, pd, WR, &q, deadline, ctx);
		if (r)
			break;
	}
out:
	pd_leave(pd);
	return r;
}

int goro_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	return io_connect(fd, sa, len, 0, NULL);
}

int goro_connect_deadline(int fd, const struct sockaddr *sa, socklen_t len,
			  int64_t deadline)
{
	return io_connect(fd, sa, len, deadline, NULL);
}

int goro_connect_ctx(int fd, const struct sockaddr *sa, socklen_t len,
		     goro_ctx *ctx)
{
	return io_connect(fd, sa, len, 0, ctx);
}

/* ---- socket calls with flags and addresses ------------------------------------ */

/* One attempt of a call: its result or -errno (never blocks). */
struct sockop {
	ssize_t (*fn)(int fd, struct sockop *o);
	void *buf;
	size_t n;
	int flags;
	struct sockaddr *sa;		/* recvfrom: source */
	socklen_t *salen;
	const struct sockaddr *dst;	/* sendto */
	socklen_t dstlen;
	struct msghdr *msg;		/* recvmsg, sendmsg */
};

__attribute__((noinline)) static ssize_t op_recvfrom(int fd, struct sockop *o)
{
	ssize_t r = recvfrom(fd, o->buf, o->n, o->flags | MSG_DONTWAIT,
			     o->sa, o->salen);

	return r < 0 ? -errno : r;
}

__attribute__((noinline)) static ssize_t op_sendto(int fd, struct sockop *o)
{
	ssize_t r = sendto(fd, o->buf, o->n,
			   o->flags | MSG_DONTWAIT | MSG_NOSIGNAL, o->dst,
			   o->dstlen);

	return r < 0 ? -errno : r;
}

__attribute__((noinline)) static ssize_t op_recvmsg(int fd, struct sockop *o)
{
	ssize_t r = recvmsg(fd, o->msg, o->flags | MSG_DONTWAIT);

	return r < 0 ? -errno : r;
}

__attribute__((noinline)) static ssize_t op_sendmsg(int fd, struct sockop *o)
{
	ssize_t r = sendmsg(fd, o->msg, o->flags | MSG_DONTWAIT | MSG_NOSIGNAL);

	return r < 0 ? -errno : r;
}

/* Try o until it does not say EAGAIN, waiting for mode in between. */
static ssize_t sock_call(int fd, int mode, struct sockop *o, int64_t deadline,
			 goro_ctx *ctx)
{
	struct pd *pd;
	struct seqs q;
	bool gor;
	ssize_t r = io_begin(fd, &pd, &gor);

	if (r)
		return r;
	for (;;) {
		seq_of(pd, &q);
		r = o->fn(fd, o);
		if (r >= 0)
			break;
		if (r == -EINTR)
			continue;
		if (r != -EAGAIN && r != -EWOULDBLOCK)
			break;
		r = io_wait(gor, fd, pd, mode, &q, deadline, ctx);
		if (r)
			break;
	}
	pd_leave(pd);
	return r;
}

static ssize_t io_recvfrom(int fd, void *buf, size_t n, int flags,
			   struct sockaddr *sa, socklen_t *salen,
			   int64_t deadline, goro_ctx *ctx)
{
	struct sockop o = {.fn = op_recvfrom, .buf = buf, .n = n,
			   .flags = flags, .sa = sa, .salen = salen};

	return sock_call(fd, RD, &o, deadline, ctx);
}

ssize_t goro_recvfrom(int fd, void *buf, size_t n, int flags,
		      struct sockaddr *sa, socklen_t *salen)
{
	return io_recvfrom(fd, buf, n, flags, sa, salen, 0, NULL);
}

ssize_t goro_recvfrom_deadline(int fd, void *buf, size_t n, int flags,
			       struct sockaddr *sa, socklen_t *salen,
			       int64_t deadline)
{
	return io_recvfrom(fd, buf, n, flags, sa, salen, deadline, NULL);
}

ssize_t goro_recvfrom_ctx(int fd, void *buf, size_t n, int flags,
			  struct sockaddr *sa, socklen_t *salen, goro_ctx *ctx)
{
	return io_recvfrom(fd, buf, n, flags, sa, salen, 0, ctx);
}

static ssize_t io_sendto(int fd, const void *buf, size_t n, int flags,
			 const struct sockaddr *dst, socklen_t dstlen,
			 int64_t deadline, goro_ctx *ctx)
{
	struct sockop o = {.fn = op_sendto, .buf = (void *)buf, .n = n,
			   .flags = flags, .dst = dst, .dstlen = dstlen};

	return sock_call(fd, WR, &o, deadline, ctx);
}

ssize_t goro_sendto(int fd, const void *buf, size_t n, int flags,
		    const struct sockaddr *dst, socklen_t dstlen)
{
	return io_sendto(fd, buf, n, flags, dst, dstlen, 0, NULL);
}

ssize_t goro_sendto_deadline(int fd, const void *buf, size_t n, int flags,
			     const struct sockaddr *dst, socklen_t dstlen,
			     int64_t deadline)
{
	return io_sendto(fd, buf, n, flags, dst, dstlen, deadline, NULL);
}

ssize_t goro_sendto_ctx(int fd, const void *buf, size_t n, int flags,
			const struct sockaddr *dst, socklen_t dstlen,
			goro_ctx *ctx)
{
	return io_sendto(fd, buf, n, flags, dst, dstlen, 0, ctx);
}

static ssize_t io_recvmsg(int fd, struct msghdr *msg, int flags,
			  int64_t deadline, goro_ctx *ctx)
{
	struct sockop o = {.fn = op_recvmsg, .msg = msg, .flags = flags};

	return sock_call(fd, RD, &o, deadline, ctx);
}

ssize_t goro_recvmsg(int fd, struct msghdr *msg, int flags)
{
	return io_recvmsg(fd, msg, flags, 0, NULL);
}

ssize_t goro_recvmsg_deadline(int fd, struct msghdr *msg, int flags,
			      int64_t deadline)
{
	return io_recvmsg(fd, msg, flags, deadline, NULL);
}

ssize_t goro_recvmsg_ctx(int fd, struct msghdr *msg, int flags, goro_ctx *ctx)
{
	return io_recvmsg(fd, msg, flags, 0, ctx);
}

static ssize_t io_sendmsg(int fd, const struct msghdr *msg, int flags,
			  int64_t deadline, goro_ctx *ctx)
{
	struct sockop o = {.fn = op_sendmsg, .msg = (struct msghdr *)msg,
			   .flags = flags};

	return sock_call(fd, WR, &o, deadline, ctx);
}

ssize_t goro_sendmsg(int fd, const struct msghdr *msg, int flags)
{
	return io_sendmsg(fd, msg, flags, 0, NULL);
}

ssize_t goro_sendmsg_deadline(int fd, const struct msghdr *msg, int flags,
			      int64_t deadline)
{
	return io_sendmsg(fd, msg, flags, deadline, NULL);
}

ssize_t goro_sendmsg_ctx(int fd, const struct msghdr *msg, int flags,
			 goro_ctx *ctx)
{
	return io_sendmsg(fd, msg, flags, 0, ctx);
}

/* ---- readiness ------------------------------------------------------------------ */

/* fd's readiness for events (GORO_FD_*) now: the ready ones, or -errno. */
__attribute__((noinline)) static int sys_ready(int fd, int events)
{
	struct pollfd p = {fd, 0, 0};
	int r;

	if (events & GORO_FD_READ)
		p.events |= POLLIN | POLLPRI | POLLRDHUP;
	if (events & GORO_FD_WRITE)
		p.events |= POLLOUT;
	r = poll(&p, 1, 0);
	if (r < 0)
		return -errno;
	if (p.revents & POLLNVAL)
		return -EBADF;
	r = 0;
	/* hang-up and error make a read or write return at once: ready */
	if (p.revents & (POLLIN | POLLPRI | POLLRDHUP | POLLHUP | POLLERR))
		r |= GORO_FD_READ;
	if (p.revents & (POLLOUT | POLLHUP | POLLERR))
		r |= GORO_FD_WRITE;
	return r & events;
}

int goro_fd_wait(int fd, int events, int64_t deadline, goro_ctx *ctx)
{
	int mode = events == GORO_FD_READ ? RD :
		   events == GORO_FD_WRITE ? WR : RW;
	struct pd *pd;
	struct seqs q;
	bool gor;
	int r;

	if (!events || (events & ~(GORO_FD_READ | GORO_FD_WRITE)) ||
	    deadline < 0)
		return -EINVAL;
	r = io_begin(fd, &pd, &gor);
	if (r)
		return r;
	for (;;) {
		seq_of(pd, &q);
		r = sys_ready(fd, events);
		if (r == -EINTR)
			continue;
		if (r)
			break;
		r = io_wait(gor, fd, pd, mode, &q, deadline, ctx);
		if (r)
			break;
	}
	pd_leave(pd);
	return r;
}

/* ---- closing ------------------------------------------------------------------------ */

int goro_close(int fd)
{
	struct pd *pd = fd >= 0 ? pd_get(fd) : NULL;
	struct iowait *list = NULL, *w;
	struct goro_waiter cw;
	int mode;

	if (!pd)
		return close(fd) < 0 ? -errno : 0;
	ensure_init();
	if (__atomic_fetch_or(&pd->ref, PD_CLOSING, __ATOMIC_SEQ_CST) &
	    PD_CLOSING)
		return -EBADF;	/* another goro_close has it */
	goro__lock(&pd->lock);
	for (mode = RD; mode <= RW; mode++) {
		while ((w = pd->q[mode])) {
			pd->q[mode] = w->next;
			w->state = W_CLOSED;
			w->next = list;
			list = w;
		}
	}
	while ((w = pd->fq)) {
		pd->fq = w->next;
		w->state = W_CLOSED;
		efd_signal(w->efd);
	}
	if (pd->armed)
		epoll_ctl(np.epfd, EPOLL_CTL_DEL, fd, NULL);
	st_rel(&pd->armed, 0);
	goro__unlock(&pd->lock);
	while ((w = list)) {
		list = w->next;		/* w is gone once its g runs */
		goro__waiter_wake(&w->w);
	}
	/* the calls in flight leave: each sees PD_CLOSING at its next wait */
	goro__waiter_init(&cw);
	goro__lock(&pd->lock);
	if (ld_acq(&pd->ref) != PD_CLOSING) {
		pd->closer = &cw;
		goro__waiter_park(&cw, &pd->lock, "IO close");
	} else {
		goro__unlock(&pd->lock);
	}
	/*
	 * Nothing of this file's calls is left: the number starts afresh,
	 * before close(2) lets it be reused. A call that got in since only
	 * to see PD_CLOSING is on its way out: let it leave first.
	 */
	st_rlx(&pd->notsock, 0);
	while (!cas(&pd->ref, PD_CLOSING, 0))
		sched_yield();
	return close(fd) < 0 ? -errno : 0;
}
