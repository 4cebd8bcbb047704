/* SPDX-License-Identifier: MIT */
/*
 * goro: subprocesses (Go's os/exec and os.Process). goro_proc_start runs
 * posix_spawn (glibc's is a vfork-like clone on a stack of its own: no
 * fork of a threaded process, nothing of the runtime runs in the child),
 * bracketed as a blocking call since the caller's thread waits until the
 * child has exec'd, then takes a pidfd for the child (pidfd_open). The
 * child gets the program's signal mask at its first goro_ call
 * (goro__sigmask_prog, signal.c), not the M's, and its stdin, stdout and
 * stderr from the descriptors the caller gives.
 *
 * goro_proc_wait parks the goroutine on the pidfd in the netpoller
 * (goro_fd_wait: readable once the child has exited; a context can end
 * the wait), then reaps it with waitpid(WNOHANG) under the proc's mutex,
 * so that of several waiters one reaps and all see the status. Only the
 * reaper's waitpid ever names the pid, and the pid cannot be reused until
 * it is reaped; signals go through the pidfd (pidfd_send_signal), so none
 * reaches another process that got the number after the reap. Without
 * pidfds (kernels before 5.3) the wait is a blocking waitpid bracketed by
 * goro_syscall_enter/exit and signals go by kill(2) until the reap (a
 * kill racing with the reap is then kill(2)'s old race).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

extern char **environ;

struct goro_proc {
	pid_t pid;
	int pidfd;		/* -1: no pidfds here */
	uint32_t done;		/* reaped: status is final (release) */
	int status;		/* wait status, or -errno */
	goro_mutex mu;		/* the reap */
};

#define PROC_FLAGS (GORO_PROC_STDIN | GORO_PROC_STDOUT | GORO_PROC_STDERR | \
		    GORO_PROC_PATH)

/*
 * The file actions for the child's 0, 1 and 2. A source that is itself
 * one of 0..2 but goes elsewhere is first copied above 2 (tmp[], closed by
 * the caller), so that an earlier dup2 cannot overwrite it.
 */
static int redirect(posix_spawn_file_actions_t *fa,
		    const struct goro_proc_opts *o, int tmp[3])
{
	int i, src;

	for (i = 0; i < 3; i++) {
		if (!(o->flags & (GORO_PROC_STDIN << i)))
			continue;
		src = o->fd[i];
		if (src < 0)
			return -EBADF;
		if (src == i)
			continue;	/* already in place: inherited */
		if (src < 3) {
			tmp[i] = fcntl(src, F_DUPFD_CLOEXEC, 3);
			if (tmp[i] < 0)
				return -errno;
			src = tmp[i];
		} else if (fcntl(src, F_GETFD) < 0) {
			return -EBADF;
		}
		if (posix_spawn_file_actions_adddup2(fa, src, i))
			return -ENOMEM;
	}
	return 0;
}

goro_proc *goro_proc_start(const char *path, char *const argv[],
			   const struct goro_proc_opts *opts)
{
	static const struct goro_proc_opts none;
	const struct goro_proc_opts *o = opts ? opts : &none;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t sa;
	struct goro_proc *p;
	int tmp[3] = {-1, -1, -1};
	int err, i;

	if (!path || !argv || (o->flags & ~PROC_FLAGS) || o->resv[0] ||
	    o->resv[1] || o->resv[2]) {
		errno = EINVAL;
		return NULL;
	}
	if (ensure_init()) {
		errno = EAGAIN;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		errno = ENOMEM;
		return NULL;
	}
	p->pidfd = -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&sa);
	err = -redirect(&fa, o, tmp);
	if (!err && o->dir)
		err = posix_spawn_file_actions_addchdir_np(&fa, o->dir);
	if (!err) {
		posix_spawnattr_setsigmask(&sa, &goro__sigmask_prog);
		posix_spawnattr_setflags(&sa, POSIX_SPAWN_SETSIGMASK);
		goro_syscall_enter();
		if (o->flags & GORO_PROC_PATH)
			err = posix_spawnp(&p->pid, path, &fa, &sa, argv,
					   o->envp ? o->envp : environ);
		else
			err = posix_spawn(&p->pid, path, &fa, &sa, argv,
					  o->envp ? o->envp : environ);
		goro_syscall_exit();
	}
	for (i = 0; i < 3; i++)
		if (tmp[i] >= 0)
			close(tmp[i]);
	posix_spawnattr_destroy(&sa);
	posix_spawn_file_actions_destroy(&fa);
	if (err) {
		free(p);
		errno = err;
		return NULL;
	}
	p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	if (p->pidfd >= 0)
		fcntl(p->pidfd, F_SETFD, FD_CLOEXEC);	/* pidfds are */
	return p;
}

pid_t goro_proc_pid(goro_proc *p)
{
	return p ? p->pid : -EINVAL;
}

/* Reap p if it has exited (blocking: wait for it). True once reaped. */
static bool reap(goro_proc *p, bool block)
{
	pid_t w;
	int st = 0;

	goro_mutex_lock(&p->mu);
	if (!ld_acq(&p->done)) {
		if (block)
			w = (pid_t)GORO_SYSCALL(waitpid(p->pid, &st, 0));
		else
			w = waitpid(p->pid, &st, WNOHANG);
		if (w == p->pid) {
			p->status = st;
			st_rel(&p->done, 1);
		} else if (w < 0 && errno != EINTR) {
			/* reaped elsewhere: SIGCHLD ignored, a waitpid(-1) */
			p->status = -errno;
			st_rel(&p->done, 1);
		}
	}
	goro_mutex_unlock(&p->mu);
	return ld_acq(&p->done);
}

int goro_proc_wait(goro_proc *p, goro_ctx *ctx)
{
	int r;

	if (!p)
		return -EINVAL;
	while (!ld_acq(&p->done)) {
		r = goro_ctx_err(ctx);
		if (r)
			return r;
		if (p->pidfd < 0) {
			reap(p, true);
			continue;
		}
		r = goro_fd_wait(p->pidfd, GORO_FD_READ, 0, ctx);
		if (r < 0)
			return r;
		if (!reap(p, false))
			goro_yield();	/* readable just before reapable */
	}
	return p->status;
}

int goro_proc_signal(goro_proc *p, int sig)
{
	int r;

	if (!p)
		return -EINVAL;
	if (ld_acq(&p->done))
		return -ESRCH;	/* Go's "process already finished" */
	if (p->pidfd >= 0) {
		r = (int)syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0);
		return r < 0 ? -errno : 0;
	}
	/* no pidfd: a reap racing with this kill is the old rule of kill(2) */
	return kill(p->pid, sig) ? -errno : 0;
}

void goro_proc_free(goro_proc *p)
{
	if (!p)
		return;
	if (p->pidfd >= 0)
		goro_close(p->pidfd);
	free(p);
}
