/* SPDX-License-Identifier: MIT */
/*
 * libgoro: waiting on descriptors and ending those waits. goro_fd_wait
 * returns readiness, times out never early, and ends with its context's
 * err on cancel; goro_close wakes every call parked on the descriptor
 * (goroutines and foreign threads) with -EBADF, and none of them acts on
 * the file that gets the number next; recvfrom/sendto/recvmsg/sendmsg
 * park as goro_read does.
 */
#include <goro.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "util.h"

#define MS 1000000LL

PROCS_FIXTURE()
PROCS_VARIANT(1);
PROCS_VARIANT(4);

/* ---- goro_fd_wait ---- */

TEST(fd_wait_returns_what_is_ready)
{
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	/* writable at once, not readable */
	ASSERT_EQ(GORO_FD_WRITE, goro_fd_wait(sv[0], GORO_FD_WRITE, 0, NULL));
	ASSERT_EQ(GORO_FD_WRITE, goro_fd_wait(sv[0], GORO_FD_READ |
					      GORO_FD_WRITE, 0, NULL));
	ASSERT_EQ(-ETIMEDOUT, goro_fd_wait(sv[0], GORO_FD_READ,
					   goro_now() + 1 * MS, NULL));
	ASSERT_EQ(1, write(sv[1], "x", 1));
	ASSERT_EQ(GORO_FD_READ, goro_fd_wait(sv[0], GORO_FD_READ, 0, NULL));
	ASSERT_EQ(-EINVAL, goro_fd_wait(sv[0], 0, 0, NULL));
	ASSERT_EQ(-EINVAL, goro_fd_wait(sv[0], 4, 0, NULL));
	ASSERT_EQ(-EBADF, goro_fd_wait(-1, GORO_FD_READ, 0, NULL));
	close(sv[0]);
	close(sv[1]);
}

struct later {
	int fd;
	int64_t delay;
};

static void write_later(void *arg)
{
	struct later *l = arg;

	goro_sleep(l->delay);
	if (write(l->fd, "y", 1) != 1)
		abort();
}

TEST_F(procs, fd_wait_parks_until_readable)
{
	struct later l;
	int sv[2];
	int64_t t0;
	char c;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	l = (struct later){sv[1], 20 * MS};
	t0 = goro_now();
	goro_go(write_later, &l);
	ASSERT_EQ(GORO_FD_READ, goro_fd_wait(sv[0], GORO_FD_READ, 0, NULL));
	ASSERT_GE(goro_now() - t0, 20 * MS);
	ASSERT_EQ(1, read(sv[0], &c, 1));
	/* drained: the next wait parks again, until the deadline */
	t0 = goro_now();
	ASSERT_EQ(-ETIMEDOUT, goro_fd_wait(sv[0], GORO_FD_READ,
					   t0 + 20 * MS, NULL));
	ASSERT_GE(goro_now() - t0, 20 * MS);
	close(sv[0]);
	close(sv[1]);
}

struct fw {
	int fd;
	int events;
	int64_t deadline;
	goro_ctx *ctx;
	int ret;
	int64_t at;		/* when it returned */
	atomic_int done;
	goro_wg *wg;
};

static void fd_waiter(void *arg)
{
	struct fw *w = arg;

	w->ret = goro_fd_wait(w->fd, w->events, w->deadline, w->ctx);
	w->at = goro_now();
	atomic_store(&w->done, 1);
	if (w->wg)
		goro_wg_done(w->wg);
}

TEST_F(procs, cancel_ends_fd_wait_with_ecanceled)
{
	goro_ctx *ctx = goro_ctx_make(NULL);
	goro_wg wg = GORO_WG_INIT;
	struct fw w[4];
	int sv[2], i;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	goro_wg_add(&wg, 4);
	for (i = 0; i < 4; i++) {
		w[i] = (struct fw){sv[0], GORO_FD_READ, 0, ctx, 99, 0, 0, &wg};
		goro_go(fd_waiter, &w[i]);
	}
	goro_sleep(10 * MS);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, atomic_load(&w[i].done));
	goro_ctx_cancel(ctx);
	goro_wg_wait(&wg);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(-ECANCELED, w[i].ret);
	/* a cancelled context ends a wait that would park, at once */
	ASSERT_EQ(-ECANCELED, goro_fd_wait(sv[0], GORO_FD_READ, 0, ctx));
	/* but a ready descriptor wins */
	ASSERT_EQ(GORO_FD_WRITE, goro_fd_wait(sv[0], GORO_FD_WRITE, 0, ctx));
	goro_ctx_free(ctx);
	close(sv[0]);
	close(sv[1]);
}

TEST(a_contexts_deadline_ends_fd_wait_with_etimedout)
{
	goro_ctx *ctx = goro_ctx_make_timeout(NULL, 30 * MS);
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	ASSERT_EQ(-ETIMEDOUT, goro_fd_wait(sv[0], GORO_FD_READ, 0, ctx));
	ASSERT_GE(goro_now(), goro_ctx_deadline(ctx));
	goro_ctx_free(ctx);
	close(sv[0]);
	close(sv[1]);
}

