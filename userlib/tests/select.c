/* SPDX-License-Identifier: MIT */
/*
 * libgoro: goro_select. The behaviour of Go's select tests: fairness among
 * ready cases, the default branch, nil channels, closed channels, select
 * against select, and a stress of senders and receivers that all select;
 * and fairness among the cases a blocked select has on one channel.
 */
#include <goro.h>
#include <pthread.h>
#include <stdatomic.h>

#include "kselftest_harness.h"
#include "util.h"
#include "../../uapi/goro.h"

/* The goroutine registry, a hidden symbol of the static library. */
extern struct goro_greg goro__greg;

PROCS_FIXTURE()
PROCS_VARIANT(1);
PROCS_VARIANT(4);

static struct goro_case rcase(goro_chan *c, void *elem, bool *ok)
{
	struct goro_case k = {GORO_RECV, c, elem, ok};

	return k;
}

static struct goro_case scase(goro_chan *c, void *elem)
{
	struct goro_case k = {GORO_SEND, c, elem, NULL};

	return k;
}

/* ---- scenarios run as children ---- */

static int sc_send_closed(void)
{
	goro_chan *c = goro_chan_make(sizeof(int), 0);
	struct goro_case k[1];
	int v = 1;

	k[0] = scase(c, &v);
	goro_chan_close(c);
	goro_select(k, 1, true);
	printf("survived\n");
	return 0;
}

static int sc_empty_select(void)
{
	goro_select(NULL, 0, true);
	printf("survived\n");
	return 0;
}

/* 64 selects between two ready channels: which case each chose. */
static int sc_ready_picks(void)
{
	goro_chan *a = goro_chan_make(sizeof(int), 1);
	goro_chan *b = goro_chan_make(sizeof(int), 1);
	unsigned long long bits = 0;
	struct goro_case k[2];
	int i, c, v = 1, x;

	for (i = 0; i < 64; i++) {
		goro_chan_send(a, &v);
		goro_chan_send(b, &v);
		k[0] = rcase(a, &x, NULL);
		k[1] = rcase(b, &x, NULL);
		c = goro_select(k, 2, true);
		if (c == 1)
			bits |= 1ull << i;
		goro_chan_recv(c == 0 ? b : a, &x);
	}
	printf("picks %016llx\n", bits);
	goro_chan_free(a);
	goro_chan_free(b);
	return 0;
}

static const struct scenario scenarios[] = {
	{"send_closed", sc_send_closed},
	{"empty_select", sc_empty_select},
	{"ready_picks", sc_ready_picks},
};

TEST(select_send_on_closed_channel_panics)
{
	expect_fatal("send_closed", "panic: send on closed channel",
		     "survived");
}

TEST(empty_select_blocks_forever)
{
	SKIP_WITHOUT_THREAD_COUNT();
	/* nothing else runs: Go reports it as a deadlock */
	expect_fatal("empty_select", "deadlock", "survived");
}

/*
 * Two runs of one program do not make the same "random" choices: the
 * choice among ready cases is seeded per process, as Go seeds fastrand.
 * (The odds of two runs agreeing on 64 fair picks are 2^-64.)
 */
TEST(select_choices_differ_between_runs)
{
	char out1[256], out2[256];
	int st;

	st = run_scenario("ready_picks", NULL, out1, sizeof(out1), 20);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) TH_LOG("%s", out1);
	st = run_scenario("ready_picks", NULL, out2, sizeof(out2), 20);
	ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) TH_LOG("%s", out2);
	ASSERT_NE(NULL, strstr(out1, "picks ")) TH_LOG("%s", out1);
	EXPECT_STRNE(out1, out2);
}

/* ---- arguments and the default branch ---- */

TEST(bad_arguments)
{
	struct goro_case k[1] = {{7, NULL, NULL, NULL}};

	ASSERT_EQ(-EINVAL, goro_select(NULL, 1, false));
	ASSERT_EQ(-EINVAL, goro_select(k, -1, false));
	ASSERT_EQ(-EINVAL, goro_select(k, 1, false));
}

