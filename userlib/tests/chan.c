/* SPDX-License-Identifier: MIT */
/*
 * libgoro: channels. The behaviour of Go's runtime/chan_test.go: FIFO
 * order, rendezvous, close, panics, nil channels, many senders and
 * receivers, goroutines and foreign threads on one channel, a prime sieve
 * and a ring of goroutines passing a token.
 */
#include <goro.h>
#include <pthread.h>
#include <stdatomic.h>

#include "kselftest_harness.h"
#include "util.h"

/*
 * A countdown on a buffered channel (done sends, wait receives n): safe to
 * drop as soon as wait returns, which a WaitGroup on the stack is not
 * while its last goro_wg_done may still be unlocking it.
 */
struct latch {
	goro_chan *c;
	int n;
};
#define LATCH_INIT {NULL, 0}

static void latch_init(struct latch *l, int n)
{
	l->c = goro_chan_make(0, n);
	l->n = n;
}

static void latch_done(struct latch *l)
{
	goro_chan_send(l->c, NULL);
}

static void latch_wait(struct latch *l)
{
	int i;

	for (i = 0; i < l->n; i++)
		goro_chan_recv(l->c, NULL);
	goro_chan_free(l->c);
}

PROCS_FIXTURE()
PROCS_VARIANT(1);
PROCS_VARIANT(2);
PROCS_VARIANT(4);

/* ---- scenarios that must kill the process (run as children) ---- */

static void send_later(void *arg)
{
	int v = 1;

	goro_chan_send(arg, &v);
}

static int sc_send_closed(void)
{
	goro_chan *c = goro_chan_make(sizeof(int), 1);
	int v = 1;

	goro_chan_close(c);
	goro_chan_send(c, &v);
	printf("survived\n");
	return 0;
}

static int sc_close_twice(void)
{
	goro_chan *c = goro_chan_make(sizeof(int), 0);

	goro_chan_close(c);
	goro_chan_close(c);
	printf("survived\n");
	return 0;
}

static int sc_close_nil(void)
{
	goro_chan_close(NULL);
	printf("survived\n");
	return 0;
}

static int sc_blocked_sender_closed(void)
{
	goro_chan *c = goro_chan_make(sizeof(int), 0);

	goro_go(send_later, c);
	goro_sleep(20 * 1000000LL);	/* the sender blocks */
	goro_chan_close(c);
	/* long: TSan lingers 1 s in the panicking _exit */
	goro_sleep(3000 * 1000000LL);
	printf("survived\n");
	return 0;
}

static int sc_trysend_closed(void)
{
	goro_chan *c = goro_chan_make(0, 4);

	goro_chan_close(c);
	goro_chan_trysend(c, NULL);
	printf("survived\n");
	return 0;
}

static int sc_nil_recv_deadlock(void)
{
	goro_chan_recv(NULL, NULL);
	printf("survived\n");
	return 0;
}

static const struct scenario scenarios[] = {
	{"send_closed", sc_send_closed},
	{"close_twice", sc_close_twice},
	{"close_nil", sc_close_nil},
	{"blocked_sender_closed", sc_blocked_sender_closed},
	{"trysend_closed", sc_trysend_closed},
	{"nil_recv_deadlock", sc_nil_recv_deadlock},
};

TEST(send_on_closed_channel_panics)
{
	expect_fatal("send_closed", "panic: send on closed channel",
		     "survived");
}

TEST(trysend_on_closed_channel_panics)
{
	expect_fatal("trysend_closed", "panic: send on closed channel",
		     "survived");
}

TEST(close_of_closed_channel_panics)
{
	expect_fatal("close_twice", "panic: close of closed channel",
		     "survived");
}

TEST(close_of_nil_channel_panics)
{
	expect_fatal("close_nil", "panic: close of nil channel", "survived");
}

