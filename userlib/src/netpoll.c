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
 * goroutine waiting in that direction; a waiter samples the sequence
 * before its attempt and does not park if it moved since, so an edge that
 * fires between the attempt and the park is never lost (Go's pdReady).
 * Every wake-up is a hint: the woken goroutine retries the call.
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
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- poll descriptors ------------------------------------------------------ */

enum { RD, WR };

struct iowait {
	struct iowait *next;
	struct goro_waiter w;
	struct goro_rtimer t;		/* the deadline */
	struct pd *pd;
	int mode;
	int state;			/* W_* under pd->lock */
};

enum { W_NEW, W_QUEUED, W_WOKEN, W_TIMEDOUT };

struct pd {
	uint32_t lock;
	uint32_t seq[2];	/* events seen, per direction (atomic) */
	uint32_t notsock;	/* recv gave ENOTSOCK: use read/write */
	uint32_t armed;		/* in the epoll set (under lock) */
	struct iowait *q[2];	/* waiters per direction */
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

/* Take pd's waiters for the events ev onto *list (linked by schedlink). */
static void pd_event(struct pd *pd, uint32_t ev, struct goro_g **list)
{
	struct iowait *w;
	int mode;

	goro__lock(&pd->lock);
	for (mode = RD; mode <= WR; mode++) {
		uint32_t want = mode == RD ? EPOLLIN | EPOLLRDHUP | EPOLLPRI
					   : EPOLLOUT;

		if (!(ev & (want | EPOLLHUP | EPOLLERR)))
			continue;
		st_rel(&pd->seq[mode], pd->seq[mode] + 1);
		while ((w = pd->q[mode])) {
			pd->q[mode] = w->next;
			w->state = W_WOKEN;
			/* w lives on the parked g's stack: g is off it */
			w->w.g->schedlink = *list;
			*list = w->w.g;
		}
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

static void io_timeout(struct goro_rtimer *t)
{
	struct iowait *w = (struct iowait *)((char *)t -
					     offsetof(struct iowait, t));
	struct pd *pd = w->pd;
	struct iowait **pl;
	bool wake = false;

	goro__lock(&pd->lock);
	if (w->state == W_QUEUED) {
		for (pl = &pd->q[w->mode]; *pl; pl = &(*pl)->next)
			if (*pl == w) {
				*pl = w->next;
				break;
			}
		wake = true;
		w->state = W_TIMEDOUT;
	} else if (w->state == W_NEW) {
		w->state = W_TIMEDOUT;	/* it will not park */
	}
	goro__unlock(&pd->lock);
	if (wake)
		goro__waiter_wake(&w->w);
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

/*
 * The calling goroutine waits until fd may be ready for mode (an event
 * since seq was sampled) or the deadline. 0: retry the call; -ETIMEDOUT;
 * -errno when fd cannot be polled.
 */
static int netwait(int fd, struct pd *pd, int mode, uint32_t seq,
		   int64_t deadline)
{
	struct iowait w;
	int err;

	if (deadline && nanotime() >= deadline)
		return -ETIMEDOUT;
	err = np_register(fd, pd, false);
	if (err)
		return err;
	goro__waiter_init(&w.w);
	w.pd = pd;
	w.mode = mode;
	w.state = W_NEW;
	w.next = NULL;
	if (deadline) {
		w.t.when = deadline;
		w.t.idx = -1;
		w.t.fn = io_timeout;
		w.t.release = NULL;
		if (goro__timer_add(&w.t))
			return -ENOMEM;
	}
	goro__lock(&pd->lock);
	if (w.state == W_TIMEDOUT || ld_rlx(&pd->seq[mode]) != seq) {
		goro__unlock(&pd->lock);
	} else {
		w.state = W_QUEUED;
		w.next = pd->q[mode];
		pd->q[mode] = &w;
		xadd(&np.nwait, 1);
		goro__waiter_park(&w.w, &pd->lock, "IO wait");
		xadd(&np.nwait, -1);
	}
	if (deadline)
		goro__timer_del(&w.t);
	/* the timer ran and cannot run again: state is settled */
	return w.state == W_TIMEDOUT ? -ETIMEDOUT : 0;
}

/* A foreign thread waits in poll(2). 0: retry; -ETIMEDOUT. */
static int foreign_wait(int fd, int mode, int64_t deadline)
{
	struct pollfd p = {fd, mode == RD ? POLLIN | POLLPRI : POLLOUT, 0};
	int ms = -1;

	if (deadline) {
		int64_t left = deadline - nanotime();

		if (left <= 0)
			return -ETIMEDOUT;
		ms = (int)((left + 999999) / 1000000);
	}
	poll(&p, 1, ms);
	return 0;
}

/* Wait by whichever means the caller has. */
static int io_wait(bool gor, int fd, struct pd *pd, int mode, uint32_t seq,
		   int64_t deadline)
{
	if (gor)
		return netwait(fd, pd, mode, seq, deadline);
	return foreign_wait(fd, mode, deadline);
}

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

static inline uint32_t seq_of(struct pd *pd, int mode)
{
	return ld_acq(&pd->seq[mode]);	/* pairs with st_rel in pd_event */
}

/* ---- the calls ---------------------------------------------------------------------- */

ssize_t goro_read_deadline(int fd, void *buf, size_t n, int64_t deadline)
{
	struct pd *pd = pd_get(fd);
	bool gor = is_goroutine();
	ssize_t r;

	if (!pd)
		return fd < 0 ? -EBADF : -ENOMEM;
	for (;;) {
		uint32_t seq = seq_of(pd, RD);

		r = -ENOTSOCK;
		if (!ld_rlx(&pd->notsock)) {
			r = sys_recv(fd, buf, n);
			if (r == -ENOTSOCK)
				st_rlx(&pd->notsock, 1);
		}
		if (r == -ENOTSOCK)
			r = sys_read(fd, buf, n);
		if (r >= 0)
			return r;
		if (r == -EINTR)
			continue;
		if (r != -EAGAIN && r != -EWOULDBLOCK)
			return r;
		r = io_wait(gor, fd, pd, RD, seq, deadline);
		if (r)
			return r;
	}
}

ssize_t goro_read(int fd, void *buf, size_t n)
{
	return goro_read_deadline(fd, buf, n, 0);
}

ssize_t goro_write_deadline(int fd, const void *buf, size_t n,
			    int64_t deadline)
{
	struct pd *pd = pd_get(fd);
	bool gor = is_goroutine();
	size_t done = 0;
	ssize_t r;

	if (!pd)
		return fd < 0 ? -EBADF : -ENOMEM;
	for (;;) {
		uint32_t seq = seq_of(pd, WR);
		const char *p = (const char *)buf + done;

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
			if (done == n)
				return (ssize_t)n;
			continue;
		}
		if (r == -EINTR)
			continue;
		if (r == -EAGAIN || r == -EWOULDBLOCK)
			r = io_wait(gor, fd, pd, WR, seq, deadline);
		if (r)
			return done ? (ssize_t)done : r;
	}
}

ssize_t goro_write(int fd, const void *buf, size_t n)
{
	return goro_write_deadline(fd, buf, n, 0);
}

int goro_accept_deadline(int fd, struct sockaddr *sa, socklen_t *len,
			 int64_t deadline)
{
	struct pd *pd = pd_get(fd);
	bool gor = is_goroutine();
	int r;

	if (!pd)
		return fd < 0 ? -EBADF : -ENOMEM;
	for (;;) {
		uint32_t seq = seq_of(pd, RD);

		r = sys_accept(fd, sa, len);
		if (r >= 0) {
			struct pd *npd = pd_get(r);

			/*
			 * a new file: register it (epoll may still hold a
			 * closed one's number only in our pd)
			 */
			if (npd)
				np_register(r, npd, true);
			return r;
		}
		if (r == -EINTR || r == -ECONNABORTED)
			continue;
		if (r != -EAGAIN && r != -EWOULDBLOCK)
			return r;
		r = io_wait(gor, fd, pd, RD, seq, deadline);
		if (r)
			return r;
	}
}

int goro_accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	return goro_accept_deadline(fd, sa, len, 0);
}

int goro_connect_deadline(int fd, const struct sockaddr *sa, socklen_t len,
			  int64_t deadline)
{
	struct pd *pd = pd_get(fd);
	bool gor = is_goroutine();
	uint32_t seq;
	int r;

	if (!pd)
		return fd < 0 ? -EBADF : -ENOMEM;
	r = np_register(fd, pd, true);
	if (r)
		return r;
	seq = seq_of(pd, WR);
	r = sys_connect(fd, sa, len);
	if (r == 0 || r == -EISCONN)
		return 0;
	if (r != -EINPROGRESS && r != -EALREADY && r != -EINTR)
		return r;
	for (;;) {
		r = io_wait(gor, fd, pd, WR, seq, deadline);
		if (r)
			return r;
		seq = seq_of(pd, WR);
		r = sys_connected(fd);
		if (r <= 0)
			return r;
	}
}

int goro_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	return goro_connect_deadline(fd, sa, len, 0);
}

int goro_close(int fd)
{
	struct pd *pd = fd >= 0 ? pd_get(fd) : NULL;

	if (pd && ld_acq(&pd->armed)) {
		goro__lock(&pd->lock);
		if (pd->armed)
			epoll_ctl(np.epfd, EPOLL_CTL_DEL, fd, NULL);
		st_rel(&pd->armed, 0);
		goro__unlock(&pd->lock);
	}
	return close(fd) < 0 ? -errno : 0;
}
