/* SPDX-License-Identifier: MIT */
/* libgoro: the goroutine registry published for debuggers and goro.ko. */
#include <goro.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "kselftest_harness.h"
#include "util.h"
#include "../../uapi/goro.h"

/* The registry header, a hidden symbol of the static library. */
extern struct goro_greg goro__greg;
int goro__greg_register(int devfd);

/* The fields a goroutine changes while we look: read like a debugger. */
#define LD(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

/*
 * Walk the list like a debugger: the live entry with this id or NULL;
 * *n live entries, *all (if not NULL) every entry, dead ones included.
 */
static struct goro_ginfo *find_all(int64_t id, int *n, int *all)
{
	struct goro_ginfo *gi, *found = NULL;
	int k = 0;

	*n = 0;
	for (gi = (void *)(uintptr_t)__atomic_load_n(&goro__greg.first,
						     __ATOMIC_ACQUIRE);
	     gi; gi = (void *)(uintptr_t)__atomic_load_n(&gi->next,
							  __ATOMIC_ACQUIRE)) {
		/* a cycle is a broken list: fail, do not hang */
		if (++k > 1000000) {
			*n = -1;
			break;
		}
		if (LD(gi->state) == GORO_G_DEAD)
			continue;
		(*n)++;
		if ((int64_t)LD(gi->id) == id)
			found = gi;
	}
	if (all)
		*all = k;
	return found;
}

static struct goro_ginfo *find(int64_t id, int *n)
{
	return find_all(id, n, NULL);
}

static const char *gname(struct goro_ginfo *gi)
{
	static char buf[GORO_GNAME_LEN];
	int i;

	for (i = 0; i < GORO_GNAME_LEN; i++)
		buf[i] = (char)LD(gi->name[i]);
	buf[GORO_GNAME_LEN - 1] = 0;
	return buf;
}

static goro_chan *ch;
static goro_mutex mu = GORO_MUTEX_INIT;
static goro_wg wg = GORO_WG_INIT;

static void receiver(void *arg)
{
	int v;

	goro_setname("receiver");
	goro_chan_recv(ch, &v);
}

static void locker(void *arg)
{
	goro_mutex_lock(&mu);
	goro_mutex_unlock(&mu);
}

static void waiter(void *arg)
{
	goro_wg_wait(&wg);
}

/* Yield until goroutine id is published as waiting; its entry or NULL. */
static struct goro_ginfo *wait_waiting(int64_t id)
{
	struct goro_ginfo *gi = NULL;
	int i, n;

	for (i = 0; i < 100000; i++) {
		gi = find(id, &n);
		if (gi && __atomic_load_n(&gi->state, __ATOMIC_RELAXED) ==
				  GORO_G_WAITING)
			return gi;
		goro_yield();
		if (i > 1000)
			usleep(100);
	}
	return NULL;
}