TEST(close_wakes_blocked_sender_to_panic)
{
	expect_fatal("blocked_sender_closed", "panic: send on closed channel",
		     "survived");
}

TEST(recv_on_nil_channel_alone_is_a_deadlock)
{
	SKIP_WITHOUT_THREAD_COUNT();
	expect_fatal("nil_recv_deadlock", "all goroutines are asleep - deadlock!",
		     "survived");
}

/* ---- arguments ---- */

TEST(make_rejects_bad_arguments)
{
	errno = 0;
	ASSERT_EQ(NULL, goro_chan_make(1 << 16, 1));
	ASSERT_EQ(EINVAL, errno);
	errno = 0;
	ASSERT_EQ(NULL, goro_chan_make(1024, SIZE_MAX / 512));
	ASSERT_EQ(EINVAL, errno);
}

TEST(len_and_cap)
{
	goro_chan *c = goro_chan_make(sizeof(int), 5);
	int v = 7;

	ASSERT_NE(NULL, c);
	ASSERT_EQ((size_t)5, goro_chan_cap(c));
	ASSERT_EQ((size_t)0, goro_chan_len(c));
	goro_chan_send(c, &v);
	goro_chan_send(c, &v);
	ASSERT_EQ((size_t)2, goro_chan_len(c));
	ASSERT_EQ((size_t)0, goro_chan_len(NULL));
	ASSERT_EQ((size_t)0, goro_chan_cap(NULL));
	goro_chan_free(c);
	goro_chan_free(NULL);
}

/* ---- buffered FIFO (Go's TestChan "buffered FIFO") ---- */

TEST(buffered_channel_is_fifo)
{
	int cap, i;

	for (cap = 1; cap <= 100; cap += 11) {
		goro_chan *c = goro_chan_make(sizeof(int), cap);

		for (i = 0; i < cap; i++)
			ASSERT_EQ(0, goro_chan_send(c, &i));
		ASSERT_EQ(-EAGAIN, goro_chan_trysend(c, &i));
		for (i = 0; i < cap; i++) {
			int v = -1;

			ASSERT_TRUE(goro_chan_recv(c, &v));
			ASSERT_EQ(i, v);
		}
		goro_chan_free(c);
	}
}

struct fifo_arg {
	goro_chan *c;
	int n;
};

static void fifo_sender(void *arg)
{
	struct fifo_arg *a = arg;
	int i;

	for (i = 0; i < a->n; i++)
		goro_chan_send(a->c, &i);
}

/* FIFO with a sender blocking on the full buffer (the recv_direct path) */
TEST_F(procs, fifo_across_blocked_sender)
{
	struct fifo_arg a = {goro_chan_make(sizeof(int), 3), 10000};
	int i;

	goro_go(fifo_sender, &a);
	for (i = 0; i < a.n; i++) {
		int v;

		if (i % 100 == 0)
			goro_sleep(1000);	/* let the buffer fill */
		ASSERT_TRUE(goro_chan_recv(a.c, &v));
		ASSERT_EQ(i, v);
	}
	goro_chan_free(a.c);
}

/* ---- blocking (Go's TestChan "recv from empty blocks" etc.) ---- */

struct blk {
	goro_chan *c;
	atomic_int done;
	int val;
};

static void blk_recv(void *arg)
{
	struct blk *b = arg;

	goro_chan_recv(b->c, &b->val);
	atomic_store(&b->done, 1);
}

static void blk_send(void *arg)
{
	struct blk *b = arg;
	int v = 42;

	goro_chan_send(b->c, &v);
	atomic_store(&b->done, 1);
}

TEST_F(procs, recv_from_empty_channel_blocks)
{
	int cap;

	for (cap = 0; cap < 3; cap++) {
		struct blk b = {goro_chan_make(sizeof(int), cap), 0, 0};
		int v = 5;

		goro_go(blk_recv, &b);
		goro_sleep(5 * 1000000LL);
		ASSERT_EQ(0, atomic_load(&b.done));
		goro_chan_send(b.c, &v);
		while (!atomic_load(&b.done))
			goro_yield();
		ASSERT_EQ(5, b.val);
		goro_chan_free(b.c);
	}
}

