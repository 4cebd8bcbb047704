/* SPDX-License-Identifier: MIT */
/*
 * goro: preemption. goro_preempt_point(), the cooperative one: a
 * goroutine asked to yield (its P's preempt flag, set by sysmon) goes to
 * the back of the global queue there (goro__preempted, sched.c). And
 * asynchronous preemption, for goroutines spawned with
 * GORO_SPAWN_ASYNC_PREEMPT (Go's signal-based preemption, opt-in here).
 *
 * sysmon sets a P's preempt flag once its goroutine has run 10 ms. When
 * the goroutine running there opted in and the flag is still set a grace
 * period later (it reached no preempt point), sysmon sends SIGURG to the
 * P's M. The handler acts only when the interrupted instruction is in the
 * goroutine's own code: inside the executable or library holding its
 * entry function, outside libgoro's text (the build renames libgoro's
 * .text to goro_text, whose bounds the linker provides), and never inside
 * libc or the loader (other objects). The M must be running that goroutine
 * with a P and not inside goro_syscall_enter/exit.
 *
 * It then makes the goroutine call the scheduler, as if it had called
 * goro_preempt_point() at that instruction, without touching any of its
 * registers: the handler copies the signal frame's ucontext and its full
 * FPU/vector state (what the kernel saved: x87, SSE, AVX...) onto the
 * goroutine's stack below the red zone, and returns into a trampoline
 * running on that copy. The trampoline calls goro_preempt_point() (the
 * goroutine may come back on another M), then rt_sigreturn restores every
 * register, the flags and the FPU state from the copy, with the current
 * thread's signal mask and alternate stack put in first.
 *
 * On AArch64 the same, with the kernel's frame as it is there: rt_sigreturn
 * reads a struct rt_sigframe (siginfo, then the ucontext) at sp, which
 * must be 16-byte aligned; the FP/SIMD state (and SVE, SME...) are records
 * inside the ucontext's __reserved area, and a frame too big for it
 * continues in an extra block, found through an extra_context record
 * whose pointer the kernel checks to be exactly where it put it (right
 * after the record and a terminator, running on past __reserved). The handler copies the whole frame, extra block included, and
 * moves that pointer with the copy. There is no red zone (AAPCS64 lets
 * nothing live below sp): the copy goes right below the goroutine's sp.
 * pstate's BTYPE bits are cleared on the way to the trampoline (a signal
 * that came between an indirect branch and its landing pad would else
 * make the trampoline's first instruction fault under BTI); the copy keeps
 * them for the way back.
 */
#include "internal.h"
#include "sched.h"
#include "backend_kmod.h"

#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#ifdef GORO_ASAN
#include <sanitizer/asan_interface.h>
#endif

#define ASYNC_GRACE_NS (1000000LL)	/* after the flag, between signals */
#define ROOM (16UL << 10)		/* stack the scheduler call needs */
#if defined(__x86_64__)
#define RED_ZONE 128
#define FP_XSTATE_MAGIC1 0x46505853U
#elif defined(__aarch64__)
/* struct _aarch64_ctx, extra_context: <asm/sigcontext.h>, via <signal.h> */
#define PSR_BTYPE_MASK 0xc00ULL
#define SIGFRAME_MAX (256UL << 10)	/* what we agree to copy */
#else
#error "asynchronous preemption: no port for this architecture"
#endif

/* libgoro's text: its objects' .text renamed to goro_text at build time */
extern const char __start_goro_text[] HIDDEN __attribute__((weak));
extern const char __stop_goro_text[] HIDDEN __attribute__((weak));

void goro__async_preempt_tramp(void) HIDDEN;
void goro__async_preempted(ucontext_t *uc) HIDDEN;

#if defined(__x86_64__)
/* the kernel's struct ucontext: glibc's ucontext_t up to __fpregs_mem */
#define KUC_SIZE offsetof(ucontext_t, __fpregs_mem)
#endif

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int init_err;
static struct sigaction old_urg;
static int64_t last_signal[GORO_MAX_PROCS];	/* sysmon only */

#if defined(__x86_64__)
__asm__(".text\n"
	".globl goro__async_preempt_tramp\n"
	".hidden goro__async_preempt_tramp\n"
	".type goro__async_preempt_tramp, @function\n"
	".p2align 4\n"
	"goro__async_preempt_tramp:\n"
	"	movq %rsp, %rdi\n"	/* the ucontext copy, 16-aligned */
	"	call goro__async_preempted\n"
	"	movl $15, %eax\n"	/* rt_sigreturn: frame at rsp - 8 */
	"	syscall\n"
	"	ud2\n"
	".size goro__async_preempt_tramp, .-goro__async_preempt_tramp\n");
