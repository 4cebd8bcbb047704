/* SPDX-License-Identifier: MIT */
/*
 * libgoro: the I/O calls under a context (goro_read_ctx and the seven
 * others). For each call, on a descriptor where it parks: a cancel from
 * another goroutine ends it with -ECANCELED at once, so does the cancel of
 * an ancestor, the context's deadline ends it with -ETIMEDOUT, a ready
 * descriptor wins over a cancelled context, and the descriptor serves
 * later calls after a cancelled one. Then the writes' partial progress and
 * a foreign thread's call.
 *
 * Where each call parks, on loopback only: read on an empty pipe, write on
 * a full one, accept on a listener with nothing pending, connect to a
 * listener whose backlog (0) is full (the kernel drops the SYN, the client
 * retries it after a second), recvfrom on a UDP socket with nothing
 * queued, sendto and sendmsg on a full Unix stream socket, recvmsg on an
 * empty Unix datagram socket.
 */
#include <goro.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "kselftest_harness.h"
#include "util.h"

#define MS 1000000LL

/* a call made in a goroutine, and what it returned */
struct call {
	struct fx *f;
	goro_ctx *ctx;
	ssize_t ret;
	int64_t at;		/* when it returned */
	atomic_int done;
};

/* the descriptors of one call's test */
struct fx {
	const struct op *op;
	int fd;			/* the call's descriptor */
	int peer;		/* the other end, or a client of lfd; or -1 */
	int lfd;		/* connect: the listener; or -1 */
	int filler;		/* connect: the connection filling lfd; or -1 */
	struct sockaddr_in to;	/* connect: lfd's address; recvfrom: fd's */
	char in[512], out[4096];
	struct call c[2];	/* outlive a failed test, for its teardown */
};

struct op {
	const char *name;
	/* make f's descriptors, the call's would park: 0 or -1 */
	int (*setup)(struct fx *f);
	ssize_t (*call)(struct fx *f, goro_ctx *ctx);
	/*
	 * make the call succeed: a call parked wakes and returns ok; one
	 * made once fd has the events (poll(2)'s; 0: at once) returns ok
	 */
	int (*ready)(struct fx *f);
	ssize_t ok;
	short events;
};

static int nonblock(int fd)
{
	return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/*
 * Fill fd (a pipe's write end or a stream socket) until it takes no byte:
 * the bytes it took, or -1.
 */
static ssize_t fill(int fd)
{
	static char junk[65536];
	ssize_t total = 0, r;
	size_t sz;

	if (nonblock(fd))
		return -1;
	for (sz = sizeof(junk); sz; sz /= 16)
		while ((r = write(fd, junk, sz)) > 0)
			total += r;
	return errno == EAGAIN ? total : -1;
}

/* read fd until it is empty */
static int drain(int fd)
{
	char b[65536];

	if (nonblock(fd))
		return -1;
	while (read(fd, b, sizeof(b)) > 0)
		;
	return errno == EAGAIN ? 0 : -1;
}

/* a TCP listener on loopback with this backlog; its address in *sa */
static int tcp_listener(int backlog, struct sockaddr_in *sa)
{
	socklen_t sl = sizeof(*sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)sa, sizeof(*sa)) ||
	    listen(fd, backlog) || getsockname(fd, (struct sockaddr *)sa, &sl))
		return -1;
	return fd;
}

/* a blocking TCP connection to sa, or -1 */
static int tcp_client(const struct sockaddr_in *sa)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || connect(fd, (const struct sockaddr *)sa, sizeof(*sa)))
		return -1;
	return fd;
}

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

/* ---- read: an empty pipe ---- */

static int read_setup(struct fx *f)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return -1;
	f->fd = p[0];
	f->peer = p[1];
	return 0;
}

static ssize_t read_call(struct fx *f, goro_ctx *ctx)
{
	return goro_read_ctx(f->fd, f->in, sizeof(f->in), ctx);
}

static int send_ping(struct fx *f)
{
	return write(f->peer, "ping", 4) == 4 ? 0 : -1;
}

static const struct op op_read = {"read", read_setup, read_call,
				  send_ping, 4, POLLIN};