TEST_F(procs, send_to_full_channel_blocks)
{
	int cap, i;

	for (cap = 0; cap < 3; cap++) {
		struct blk b = {goro_chan_make(sizeof(int), cap), 0, 0};
		int v;

		for (i = 0; i < cap; i++)
			goro_chan_send(b.c, &i);
		goro_go(blk_send, &b);
		goro_sleep(5 * 1000000LL);
		ASSERT_EQ(0, atomic_load(&b.done));
		for (i = 0; i < cap; i++) {
			ASSERT_TRUE(goro_chan_recv(b.c, &v));
			ASSERT_EQ(i, v);
		}
		ASSERT_TRUE(goro_chan_recv(b.c, &v));
		ASSERT_EQ(42, v);
		while (!atomic_load(&b.done))
			goro_yield();
		goro_chan_free(b.c);
	}
}

/* unbuffered: the sender returns only once its element was taken */
struct rdv {
	goro_chan *c;
	atomic_int taken;
	atomic_int early;
};

static void rdv_sender(void *arg)
{
	struct rdv *r = arg;
	int i;

	for (i = 0; i < 1000; i++) {
		goro_chan_send(r->c, &i);
		if (atomic_load(&r->taken) < i + 1)
			atomic_store(&r->early, 1);
	}
}

TEST_F(procs, unbuffered_send_is_a_rendezvous)
{
	struct rdv r = {goro_chan_make(sizeof(int), 0), 0, 0};
	int i, v;

	goro_go(rdv_sender, &r);
	for (i = 0; i < 1000; i++) {
		/* count first: the sender may run as soon as it is matched */
		atomic_fetch_add(&r.taken, 1);
		ASSERT_TRUE(goro_chan_recv(r.c, &v));
		ASSERT_EQ(i, v);
	}
	ASSERT_EQ(0, atomic_load(&r.early));
	ASSERT_EQ((size_t)0, goro_chan_len(r.c));
	goro_chan_free(r.c);
}

/* ---- close ---- */

struct closer {
	goro_chan *c;
	struct latch wg;
	atomic_int woke;
	atomic_int bad;
};

/*
 * Waiters on an unbuffered channel are served in the order they came,
 * whether the first waits alone (it is published without the lock) or
 * others queue behind it. On 1 P the order is fixed: each waiter parks
 * before main runs again.
 */
struct order {
	goro_chan *c;
	int idx;
	int got;		/* receivers: the value; senders: unused */
	atomic_int done;
};

static void order_recv(void *arg)
{
	struct order *o = arg;

	o->got = goro_chan_recv(o->c, &o->got) ? o->got : -1;
	atomic_store(&o->done, 1);
}

static void order_send(void *arg)
{
	struct order *o = arg;

	goro_chan_send(o->c, &o->idx);
	atomic_store(&o->done, 1);
}

TEST(unbuffered_waiters_are_served_in_arrival_order)
{
	int prev = goro_setprocs(1), round, i;

	for (round = 0; round < 3; round++) {
		struct order o[4];
		goro_chan *c = goro_chan_make(sizeof(int), 0);
		int n = round + 2;	/* 2, 3, 4 waiters */

		for (i = 0; i < n; i++) {
			o[i].c = c;
			o[i].idx = i;
			o[i].got = -2;
			atomic_store(&o[i].done, 0);
			goro_go(order_recv, &o[i]);
			goro_yield();	/* it parks before we run again */
		}
		for (i = 0; i < n; i++)
			ASSERT_EQ(0, goro_chan_send(c, &i));
		for (i = 0; i < n; i++) {
			while (!atomic_load(&o[i].done))
				goro_yield();
			ASSERT_EQ(i, o[i].got);
		}
		/* and senders */
		for (i = 0; i < n; i++) {
			o[i].idx = 10 + i;
			atomic_store(&o[i].done, 0);
			goro_go(order_send, &o[i]);
			goro_yield();
		}
		for (i = 0; i < n; i++) {
			int v = -1;

			ASSERT_TRUE(goro_chan_recv(c, &v));
			ASSERT_EQ(10 + i, v);
		}
		for (i = 0; i < n; i++)
			while (!atomic_load(&o[i].done))
				goro_yield();
		goro_chan_free(c);
	}
	goro_setprocs(prev);
}