TEST(nonblocking_select_with_nothing_ready)
{
	goro_chan *u = goro_chan_make(sizeof(int), 0);
	goro_chan *f = goro_chan_make(sizeof(int), 1);
	struct goro_case k[3];
	int v = 1, w = 0;

	goro_chan_send(f, &v);	/* full */
	k[0] = rcase(u, &w, NULL);
	k[1] = scase(u, &v);
	k[2] = scase(f, &v);
	ASSERT_EQ(-EAGAIN, goro_select(k, 3, false));
	ASSERT_EQ(-EAGAIN, goro_select(NULL, 0, false));
	k[0] = rcase(NULL, &w, NULL);
	k[1] = scase(NULL, &v);
	ASSERT_EQ(-EAGAIN, goro_select(k, 2, false));
	ASSERT_EQ(1u, goro_chan_len(f));
	goro_chan_free(u);
	goro_chan_free(f);
}

TEST(nil_channel_cases_never_fire)
{
	goro_chan *c = goro_chan_make(sizeof(int), 1000);
	struct goro_case k[5];
	int v = 5, w, i;

	for (i = 0; i < 1000; i++) {
		k[0] = rcase(NULL, &w, NULL);
		k[1] = scase(NULL, &v);
		k[2] = scase(c, &v);
		k[3] = rcase(NULL, &w, NULL);
		k[4] = scase(NULL, &v);
		ASSERT_EQ(2, goro_select(k, 5, true));
	}
	ASSERT_EQ(1000u, goro_chan_len(c));
	goro_chan_free(c);
}

TEST(receive_case_on_closed_channel_fires_with_ok_false)
{
	goro_chan *c = goro_chan_make(sizeof(long), 0);
	goro_chan *d = goro_chan_make(sizeof(long), 0);
	struct goro_case k[2];
	long w = 9;
	bool ok = true;

	goro_chan_close(c);
	k[0] = rcase(d, &w, NULL);
	k[1] = rcase(c, &w, &ok);
	ASSERT_EQ(1, goro_select(k, 2, true));
	ASSERT_FALSE(ok);
	ASSERT_EQ(0, w);
	goro_chan_free(c);
	goro_chan_free(d);
}

TEST(same_channel_in_several_cases)
{
	goro_chan *c = goro_chan_make(sizeof(int), 2);
	struct goro_case k[3];
	int v = 1, w = 0, r;

	k[0] = rcase(c, &w, NULL);
	k[1] = scase(c, &v);
	k[2] = rcase(c, &w, NULL);
	r = goro_select(k, 3, true);	/* only the send is ready */
	ASSERT_EQ(1, r);
	r = goro_select(k, 3, true);	/* now both */
	ASSERT_TRUE(r >= 0 && r <= 2);
	goro_chan_free(c);
}

/* ---- fairness (Go's TestSelectFairness) ---- */

TEST(uniform_choice_among_ready_cases)
{
	enum { N = 4, ROUNDS = 20000 };
	goro_chan *c[N];
	struct goro_case k[N];
	long cnt[N] = {0}, w;
	int i, r;

	for (i = 0; i < N; i++) {
		c[i] = goro_chan_make(sizeof(long), ROUNDS);
		k[i] = rcase(c[i], &w, NULL);
	}
	for (w = 0; w < ROUNDS; w++)
		for (i = 0; i < N; i++)
			goro_chan_send(c[i], &w);
	for (r = 0; r < ROUNDS; r++) {
		int x = goro_select(k, N, false);

		ASSERT_TRUE(x >= 0 && x < N);
		cnt[x]++;
	}
	/* binomial: mean 5000, sd ~61; +-600 is ~10 sd */
	for (i = 0; i < N; i++) {
		EXPECT_TRUE(cnt[i] > ROUNDS / N - 600 &&
			    cnt[i] < ROUNDS / N + 600)
			TH_LOG("case %d fired %ld times of %d", i, cnt[i],
			       ROUNDS);
		goro_chan_free(c[i]);
	}
}

TEST(uniform_choice_between_two_cases_mixed_directions)
{
	goro_chan *in = goro_chan_make(sizeof(int), 10000);
	goro_chan *out = goro_chan_make(sizeof(int), 10000);
	struct goro_case k[2];
	int v = 1, w, i, cnt[2] = {0, 0};

	for (i = 0; i < 10000; i++)
		goro_chan_send(in, &i);
	k[0] = rcase(in, &w, NULL);
	k[1] = scase(out, &v);
	for (i = 0; i < 5000; i++)
		cnt[goro_select(k, 2, false)]++;
	/* mean 2500, sd ~35 */
	EXPECT_TRUE(cnt[0] > 2200 && cnt[0] < 2800) TH_LOG("%d", cnt[0]);
	goro_chan_free(in);
	goro_chan_free(out);
}

/* ---- blocking ---- */