TEST(registry_lists_every_goroutine)
{
	struct goro_spawn_opts o = { .name = "waiter" };
	int64_t r, l, w;
	struct goro_ginfo *gi;
	int n, all, v = 1, i;

	ASSERT_EQ(1, goro_id());
	ASSERT_EQ(0, goro_setname("main goroutine"));
	ch = goro_chan_make(sizeof(int), 0);
	ASSERT_NE(NULL, ch);
	goro_mutex_lock(&mu);
	goro_wg_add(&wg, 1);
	r = goro_go(receiver, NULL);
	l = goro_go(locker, NULL);
	w = goro_go_opts(waiter, NULL, &o);
	ASSERT_GT(w, 0);

	gi = find_all(1, &n, &all);
	ASSERT_NE(NULL, gi);
	EXPECT_EQ((unsigned)GORO_G_RUNNING, LD(gi->state));
	EXPECT_STREQ("main goroutine", gname(gi));
	EXPECT_EQ(4, n);
	EXPECT_EQ((unsigned)all, LD(goro__greg.count));
	EXPECT_EQ(GORO_GREG_MAGIC, goro__greg.magic);
	EXPECT_EQ((unsigned)GORO_GREG_VERSION, goro__greg.version);

	gi = wait_waiting(r);
	ASSERT_NE(NULL, gi);
	EXPECT_EQ((unsigned)GORO_WAIT_CHAN_RECV, LD(gi->waitreason));
	EXPECT_EQ((uint64_t)(uintptr_t)receiver, gi->entry);
	EXPECT_STREQ("receiver", gname(gi));
	gi = wait_waiting(l);
	ASSERT_NE(NULL, gi);
	EXPECT_EQ((unsigned)GORO_WAIT_MUTEX, LD(gi->waitreason));
	EXPECT_EQ((uint64_t)(uintptr_t)locker, gi->entry);
	EXPECT_STREQ("", gname(gi));
	gi = wait_waiting(w);
	ASSERT_NE(NULL, gi);
	EXPECT_EQ((unsigned)GORO_WAIT_WAITGROUP, LD(gi->waitreason));
	EXPECT_STREQ("waiter", gname(gi));

	/* released, they run and end: dead, not listed as live */
	EXPECT_EQ(0, goro_chan_send(ch, &v));
	goro_mutex_unlock(&mu);
	goro_wg_done(&wg);
	for (i = 0; i < 100000 && goro_numgoroutine() > 1; i++) {
		goro_yield();
		if (i > 1000)
			usleep(100);
	}
	ASSERT_EQ(1, goro_numgoroutine());
	EXPECT_EQ(NULL, find(r, &n));
	EXPECT_EQ(NULL, find(l, &n));
	EXPECT_EQ(NULL, find(w, &n));
	EXPECT_NE(NULL, find_all(1, &n, &all));
	EXPECT_EQ(1, n);
	EXPECT_EQ((unsigned)all, LD(goro__greg.count));
	goro_chan_free(ch);
}

static goro_chan *gate;
static goro_wg shorts = GORO_WG_INIT, spawners = GORO_WG_INIT;
static int per_spawner;

static void short_lived(void *arg)
{
	goro_wg_done(&shorts);
}

static void parker(void *arg)
{
	int v;

	goro_chan_recv(gate, &v);
}

static void spawner(void *arg)
{
	int i;

	for (i = 0; i < per_spawner; i++) {
		goro_wg_add(&shorts, 1);
		goro_go(short_lived, NULL);
		goro_go(parker, NULL);
	}
	goro_wg_done(&spawners);
}

TEST(registry_stays_whole_under_churn)
{
	int i, n, all;

	ASSERT_LE(0, goro_setprocs(4));
	per_spawner = tsan() || slow_box() ? 50 : 500;
	gate = goro_chan_make(sizeof(int), 0);
	ASSERT_NE(NULL, gate);
	goro_wg_add(&spawners, 4);
	for (i = 0; i < 4; i++)
		ASSERT_GT(goro_go(spawner, NULL), 0);
	goro_wg_wait(&spawners);
	goro_wg_wait(&shorts);
	/* short-lived ones may still be on their way out: settle */
	for (i = 0; i < 100000 && goro_numgoroutine() != 1 + 4 * per_spawner;
	     i++) {
		goro_yield();
		if (i > 1000)
			usleep(100);
	}
	ASSERT_EQ(1 + 4 * per_spawner, goro_numgoroutine());
	/*
	 * every live goroutine is on the list, as a live one; the count
	 * agrees with the walk once sysmon stops taking slots off
	 */
	for (i = 0; i < 100; i++) {
		EXPECT_NE(NULL, find_all(1, &n, &all));
		if ((unsigned)all == LD(goro__greg.count))
			break;
		usleep(10000);
	}
	EXPECT_EQ(1 + 4 * per_spawner, n);
	EXPECT_EQ((unsigned)all, LD(goro__greg.count));
	goro_chan_close(gate);
	for (i = 0; i < 100000 && goro_numgoroutine() > 1; i++) {
		goro_yield();
		if (i > 1000)
			usleep(100);
	}
	ASSERT_EQ(1, goro_numgoroutine());
	EXPECT_NE(NULL, find(1, &n));
	EXPECT_EQ(1, n);
}