/* close wakes the lone waiter and those queued behind it, on 1 P */
TEST(close_wakes_lone_and_queued_unbuffered_receivers)
{
	int prev = goro_setprocs(1), n, i;

	for (n = 1; n <= 3; n++) {
		struct order o[3];
		goro_chan *c = goro_chan_make(sizeof(int), 0);

		for (i = 0; i < n; i++) {
			o[i].c = c;
			o[i].got = -2;
			atomic_store(&o[i].done, 0);
			goro_go(order_recv, &o[i]);
			goro_yield();
		}
		goro_chan_close(c);
		for (i = 0; i < n; i++) {
			while (!atomic_load(&o[i].done))
				goro_yield();
			ASSERT_EQ(-1, o[i].got);	/* closed: ok false */
		}
		goro_chan_free(c);
	}
	goro_setprocs(prev);
}

static void close_recv(void *arg)
{
	struct closer *k = arg;
	long long v = 123;

	if (goro_chan_recv(k->c, &v) || v != 0)
		atomic_store(&k->bad, 1);
	atomic_fetch_add(&k->woke, 1);
	latch_done(&k->wg);
}

TEST_F(procs, close_wakes_every_receiver)
{
	struct closer k = {goro_chan_make(sizeof(long long), 0), LATCH_INIT,
			   0, 0};
	int i;

	latch_init(&k.wg, 100);
	for (i = 0; i < 100; i++)
		goro_go(close_recv, &k);
	goro_sleep(10 * 1000000LL);
	ASSERT_EQ(0, atomic_load(&k.woke));
	goro_chan_close(k.c);
	latch_wait(&k.wg);
	ASSERT_EQ(100, atomic_load(&k.woke));
	ASSERT_EQ(0, atomic_load(&k.bad));
	goro_chan_free(k.c);
}

TEST(closed_channel_drains_buffer_then_reports_closed)
{
	goro_chan *c = goro_chan_make(sizeof(int), 4);
	bool ok = true;
	int i, v;

	for (i = 1; i <= 3; i++)
		goro_chan_send(c, &i);
	goro_chan_close(c);
	for (i = 1; i <= 3; i++) {
		ASSERT_TRUE(goro_chan_recv(c, &v));
		ASSERT_EQ(i, v);
	}
	v = 99;
	ASSERT_FALSE(goro_chan_recv(c, &v));
	ASSERT_EQ(0, v);
	ASSERT_FALSE(goro_chan_recv(c, NULL));
	v = 99;
	ASSERT_EQ(0, goro_chan_tryrecv(c, &v, &ok));
	ASSERT_FALSE(ok);
	ASSERT_EQ(0, v);
	goro_chan_free(c);
}

/* ---- non-blocking ---- */

TEST(trysend_and_tryrecv)
{
	goro_chan *u = goro_chan_make(sizeof(int), 0);
	goro_chan *b = goro_chan_make(sizeof(int), 1);
	int v = 3, w = 0;
	bool ok = false;

	ASSERT_EQ(-EAGAIN, goro_chan_trysend(u, &v));
	ASSERT_EQ(-EAGAIN, goro_chan_tryrecv(u, &w, &ok));
	ASSERT_EQ(0, goro_chan_trysend(b, &v));
	ASSERT_EQ(-EAGAIN, goro_chan_trysend(b, &v));
	ASSERT_EQ(0, goro_chan_tryrecv(b, &w, &ok));
	ASSERT_TRUE(ok);
	ASSERT_EQ(3, w);
	ASSERT_EQ(-EAGAIN, goro_chan_tryrecv(b, &w, NULL));
	goro_chan_free(u);
	goro_chan_free(b);
}