/* ---- write: a full pipe ---- */

static int write_setup(struct fx *f)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC))
		return -1;
	f->fd = p[1];
	f->peer = p[0];
	return fill(f->fd) < 0 ? -1 : 0;
}

/* 4096 bytes: PIPE_BUF, all or nothing */
static ssize_t write_call(struct fx *f, goro_ctx *ctx)
{
	return goro_write_ctx(f->fd, f->out, sizeof(f->out), ctx);
}

static int drain_peer(struct fx *f)
{
	return drain(f->peer);
}

static const struct op op_write = {"write", write_setup, write_call,
				   drain_peer, 4096, POLLOUT};

/* ---- accept: nothing pending ---- */

static int accept_setup(struct fx *f)
{
	f->fd = tcp_listener(16, &f->to);
	return f->fd < 0 ? -1 : 0;
}

static ssize_t accept_call(struct fx *f, goro_ctx *ctx)
{
	int r = goro_accept_ctx(f->fd, NULL, NULL, ctx);

	if (r < 0)
		return r;
	close(r);
	return 0;
}

static int accept_ready(struct fx *f)
{
	f->peer = tcp_client(&f->to);
	return f->peer < 0 ? -1 : 0;
}

static const struct op op_accept = {"accept", accept_setup, accept_call,
				    accept_ready, 0, POLLIN};

/* ---- connect: a listener whose backlog is full ---- */

static int connect_setup(struct fx *f)
{
	struct pollfd p;

	f->lfd = tcp_listener(0, &f->to);
	if (f->lfd < 0)
		return -1;
	/* backlog 0 holds one connection: this one */
	f->filler = tcp_client(&f->to);
	p = (struct pollfd){f->lfd, POLLIN, 0};
	if (f->filler < 0 || poll(&p, 1, 1000) != 1)
		return -1;
	f->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return f->fd < 0 ? -1 : 0;
}

static ssize_t connect_call(struct fx *f, goro_ctx *ctx)
{
	return goro_connect_ctx(f->fd, (struct sockaddr *)&f->to,
				sizeof(f->to), ctx);
}

/* room for one: the next SYN is answered (a retried one within ~1 s) */
static int connect_ready(struct fx *f)
{
	int a = accept(f->lfd, NULL, NULL);

	if (a < 0)
		return -1;
	close(a);
	return 0;
}

static const struct op op_connect = {"connect", connect_setup, connect_call,
				     connect_ready, 0, 0};

/* ---- recvfrom: a UDP socket with nothing queued ---- */

static int recvfrom_setup(struct fx *f)
{
	struct sockaddr_in sa;

	f->fd = udp_socket(&f->to);
	f->peer = udp_socket(&sa);
	return f->fd < 0 || f->peer < 0 ? -1 : 0;
}

static ssize_t recvfrom_call(struct fx *f, goro_ctx *ctx)
{
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);

	return goro_recvfrom_ctx(f->fd, f->in, sizeof(f->in), 0,
				 (struct sockaddr *)&from, &fl, ctx);
}

static int recvfrom_ready(struct fx *f)
{
	return sendto(f->peer, "ping", 4, 0, (struct sockaddr *)&f->to,
		      sizeof(f->to)) == 4 ? 0 : -1;
}

static const struct op op_recvfrom = {"recvfrom", recvfrom_setup,
				      recvfrom_call, recvfrom_ready, 4, POLLIN};

/* ---- sendto, sendmsg: a full Unix stream socket ---- */

static int full_stream_setup(struct fx *f)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	f->fd = sv[0];
	f->peer = sv[1];
	return fill(f->fd) < 0 ? -1 : 0;
}

static ssize_t sendto_call(struct fx *f, goro_ctx *ctx)
{
	return goro_sendto_ctx(f->fd, f->out, 512, 0, NULL, 0, ctx);
}

static const struct op op_sendto = {"sendto", full_stream_setup, sendto_call,
				    drain_peer, 512, POLLOUT};