struct pair {
	goro_chan *a, *b;
	atomic_int state;
	int got;
	int idx;
};

static void wait_on_two(void *arg)
{
	struct pair *p = arg;
	struct goro_case k[2];
	int w = -1;

	k[0] = rcase(p->a, &w, NULL);
	k[1] = rcase(p->b, &w, NULL);
	p->idx = goro_select(k, 2, true);
	p->got = w;
	atomic_store(&p->state, 1);
}

TEST_F(procs, blocked_select_is_woken_by_a_send_on_any_case)
{
	int which;

	for (which = 0; which < 2; which++) {
		struct pair p = {goro_chan_make(sizeof(int), 0),
				 goro_chan_make(sizeof(int), 0), 0, 0, 0};
		int v = 40 + which;

		goro_go(wait_on_two, &p);
		goro_sleep(5 * 1000000LL);
		ASSERT_EQ(0, atomic_load(&p.state));
		goro_chan_send(which ? p.b : p.a, &v);
		while (!atomic_load(&p.state))
			goro_yield();
		ASSERT_EQ(which, p.idx);
		ASSERT_EQ(v, p.got);
		/* the other case left its queue: a send there would block */
		ASSERT_EQ(-EAGAIN, goro_chan_trysend(which ? p.a : p.b, &v));
		goro_chan_free(p.a);
		goro_chan_free(p.b);
	}
}

TEST_F(procs, blocked_select_is_woken_by_close)
{
	struct pair p = {goro_chan_make(sizeof(int), 0),
			 goro_chan_make(sizeof(int), 0), 0, 0, 0};

	goro_go(wait_on_two, &p);
	goro_sleep(5 * 1000000LL);
	goro_chan_close(p.b);
	while (!atomic_load(&p.state))
		goro_yield();
	ASSERT_EQ(1, p.idx);
	ASSERT_EQ(0, p.got);
	goro_chan_free(p.a);
	goro_chan_free(p.b);
}

static void *thread_select(void *arg)
{
	wait_on_two(arg);
	return NULL;
}

TEST(foreign_thread_blocks_in_select)
{
	struct pair p = {goro_chan_make(sizeof(int), 0),
			 goro_chan_make(sizeof(int), 0), 0, 0, 0};
	pthread_t t;
	int v = 11;

	pthread_create(&t, NULL, thread_select, &p);
	usleep(5000);
	goro_chan_send(p.b, &v);
	pthread_join(t, NULL);
	ASSERT_EQ(1, p.idx);
	ASSERT_EQ(11, p.got);
	goro_chan_free(p.a);
	goro_chan_free(p.b);
}

/* select against select on one unbuffered channel */
struct ss {
	goro_chan *c, *never, *never2;
	int n;
	long long sum;
	goro_chan *done;
};

static void ss_sender(void *arg)
{
	struct ss *s = arg;
	int i;

	for (i = 1; i <= s->n; i++) {
		struct goro_case k[2];
		int w;

		k[0] = rcase(s->never, &w, NULL);
		k[1] = scase(s->c, &i);
		if (goro_select(k, 2, true) != 1)
			abort();
	}
	goro_chan_send(s->done, NULL);
}

static void ss_receiver(void *arg)
{
	struct ss *s = arg;
	int i, v;

	for (i = 0; i < s->n; i++) {
		struct goro_case k[2];

		k[0] = scase(s->never2, &v);	/* unbuffered, no reader */
		k[1] = rcase(s->c, &v, NULL);
		if (goro_select(k, 2, true) != 1)
			abort();
		s->sum += v;
	}
	goro_chan_send(s->done, NULL);
}

TEST_F(procs, select_meets_select_on_an_unbuffered_channel)
{
	struct ss s = {goro_chan_make(sizeof(int), 0),
		       goro_chan_make(sizeof(int), 0),
		       goro_chan_make(sizeof(int), 0), 20000, 0,
		       goro_chan_make(0, 2)};

	goro_go(ss_receiver, &s);
	goro_go(ss_sender, &s);
	goro_chan_recv(s.done, NULL);
	goro_chan_recv(s.done, NULL);
	ASSERT_EQ(20000LL * 20001 / 2, s.sum);
}

/*
 * ---- fairness of a blocked select among cases on one channel ----
 *
 * A select that blocks with several cases on one channel must complete a
 * random one of them when the counterpart comes (a receiver, a sender, a
 * close), not the first listed: its sudogs are queued in a random order,
 * as Go's pollorder/lockorder do. A selector goroutine runs the rounds;
 * the main goroutine hands it a fresh unbuffered channel, waits until the
 * registry shows it parked in select (so its cases are queued), then
 * receives, sends or closes once.
 */