static void try_peer(void *arg)
{
	struct blk *b = arg;

	goro_chan_recv(b->c, &b->val);
	atomic_store(&b->done, 1);
}

TEST(trysend_meets_a_waiting_receiver)
{
	struct blk b = {goro_chan_make(sizeof(int), 0), 0, 0};
	int v = 77;

	goro_go(try_peer, &b);
	while (goro_chan_trysend(b.c, &v) == -EAGAIN)
		goro_yield();
	while (!atomic_load(&b.done))
		goro_yield();
	ASSERT_EQ(77, b.val);
	goro_chan_free(b.c);
}

/* ---- nil channel ---- */

static void nil_forever(void *arg)
{
	goro_chan_send(NULL, NULL);
	atomic_store((atomic_int *)arg, 1);
}

TEST(nil_channel_blocks_forever_and_never_is_ready)
{
	atomic_int ret = 0;
	int v = 0;

	ASSERT_EQ(-EAGAIN, goro_chan_trysend(NULL, &v));
	ASSERT_EQ(-EAGAIN, goro_chan_tryrecv(NULL, &v, NULL));
	goro_go(nil_forever, &ret);
	goro_sleep(20 * 1000000LL);
	ASSERT_EQ(0, atomic_load(&ret));
}

/* ---- element sizes ---- */

struct big {
	char b[1000];
};

TEST(zero_size_and_large_elements)
{
	goro_chan *z = goro_chan_make(0, 2);
	goro_chan *g = goro_chan_make(sizeof(struct big), 2);
	struct big x, y;

	ASSERT_EQ(0, goro_chan_send(z, NULL));
	ASSERT_TRUE(goro_chan_recv(z, NULL));
	memset(&x, 0x5a, sizeof(x));
	goro_chan_send(g, &x);
	goro_chan_send(g, NULL);	/* zero value */
	ASSERT_TRUE(goro_chan_recv(g, &y));
	ASSERT_EQ(0, memcmp(&x, &y, sizeof(x)));
	ASSERT_TRUE(goro_chan_recv(g, &y));
	memset(&x, 0, sizeof(x));
	ASSERT_EQ(0, memcmp(&x, &y, sizeof(x)));
	goro_chan_free(z);
	goro_chan_free(g);
}

/* ---- many senders and receivers (Go's TestChan / sum checks) ---- */

struct mpmc {
	goro_chan *c;
	struct latch wg;
	int per;
	atomic_llong sum;
	atomic_llong count;
};

static void mp_send(void *arg)
{
	struct mpmc *m = arg;
	long long i;

	for (i = 1; i <= m->per; i++)
		goro_chan_send(m->c, &i);
	latch_done(&m->wg);
}

static void mp_recv(void *arg)
{
	struct mpmc *m = arg;
	long long v, s = 0, n = 0;

	while (goro_chan_recv(m->c, &v)) {
		s += v;
		n++;
	}
	atomic_fetch_add(&m->sum, s);
	atomic_fetch_add(&m->count, n);
	latch_done(&m->wg);
}

