/* SPDX-License-Identifier: MIT */
/*
 * libgoro: goroutine-friendly I/O through the netpoller: a goroutine
 * waiting on a descriptor parks and its thread runs others; deadlines
 * time out, never early; loopback TCP accept/connect; and an echo server
 * holding 10,000 concurrent connections with every byte echoed exactly.
 */
#include <goro.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "util.h"

#define MS 1000000LL

static int listener(int *port)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, 4096) || getsockname(fd, (struct sockaddr *)&sa, &sl))
		return -1;
	*port = ntohs(sa.sin_port);
	return fd;
}

static struct sockaddr_in loopback(int port)
{
	struct sockaddr_in sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	return sa;
}

/* ---- parking ---- */

struct rd {
	int fd;
	char buf[64];
	ssize_t n;
	atomic_int done;
};

static void reader(void *arg)
{
	struct rd *r = arg;

	r->n = goro_read(r->fd, r->buf, sizeof(r->buf));
	atomic_store(&r->done, 1);
}

static void spinner(void *arg)
{
	atomic_int *n = arg;

	while (atomic_load(n) < 1000) {
		atomic_fetch_add(n, 1);
		goro_yield();
	}
}

TEST(read_parks_the_goroutine_not_its_thread)
{
	int sv[2];
	struct rd r;
	atomic_int spins = 0;

	goro_setprocs(1);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	r.fd = sv[0];
	atomic_store(&r.done, 0);
	goro_go(reader, &r);
	goro_yield();	/* the reader runs and parks */
	goro_go(spinner, &spins);
	/* on one P, the spinner only runs if the reader holds no thread */
	while (atomic_load(&spins) < 1000)
		goro_yield();
	ASSERT_EQ(0, atomic_load(&r.done));
	ASSERT_EQ(5, write(sv[1], "hello", 5));
	while (!atomic_load(&r.done))
		goro_yield();
	ASSERT_EQ(5, r.n);
	ASSERT_EQ(0, memcmp(r.buf, "hello", 5));
	close(sv[0]);
	close(sv[1]);
}

TEST(read_returns_0_at_end_of_stream)
{
	int sv[2];
	struct rd r;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	r.fd = sv[0];
	atomic_store(&r.done, 0);
	goro_go(reader, &r);
	goro_sleep(2 * MS);
	close(sv[1]);
	while (!atomic_load(&r.done))
		goro_yield();
	ASSERT_EQ(0, r.n);
	close(sv[0]);
}

TEST(bad_descriptor)
{
	char b[4];

	ASSERT_EQ(-EBADF, goro_read(-1, b, 4));
	ASSERT_EQ(-EBADF, goro_write(-1, b, 4));
	ASSERT_EQ(-EBADF, goro_accept(-1, NULL, NULL));
}

/* ---- deadlines ---- */

TEST(read_deadline_times_out_never_early)
{
	int sv[2];
	char b[8];
	long long t0, d = 20 * MS;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	t0 = now_ns();
	ASSERT_EQ(-ETIMEDOUT, goro_read_deadline(sv[0], b, 8, t0 + d));
	ASSERT_GE(now_ns() - t0, d);
	/* a passed deadline: at once */
	ASSERT_EQ(-ETIMEDOUT, goro_read_deadline(sv[0], b, 8, t0));
	/* data ready: no timeout even with a passed deadline */
	ASSERT_EQ(2, write(sv[1], "ok", 2));
	ASSERT_EQ(2, goro_read_deadline(sv[0], b, 8, t0));
	close(sv[0]);
	close(sv[1]);
}

TEST(accept_deadline_times_out)
{
	int port, lfd = listener(&port);
	long long t0 = now_ns();

	ASSERT_GE(lfd, 0);
	ASSERT_EQ(-ETIMEDOUT, goro_accept_deadline(lfd, NULL, NULL,
						   t0 + 10 * MS));
	ASSERT_GE(now_ns() - t0, 10 * MS);
	close(lfd);
}

struct dl {
	int fd;
	atomic_int res;
};

static void deadline_reader(void *arg)
{
	struct dl *d = arg;
	char b[8];

	/* the debug kernel's box can take tens of ms for a wake-up */
	atomic_store(&d->res,
		     (int)goro_read_deadline(d->fd, b, 8, now_ns() +
					     (slow_box() ? 300 : 30) * MS));
}

