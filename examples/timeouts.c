/* SPDX-License-Identifier: MIT */
/*
 * timeouts: Go's time.Timer, time.Ticker and time.AfterFunc in C. Three
 * jobs run one after the other, each in its own goroutine; main waits
 * for each with a select on its result, a ticker (progress every 20 ms)
 * and a timeout timer re-armed for every job (200 ms). A watchdog
 * afterfunc would end the program if the whole run took 10 s; stopped
 * in time, it never runs.
 */
#include <goro.h>
#include <stdio.h>
#include <stdlib.h>

#define MS 1000000LL

static goro_wg jobs = GORO_WG_INIT;

struct job {
	int64_t ns;
	goro_chan *done;	/* cap 1: a late job does not block */
};

static void run_job(void *arg)
{
	struct job *j = arg;

	goro_sleep(j->ns);	/* the work */
	goro_chan_send(j->done, NULL);
	goro_wg_done(&jobs);
}

static void watchdog(void *arg)
{
	(void)arg;
	fprintf(stderr, "watchdog: the run took 10 s, giving up\n");
	exit(1);
}

int main(void)
{
	struct job j[] = {{5 * MS, NULL}, {70 * MS, NULL}, {1000 * MS, NULL}};
	goro_timer *dog = goro_afterfunc(10000 * MS, watchdog, NULL);
	goro_ticker *tick = goro_ticker_make(20 * MS);
	goro_timer *timeout = goro_timer_make(0);
	int i;

	for (i = 0; i < 3; i++) {
		int64_t t0 = goro_now(), v;
		int ticks = 0;
		bool waiting = true;

		j[i].done = goro_chan_make(0, 1);
		goro_wg_add(&jobs, 1);
		goro_go(run_job, &j[i]);
		goro_timer_reset(timeout, 200 * MS);	/* drops a stale value */
		while (waiting) {
			struct goro_case k[] = {
				{GORO_RECV, j[i].done, NULL, NULL},
				{GORO_RECV, goro_ticker_chan(tick), &v, NULL},
				{GORO_RECV, goro_timer_chan(timeout), &v, NULL},
			};

			switch (goro_select(k, 3, true)) {
			case 0:
				printf("job %d: done in %lld ms\n", i + 1,
				       (long long)((goro_now() - t0) / MS));
				waiting = false;
				break;
			case 1:
				ticks++;	/* progress: still waiting */
				break;
			case 2:
				printf("job %d: timed out after %lld ms\n",
				       i + 1,
				       (long long)((goro_now() - t0) / MS));
				waiting = false;
				break;
			}
		}
		if (ticks)
			printf("job %d: %d ticks while waiting\n", i + 1, ticks);
	}
	printf("watchdog %s\n", goro_timer_stop(dog) ? "stopped" : "fired");
	goro_wg_wait(&jobs);	/* the timed-out job ends too */
	for (i = 0; i < 3; i++)
		goro_chan_free(j[i].done);
	goro_timer_free(dog);
	goro_timer_free(timeout);
	goro_ticker_free(tick);
	return 0;
}