#elif defined(__aarch64__)
/* sp: the rt_sigframe copy (siginfo, then the ucontext), 16-aligned */
__asm__(".text\n"
	".globl goro__async_preempt_tramp\n"
	".hidden goro__async_preempt_tramp\n"
	".type goro__async_preempt_tramp, %function\n"
	".p2align 4\n"
	"goro__async_preempt_tramp:\n"
	"	hint 36\n"		/* bti j: a no-op without BTI */
	"	add x0, sp, #128\n"	/* the ucontext: after the siginfo */
	"	bl goro__async_preempted\n"
	"	mov x8, #139\n"	/* rt_sigreturn: frame at sp */
	"	svc #0\n"
	"	brk #0\n"
	".size goro__async_preempt_tramp, .-goro__async_preempt_tramp\n");
_Static_assert(sizeof(siginfo_t) == 128, "the trampoline's siginfo size");
#endif

/* Back from the signal, on the goroutine's stack: yield, then resume. */
void goro__async_preempted(ucontext_t *uc)
{
	sigset_t mask;
	stack_t ss;
	int e = errno;

	goro_preempt_point();
	/* possibly another thread now: restore its mask and altstack */
	pthread_sigmask(SIG_SETMASK, NULL, &mask);
	memcpy(&uc->uc_sigmask, &mask, sizeof(uint64_t));
	if (sigaltstack(NULL, &ss) == 0)
		uc->uc_stack = ss;
	goro__set_errno(e);
}

static bool in_goro_text(uintptr_t pc)
{
	return __start_goro_text && pc >= (uintptr_t)__start_goro_text &&
	       pc < (uintptr_t)__stop_goro_text;
}

__attribute__((no_sanitize_address)) static void
copy_bytes(char *dst, const char *src, size_t n)
{
	while (n--)
		*dst++ = *src++;
}

/*
 * The interrupted pc and sp, and whether the signal came in code where m's
 * goroutine may be preempted.
 */
static bool preemptible(struct goro_mach *m, uintptr_t pc, uintptr_t sp)
{
	struct goro_g *g;

	if (!m || in_goro_text(pc))
		return false;
	g = m->curg;
	if (!g || !g->async_preempt || pc < g->apc_lo || pc >= g->apc_hi)
		return false;
	if (!m->p || m->insyscall || ld_rlx(&g->status) != G_RUNNING ||
	    !ld_rlx(&m->p->kp->preempt) || ld_rlx(&goro__sched.exiting))
		return false;
	return sp > (uintptr_t)g->stk.lo && sp <= (uintptr_t)g->stk.hi;
}

#if defined(__x86_64__)
__attribute__((no_sanitize_address)) static void try_preempt(ucontext_t *uc)
{
	greg_t *r = uc->uc_mcontext.gregs;
	uintptr_t pc = (uintptr_t)r[REG_RIP], sp = (uintptr_t)r[REG_RSP];
	uintptr_t fpdst, ucdst;
	const char *fp = (const char *)uc->uc_mcontext.fpregs;
	struct goro_mach *m = goro__getm();
	size_t fpsize = 512;
	uint32_t magic;

	if (!fp || !preemptible(m, pc, sp))
		return;
	/* struct _fpx_sw_bytes in the fxsave area: magic1, extended_size */
	memcpy(&magic, fp + 464, sizeof(magic));
	if (magic == FP_XSTATE_MAGIC1) {
		uint32_t ext;

		memcpy(&ext, fp + 464 + 4, sizeof(ext));
		fpsize = ext;
	}
	if (fpsize > 64 * 1024 || fpsize < 512)
		return;
	fpdst = (sp - RED_ZONE - fpsize) & ~(uintptr_t)63;
	ucdst = (fpdst - KUC_SIZE) & ~(uintptr_t)15;
	if (ucdst < (uintptr_t)m->curg->stk.lo + ROOM)
		return;	/* too close to the bottom: next time */
#ifdef GORO_ASAN
	__asan_unpoison_memory_region((void *)ucdst, sp - ucdst);
#endif
	copy_bytes((char *)fpdst, fp, fpsize);
	copy_bytes((char *)ucdst, (const char *)uc, KUC_SIZE);
	((ucontext_t *)ucdst)->uc_mcontext.fpregs = (fpregset_t)fpdst;
	r[REG_RSP] = (greg_t)ucdst;
	r[REG_RIP] = (greg_t)(uintptr_t)goro__async_preempt_tramp;
}
#elif defined(__aarch64__)
/*
 * The extra block of uc's frame (see the top of the file): its extra
 * record, or NULL when the frame fits in __reserved.
 */
__attribute__((no_sanitize_address)) static struct extra_context *
frame_extra(ucontext_t *uc)
{
	char *r = (char *)uc->uc_mcontext.__reserved;
	size_t off = 0, lim = sizeof(uc->uc_mcontext.__reserved);

	while (off + sizeof(struct _aarch64_ctx) <= lim) {
		struct _aarch64_ctx *h = (struct _aarch64_ctx *)(r + off);

		if (!h->magic)
			return NULL;	/* the terminator */
		if (h->size < sizeof(*h) || h->size > lim - off)
			return NULL;
		if (h->magic == EXTRA_MAGIC &&
		    h->size >= sizeof(struct extra_context))
			return (struct extra_context *)h;
		off += h->size;
	}
	return NULL;
}

