/* SPDX-License-Identifier: MIT */
/*
 * deadline: Go's context.WithTimeout and errgroup in C. Four requests go
 * out at once to four simulated servers (goroutines answering on a
 * socket pair after a delay), as a group under one context with a
 * deadline, at most 3 in flight. Round 1 (150 ms): the slow server misses
 * the deadline, its request ends with -ETIMEDOUT and so does the group.
 * Round 2 (2 s): a server answers with an error at 40 ms; the group's
 * context is cancelled with it as the cause and the requests still
 * waiting stop at once instead of at the deadline.
 */
#include <goro.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MS 1000000LL

struct server {
	int fd;
	int64_t delay;
	const char *reply;
};

struct request {
	int id;
	int fd;
	int64_t t0;
};

static void serve(void *arg)
{
	struct server *s = arg;

	goro_sleep(s->delay);
	goro_write(s->fd, s->reply, strlen(s->reply));	/* -EPIPE if gone */
	goro_close(s->fd);
}

/* A request of the group: read the answer, unless the context ends first. */
static int fetch(goro_ctx *ctx, void *arg)
{
	struct request *r = arg;
	char buf[64];
	ssize_t n = goro_read_ctx(r->fd, buf, sizeof(buf) - 1, ctx);

	if (n == -ETIMEDOUT || n == -ECANCELED) {
		printf("request %d: %s after %lld ms\n", r->id,
		       n == -ETIMEDOUT ? "timed out" : "cancelled",
		       (long long)((goro_now() - r->t0) / MS));
		return (int)n;
	}
	if (n > 0)
		buf[n] = 0;
	if (n <= 0 || strncmp(buf, "ERR", 3) == 0) {
		printf("request %d: server error\n", r->id);
		return -EIO;
	}
	printf("request %d: \"%s\" in %lld ms\n", r->id, buf,
	       (long long)((goro_now() - r->t0) / MS));
	return 0;
}

static void round_of(int round, int64_t timeout, const int64_t delay[4],
		     const char *reply[4])
{
	int64_t t0 = goro_now();
	goro_ctx *ctx = goro_ctx_make_timeout(NULL, timeout);
	goro_group *g = goro_group_make(ctx);
	/* not on this stack: a slow server outlives the round */
	static struct server servers[2][4];
	struct server *s = servers[round - 1];
	struct request r[4];
	int i, err, sv[2];

	goro_group_setlimit(g, 3);
	for (i = 0; i < 4; i++) {
		socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
		s[i] = (struct server){sv[1], delay[i], reply[i]};
		r[i] = (struct request){i + 1, sv[0], t0};
		goro_go(serve, &s[i]);
		goro_group_go(g, fetch, &r[i]);
	}
	err = goro_group_wait(g);
	printf("round %d: %s (%d) after %lld ms; cause %d\n", round,
	       err == -ETIMEDOUT ? "deadline exceeded" :
	       err ? "failed" : "all done",
	       err, (long long)((goro_now() - t0) / MS),
	       goro_ctx_cause(goro_group_ctx(g)));
	for (i = 0; i < 4; i++)
		goro_close(r[i].fd);	/* a late server gets -EPIPE */
	goro_group_free(g);
	goro_ctx_free(ctx);
}

int main(void)
{
	static const int64_t slow[4] = {20 * MS, 40 * MS, 60 * MS, 1000 * MS};
	static const int64_t fail[4] = {20 * MS, 40 * MS, 1000 * MS, 1000 * MS};
	static const char *ok[4] = {"one", "two", "three", "four"};
	static const char *bad[4] = {"one", "ERR", "three", "four"};

	round_of(1, 150 * MS, slow, ok);
	round_of(2, 2000 * MS, fail, bad);
	return 0;	/* the slow servers end with the program */
}