TEST(data_before_the_deadline_wins)
{
	int sv[2];
	struct dl d;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	d.fd = sv[0];
	atomic_store(&d.res, -1000);
	goro_go(deadline_reader, &d);
	goro_sleep(5 * MS);
	ASSERT_EQ(3, write(sv[1], "abc", 3));
	while (atomic_load(&d.res) == -1000)
		goro_yield();
	ASSERT_EQ(3, atomic_load(&d.res));
	/* the cancelled deadline must not fire */
	goro_sleep((slow_box() ? 400 : 40) * MS);
	close(sv[0]);
	close(sv[1]);
}

/* ---- writes that must wait ---- */

struct bulk {
	int fd;
	size_t n;
	char *buf;
	ssize_t r;
	goro_chan *done;
};

static void bulk_writer(void *arg)
{
	struct bulk *b = arg;

	b->r = goro_write(b->fd, b->buf, b->n);
	goro_chan_send(b->done, NULL);
}

static void check_bulk(struct __test_metadata *_metadata, int wfd, int rfd)
{
	size_t n = 8 << 20, got = 0, i;
	char *out = malloc(n), *in = malloc(n);
	struct bulk b = {wfd, n, out, 0, goro_chan_make(0, 1)};

	for (i = 0; i < n; i++)
		out[i] = (char)(i * 131 + (i >> 12));
	goro_go(bulk_writer, &b);
	while (got < n) {
		ssize_t r = goro_read(rfd, in + got, n - got > 100000
							 ? 100000
							 : n - got);

		ASSERT_GT(r, 0);
		got += (size_t)r;
	}
	goro_chan_recv(b.done, NULL);
	ASSERT_EQ((ssize_t)n, b.r);
	ASSERT_EQ(0, memcmp(in, out, n));
	free(in);
	free(out);
	goro_chan_free(b.done);
}

TEST(large_write_to_a_socket_waits_for_the_reader)
{
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	check_bulk(_metadata, sv[1], sv[0]);
	close(sv[0]);
	close(sv[1]);
}

TEST(pipes_work_too)
{
	int p[2];

	ASSERT_EQ(0, pipe(p));
	check_bulk(_metadata, p[1], p[0]);
	close(p[0]);
	close(p[1]);
}

static void *thread_read(void *arg)
{
	struct rd *r = arg;

	r->n = goro_read(r->fd, r->buf, sizeof(r->buf));
	return NULL;
}

TEST(foreign_thread_reads)
{
	int sv[2];
	struct rd r;
	pthread_t t;

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	r.fd = sv[0];
	pthread_create(&t, NULL, thread_read, &r);
	usleep(5000);
	ASSERT_EQ(3, write(sv[1], "xyz", 3));
	pthread_join(t, NULL);
	ASSERT_EQ(3, r.n);
	close(sv[0]);
	close(sv[1]);
}

/* ---- TCP on loopback ---- */

