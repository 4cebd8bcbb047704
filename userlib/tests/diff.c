/* SPDX-License-Identifier: MIT */
/*
 * libgoro: a randomized differential test of channels, select and wait
 * groups. Each seed makes a random program; it runs on libgoro with
 * several Ps and its observable outcome is compared with what a simple
 * sequential model of Go's channels says:
 *
 *  - traffic: senders (send, trysend, select with nil channels and a
 *    default branch) and receivers (recv, tryrecv, select over several
 *    channels, a closed one turned into a nil case) on buffered and
 *    unbuffered channels, each closed once its senders are done. Per
 *    channel, the multiset received equals the multiset sent; every
 *    receiver sees each sender's values in the order they were sent; each
 *    receiver sees each of its channels closed exactly once; wait group
 *    counts add up.
 *  - quiescent: goroutines each owning a few channels run random try-ops,
 *    non-blocking selects, blocking ops the model says cannot block,
 *    close and len, and every result (status, ok, value, chosen case
 *    among the ready ones, length) must be the model's.
 *
 * GORO_DIFF_SEED fixes the first seed; it is printed, and a failure names
 * the seed of the program that failed.
 */
#include <goro.h>
#include <stdatomic.h>
#include <stdint.h>

#include "kselftest_harness.h"
#include "util.h"

PROCS_FIXTURE()
PROCS_VARIANT(1);
PROCS_VARIANT(2);
PROCS_VARIANT(4);

