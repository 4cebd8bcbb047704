// SPDX-License-Identifier: MIT
/*
 * Echo server load: start a server, open 1,000 loopback connections, keep
 * one 64-byte request in flight on each and count the request/response
 * round trips completed in a fixed time (after a warm-up).
 *
 *     echo_load IMPL SERVER [CONNS [SECONDS]]
 *
 * SERVER is a program next to this one (goro_echo_server, go_echo) that
 * serves on 127.0.0.1 and prints "listening on 127.0.0.1:PORT" first.
 * The load runs on one thread (epoll), the server gets the rest of the
 * machine. Prints RESULT bench=echo_conns impl=IMPL in thousands of round
 * trips per second.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common.h"

#define MSG 64

struct conn {
	int fd;
	int got;	/* bytes of the current response received */
};

static pid_t server;

static void stop_server(void)
{
	if (server > 0) {
		kill(server, SIGKILL);
		waitpid(server, NULL, 0);
		server = 0;
	}
}

static int start_server(const char *path)
{
	int p[2], port = 0;
	char line[128];
	size_t len = 0;

	if (pipe(p))
		die("pipe");
	server = fork();
	if (server < 0)
		die("fork");
	if (server == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	while (len < sizeof(line) - 1) {
		ssize_t n = read(p[0], line + len, 1);

		if (n <= 0)
			break;
		if (line[len++] == '\n')
			break;
	}
	line[len] = 0;
	close(p[0]);
	if (sscanf(line, "listening on 127.0.0.1:%d", &port) != 1) {
		fprintf(stderr, "%s: no port in '%s'\n", path, line);
		stop_server();
		exit(1);
	}
	return port;
}

static int dial(int port)
{
	struct sockaddr_in sa = {0};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd < 0)
		die("socket");
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

static void send_req(struct conn *c)
{
	static const char req[MSG] = "ping";

	if (write(c->fd, req, MSG) != MSG)
		die("write");
	c->got = 0;
}

int main(int argc, char **argv)
{
	long conns = arg_count(argc, argv, 3, 1000);
	long secs = arg_count(argc, argv, 4, 3);
	char self[4096], path[4200];
	struct epoll_event ev, evs[256];
	struct rlimit rl;
	struct conn *cs;
	uint64_t t_start, t_end = 0, done = 0, now;
	ssize_t n;
	int ep, port, i, measuring = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: echo_load IMPL SERVER [CONNS [SECONDS]]\n");
		return 2;
	}
	/* one descriptor per connection here, and in the server */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		die("readlink");
	self[n] = 0;
	snprintf(path, sizeof(path), "%s/%s", dirname(self), argv[2]);
	port = start_server(path);
	atexit(stop_server);
	cs = calloc(conns, sizeof(*cs));
	ep = epoll_create1(0);
	if (!cs || ep < 0)
		die("setup");
	for (i = 0; i < conns; i++) {
		cs[i].fd = dial(port);
		ev.events = EPOLLIN;
		ev.data.ptr = &cs[i];
		if (epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev))
			die("epoll_ctl");
	}
	for (i = 0; i < conns; i++)
		send_req(&cs[i]);
	/* 1 s of warm-up, then count for secs */
	t_start = now_ns() + 1000000000ULL;
	for (;;) {
		int k, m = epoll_wait(ep, evs, 256, 1000);
		char buf[MSG];

		if (m < 0 && errno != EINTR)
			die("epoll_wait");
		for (k = 0; k < m; k++) {
			struct conn *c = evs[k].data.ptr;

			while ((n = read(c->fd, buf, MSG - c->got)) > 0) {
				c->got += (int)n;
				if (c->got == MSG) {
					done += measuring;
					send_req(c);
				}
			}
			if (n == 0 || (n < 0 && errno != EAGAIN))
				die("read: server closed");
		}
		now = now_ns();
		if (!measuring && now >= t_start) {
			measuring = 1;
			t_start = now;
			t_end = now + (uint64_t)secs * 1000000000ULL;
		} else if (measuring && now >= t_end) {
			break;
		}
	}
	result("echo_conns", argv[1],
	       (double)done / ((double)(now - t_start) / 1e9) / 1e3,
	       "kreq/s");
	stop_server();
	return 0;
}