enum { BIAS_ROUNDS = 2000, BIAS_MAXN = 20 };
enum { WOKEN_BY_RECEIVER, WOKEN_BY_SENDER, WOKEN_BY_CLOSE };

struct bias {
	int how, n;		/* WOKEN_BY_*, cases per select */
	goro_chan *ctl;		/* the round's channel, to the selector */
	goro_chan *back;	/* the case that fired, or -1: wrong result */
};

static void bias_selector(void *arg)
{
	struct bias *b = arg;
	int r, i;

	for (r = 0; r < BIAS_ROUNDS; r++) {
		struct goro_case k[BIAS_MAXN];
		int val[BIAS_MAXN], w[BIAS_MAXN], x;
		bool ok[BIAS_MAXN];
		goro_chan *c;

		goro_chan_recv(b->ctl, &c);
		for (i = 0; i < b->n; i++) {
			val[i] = i;
			w[i] = -1;
			ok[i] = false;
			if (b->how == WOKEN_BY_RECEIVER)
				k[i] = scase(c, &val[i]);
			else
				k[i] = rcase(c, &w[i], &ok[i]);
		}
		x = goro_select(k, b->n, true);
		/* the fired case got the value (or the close), no other did */
		for (i = 0; i < b->n && b->how != WOKEN_BY_RECEIVER; i++)
			if (i == x ? w[i] != (b->how == WOKEN_BY_SENDER ? r : 0) ||
					     ok[i] != (b->how == WOKEN_BY_SENDER)
				   : w[i] != -1)
				x = -1;
		goro_chan_send(b->back, &x);
	}
}

static struct goro_ginfo *registry_entry(int64_t id)
{
	struct goro_ginfo *gi;

	for (gi = (void *)(uintptr_t)__atomic_load_n(&goro__greg.first,
						     __ATOMIC_ACQUIRE);
	     gi; gi = (void *)(uintptr_t)__atomic_load_n(&gi->next,
							  __ATOMIC_ACQUIRE))
		if (__atomic_load_n(&gi->state, __ATOMIC_ACQUIRE) !=
			    GORO_G_DEAD &&
		    (int64_t)__atomic_load_n(&gi->id, __ATOMIC_RELAXED) == id)
			return gi;
	return NULL;
}

/* Until gi's goroutine is parked in a select: its cases are queued. */
static void await_parked_in_select(struct goro_ginfo *gi)
{
	while (__atomic_load_n(&gi->state, __ATOMIC_ACQUIRE) !=
		       GORO_G_WAITING ||
	       __atomic_load_n(&gi->waitreason, __ATOMIC_ACQUIRE) !=
		       GORO_WAIT_SELECT)
		goro_yield();
}

/* BIAS_ROUNDS blocked selects of n cases; cnt[i]: case i fired */
static void bias_run(struct __test_metadata *_metadata, int how, int n,
		     long *cnt)
{
	struct bias b = {how, n, goro_chan_make(sizeof(goro_chan *), 0),
			 goro_chan_make(sizeof(int), 0)};
	struct goro_ginfo *gi;
	int64_t id;
	int r;

	memset(cnt, 0, n * sizeof(*cnt));
	id = goro_go(bias_selector, &b);
	ASSERT_TRUE(id > 0);
	while (!(gi = registry_entry(id)))
		goro_yield();
	for (r = 0; r < BIAS_ROUNDS; r++) {
		goro_chan *c = goro_chan_make(sizeof(int), 0);
		int v = -1, x;
		bool ok;

		goro_chan_send(b.ctl, &c);
		await_parked_in_select(gi);
		if (how == WOKEN_BY_RECEIVER) {
			/* the value says which send case it came from */
			ASSERT_EQ(0, goro_chan_tryrecv(c, &v, &ok));
			ASSERT_TRUE(ok);
		} else if (how == WOKEN_BY_SENDER) {
			ASSERT_EQ(0, goro_chan_trysend(c, &r));
		} else {
			goro_chan_close(c);
		}
		goro_chan_recv(b.back, &x);
		ASSERT_TRUE(x >= 0 && x < n) TH_LOG("round %d: %d", r, x);
		if (how == WOKEN_BY_RECEIVER)
			ASSERT_EQ(x, v);
		cnt[x]++;
		goro_chan_free(c);
	}
	goro_chan_free(b.ctl);
	goro_chan_free(b.back);
}