static ssize_t sendmsg_call(struct fx *f, goro_ctx *ctx)
{
	struct iovec iov[2] = {{f->out, 256}, {f->out + 256, 256}};
	struct msghdr h = {.msg_iov = iov, .msg_iovlen = 2};

	return goro_sendmsg_ctx(f->fd, &h, 0, ctx);
}

static const struct op op_sendmsg = {"sendmsg", full_stream_setup,
				     sendmsg_call, drain_peer, 512, POLLOUT};

/* ---- recvmsg: an empty Unix datagram socket ---- */

static int recvmsg_setup(struct fx *f)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	f->fd = sv[0];
	f->peer = sv[1];
	return 0;
}

static ssize_t recvmsg_call(struct fx *f, goro_ctx *ctx)
{
	struct iovec iov[2] = {{f->in, 2}, {f->in + 2, 8}};
	struct msghdr h = {.msg_iov = iov, .msg_iovlen = 2};

	return goro_recvmsg_ctx(f->fd, &h, 0, ctx);
}

static const struct op op_recvmsg = {"recvmsg", recvmsg_setup, recvmsg_call,
				     send_ping, 4, POLLIN};

/* ---- the fixture: one variant per call ---- */

FIXTURE(io) {
	struct fx f;
};

FIXTURE_VARIANT(io) {
	const struct op *op;
};

FIXTURE_VARIANT_ADD(io, read) { .op = &op_read };
FIXTURE_VARIANT_ADD(io, write) { .op = &op_write };
FIXTURE_VARIANT_ADD(io, accept) { .op = &op_accept };
FIXTURE_VARIANT_ADD(io, connect) { .op = &op_connect };
FIXTURE_VARIANT_ADD(io, recvfrom) { .op = &op_recvfrom };
FIXTURE_VARIANT_ADD(io, sendto) { .op = &op_sendto };
FIXTURE_VARIANT_ADD(io, recvmsg) { .op = &op_recvmsg };
FIXTURE_VARIANT_ADD(io, sendmsg) { .op = &op_sendmsg };

FIXTURE_SETUP(io)
{
	struct fx *f = &self->f;

	memset(f, 0, sizeof(*f));
	f->op = variant->op;
	f->fd = f->peer = f->lfd = f->filler = -1;
	memset(f->out, 'o', sizeof(f->out));
	ASSERT_EQ(0, f->op->setup(f)) TH_LOG("%s: setup: %s", f->op->name,
					      strerror(errno));
}

FIXTURE_TEARDOWN(io)
{
	struct fx *f = &self->f;
	int *fds[] = {&f->fd, &f->peer, &f->lfd, &f->filler};
	unsigned i;

	/* goro_close ends a call a failed test left parked */
	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] >= 0)
			goro_close(*fds[i]);
}

static void caller(void *arg)
{
	struct call *c = arg;

	c->ret = c->f->op->call(c->f, c->ctx);
	c->at = goro_now();
	atomic_store(&c->done, 1);
}

/* Start the call c (of f, under ctx) in a goroutine. */
static struct call *go_call(struct fx *f, int i, goro_ctx *ctx)
{
	struct call *c = &f->c[i];

	c->f = f;
	c->ctx = ctx;
	c->ret = 99;
	atomic_store(&c->done, 0);
	goro_go(caller, c);
	return c;
}

/* Whether c returned within ns. */
static bool returned(struct call *c, int64_t ns)
{
	int64_t end = goro_now() + ns;

	while (!atomic_load(&c->done) && goro_now() < end)
		goro_sleep(1 * MS);
	return atomic_load(&c->done);
}

/* Make f's call succeed, and wait until it would at once. */
static int make_ready(struct fx *f)
{
	struct pollfd p = {f->fd, f->op->events, 0};

	if (f->op->ready(f))
		return -1;
	return !p.events || poll(&p, 1, 1000) == 1 ? 0 : -1;
}

/* A cancel is prompt when the call returns within this of it. */
#define PROMPT (500 * MS)