TEST_F(procs, many_senders_many_receivers)
{
	int caps[] = {0, 1, 16, 1000}, k, i;
	int per = sanitized() ? 2000 : 20000;

	for (k = 0; k < 4; k++) {
		struct mpmc m = {goro_chan_make(sizeof(long long), caps[k]),
				 LATCH_INIT, per, 0, 0};
		struct mpmc r = m;

		latch_init(&m.wg, 8);
		latch_init(&r.wg, 8);
		for (i = 0; i < 8; i++) {
			goro_go(mp_send, &m);
			goro_go(mp_recv, &r);
		}
		latch_wait(&m.wg);
		goro_chan_close(m.c);
		latch_wait(&r.wg);
		ASSERT_EQ(8LL * per, atomic_load(&r.count));
		ASSERT_EQ(8LL * per * (per + 1) / 2, atomic_load(&r.sum));
		goro_chan_free(m.c);
	}
}

/* ---- foreign threads on the same channel ---- */

static void *thread_sender(void *arg)
{
	struct mpmc *m = arg;
	long long i;

	for (i = 1; i <= m->per; i++)
		goro_chan_send(m->c, &i);
	return NULL;
}

static void *thread_receiver(void *arg)
{
	struct mpmc *m = arg;
	long long v, s = 0, n = 0;

	while (goro_chan_recv(m->c, &v)) {
		s += v;
		n++;
	}
	atomic_fetch_add(&m->sum, s);
	atomic_fetch_add(&m->count, n);
	return NULL;
}

TEST_F(procs, foreign_threads_and_goroutines_share_a_channel)
{
	int caps[] = {0, 4}, k, i;
	int per = sanitized() ? 500 : 5000;

	for (k = 0; k < 2; k++) {
		struct mpmc m = {goro_chan_make(sizeof(long long), caps[k]),
				 LATCH_INIT, per, 0, 0};
		struct mpmc r = m;
		pthread_t ts[2], tr[2];

		latch_init(&m.wg, 2);
		latch_init(&r.wg, 2);
		for (i = 0; i < 2; i++) {
			goro_go(mp_send, &m);
			goro_go(mp_recv, &r);
			pthread_create(&ts[i], NULL, thread_sender, &m);
			pthread_create(&tr[i], NULL, thread_receiver, &r);
		}
		latch_wait(&m.wg);
		for (i = 0; i < 2; i++)
			pthread_join(ts[i], NULL);
		goro_chan_close(m.c);
		latch_wait(&r.wg);
		for (i = 0; i < 2; i++)
			pthread_join(tr[i], NULL);
		ASSERT_EQ(4LL * per, atomic_load(&r.count));
		ASSERT_EQ(4LL * per * (per + 1) / 2, atomic_load(&r.sum));
		goro_chan_free(m.c);
	}
}

/* ---- a concurrent prime sieve (Go's classic) ---- */

static void sieve_gen(void *arg)
{
	goro_chan *c = arg;
	int i;

	for (i = 2;; i++)
		goro_chan_send(c, &i);
}

struct filt {
	goro_chan *in, *out;
	int p;
};

static void sieve_filter(void *arg)
{
	struct filt f = *(struct filt *)arg;
	int v;

	free(arg);
	for (;;) {
		goro_chan_recv(f.in, &v);
		if (v % f.p)
			goro_chan_send(f.out, &v);
	}
}

static int nth_prime_ok(int *got, int n)
{
	int k = 0, x, d;

	for (x = 2; k < n; x++) {
		for (d = 2; d * d <= x; d++)
			if (x % d == 0)
				break;
		if (d * d > x) {
			if (got[k] != x)
				return k;
			k++;
		}
	}
	return -1;
}

TEST_F(procs, prime_sieve_gives_first_1000_primes)
{
	int n = sanitized() ? 300 : 1000, i;
	int *got = calloc(n, sizeof(int));
	goro_chan *c = goro_chan_make(sizeof(int), 0);

	goro_go(sieve_gen, c);
	for (i = 0; i < n; i++) {
		struct filt *f = malloc(sizeof(*f));
		goro_chan *c1 = goro_chan_make(sizeof(int), 0);

		goro_chan_recv(c, &got[i]);
		f->in = c;
		f->out = c1;
		f->p = got[i];
		goro_go(sieve_filter, f);
		c = c1;
	}
	ASSERT_EQ(-1, nth_prime_ok(got, n));
	ASSERT_EQ(7919 * (n == 1000), got[n - 1] * (n == 1000));
	free(got);
	/* the filters stay parked; the test process ends with them */
}