static void *thread_fd_wait(void *arg)
{
	fd_waiter(arg);
	return NULL;
}

TEST(cancel_ends_a_foreign_threads_fd_wait)
{
	goro_ctx *ctx = goro_ctx_make(NULL);
	struct fw w;
	pthread_t t;
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	w = (struct fw){sv[0], GORO_FD_READ, 0, ctx, 99, 0, 0, NULL};
	pthread_create(&t, NULL, thread_fd_wait, &w);
	goro_sleep(20 * MS);
	ASSERT_EQ(0, atomic_load(&w.done));
	goro_ctx_cancel(ctx);
	pthread_join(t, NULL);
	ASSERT_EQ(-ECANCELED, w.ret);
	goro_ctx_free(ctx);
	close(sv[0]);
	close(sv[1]);
}

/* ---- goro_close ---- */

struct rd {
	int fd;
	ssize_t ret;
	char buf[16];
	atomic_int done;
	goro_wg *wg;
};

static void reader(void *arg)
{
	struct rd *r = arg;

	r->ret = goro_read(r->fd, r->buf, sizeof(r->buf));
	atomic_store(&r->done, 1);
	if (r->wg)
		goro_wg_done(r->wg);
}

static void *thread_read(void *arg)
{
	reader(arg);
	return NULL;
}

static void recv_reader(void *arg)
{
	struct rd *r = arg;

	r->ret = goro_recvfrom(r->fd, r->buf, sizeof(r->buf), 0, NULL, NULL);
	atomic_store(&r->done, 1);
	goro_wg_done(r->wg);
}

/*
 * Before goro_close woke its waiters, a goroutine parked in goro_read
 * stayed parked when the descriptor was closed.
 */
TEST_F(procs, close_wakes_every_goroutine_parked_on_the_descriptor)
{
	goro_wg wg = GORO_WG_INIT;
	struct rd r[6];
	struct fw w;
	int sv[2], i;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	goro_wg_add(&wg, 7);
	for (i = 0; i < 6; i++) {
		r[i] = (struct rd){.fd = sv[0], .ret = 99, .wg = &wg};
		goro_go(i % 2 ? recv_reader : reader, &r[i]);
	}
	w = (struct fw){sv[0], GORO_FD_READ, 0, NULL, 99, 0, 0, &wg};
	goro_go(fd_waiter, &w);
	goro_sleep(10 * MS);
	for (i = 0; i < 6; i++)
		ASSERT_EQ(0, atomic_load(&r[i].done));
	ASSERT_EQ(0, goro_close(sv[0]));
	goro_wg_wait(&wg);
	for (i = 0; i < 6; i++)
		ASSERT_EQ(-EBADF, r[i].ret);
	ASSERT_EQ(-EBADF, w.ret);
	/* the descriptor is closed */
	ASSERT_EQ(-1, fcntl(sv[0], F_GETFD));
	close(sv[1]);
}

TEST(close_wakes_a_foreign_thread_parked_on_the_descriptor)
{
	struct rd r = {.ret = 99};
	pthread_t t;
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	r.fd = sv[0];
	pthread_create(&t, NULL, thread_read, &r);
	goro_sleep(20 * MS);
	ASSERT_EQ(0, atomic_load(&r.done));
	ASSERT_EQ(0, goro_close(sv[0]));
	pthread_join(t, NULL);
	ASSERT_EQ(-EBADF, r.ret);
	close(sv[1]);
}

/*
 * The reuse race: readers parked on a descriptor when it is closed must
 * not read from the file that gets its number next. Each round parks
 * readers on one end of a pair, closes it with goro_close and makes a
 * second pair at once (it gets the closed number) and writes to it:
 * every old reader says -EBADF, and the new file still holds every byte.
 * (A call that starts after goro_close returned is the program's race,
 * as with close(2): the readers are in their call before the close.)
 */
static atomic_int entered;

static void counted_reader(void *arg)
{
	atomic_fetch_add(&entered, 1);
	reader(arg);
}

TEST_F(procs, a_closed_descriptors_waiters_never_see_the_next_file)
{
	int round, i;

	for (round = 0; round < 20; round++) {
		goro_wg wg = GORO_WG_INIT;
		struct rd r[4];
		int sv[2], nv[2], old;
		char buf[16];

		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
		old = sv[0];
		atomic_store(&entered, 0);
		goro_wg_add(&wg, 4);
		for (i = 0; i < 4; i++) {
			r[i] = (struct rd){.fd = old, .ret = 99, .wg = &wg};
			goro_go(counted_reader, &r[i]);
		}
		while (atomic_load(&entered) < 4)
			goro_yield();
		goro_sleep(2 * MS);	/* from the counter into the call */
		ASSERT_EQ(0, goro_close(old));
		ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, nv));
		ASSERT_EQ(old, nv[0]);
		ASSERT_EQ(4, write(nv[1], "data", 4));
		goro_wg_wait(&wg);
		for (i = 0; i < 4; i++)
			ASSERT_EQ(-EBADF, r[i].ret) TH_LOG("round %d", round);
		ASSERT_EQ(4, goro_read(nv[0], buf, sizeof(buf)));
		ASSERT_EQ(0, memcmp(buf, "data", 4));
		goro_close(nv[0]);
		close(nv[1]);
		close(sv[1]);
	}
}

