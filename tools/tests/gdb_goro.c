/* SPDX-License-Identifier: MIT */
/*
 * The program tools/tests/gdb.sh debugs: three goroutines parked on a
 * channel, a mutex and a timer and one that ended (its dead entry stays
 * on the registry's list), then a stop in goro_test_stop() where gdb
 * looks at them; then it releases them and exits 0.
 */
#include <goro.h>
#include <stdatomic.h>
#include <stdio.h>

static goro_chan *ch;
static goro_mutex mu = GORO_MUTEX_INIT;
static atomic_int started;

static void receiver(void *arg)
{
	int v;

	(void)arg;
	goro_setname("rx");
	atomic_fetch_add(&started, 1);
	goro_chan_recv(ch, &v);
}

static void locker(void *arg)
{
	(void)arg;
	atomic_fetch_add(&started, 1);
	goro_mutex_lock(&mu);
	goro_mutex_unlock(&mu);
}

static void sleeper(void *arg)
{
	(void)arg;
	atomic_fetch_add(&started, 1);
	goro_sleep(1000000000LL);
}

static void ender(void *arg)
{
	(void)arg;
	atomic_fetch_add(&started, 1);
}

/* gdb stops here */
__attribute__((noinline)) void goro_test_stop(void)
{
	__asm__ volatile("" ::: "memory");
}

int main(void)
{
	int i, v = 1;

	goro_setprocs(1);
	ch = goro_chan_make(sizeof(int), 0);
	goro_mutex_lock(&mu);
	goro_go(receiver, NULL);
	goro_go(locker, NULL);
	goro_go(sleeper, NULL);
	goro_go(ender, NULL);
	/* one P: each runs until it parks or ends while main yields */
	while (atomic_load(&started) < 4)
		goro_yield();
	for (i = 0; i < 100; i++)
		goro_yield();
	goro_test_stop();
	goro_chan_send(ch, &v);
	goro_mutex_unlock(&mu);
	printf("done\n");
	return 0;
}
