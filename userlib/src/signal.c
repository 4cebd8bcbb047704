/* SPDX-License-Identifier: MIT */
/*
 * goro: signals (Go's os/signal). Two things live here.
 *
 * The Ms' signal mask. The thread that makes the first goro_ call gives
 * its mask to the runtime (goro__sigmask_init, from goro__init): every M,
 * M0 included, runs goroutines with that mask, minus the signals the
 * runtime needs delivered to its own threads (SIG_RUNTIME_UNBLOCK: SIGURG
 * for asynchronous preemption, sent to one thread by tgkill; SIGSEGV and
 * SIGBUS for the stack overflow report, which a blocked fault would skip).
 * So a signal the program blocked before it started the runtime (to read
 * it from a signalfd, say) stays blocked in every thread that runs
 * goroutines. Children started by goro_proc_start get the program's mask
 * itself (goro__sigmask_prog). sysmon and the kmod backend's factory
 * block every signal, as before.
 *
 * Delivery to channels (goro_signal_notify, goro_signal_stop). A signal
 * somebody wants gets handler(): async-signal-safe, it sets the signal's
 * bit in `pending` and adds 1 to an eventfd. One runtime thread, sigrecv
 * (not an M, counted in goro__sched.nextra like the factory M), started
 * at the first notify, sleeps in read(2) on that eventfd; woken, it takes
 * the pending bits and tries a send of the signal number (an int) to each
 * channel registered for it, never waiting (goro_chan_trysend: a full
 * channel misses the signal, Go's rule). sigrecv is also the one thread
 * whose mask lets every wanted signal in (Go's sigM): a signal blocked in
 * the Ms still reaches the handler there. It changes its own mask when
 * told (want_gen), and a notify or stop waits for that (have_gen) before
 * it returns: after notify the signal is delivered, and stop blocks it in
 * sigrecv again before the disposition it had comes back, so a signal the
 * program blocked is never default-handled in sigrecv.
 *
 * Locking: `mu` (a goro_mutex, usable from the sigrecv thread) guards the
 * registrations, the handlers' installation and the mask generations;
 * sigrecv sends under it, so once goro_signal_stop returns no send to
 * its channel can start. The handler takes no lock.
 */
#include "internal.h"
#include "chan.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define NSIGS 64	/* 1..64: the kernel's signals, the bit of sig is sig-1 */

sigset_t goro__sigmask_prog HIDDEN;	/* the first caller's mask */
static sigset_t sigmask_m;		/* the Ms' */

/*
 * SA_RESTART, as Go: a signal does not end the system calls of the
 * program's code early. Not under TSan, which runs a handler only when
 * the thread leaves an intercepted call: a read restarted by the kernel
 * would never leave, and the signal would wait for ever.
 */
#ifdef GORO_TSAN
#define SIG_FLAGS SA_ONSTACK
#else
#define SIG_FLAGS (SA_RESTART | SA_ONSTACK)
#endif

static const int runtime_unblock[] = {SIGURG, SIGSEGV, SIGBUS};

void goro__sigmask_init(void)
{
	size_t i;

	pthread_sigmask(SIG_SETMASK, NULL, &goro__sigmask_prog);
	sigmask_m = goro__sigmask_prog;
	for (i = 0; i < sizeof(runtime_unblock) / sizeof(runtime_unblock[0]); i++)
		sigdelset(&sigmask_m, runtime_unblock[i]);
}

void goro__sigmask_m_apply(void)
{
	pthread_sigmask(SIG_SETMASK, &sigmask_m, NULL);
}

/* ---- delivery to channels -------------------------------------------------- */

struct sigreg {
	struct sigreg *next;
	goro_chan *c;
	int sig;
};

static goro_mutex mu = GORO_MUTEX_INIT;
static goro_cond acked = GORO_COND_INIT;
static struct sigreg *regs;		/* mu */
static int nwant[NSIGS + 1];		/* mu: registrations per signal */
static struct sigaction old_act[NSIGS + 1];	/* mu: before the first */
static uint32_t nregs;			/* mu; read racily by checkdead */
static uint32_t remasking;		/* mu: a caller waits for sigrecv */
static sigset_t want_mask;		/* mu: sigrecv's mask to be */
static uint64_t want_gen, have_gen;	/* mu */
static int efd = -1;			/* mu: set once; read by handler */
static uint64_t pending;		/* bits of signals not yet sent */

static void handler(int sig)
{
	int e = errno;
	uint64_t one = 1;

	if (sig >= 1 && sig <= NSIGS)
		__atomic_fetch_or(&pending, 1ULL << (sig - 1), __ATOMIC_SEQ_CST);
	if (write(__atomic_load_n(&efd, __ATOMIC_ACQUIRE), &one,
		  sizeof(one)) < 0) {
		/* the eventfd cannot fill up: nothing to do */
	}
	errno = e;
}