static void nothing(void *arg)
{
}

/*
 * An ended goroutine's slot stays on the list, dead, for the next one:
 * goroutines that come and go one at a time do not grow the list, and
 * their entries are not reported live. Slots idle in the stack pool for
 * a scavenge period (0.5 s) leave the list.
 */
TEST(dead_slots_are_reused_then_leave_the_list)
{
	struct goro_ginfo *gi;
	int64_t id = 0;
	int i, n, all, all0;

	ASSERT_LE(0, goro_setprocs(1));
	find_all(1, &n, &all0);
	for (i = 0; i < 1000; i++) {
		id = goro_go(nothing, NULL);
		ASSERT_GT(id, 0);
		goro_yield();	/* it runs and ends here, on the only P */
	}
	for (i = 0; i < 100000 && goro_numgoroutine() > 1; i++)
		goro_yield();
	ASSERT_EQ(1, goro_numgoroutine());
	EXPECT_EQ(NULL, find_all(id, &n, &all));
	EXPECT_EQ(1, n);
	EXPECT_GE(all0 + 2, all);
	EXPECT_EQ((unsigned)all, LD(goro__greg.count));

	/* 1000 at once: the P's cache keeps 64, the pool the rest */
	goro_wg_add(&wg, 1);
	for (i = 0; i < 1000; i++)
		ASSERT_GT(goro_go(waiter, NULL), 0);
	gi = find_all(1, &n, &all);
	ASSERT_NE(NULL, gi);
	EXPECT_EQ(1001, n);
	goro_wg_done(&wg);
	for (i = 0; i < 100000 && goro_numgoroutine() > 1; i++)
		goro_yield();
	ASSERT_EQ(1, goro_numgoroutine());
	find_all(1, &n, &all);
	EXPECT_EQ(1, n);
	EXPECT_LE(1001, all);
	/* two scavenge periods move the pool's slots off the list */
	for (i = 0; i < 400 && all > 100; i++) {
		usleep(10000);
		find_all(1, &n, &all);
	}
	TH_LOG("%d entries after %d ms", all, i * 10);
	EXPECT_GE(100, all);
	EXPECT_EQ(1, n);
	EXPECT_GE(100U, LD(goro__greg.count));
}

static void *foreign(void *arg)
{
	*(int *)arg = goro_setname("x");
	return NULL;
}

TEST(setname_from_a_foreign_thread_is_eperm)
{
	pthread_t t;
	int ret = 0;

	ASSERT_EQ(1, goro_id());
	ASSERT_EQ(0, pthread_create(&t, NULL, foreign, &ret));
	pthread_join(t, NULL);
	EXPECT_EQ(-EPERM, ret);
	/* a long name is cut to fit */
	ASSERT_EQ(0, goro_setname("0123456789012345678901234567890123456789"));
	EXPECT_STREQ("0123456789012345678901234567890",
		     gname(find(1, &ret)));
	ASSERT_EQ(0, goro_setname(NULL));
	EXPECT_STREQ("", gname(find(1, &ret)));
}

/* Each test runs in a fresh child: here naming is the first call. */
TEST(setname_first_starts_the_runtime)
{
	int n;

	ASSERT_EQ(0, goro_setname("first"));
	ASSERT_NE(NULL, find(1, &n));
	EXPECT_STREQ("first", gname(find(1, &n)));
}

TEST(register_with_something_else_than_goro_fails)
{
	int fd = open("/dev/null", O_RDWR);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-ENOTTY, goro__greg_register(fd));
	close(fd);
}

TEST_HARNESS_MAIN