TEST_F(io, a_cancel_from_another_goroutine_ends_the_parked_call)
{
	struct fx *f = &self->f;
	goro_ctx *ctx = goro_ctx_make(NULL);
	struct call *c = go_call(f, 0, ctx);
	int64_t t0;

	goro_sleep(20 * MS);
	ASSERT_FALSE(atomic_load(&c->done))
		TH_LOG("%s did not park: %zd", f->op->name, c->ret);
	t0 = goro_now();
	goro_ctx_cancel(ctx);
	ASSERT_TRUE(returned(c, 5000 * MS)) TH_LOG("%s", f->op->name);
	ASSERT_EQ(-ECANCELED, c->ret);
	ASSERT_LT(c->at - t0, PROMPT);
	goro_ctx_free(ctx);
}

TEST_F(io, a_contexts_deadline_ends_the_call_with_etimedout)
{
	struct fx *f = &self->f;
	goro_ctx *ctx = goro_ctx_make_timeout(NULL, 30 * MS);

	ASSERT_EQ(-ETIMEDOUT, f->op->call(f, ctx));
	/* never early */
	ASSERT_GE(goro_now(), goro_ctx_deadline(ctx));
	goro_ctx_free(ctx);
}

TEST_F(io, a_cancelled_context_ends_a_call_that_would_park_at_once)
{
	struct fx *f = &self->f;
	goro_ctx *ctx = goro_ctx_make(NULL);
	int64_t t0;

	goro_ctx_cancel(ctx);
	t0 = goro_now();
	ASSERT_EQ(-ECANCELED, f->op->call(f, ctx));
	ASSERT_LT(goro_now() - t0, PROMPT);
	goro_ctx_free(ctx);
}

TEST_F(io, a_ready_descriptor_wins_over_a_cancelled_context)
{
	struct fx *f = &self->f;
	goro_ctx *ctx = goro_ctx_make(NULL);

	goro_ctx_cancel(ctx);
	ASSERT_EQ(0, make_ready(f));
	ASSERT_EQ(f->op->ok, f->op->call(f, ctx));
	goro_ctx_free(ctx);
}

TEST_F(io, a_null_context_is_the_plain_call)
{
	struct fx *f = &self->f;

	ASSERT_EQ(0, make_ready(f));
	ASSERT_EQ(f->op->ok, f->op->call(f, NULL));
}

TEST_F(io, a_parents_cancel_ends_the_call_under_its_child)
{
	struct fx *f = &self->f;
	goro_ctx *parent = goro_ctx_make(NULL);
	goro_ctx *child = goro_ctx_make(parent);
	struct call *c = go_call(f, 0, child);
	int64_t t0;

	goro_sleep(20 * MS);
	ASSERT_FALSE(atomic_load(&c->done))
		TH_LOG("%s did not park: %zd", f->op->name, c->ret);
	t0 = goro_now();
	goro_ctx_cancel(parent);
	ASSERT_TRUE(returned(c, 5000 * MS)) TH_LOG("%s", f->op->name);
	ASSERT_EQ(-ECANCELED, c->ret);
	ASSERT_LT(c->at - t0, PROMPT);
	goro_ctx_free(child);
	goro_ctx_free(parent);
}

/*
 * Nothing of the cancelled call stays registered: a second call parks,
 * and the readiness that comes later wakes it (a waiter left on the
 * descriptor would be woken instead, long gone with its goroutine).
 */
TEST_F(io, the_descriptor_serves_later_calls_after_a_cancel)
{
	struct fx *f = &self->f;
	goro_ctx *ctx = goro_ctx_make(NULL);
	goro_ctx *ctx2 = goro_ctx_make_timeout(NULL, 10000 * MS);
	struct call *c = go_call(f, 0, ctx);

	goro_sleep(20 * MS);
	ASSERT_FALSE(atomic_load(&c->done))
		TH_LOG("%s did not park: %zd", f->op->name, c->ret);
	goro_ctx_cancel(ctx);
	ASSERT_TRUE(returned(c, 5000 * MS)) TH_LOG("%s", f->op->name);
	ASSERT_EQ(-ECANCELED, c->ret);
	goro_ctx_free(ctx);

	c = go_call(f, 1, ctx2);
	goro_sleep(20 * MS);
	ASSERT_FALSE(atomic_load(&c->done))
		TH_LOG("%s did not park again: %zd", f->op->name, c->ret);
	ASSERT_EQ(0, f->op->ready(f));
	/* connect: the kernel retries the dropped SYN after about 1 s */
	ASSERT_TRUE(returned(c, 10000 * MS)) TH_LOG("%s", f->op->name);
	ASSERT_EQ(f->op->ok, c->ret);
	goro_ctx_free(ctx2);
}

