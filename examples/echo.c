/* SPDX-License-Identifier: MIT */
/*
 * echo: a TCP echo server on 127.0.0.1, one goroutine per connection,
 * goroutine-friendly I/O (goro_accept/goro_read/goro_write) so that a
 * connection waiting for data holds no thread.
 *
 *     echo [PORT]      serve on 127.0.0.1:PORT (0 or none: any free port);
 *                      prints "listening on 127.0.0.1:PORT" first
 *     echo -c N [B]    check: serve, then N client goroutines each send B
 *                      bytes (default 4096) and read them back; prints
 *                      "ok N connections" and exits 0 when every byte came
 *                      back in order, else exits 1
 */
#define _GNU_SOURCE
#include <goro.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void serve_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	char buf[4096];
	ssize_t n;

	while ((n = goro_read(fd, buf, sizeof(buf))) > 0)
		if (goro_write(fd, buf, (size_t)n) != n)
			break;
	close(fd);
}

static void accept_loop(void *arg)
{
	int lfd = (int)(intptr_t)arg;

	for (;;) {
		int fd = goro_accept(lfd, NULL, NULL);

		if (fd < 0) {
			fprintf(stderr, "echo: accept: %s\n", strerror(-fd));
			goro_sleep(10 * 1000000);	/* e.g. out of fds */
			continue;
		}
		if (goro_go(serve_conn, (void *)(intptr_t)fd) < 0)
			close(fd);
	}
}

static int listen_on(int port, int *bound)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, 4096) ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl)) {
		close(fd);
		return -1;
	}
	*bound = ntohs(sa.sin_port);
	return fd;
}

/* ---- the check ---- */

struct check {
	int port;
	size_t bytes;
	goro_chan *done;	/* ints: 1 ok, 0 failed */
};

static void client(void *arg)
{
	struct check *ck = arg;
	struct sockaddr_in sa;
	char *out = malloc(ck->bytes), *in = malloc(ck->bytes);
	size_t i, got = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok = 0;
	unsigned seed = (unsigned)goro_id() * 2654435761u;

	if (fd < 0 || !out || !in)
		goto out;
	for (i = 0; i < ck->bytes; i++) {
		seed = seed * 1103515245 + 12345;
		out[i] = (char)(seed >> 16);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)ck->port);
	if (goro_connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		goto out;
	if (goro_write(fd, out, ck->bytes) != (ssize_t)ck->bytes)
		goto out;
	while (got < ck->bytes) {
		ssize_t n = goro_read(fd, in + got, ck->bytes - got);

		if (n <= 0)
			goto out;
		got += (size_t)n;
	}
	ok = memcmp(in, out, ck->bytes) == 0;
out:
	if (fd >= 0)
		close(fd);
	free(in);
	free(out);
	goro_chan_send(ck->done, &ok);
}

int main(int argc, char **argv)
{
	int port = 0, lfd, i, n = 0, good = 0;
	struct check ck;

	if (argc > 1 && strcmp(argv[1], "-c") == 0) {
		n = argc > 2 ? atoi(argv[2]) : 100;
		ck.bytes = argc > 3 ? (size_t)atol(argv[3]) : 4096;
		if (n <= 0 || ck.bytes == 0) {
			fprintf(stderr, "usage: echo -c N [BYTES]\n");
			return 2;
		}
	} else if (argc > 1) {
		port = atoi(argv[1]);
	}
	lfd = listen_on(port, &port);
	if (lfd < 0) {
		perror("echo: listen");
		return 1;
	}
	if (!n) {
		printf("listening on 127.0.0.1:%d\n", port);
		fflush(stdout);
		accept_loop((void *)(intptr_t)lfd);
		return 0;
	}
	goro_go(accept_loop, (void *)(intptr_t)lfd);
	ck.port = port;
	ck.done = goro_chan_make(sizeof(int), (size_t)n);
	for (i = 0; i < n; i++)
		if (goro_go(client, &ck) < 0) {
			fprintf(stderr, "echo: cannot start client %d\n", i);
			return 1;
		}
	for (i = 0; i < n; i++) {
		int ok;

		goro_chan_recv(ck.done, &ok);
		good += ok;
	}
	if (good != n) {
		printf("FAILED: %d of %d connections echoed exactly\n", good,
		       n);
		return 1;
	}
	printf("ok %d connections\n", n);
	return 0;
}