__attribute__((no_sanitize_address)) static void try_preempt(ucontext_t *uc)
{
	mcontext_t *mc = &uc->uc_mcontext;
	uintptr_t pc = mc->pc, sp = mc->sp;
	char *frame = (char *)uc - sizeof(siginfo_t);
	struct goro_mach *m = goro__getm();
	struct extra_context *x;
	size_t size = sizeof(siginfo_t) + sizeof(ucontext_t);
	uintptr_t dst;

	if (!preemptible(m, pc, sp))
		return;
	x = frame_extra(uc);
	if (x) {
		/*
		 * The extra block follows the record and its terminator
		 * (inside __reserved, on past the frame's end): copy up to
		 * its end.
		 */
		uintptr_t end = x->datap + x->size;

		if (x->datap < (uintptr_t)(x + 1) || end < x->datap ||
		    end - (uintptr_t)frame > SIGFRAME_MAX)
			return;
		if (end - (uintptr_t)frame > size)
			size = end - (uintptr_t)frame;
	}
	dst = (sp - size) & ~(uintptr_t)15;
	if (dst < (uintptr_t)m->curg->stk.lo + ROOM)
		return;	/* too close to the bottom: next time */
#ifdef GORO_ASAN
	__asan_unpoison_memory_region((void *)dst, sp - dst);
#endif
	copy_bytes((char *)dst, frame, size);
	if (x) {
		/* the copy's extra record points into the copy */
		struct extra_context *cx = (struct extra_context *)((char *)x - frame +
							    (char *)dst);

		cx->datap = x->datap - (uintptr_t)frame + dst;
	}
	mc->sp = dst;
	mc->pc = (uintptr_t)goro__async_preempt_tramp;
	mc->pstate &= ~PSR_BTYPE_MASK;
}
#endif

static void urg_handler(int sig, siginfo_t *si, void *ctx)
{
	int e = errno;

	if (si->si_code == SI_TKILL && si->si_pid == getpid()) {
		try_preempt(ctx);
	} else if (old_urg.sa_flags & SA_SIGINFO) {
		if (old_urg.sa_sigaction)
			old_urg.sa_sigaction(sig, si, ctx);
	} else if (old_urg.sa_handler != SIG_DFL &&
		   old_urg.sa_handler != SIG_IGN) {
		old_urg.sa_handler(sig);
	}
	errno = e;
}

/* libc.so is a separate object: the handler can tell its code apart */
static int find_libc(struct dl_phdr_info *info, size_t size, void *arg)
{
	(void)size;
	if (info->dlpi_name && strstr(info->dlpi_name, "/libc.so"))
		*(bool *)arg = true;
	return 0;
}

static void init_once(void)
{
	struct sigaction sa;
	bool libc_so = false;

	dl_iterate_phdr(find_libc, &libc_so);
	if (!libc_so || !__start_goro_text) {
		init_err = -EOPNOTSUPP;
		return;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = urg_handler;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
	sigfillset(&sa.sa_mask);
	if (sigaction(SIGURG, &sa, &old_urg))
		init_err = -errno;
}

struct seg_find {
	uintptr_t pc, lo, hi;
};

static int find_seg(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct seg_find *f = arg;
	int i;

	(void)size;
	for (i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		if (f->pc >= lo && f->pc < lo + ph->p_memsz) {
			f->lo = lo;
			f->hi = lo + ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

int goro__async_preempt_range(goro_fn fn, uintptr_t *lo, uintptr_t *hi)
{
	struct seg_find f = {(uintptr_t)fn, 0, 0};

	pthread_once(&once, init_once);
	if (init_err)
		return init_err;
	dl_iterate_phdr(find_seg, &f);
	if (!f.hi)
		return -EINVAL;
	*lo = f.lo;
	*hi = f.hi;
	return 0;
}

void goro__async_preempt_tick(struct goro_pp *pp, int64_t now, int64_t since)
{
	struct goro_mach *m;

	if (now - since < ASYNC_GRACE_NS ||
	    now - last_signal[pp->id] < ASYNC_GRACE_NS)
		return;
	m = ld_rlx(&pp->m);
	if (!m || !m->tid)
		return;
	last_signal[pp->id] = now;
	syscall(SYS_tgkill, getpid(), m->tid, SIGURG);
}

/* ---- preemption points ------------------------------------------------- */

void goro_preempt_point(void)
{
	struct goro_mach *m = goro__getm();
	bool e;

	if (!m || !m->p || !m->curg)
		return;
	if (likely(!ld_rlx(&m->p->kp->preempt))) {
		if (!kmod_m(m))
			return;
		/* kmod: our P may have been swapped by a block since */
		e = rt_enter(m);
		if (!m->p || (!ld_rlx(&m->p->kp->preempt) &&
			      !kmod_p_wanted())) {
			rt_leave(m, e);
			return;
		}
	} else {
		e = rt_enter(m);
		if (!m->p) {
			rt_leave(m, e);
			return;
		}
	}
	goro__preempted(m, e);
}