TEST(close_of_a_bad_descriptor)
{
	ASSERT_EQ(-EBADF, goro_close(-1));
	ASSERT_EQ(-EBADF, goro_close(1 << 20));	/* not open */
}

/* ---- socket calls ---- */

static int udp_socket(struct sockaddr_in *sa)
{
	socklen_t sl = sizeof(*sa);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)sa, sizeof(*sa)) ||
	    getsockname(fd, (struct sockaddr *)sa, &sl))
		return -1;
	return fd;
}

struct udp {
	int fd;
	struct sockaddr_in to;
	int64_t delay;
};

static void udp_send_later(void *arg)
{
	struct udp *u = arg;

	goro_sleep(u->delay);
	if (goro_sendto(u->fd, "ping", 4, 0, (struct sockaddr *)&u->to,
			sizeof(u->to)) != 4)
		abort();
}

TEST_F(procs, recvfrom_parks_until_a_datagram_and_says_who_sent_it)
{
	struct sockaddr_in a, b, from;
	socklen_t fl = sizeof(from);
	struct udp u;
	int fa = udp_socket(&a), fb = udp_socket(&b);
	int64_t t0;
	char buf[16];

	ASSERT_GE(fa, 0);
	ASSERT_GE(fb, 0);
	u = (struct udp){fb, a, 20 * MS};
	t0 = goro_now();
	goro_go(udp_send_later, &u);
	ASSERT_EQ(4, goro_recvfrom(fa, buf, sizeof(buf), 0,
				   (struct sockaddr *)&from, &fl));
	ASSERT_GE(goro_now() - t0, 20 * MS);
	ASSERT_EQ(0, memcmp(buf, "ping", 4));
	ASSERT_EQ(sizeof(from), fl);
	ASSERT_EQ(b.sin_port, from.sin_port);
	/* nothing more: the deadline ends the next one, never early */
	t0 = goro_now();
	ASSERT_EQ(-ETIMEDOUT, goro_recvfrom_deadline(fa, buf, sizeof(buf), 0,
						     NULL, NULL,
						     t0 + 10 * MS));
	ASSERT_GE(goro_now() - t0, 10 * MS);
	goro_close(fa);
	goro_close(fb);
}

struct msgside {
	int fd;
	ssize_t ret;
	char a[3], b[8];
};

static void recvmsg_side(void *arg)
{
	struct msgside *m = arg;
	struct iovec iov[2] = {{m->a, sizeof(m->a)}, {m->b, sizeof(m->b)}};
	struct msghdr h = {.msg_iov = iov, .msg_iovlen = 2};

	/* release: the bytes in a and b before the count main waits for */
	__atomic_store_n(&m->ret, goro_recvmsg(m->fd, &h, MSG_WAITALL),
			 __ATOMIC_RELEASE);
}

static ssize_t msgside_ret(struct msgside *m)
{
	return __atomic_load_n(&m->ret, __ATOMIC_ACQUIRE);
}

TEST(recvmsg_and_sendmsg_scatter_and_gather)
{
	struct msgside m = {.ret = 99};
	struct iovec iov[3] = {{"he", 2}, {"llo, ", 5}, {"goro", 4}};
	struct msghdr h = {.msg_iov = iov, .msg_iovlen = 3};
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	m.fd = sv[0];
	goro_go(recvmsg_side, &m);
	goro_sleep(5 * MS);
	ASSERT_EQ(99, msgside_ret(&m));	/* parked */
	ASSERT_EQ(11, goro_sendmsg(sv[1], &h, 0));
	while (msgside_ret(&m) == 99)
		goro_sleep(1 * MS);
	ASSERT_EQ(11, msgside_ret(&m));
	ASSERT_EQ(0, memcmp(m.a, "hel", 3));
	ASSERT_EQ(0, memcmp(m.b, "lo, goro", 8));
	/* a send to a gone peer: -EPIPE or -ECONNREFUSED, never SIGPIPE */
	close(sv[0]);
	ASSERT_LT(goro_sendmsg(sv[1], &h, 0), 0);
	close(sv[1]);
}

TEST(sendto_a_full_socket_waits_until_the_deadline)
{
	char big[4096];
	int sv[2];
	ssize_t r;
	int64_t t0;

	memset(big, 'z', sizeof(big));
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	/* fill it */
	while (send(sv[1], big, sizeof(big), MSG_DONTWAIT) > 0)
		;
	t0 = goro_now();
	r = goro_sendto_deadline(sv[1], big, sizeof(big), 0, NULL, 0,
				 t0 + 10 * MS);
	ASSERT_EQ(-ETIMEDOUT, r);
	ASSERT_GE(goro_now() - t0, 10 * MS);
	close(sv[0]);
	close(sv[1]);
}

TEST_HARNESS_MAIN