static void *sigrecv_main(void *arg)
{
	uint64_t bits, v;
	struct sigreg *r;
	int sig;

	(void)arg;
	for (;;) {
#ifdef GORO_TSAN
		/*
		 * TSan defers a signal that comes while this thread is not in
		 * a blocking call, and runs the handler as the thread leaves
		 * one: come out every 20 ms so that it gets a chance.
		 */
		struct pollfd pf = {efd, POLLIN, 0};

		if (poll(&pf, 1, 20) == 0)
			continue;
#endif
		if (read(efd, &v, sizeof(v)) < 0 && errno != EINTR &&
		    errno != EAGAIN)
			goro__throw("signal eventfd read failed");
		goro_mutex_lock(&mu);
		if (have_gen != want_gen) {
			pthread_sigmask(SIG_SETMASK, &want_mask, NULL);
			have_gen = want_gen;
			goro_cond_broadcast(&acked);
		}
		bits = __atomic_exchange_n(&pending, 0, __ATOMIC_SEQ_CST);
		for (sig = 1; bits && sig <= NSIGS; sig++) {
			if (!(bits & (1ULL << (sig - 1))))
				continue;
			for (r = regs; r; r = r->next)
				if (r->sig == sig)
					goro_chan_trysend(r->c, &sig);
		}
		goro_mutex_unlock(&mu);
	}
	return NULL;
}

/* mu held: start sigrecv and its eventfd once. 0 or -errno. */
static int sigrecv_start(void)
{
	pthread_attr_t a;
	sigset_t all, old;
	pthread_t t;
	int fd, err;

	if (efd >= 0)
		return 0;
	fd = eventfd(0, EFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	__atomic_store_n(&efd, fd, __ATOMIC_RELEASE);
	sigfillset(&want_mask);
	pthread_attr_init(&a);
	pthread_attr_setstacksize(&a, 64 << 10);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&t, &a, sigrecv_main, NULL);
	if (!err)
		xadd(&goro__sched.nextra, 1);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&a);
	if (err) {
		__atomic_store_n(&efd, -1, __ATOMIC_RELEASE);
		close(fd);
		return -EAGAIN;
	}
	return 0;
}

/* mu held: sigrecv takes want_mask now; returns once it has. */
static void sigrecv_remask(void)
{
	uint64_t gen = ++want_gen, one = 1;

	/* no deadlock report while sigrecv is to wake the caller */
	st_rlx(&remasking, 1);
	if (write(efd, &one, sizeof(one)) < 0)
		goro__throw("signal eventfd write failed");
	while (have_gen < gen)
		goro_cond_wait(&acked, &mu);
	st_rlx(&remasking, 0);
}

/* 0, or -EINVAL / -EBUSY: see goro_signal_notify in goro.h. */
static int sig_check(int sig)
{
	if (sig < 1 || sig > NSIGS || sig == SIGKILL || sig == SIGSTOP)
		return -EINVAL;
	/* libc's own (32 and 33 in glibc: thread cancel, setxid) */
	if (sig >= 32 && sig < SIGRTMIN)
		return -EINVAL;
	/* faults: a handler that returns would run the instruction again */
	if (sig == SIGILL || sig == SIGFPE || sig == SIGTRAP || sig == SIGSYS)
		return -EINVAL;
	/* the runtime's own */
	if (sig == SIGURG || sig == SIGSEGV || sig == SIGBUS)
		return -EBUSY;
	if (sig == SIGQUIT && goro__quit_owned())
		return -EBUSY;
	return 0;
}

int goro_signal_notify(goro_chan *c, int sig)
{
	struct sigaction sa;
	struct sigreg *r;
	int err;

	if (!c || c->elemsize != sizeof(int))
		return -EINVAL;
	err = sig_check(sig);
	if (err)
		return err;
	if (ensure_init())
		return -EAGAIN;
	goro_mutex_lock(&mu);
	for (r = regs; r; r = r->next)
		if (r->c == c && r->sig == sig)
			goto out;	/* already: a set, as Go's */
	err = sigrecv_start();
	if (err)
		goto out;
	r = malloc(sizeof(*r));
	if (!r) {
		err = -ENOMEM;
		goto out;
	}
	if (nwant[sig] == 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = handler;
		sa.sa_flags = SIG_FLAGS;
		sigfillset(&sa.sa_mask);
		if (sigaction(sig, &sa, &old_act[sig])) {
			err = -errno;
			free(r);
			goto out;
		}
		sigdelset(&want_mask, sig);
		sigrecv_remask();
	}
	nwant[sig]++;
	r->c = c;
	r->sig = sig;
	r->next = regs;
	regs = r;
	st_rlx(&nregs, nregs + 1);
out:
	goro_mutex_unlock(&mu);
	return err;
}

void goro_signal_stop(goro_chan *c)
{
	struct sigreg **pr, *r;
	int sig;
	bool remask = false;
	bool gone[NSIGS + 1] = {false};

	if (!c)
		return;
	goro_mutex_lock(&mu);
	for (pr = &regs; (r = *pr);) {
		if (r->c != c) {
			pr = &r->next;
			continue;
		}
		*pr = r->next;
		st_rlx(&nregs, nregs - 1);
		if (--nwant[r->sig] == 0) {
			sigaddset(&want_mask, r->sig);
			gone[r->sig] = true;
			remask = true;
		}
		free(r);
	}
	/* blocked in sigrecv first, then the disposition it had before */
	if (remask)
		sigrecv_remask();
	for (sig = 1; sig <= NSIGS; sig++)
		if (gone[sig])
			sigaction(sig, &old_act[sig], NULL);
	goro_mutex_unlock(&mu);
}

bool goro__signal_wanted(void)
{
	return ld_rlx(&nregs) != 0 || ld_rlx(&remasking) != 0;
}