/*
 * Each case fired within 5 standard deviations of R/n (binomial, p = 1/n:
 * sd^2 = R (n-1) / n^2), so never 100 % the first one.
 */
static void bias_check(struct __test_metadata *_metadata, int how)
{
	/* 20: more than 16 cases are sorted into lock order by qsort */
	static const int ns[] = {2, 3, BIAS_MAXN};
	long cnt[BIAS_MAXN];
	int j, n, i;

	for (j = 0; j < 3; j++) {
		n = ns[j];
		bias_run(_metadata, how, n, cnt);
		for (i = 0; i < n; i++) {
			long d = n * cnt[i] - BIAS_ROUNDS;

			EXPECT_TRUE(d * d <= 25L * BIAS_ROUNDS * (n - 1))
				TH_LOG("%d cases: case %d fired %ld times of %d",
				       n, i, cnt[i], BIAS_ROUNDS);
		}
	}
}

TEST_F(procs, blocked_select_on_one_chan_picks_random_send_case_for_receiver)
{
	bias_check(_metadata, WOKEN_BY_RECEIVER);
}

TEST_F(procs, blocked_select_on_one_chan_picks_random_receive_case_for_sender)
{
	bias_check(_metadata, WOKEN_BY_SENDER);
}

TEST_F(procs, blocked_select_on_one_chan_picks_random_receive_case_on_close)
{
	bias_check(_metadata, WOKEN_BY_CLOSE);
}

/* ---- stress (Go's TestSelectStress) ---- */

enum { SN = 4 };

struct stress {
	goro_chan *c[SN];
	int per;
	atomic_llong sum[SN];
	goro_chan *done;
};

static void stress_sender(void *arg)
{
	struct stress *s = arg;
	int left[SN], i, n = 0;
	long v;

	for (i = 0; i < SN; i++)
		left[i] = s->per;
	while (n < SN * s->per) {
		struct goro_case k[SN];

		for (i = 0; i < SN; i++)
			k[i] = scase(left[i] ? s->c[i] : NULL, &v);
		v = 1 + n % 7;
		i = goro_select(k, SN, true);
		left[i]--;
		n++;
	}
	goro_chan_send(s->done, NULL);
}

static void stress_receiver(void *arg)
{
	struct stress *s = arg;
	long long sum[SN] = {0};
	int i;
	long v;
	bool ok[SN];
	bool open[SN];

	for (i = 0; i < SN; i++)
		open[i] = true;
	for (;;) {
		struct goro_case k[SN];
		int any = 0;

		for (i = 0; i < SN; i++) {
			k[i] = rcase(open[i] ? s->c[i] : NULL, &v, &ok[i]);
			any |= open[i];
		}
		if (!any)
			break;
		i = goro_select(k, SN, true);
		if (!ok[i])
			open[i] = false;
		else
			sum[i] += v;
	}
	for (i = 0; i < SN; i++)
		atomic_fetch_add(&s->sum[i], sum[i]);
	goro_chan_send(s->done, NULL);
}

TEST_F(procs, senders_and_receivers_all_selecting)
{
	int caps[] = {0, 3}, ci, i;
	int per = sanitized() ? 1000 : 10000;

	for (ci = 0; ci < 2; ci++) {
		struct stress *s = calloc(1, sizeof(*s));
		long long total = 0, expect = 0;
		int n;

		s->per = per;
		s->done = goro_chan_make(0, 8);
		for (i = 0; i < SN; i++)
			s->c[i] = goro_chan_make(sizeof(long), caps[ci]);
		for (i = 0; i < 4; i++) {
			goro_go(stress_sender, s);
			goro_go(stress_receiver, s);
		}
		for (i = 0; i < 4; i++)
			goro_chan_recv(s->done, NULL);	/* the senders */
		for (i = 0; i < SN; i++)
			goro_chan_close(s->c[i]);
		for (i = 0; i < 4; i++)
			goro_chan_recv(s->done, NULL);
		for (i = 0; i < SN; i++)
			total += atomic_load(&s->sum[i]);
		for (n = 0; n < SN * per; n++)
			expect += 1 + n % 7;
		ASSERT_EQ(4 * expect, total);
		for (i = 0; i < SN; i++)
			goro_chan_free(s->c[i]);
		goro_chan_free(s->done);
		free(s);
	}
}

SCENARIO_MAIN(scenarios)