static uint64_t rnd(uint64_t *s)
{
	if (!*s)
		*s = 0x9e3779b97f4a7c15ull;
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

static uint64_t first_seed(void)
{
	const char *s = getenv("GORO_DIFF_SEED");

	return s ? strtoull(s, NULL, 0) : (uint64_t)now_ns() ^ (uint64_t)getpid();
}

/* Programs per variant: fewer under the sanitizers. */
static int nprograms(void)
{
	return tsan() ? 10 : sanitized() ? 60 : 300;
}

/* The first failure: its message (the test prints the program's seed). */
static atomic_int failed;
static atomic_long nvalues, nops;	/* work done, for the log */
static char fail_msg[256];

#define CHECK(cond, ...)                                                      \
	do {                                                                  \
		if (!(cond) && !atomic_exchange(&failed, 1))                  \
			snprintf(fail_msg, sizeof(fail_msg), __VA_ARGS__);    \
	} while (0)

/* ---- traffic ------------------------------------------------------------ */

#define MAXCH 4
#define MAXSEND 4
#define MAXRECV 4

/* value = chan << 48 | sender << 32 | seq */
#define VAL(c, s, q) ((uint64_t)(c) << 48 | (uint64_t)(s) << 32 | (q))
#define VCH(v) ((int)((v) >> 48))
#define VSND(v) ((int)(((v) >> 32) & 0xffff))
#define VSEQ(v) ((uint32_t)(v))

struct prog;

struct sender {
	struct prog *pr;
	int ch, id, n;
	uint64_t seed;
};

struct receiver {
	struct prog *pr;
	int nch, chans[MAXCH];
	uint64_t seed;
	uint64_t *got;
	size_t ngot, capgot;
	int closed_seen[MAXCH];
};

struct prog {
	int nch;
	goro_chan *ch[MAXCH];
	goro_chan *never;	/* nobody sends on it until the end */
	size_t cap[MAXCH];
	int nsend[MAXCH];
	struct sender snd[MAXCH][MAXSEND];
	int nrecv;
	struct receiver rcv[MAXRECV];
	goro_wg senders_wg[MAXCH];
	goro_wg all_wg;
	atomic_int done;	/* goroutines that finished */
	atomic_int sent[MAXCH];
};

static void sender_fn(void *arg)
{
	struct sender *s = arg;
	struct prog *pr = s->pr;
	goro_chan *c = pr->ch[s->ch];
	uint64_t r = s->seed;
	int q;

	for (q = 0; q < s->n; q++) {
		uint64_t v = VAL(s->ch, s->id, q);

		switch (rnd(&r) % 4) {
		case 0:
			goro_chan_send(c, &v);
			break;
		case 1:
			/* two try-ops never meet: fall back to a send */
			if (goro_chan_trysend(c, &v) == -EAGAIN)
				goro_chan_send(c, &v);
			break;
		default: {
			/* the real case among nil ones and a never-ready one */
			struct goro_case k[4] = {
				{GORO_SEND, NULL, &v, NULL},
				{GORO_RECV, NULL, NULL, NULL},
				{GORO_RECV, pr->never, NULL, NULL},
				{GORO_SEND, NULL, &v, NULL},
			};
			int at = (int)(rnd(&r) % 4), n = 1 + (int)(rnd(&r) % 4);
			bool block = rnd(&r) % 2;
			int got;

			if (at >= n)
				at = n - 1;
			k[at].dir = GORO_SEND;
			k[at].chan = c;
			k[at].elem = &v;
			got = goro_select(k, n, block);
			if (got == -EAGAIN)	/* default: now wait */
				got = goro_select(k, n, true);
			CHECK(got == at, "sender select returned %d, want %d",
			      got, at);
		}
		}
		atomic_fetch_add(&pr->sent[s->ch], 1);
	}
	goro_wg_done(&pr->senders_wg[s->ch]);
	atomic_fetch_add(&pr->done, 1);
	goro_wg_done(&pr->all_wg);
}

/* Closes channel ch once its senders are done. */
struct closer {
	struct prog *pr;
	int ch;
};

static void closer_fn(void *arg)
{
	struct closer *cl = arg;

	goro_wg_wait(&cl->pr->senders_wg[cl->ch]);
	goro_chan_close(cl->pr->ch[cl->ch]);
	atomic_fetch_add(&cl->pr->done, 1);
	goro_wg_done(&cl->pr->all_wg);
}

static void record(struct receiver *rc, uint64_t v)
{
	if (rc->ngot == rc->capgot) {
		rc->capgot = rc->capgot ? 2 * rc->capgot : 64;
		rc->got = realloc(rc->got, rc->capgot * sizeof(*rc->got));
		if (!rc->got)
			abort();
	}
	rc->got[rc->ngot++] = v;
}

static void receiver_fn(void *arg)
{
	struct receiver *rc = arg;
	struct prog *pr = rc->pr;
	goro_chan *live[MAXCH];
	uint64_t r = rc->seed;
	int i, open = rc->nch;

	for (i = 0; i < rc->nch; i++)
		live[i] = pr->ch[rc->chans[i]];
	while (open > 0) {
		uint64_t v = ~0ull;
		bool ok = true;
		int which = -1, ret;

		/* a single-channel op on one open channel, or a select */
		if (rnd(&r) % 3 == 0) {
			for (i = (int)(rnd(&r) % rc->nch); !live[i];
			     i = (i + 1) % rc->nch)
				;
			which = i;
			if (rnd(&r) % 2) {
				ok = goro_chan_recv(live[i], &v);
			} else {
				if (goro_chan_tryrecv(live[i], &v, &ok) ==
				    -EAGAIN)
					ok = goro_chan_recv(live[i], &v);
			}
		} else {
			struct goro_case k[MAXCH + 2];
			bool oks[MAXCH + 2];
			uint64_t vals[MAXCH + 2];
			bool block = rnd(&r) % 4 != 0;
			int n = rc->nch;

			for (i = 0; i < rc->nch; i++) {
				k[i].dir = GORO_RECV;
				k[i].chan = live[i];	/* NULL once closed */
				k[i].elem = &vals[i];
				k[i].ok = &oks[i];
			}
			if (rnd(&r) % 2) {	/* an extra nil case */
				k[n].dir = GORO_RECV;
				k[n].chan = NULL;
				k[n].elem = &vals[n];
				k[n].ok = &oks[n];
				n++;
			}
			ret = goro_select(k, n, block);
			if (ret == -EAGAIN)	/* default: now wait */
				ret = goro_select(k, n, true);
			CHECK(ret >= 0 && ret < rc->nch && live[ret],
			      "receiver select returned %d", ret);
			if (ret < 0 || ret >= rc->nch)
				break;
			which = ret;
			v = vals[ret];
			ok = oks[ret];
		}
		if (ok) {
			CHECK(VCH(v) == rc->chans[which],
			      "value %#llx from channel %d", (unsigned long long)v,
			      rc->chans[which]);
			record(rc, v);
		} else {
			CHECK(v == 0, "closed receive left %#llx",
			      (unsigned long long)v);
			rc->closed_seen[which]++;
			live[which] = NULL;	/* Go's idiom: a nil case */
			open--;
		}
	}
	atomic_fetch_add(&pr->done, 1);
	goro_wg_done(&pr->all_wg);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Make, run and check one random program. */
static void traffic(uint64_t seed)
{
	static const size_t caps[] = {0, 0, 1, 2, 4, 16};
	struct prog *pr = calloc(1, sizeof(*pr));
	struct closer cl[MAXCH];
	uint64_t r = seed, *all, *want;
	size_t total = 0, n, i;
	int c, j, ngor = 0;

	if (!pr)
		abort();
	pr->nch = 1 + (int)(rnd(&r) % MAXCH);
	pr->never = goro_chan_make(sizeof(uint64_t), 0);
	pr->nrecv = 1 + (int)(rnd(&r) % MAXRECV);
	for (c = 0; c < pr->nch; c++) {
		pr->cap[c] = caps[rnd(&r) % (sizeof(caps) / sizeof(caps[0]))];
		pr->ch[c] = goro_chan_make(sizeof(uint64_t), pr->cap[c]);
		pr->nsend[c] = 1 + (int)(rnd(&r) % MAXSEND);
		for (j = 0; j < pr->nsend[c]; j++) {
			struct sender *s = &pr->snd[c][j];

			s->pr = pr;
			s->ch = c;
			s->id = j;
			s->n = (int)(rnd(&r) % (tsan() ? 20 : 120));
			s->seed = rnd(&r);
			total += (size_t)s->n;
		}
	}
	/* each channel has a receiver; receivers may listen to several */
	for (j = 0; j < pr->nrecv; j++) {
		pr->rcv[j].pr = pr;
		pr->rcv[j].seed = rnd(&r);
	}
	for (c = 0; c < pr->nch; c++) {
		int first = (int)(rnd(&r) % pr->nrecv);

		for (j = 0; j < pr->nrecv; j++) {
			struct receiver *rc = &pr->rcv[j];

			if (j == first || rnd(&r) % 3 == 0)
				rc->chans[rc->nch++] = c;
		}
	}
	/* receivers without a channel stay out */
	for (j = 0; j < pr->nrecv; j++)
		ngor += pr->rcv[j].nch > 0;
	for (c = 0; c < pr->nch; c++) {
		ngor += pr->nsend[c] + 1;
		goro_wg_add(&pr->senders_wg[c], pr->nsend[c]);
	}
	goro_wg_add(&pr->all_wg, ngor);
	/* start everything in a random order */
	for (j = 0; j < pr->nrecv; j++)
		if (pr->rcv[j].nch)
			goro_go(receiver_fn, &pr->rcv[j]);
	for (c = 0; c < pr->nch; c++) {
		bool closer_first = rnd(&r) % 2;

		cl[c].pr = pr;
		cl[c].ch = c;
		if (closer_first)
			goro_go(closer_fn, &cl[c]);
		for (j = 0; j < pr->nsend[c]; j++)
			goro_go(sender_fn, &pr->snd[c][j]);
		if (!closer_first)
			goro_go(closer_fn, &cl[c]);
	}
	goro_wg_wait(&pr->all_wg);

	/* every goroutine ran to its end exactly once */
	CHECK(atomic_load(&pr->done) == ngor, "%d goroutines done, want %d",
	      atomic_load(&pr->done), ngor);

	/* the model: each channel receives exactly what was sent */
	all = calloc(total + 1, sizeof(*all));
	want = calloc(total + 1, sizeof(*want));
	n = 0;
	for (j = 0; j < pr->nrecv; j++) {
		struct receiver *rc = &pr->rcv[j];
		uint32_t last[MAXCH][MAXSEND];

		memset(last, 0xff, sizeof(last));
		for (i = 0; i < rc->ngot; i++) {
			uint64_t v = rc->got[i];
			int vc = VCH(v), vs = VSND(v);

			CHECK(vc < pr->nch && vs < pr->nsend[vc],
			      "stray value %#llx", (unsigned long long)v);
			if (vc >= pr->nch || vs >= pr->nsend[vc])
				continue;
			/* FIFO per sender, as each receiver sees it */
			CHECK(last[vc][vs] == 0xffffffffu ||
				      VSEQ(v) > last[vc][vs],
			      "channel %d sender %d: seq %u after %u", vc, vs,
			      VSEQ(v), last[vc][vs]);
			last[vc][vs] = VSEQ(v);
			if (n < total)
				all[n] = v;
			n++;
		}
		for (c = 0; c < rc->nch; c++)
			CHECK(rc->closed_seen[c] == 1,
			      "receiver %d saw channel %d closed %d times", j,
			      rc->chans[c], rc->closed_seen[c]);
	}
	CHECK(n == total, "received %zu values, sent %zu", n, total);
	atomic_fetch_add(&nvalues, (long)n);
	i = 0;
	for (c = 0; c < pr->nch; c++) {
		int nsent = 0;

		for (j = 0; j < pr->nsend[c]; j++)
			nsent += pr->snd[c][j].n;
		CHECK(atomic_load(&pr->sent[c]) == nsent,
		      "channel %d: %d sends done, want %d", c,
		      atomic_load(&pr->sent[c]), nsent);
		for (j = 0; j < pr->nsend[c]; j++) {
			int q;

			for (q = 0; q < pr->snd[c][j].n; q++)
				want[i++] = VAL(c, j, q);
		}
	}
	if (n == total) {
		qsort(all, n, sizeof(*all), cmp_u64);
		qsort(want, n, sizeof(*want), cmp_u64);
		for (i = 0; i < n; i++) {
			CHECK(all[i] == want[i],
			      "multiset differs at %zu: got %#llx want %#llx", i,
			      (unsigned long long)all[i],
			      (unsigned long long)want[i]);
			if (all[i] != want[i])
				break;
		}
	}
	/* closed channels stay closed and empty */
	for (c = 0; c < pr->nch; c++) {
		uint64_t v = 1;
		bool ok = true;

		CHECK(goro_chan_tryrecv(pr->ch[c], &v, &ok) == 0 && !ok &&
			      v == 0,
		      "channel %d after close: not closed and drained", c);
		CHECK(goro_chan_len(pr->ch[c]) == 0, "channel %d: len %zu", c,
		      goro_chan_len(pr->ch[c]));
		goro_chan_free(pr->ch[c]);
	}
	goro_chan_free(pr->never);
	for (j = 0; j < pr->nrecv; j++)
		free(pr->rcv[j].got);
	free(all);
	free(want);
	free(pr);
}

/* ---- quiescent: try-ops against the model -------------------------------- */

#define QCH 3
#define QCAP 4

struct model {
	size_t cap;
	uint64_t q[QCAP];
	size_t head, len;
	bool closed;
};

struct qrun {
	uint64_t seed;
	int ops;
};

static bool m_can_send(const struct model *m)
{
	return !m->closed && m->len < m->cap;
}

static bool m_can_recv(const struct model *m)
{
	return m->len > 0 || m->closed;
}

static void m_push(struct model *m, uint64_t v)
{
	m->q[(m->head + m->len++) % QCAP] = v;
}

/* Pop into *v (0 when closed and empty); returns ok. */
static bool m_pop(struct model *m, uint64_t *v)
{
	if (!m->len) {
		*v = 0;
		return false;
	}
	*v = m->q[m->head];
	m->head = (m->head + 1) % QCAP;
	m->len--;
	return true;
}

static void quiescent_fn(void *arg)
{
	struct qrun *qr = arg;
	struct model m[QCH];
	goro_chan *ch[QCH];
	uint64_t r = qr->seed, next = 1;
	int i, op;

	for (i = 0; i < QCH; i++) {
		memset(&m[i], 0, sizeof(m[i]));
		m[i].cap = rnd(&r) % (QCAP + 1);	/* 0: unbuffered */
		ch[i] = goro_chan_make(sizeof(uint64_t), m[i].cap);
	}
	for (op = 0; op < qr->ops && !atomic_load(&failed); op++) {
		int c = (int)(rnd(&r) % QCH);
		uint64_t v = 0, w;
		bool ok = true, mok;
		int ret;

		switch (rnd(&r) % 8) {
		case 0:	/* trysend (never on a closed channel: that panics) */
			if (m[c].closed)
				break;
			v = next++;
			ret = goro_chan_trysend(ch[c], &v);
			CHECK(ret == (m_can_send(&m[c]) ? 0 : -EAGAIN),
			      "trysend on %d (cap %zu len %zu): %d", c,
			      m[c].cap, m[c].len, ret);
			if (!ret)
				m_push(&m[c], v);
			break;
		case 1:	/* blocking send the model says will not block */
			if (!m_can_send(&m[c]))
				break;
			v = next++;
			goro_chan_send(ch[c], &v);
			m_push(&m[c], v);
			break;
		case 2:
			v = 12345;
			ret = goro_chan_tryrecv(ch[c], &v, &ok);
			if (!m_can_recv(&m[c])) {
				CHECK(ret == -EAGAIN && v == 12345,
				      "tryrecv on empty %d: %d", c, ret);
				break;
			}
			mok = m_pop(&m[c], &w);
			CHECK(ret == 0 && ok == mok && v == w,
			      "tryrecv on %d: ret %d ok %d v %llu, model ok %d v %llu",
			      c, ret, ok, (unsigned long long)v, mok,
			      (unsigned long long)w);
			break;
		case 3:	/* blocking recv the model says will not block */
			if (!m_can_recv(&m[c]))
				break;
			ok = goro_chan_recv(ch[c], &v);
			mok = m_pop(&m[c], &w);
			CHECK(ok == mok && v == w,
			      "recv on %d: ok %d v %llu, model ok %d v %llu", c,
			      ok, (unsigned long long)v, mok,
			      (unsigned long long)w);
			break;
		case 4:
			if (m[c].closed || rnd(&r) % 4)
				break;
			goro_chan_close(ch[c]);
			m[c].closed = true;
			break;
		case 5:
			CHECK(goro_chan_len(ch[c]) == m[c].len &&
				      goro_chan_cap(ch[c]) == m[c].cap,
			      "len/cap of %d: %zu/%zu, model %zu/%zu", c,
			      goro_chan_len(ch[c]), goro_chan_cap(ch[c]),
			      m[c].len, m[c].cap);
			break;
		default: {	/* a select, with or without default */
			struct goro_case k[5];
			uint64_t vals[5];
			bool oks[5], ready[5], block, any = false;
			int n = 1 + (int)(rnd(&r) % 5), j;

			for (j = 0; j < n; j++) {
				int cc = (int)(rnd(&r) % (QCH + 1));

				vals[j] = 0;
				oks[j] = true;
				k[j].chan = cc < QCH ? ch[cc] : NULL;
				k[j].ok = &oks[j];
				k[j].elem = &vals[j];
				if (cc < QCH && !m[cc].closed && rnd(&r) % 2) {
					k[j].dir = GORO_SEND;
					vals[j] = next++;
					ready[j] = m_can_send(&m[cc]);
				} else {
					k[j].dir = GORO_RECV;
					ready[j] = cc < QCH &&
						   m_can_recv(&m[cc]);
				}
				any |= ready[j];
			}
			/* block only when the model says it returns */
			block = any && rnd(&r) % 2;
			ret = goro_select(k, n, block);
			if (!any) {
				CHECK(ret == -EAGAIN,
				      "select with nothing ready: %d", ret);
				break;
			}
			CHECK(ret >= 0 && ret < n && ready[ret],
			      "select chose %d, not a ready case", ret);
			if (ret < 0 || ret >= n)
				break;
			for (c = 0; c < QCH; c++)
				if (ch[c] == k[ret].chan)
					break;
			if (k[ret].dir == GORO_SEND) {
				m_push(&m[c], vals[ret]);
			} else {
				mok = m_pop(&m[c], &w);
				CHECK(oks[ret] == mok && vals[ret] == w,
				      "select recv on %d: ok %d v %llu, model ok %d v %llu",
				      c, oks[ret], (unsigned long long)vals[ret],
				      mok, (unsigned long long)w);
			}
		}
		}
	}
	atomic_fetch_add(&nops, op);
	/* drain: what is left comes out in the model's order */
	for (i = 0; i < QCH; i++) {
		uint64_t v, w;

		while (m[i].len) {
			bool ok = goro_chan_recv(ch[i], &v);

			m_pop(&m[i], &w);
			CHECK(ok && v == w, "drain of %d: %llu, model %llu", i,
			      (unsigned long long)v, (unsigned long long)w);
		}
		goro_chan_free(ch[i]);
	}
}

struct qgo {
	struct qrun run;
	goro_wg *wg;
};

static void quiescent_go(void *arg)
{
	struct qgo *g = arg;

	quiescent_fn(&g->run);
	goro_wg_done(g->wg);
}

/* Several goroutines, each with its own channels and model, at once. */
static void quiescent(uint64_t seed)
{
	struct qgo g[4];
	goro_wg wg = GORO_WG_INIT;
	uint64_t r = seed;
	int i;

	goro_wg_add(&wg, 4);
	for (i = 0; i < 4; i++) {
		g[i].run.seed = rnd(&r);
		g[i].run.ops = tsan() ? 200 : 2000;
		g[i].wg = &wg;
		goro_go(quiescent_go, &g[i]);
	}
	goro_wg_wait(&wg);
}

/* ---- the tests ----------------------------------------------------------- */

TEST_F(procs, traffic_matches_the_model)
{
	uint64_t seed = first_seed();
	int i;

	TH_LOG("first seed %#llx (GORO_DIFF_SEED)", (unsigned long long)seed);
	for (i = 0; i < nprograms() && !atomic_load(&failed); i++)
		traffic(seed + (uint64_t)i);
	TH_LOG("%d programs, %ld values through channels", i,
	       atomic_load(&nvalues));
	ASSERT_EQ(0, atomic_load(&failed))
		TH_LOG("program seed %#llx: %s",
		       (unsigned long long)(seed + (uint64_t)i - 1), fail_msg);
}

TEST_F(procs, try_ops_match_the_model)
{
	uint64_t seed = first_seed();
	int i;

	TH_LOG("first seed %#llx (GORO_DIFF_SEED)", (unsigned long long)seed);
	for (i = 0; i < nprograms() && !atomic_load(&failed); i++)
		quiescent(seed + (uint64_t)i);
	TH_LOG("%d programs, %ld operations checked", i, atomic_load(&nops));
	ASSERT_EQ(0, atomic_load(&failed))
		TH_LOG("program seed %#llx: %s",
		       (unsigned long long)(seed + (uint64_t)i - 1), fail_msg);
}

/*
 * Go allows freeing (or reusing) a WaitGroup once Wait returns: no Done
 * may still touch it then. A regression test for a last Done that used
 * the WaitGroup after the counter reached zero; ASan and TSan see it.
 */
static void wg_done_fn(void *arg)
{
	goro_wg_done(arg);
}

TEST_F(procs, wait_group_freed_right_after_wait)
{
	int i, n = tsan() ? 2000 : 20000;

	for (i = 0; i < n; i++) {
		goro_wg *wg = malloc(sizeof(*wg));

		ASSERT_NE(NULL, wg);
		memset(wg, 0, sizeof(*wg));
		goro_wg_add(wg, 2);
		goro_go(wg_done_fn, wg);
		goro_go(wg_done_fn, wg);
		goro_wg_wait(wg);
		/* scribble, then free: a Done still inside would notice */
		memset(wg, 0xa5, sizeof(*wg));
		free(wg);
	}
}

/* The checker itself: a wrong model must be caught. */
TEST(a_wrong_model_is_caught)
{
	goro_chan *c = goro_chan_make(sizeof(uint64_t), 2);
	uint64_t v = 1, w = 0;

	goro_chan_send(c, &v);
	v = 2;
	goro_chan_send(c, &v);
	goro_chan_recv(c, &w);
	/* a model claiming LIFO order */
	CHECK(w == 2, "LIFO model: got %llu", (unsigned long long)w);
	EXPECT_NE(0, atomic_load(&failed));
	atomic_store(&failed, 0);
	goro_chan_recv(c, &w);
	goro_chan_free(c);
}

TEST_HARNESS_MAIN