/* ---- the writes' partial progress ---- */

struct bigw {
	int fd;
	goro_ctx *ctx;
	const char *buf;
	size_t n;
	ssize_t ret;
	atomic_int done;
};

static void big_writer(void *arg)
{
	struct bigw *w = arg;

	w->ret = goro_write_ctx(w->fd, w->buf, w->n, w->ctx);
	atomic_store(&w->done, 1);
}

/* count what fd holds, reading it to the end */
static size_t count_all(int fd)
{
	char b[65536];
	size_t total = 0;
	ssize_t r;

	while ((r = read(fd, b, sizeof(b))) > 0)
		total += (size_t)r;
	return total;
}

TEST(a_cancel_after_some_bytes_returns_the_bytes_written)
{
	static char big[1 << 20];
	goro_ctx *ctx = goro_ctx_make(NULL);
	struct bigw w = {.ctx = ctx, .buf = big, .n = sizeof(big), .ret = 99};
	char b[16384];
	ssize_t filled;
	size_t held;
	int p[2], inpipe = 0, i;

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	filled = fill(p[1]);
	ASSERT_GT(filled, 0);
	ASSERT_EQ(0, nonblock(p[0]));
	w.fd = p[1];
	goro_go(big_writer, &w);
	goro_sleep(10 * MS);
	ASSERT_EQ(0, atomic_load(&w.done));
	/* make room: the writer writes some and parks again */
	ASSERT_EQ((ssize_t)sizeof(b), read(p[0], b, sizeof(b)));
	for (i = 0; i < 5000; i++) {
		ASSERT_EQ(0, ioctl(p[0], FIONREAD, &inpipe));
		if (inpipe > filled - (ssize_t)sizeof(b))
			break;
		goro_sleep(1 * MS);
	}
	ASSERT_GT(inpipe, filled - (ssize_t)sizeof(b));
	goro_sleep(5 * MS);
	ASSERT_EQ(0, atomic_load(&w.done));
	goro_ctx_cancel(ctx);
	while (!atomic_load(&w.done))
		goro_sleep(1 * MS);
	ASSERT_GT(w.ret, 0);
	ASSERT_LT(w.ret, (ssize_t)sizeof(big));
	/* every byte it says it wrote is in the pipe, and no more */
	held = count_all(p[0]);
	ASSERT_EQ((size_t)filled + (size_t)w.ret, sizeof(b) + held);
	goro_ctx_free(ctx);
	close(p[0]);
	close(p[1]);
}

/* ---- a foreign thread ---- */

struct tread {
	int fd;
	goro_ctx *ctx;
	ssize_t ret;
	atomic_int done;
};

static void *thread_read(void *arg)
{
	struct tread *t = arg;
	char b[16];

	t->ret = goro_read_ctx(t->fd, b, sizeof(b), t->ctx);
	atomic_store(&t->done, 1);
	return NULL;
}

TEST(a_cancel_ends_a_foreign_threads_read)
{
	goro_ctx *ctx = goro_ctx_make(NULL);
	struct tread t = {.ctx = ctx, .ret = 99};
	pthread_t th;
	int p[2];

	ASSERT_EQ(0, pipe2(p, O_CLOEXEC));
	t.fd = p[0];
	ASSERT_EQ(0, pthread_create(&th, NULL, thread_read, &t));
	goro_sleep(20 * MS);
	ASSERT_EQ(0, atomic_load(&t.done));
	goro_ctx_cancel(ctx);
	pthread_join(th, NULL);
	ASSERT_EQ(-ECANCELED, t.ret);
	goro_ctx_free(ctx);
	close(p[0]);
	close(p[1]);
}

TEST_HARNESS_MAIN