TEST(sieve_example_prints_first_1000_primes)
{
	const char *dir = getenv("GORO_EXAMPLES_BIN");
	char path[4096], out[16384], *p;
	/* TSan: ~10 us a switch, a 1000-prime sieve takes over a minute */
	int got[1000], k = 0, st, n = tsan() ? 300 : 1000;
	char num[16];

	if (!dir)
		SKIP(return, "GORO_EXAMPLES_BIN not set (run by make check)");
	snprintf(path, sizeof(path), "%s/sieve", dir);
	{
		char *argv[] = {path, num, NULL};

		snprintf(num, sizeof(num), "%d", n);

		st = run_capture(argv, "ASAN_OPTIONS=detect_leaks=0", out,
				 sizeof(out), 60);
	}
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(0, WEXITSTATUS(st));
	for (p = out; *p && k < n; k++) {
		got[k] = (int)strtol(p, &p, 10);
		while (*p == '\n')
			p++;
	}
	ASSERT_EQ(n, k);
	ASSERT_EQ(0, *p);
	ASSERT_EQ(-1, nth_prime_ok(got, n));
}

/* ---- a ring of goroutines passing a token ---- */

struct ring {
	goro_chan **c;
	int n;
	long long hops;
	struct latch wg;
	atomic_int finisher;
};

struct ring_node {
	struct ring *r;
	int i;
};

static void ring_node(void *arg)
{
	struct ring_node *nd = arg;
	struct ring *r = nd->r;
	goro_chan *in = r->c[nd->i], *out = r->c[(nd->i + 1) % r->n];
	long long t;
	bool closed_out = false;

	while (goro_chan_recv(in, &t)) {
		if (t == r->hops) {
			/* the last hop: close the ring behind us */
			atomic_store(&r->finisher, nd->i);
			goro_chan_close(out);
			closed_out = true;
			continue;
		}
		t++;
		goro_chan_send(out, &t);
	}
	if (!closed_out)
		goro_chan_close(out);	/* pass the close on */
	latch_done(&r->wg);
}

/*
 * 10,000 goroutines in a ring passing a token 1,000,000 times (natively;
 * 1,000 goroutines and 100,000 hops under ASan, 200 and 20,000 under
 * TSan, which are ~20x and ~200x slower per switch and spawn).
 */
TEST_F(procs, ring_of_10000_goroutines_passes_token_1000000_times)
{
	struct ring r;
	struct ring_node *nodes;
	long long t = 0;
	int i;

	r.n = tsan() ? 200 : sanitized() ? 1000 : 10000;
	r.hops = tsan() ? 20000 : sanitized() ? 100000 : 1000000;
	r.c = calloc(r.n, sizeof(*r.c));
	nodes = calloc(r.n, sizeof(*nodes));
	r.wg = (struct latch)LATCH_INIT;
	atomic_store(&r.finisher, -1);
	latch_init(&r.wg, r.n);
	for (i = 0; i < r.n; i++)
		r.c[i] = goro_chan_make(sizeof(long long), 0);
	for (i = 0; i < r.n; i++) {
		nodes[i].r = &r;
		nodes[i].i = i;
		ASSERT_GT(goro_go(ring_node, &nodes[i]), 0);
	}
	goro_chan_send(r.c[0], &t);
	latch_wait(&r.wg);
	/* node i sees the token with value i mod n */
	ASSERT_EQ(r.hops % r.n, atomic_load(&r.finisher));
	for (i = 0; i < r.n; i++)
		goro_chan_free(r.c[i]);
	free(r.c);
	free(nodes);
}

SCENARIO_MAIN(scenarios)
