/* SPDX-License-Identifier: MIT */
/*
 * supervisor: a process supervisor in goroutines (Go's os/exec and
 * os/signal). It starts N workers, copies each one's output from a pipe
 * in a goroutine of its own, and waits for SIGINT or SIGTERM on a
 * channel. Then every worker gets SIGTERM and three seconds to exit before
 * SIGKILL; each exit is reported as its wait status says.
 *
 * Three kinds of worker take turns: one that SIGTERM kills, one that
 * traps it and exits with status 3, one that ignores it (and needs the
 * SIGKILL). No thread waits for a child: each wait parks a goroutine on
 * the child's pidfd.
 *
 *   supervisor [N]     N workers (default 3); stop it with Ctrl-C
 */
#define _GNU_SOURCE
#include <goro.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAXW 64

static const char *const kinds[] = {
	/* SIGTERM ends sleep, which the shell became */
	"echo ready; exec sleep 600",
	/* the shell traps SIGTERM once its sleep ends */
	"trap 'echo stopping; exit 3' TERM; echo ready; "
	"while :; do sleep 1 >/dev/null; done",
	/* an ignored signal stays ignored across exec */
	"trap '' TERM; echo ready; exec sleep 600",
};

struct worker {
	int id;
	int out;		/* read end of the worker's stdout */
	goro_proc *p;
};

static goro_wg ready = GORO_WG_INIT;	/* every worker said "ready" */
static goro_wg done = GORO_WG_INIT;	/* readers and stoppers ended */

/* Copy one worker's output, line by line, with its name in front. */
static void reader(void *arg)
{
	struct worker *w = arg;
	char buf[512], line[512];
	size_t len = 0;
	ssize_t n;
	bool said_ready = false;

	while ((n = goro_read(w->out, buf, sizeof(buf))) > 0) {
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] != '\n') {
				if (len < sizeof(line) - 1)
					line[len++] = buf[i];
				continue;
			}
			line[len] = 0;
			printf("worker %d: %s\n", w->id, line);
			if (!said_ready && !strcmp(line, "ready")) {
				said_ready = true;
				goro_wg_done(&ready);
			}
			len = 0;
		}
	}
	if (!said_ready)
		goro_wg_done(&ready);
	goro_close(w->out);
	goro_wg_done(&done);
}

/* SIGTERM, three seconds, then SIGKILL; say how the worker ended. */
static void stopper(void *arg)
{
	struct worker *w = arg;
	goro_ctx *grace;
	int st;

	goro_proc_signal(w->p, SIGTERM);
	grace = goro_ctx_make_timeout(NULL, 3000000000LL);
	st = goro_proc_wait(w->p, grace);
	goro_ctx_free(grace);
	if (st == -ETIMEDOUT) {
		printf("worker %d: still running after 3 s, SIGKILL\n", w->id);
		goro_proc_signal(w->p, SIGKILL);
		st = goro_proc_wait(w->p, NULL);
	}
	if (st < 0)
		printf("worker %d: wait: %s\n", w->id, strerror(-st));
	else if (WIFEXITED(st))
		printf("worker %d: exited with status %d\n", w->id,
		       WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		printf("worker %d: killed by signal %d\n", w->id,
		       WTERMSIG(st));
	goro_proc_free(w->p);
	goro_wg_done(&done);
}

int main(int argc, char **argv)
{
	static struct worker ws[MAXW];
	int n = argc > 1 ? atoi(argv[1]) : 3, i, sig, ret;
	goro_chan *sigs = goro_chan_make(sizeof(int), 1);

	if (n < 1 || n > MAXW || !sigs) {
		fprintf(stderr, "usage: supervisor [1..%d]\n", MAXW);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* before the workers start: a signal that comes early is not lost */
	ret = goro_signal_notify(sigs, SIGINT);
	if (!ret)
		ret = goro_signal_notify(sigs, SIGTERM);
	if (ret) {
		fprintf(stderr, "supervisor: notify: %s\n", strerror(-ret));
		return 1;
	}
	goro_wg_add(&ready, n);
	for (i = 0; i < n; i++) {
		char *args[] = {"sh", "-c", (char *)kinds[i % 3], NULL};
		struct goro_proc_opts o = {.flags = GORO_PROC_STDOUT};
		int fds[2];

		/* close-on-exec, or every child keeps every pipe open */
		if (pipe2(fds, O_CLOEXEC)) {
			perror("supervisor: pipe2");
			return 1;
		}
		o.fd[1] = fds[1];
		ws[i] = (struct worker){.id = i, .out = fds[0]};
		ws[i].p = goro_proc_start("/bin/sh", args, &o);
		if (!ws[i].p) {
			perror("supervisor: start");
			return 1;
		}
		close(fds[1]);
		goro_wg_add(&done, 1);
		goro_go(reader, &ws[i]);
	}
	goro_wg_wait(&ready);
	printf("supervisor: %d workers running, pids", n);
	for (i = 0; i < n; i++)
		printf(" %d", (int)goro_proc_pid(ws[i].p));
	printf("\n");

	goro_chan_recv(sigs, &sig);
	printf("supervisor: %s, stopping the workers\n", strsignal(sig));
	goro_signal_stop(sigs);
	for (i = 0; i < n; i++) {
		goro_wg_add(&done, 1);
		goro_go(stopper, &ws[i]);
	}
	goro_wg_wait(&done);
	goro_chan_free(sigs);
	printf("supervisor: all %d workers stopped\n", n);
	return 0;
}