TEST(connect_refused)
{
	int port, lfd = listener(&port), fd;
	struct sockaddr_in sa = loopback(port);

	ASSERT_GE(lfd, 0);
	close(lfd);	/* nobody listens there now */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(-ECONNREFUSED,
		  goro_connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	close(fd);
}

static void acceptor(void *arg)
{
	struct rd *r = arg;
	int fd = goro_accept(r->fd, NULL, NULL);

	r->n = fd < 0 ? fd : goro_read(fd, r->buf, sizeof(r->buf));
	if (fd >= 0) {
		goro_write(fd, r->buf, (size_t)r->n);
		close(fd);
	}
	atomic_store(&r->done, 1);
}

TEST(accept_and_connect)
{
	int port, lfd = listener(&port), fd;
	struct sockaddr_in sa = loopback(port);
	struct rd r;
	char b[16];

	ASSERT_GE(lfd, 0);
	r.fd = lfd;
	atomic_store(&r.done, 0);
	goro_go(acceptor, &r);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_EQ(0, goro_connect(fd, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(4, goro_write(fd, "ping", 4));
	ASSERT_EQ(4, goro_read(fd, b, sizeof(b)));
	ASSERT_EQ(0, memcmp(b, "ping", 4));
	while (!atomic_load(&r.done))
		goro_yield();
	ASSERT_EQ(4, r.n);
	close(fd);
	close(lfd);
}

/* ---- an echo server with many connections ---- */

static void echo_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[2048];
	ssize_t n;

	while ((n = goro_read(fd, buf, sizeof(buf))) > 0)
		if (goro_write(fd, buf, (size_t)n) != n)
			break;
	close(fd);
}

static void echo_server(int lfd)
{
	for (;;) {
		int fd = goro_accept(lfd, NULL, NULL);

		if (fd >= 0)
			goro_go(echo_conn, (void *)(intptr_t)fd);
		else
			goro_sleep(MS);
	}
}

struct cl {
	int port;
	size_t bytes;
	goro_chan *conn;	/* every client reports connected */
	goro_chan *go;		/* closed when all are connected */
	goro_chan *done;	/* ints: 1 echoed exactly */
};

static void echo_client(void *arg)
{
	struct cl *c = arg;
	struct sockaddr_in sa = loopback(c->port);
	unsigned seed = (unsigned)goro_id() * 2654435761u;
	char out[1024], in[1024];
	size_t got = 0, i;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok = 0, r;

	for (i = 0; i < c->bytes; i++) {
		seed = seed * 1103515245 + 12345;
		out[i] = (char)(seed >> 16);
	}
	r = fd < 0 ? -errno
		   : goro_connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	goro_chan_send(c->conn, &r);
	goro_chan_recv(c->go, NULL);	/* every connection is open now */
	if (r)
		goto out;
	/* two halves, so that each connection waits for its echo twice */
	for (i = 0; i < 2; i++) {
		size_t h = c->bytes / 2, end = (i + 1) * h;

		if (goro_write(fd, out + i * h, h) != (ssize_t)h)
			goto out;
		while (got < end) {
			ssize_t n = goro_read(fd, in + got, end - got);

			if (n <= 0)
				goto out;
			got += (size_t)n;
		}
	}
	ok = memcmp(in, out, got) == 0;
out:
	if (fd >= 0)
		close(fd);
	goro_chan_send(c->done, &ok);
}

/*
 * 10,000 concurrent connections natively (the server runs in a child
 * process so each side needs 10,000 descriptors; fewer when the
 * descriptor limit is lower), 1,000 under the sanitizers. Bounded: the
 * harness kills it after its timeout, the clients after 120 s.
 */
FIXTURE(echo) {
	int dummy;
};

FIXTURE_SETUP(echo)
{
}

FIXTURE_TEARDOWN(echo)
{
}

TEST_F_TIMEOUT(echo, server_with_10000_concurrent_connections, 180)
{
	struct rlimit rl;
	struct cl c;
	int port, lfd, n, i, good = 0, conn_err = 0, r;
	long long t0;
	pid_t pid;

	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	n = slow_box() ? 200 : sanitized() ? 1000 : 10000;
	if ((long long)rl.rlim_cur - 100 < n)
		n = (int)rl.rlim_cur - 100;
	ASSERT_GT(n, 100);
	lfd = listener(&port);
	ASSERT_GE(lfd, 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		echo_server(lfd);
		_exit(0);
	}
	close(lfd);
	t0 = now_ns();
	c.port = port;
	c.bytes = 1024;
	c.conn = goro_chan_make(sizeof(int), n);
	c.go = goro_chan_make(0, 0);
	c.done = goro_chan_make(sizeof(int), n);
	for (i = 0; i < n; i++)
		ASSERT_GT(goro_go(echo_client, &c), 0);
	for (i = 0; i < n; i++) {
		goro_chan_recv(c.conn, &r);
		if (r && conn_err++ < 3)
			TH_LOG("connect: %s", strerror(-r));
	}
	goro_chan_close(c.go);
	for (i = 0; i < n; i++) {
		int ok;

		goro_chan_recv(c.done, &ok);
		good += ok;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	TH_LOG("%d connections echoed in %.2f s", n,
	       (now_ns() - t0) / 1e9);
	ASSERT_EQ(0, conn_err);
	ASSERT_EQ(n, good);
}

TEST(echo_example_checks_itself)
{
	const char *dir = getenv("GORO_EXAMPLES_BIN");
	char path[4096], out[4096];
	int st;

	if (!dir)
		SKIP(return, "GORO_EXAMPLES_BIN not set (run by make check)");
	snprintf(path, sizeof(path), "%s/echo", dir);
	{
		char *argv[] = {path, (char *)"-c",
				(char *)(slow_box() ? "50" : "200"), NULL};

		st = run_capture(argv, "ASAN_OPTIONS=detect_leaks=0", out,
				 sizeof(out), 60);
	}
	ASSERT_TRUE(WIFEXITED(st)) TH_LOG("status %#x: %s", st, out);
	ASSERT_EQ(0, WEXITSTATUS(st)) TH_LOG("%s", out);
	ASSERT_NE(NULL, strstr(out, slow_box() ? "ok 50 connections" :
						  "ok 200 connections"));
}

TEST_HARNESS_MAIN
