/* SPDX-License-Identifier: MIT */
/*
 * goro: AArch64 context switch (AAPCS64), the twin of switch_x86_64.S.
 *
 * struct goro_m *goro__ctx_swap(void **save_sp, void *new_sp,
 *                               struct goro_m *m);
 *
 * Saves the callee-saved state on the current stack, stores the stack
 * pointer in *save_sp, switches to new_sp and restores the same set from
 * there; returns m (the M now running the resumed context) in the resumed
 * context. Callee-saved in AAPCS64: x19-x28, x29 (frame pointer), x30
 * (link register: where the switch returns to), sp, and the low 64 bits
 * of v8-v15 (d8-d15); FPCR (rounding mode, flush-to-zero) travels with the
 * goroutine as MXCSR does on x86-64. x18 is the platform register: left
 * alone (Linux does not reserve it, and nothing here uses it). The frame,
 * from new_sp up (176 bytes, so sp stays 16-byte aligned, which AArch64
 * checks on every sp-based access):
 *   +0   x19, x20, ... x28
 *   +80  x29, x30
 *   +96  d8 ... d15
 *   +160 FPCR, pad
 * Writing FPCR can be slow (it may serialise the FP unit on some cores):
 * the restore writes it only when it differs.
 * A fresh context (see goro__g_prepare, switch.c) "returns" into
 * goro__ctx_entry with x19 = its G and x29 = 0 (the end of the frame
 * chain); goro__ctx_entry calls goro__g_entry(m, g), which never returns.
 *
 * Branch protection (-mbranch-protection=standard, or =bti / =pac-ret):
 *  - BTI: only indirect branches (br, blr) must land on a "bti"
 *    instruction; bl and ret need none. goro__ctx_swap is reached by bl,
 *    goro__ctx_entry by the ret of the switch, but both open with "bti c"
 *    (a hint: a no-op on cores without BTI) so a call through a pointer
 *    is fine too. When the compiler builds with BTI or PAC, the object
 *    carries the GNU property note below saying so, or the linker would
 *    turn BTI off for the whole program.
 *  - PAC (pac-ret): every C function signs its return address with the sp
 *    of its own frame as the modifier (paciasp) and checks it before it
 *    returns (autiasp). Those signed values live in the frames of the
 *    goroutine's own stack and are checked there with the same sp, since
 *    a goroutine's stack never moves (no stack copying in goro): switching
 *    stacks changes nothing for them. The x30 this switch saves is the
 *    unsigned return address into goro__gswitch, in a frame only this
 *    code reads, like the return address the x86-64 switch pushes. Signing
 *    it too (paciasp before the save, autiasp after the restore) would
 *    need goro__g_prepare to lay out a signed entry address for a fresh
 *    context, i.e. a signing helper: not done, the frame is as exposed as
 *    any saved x19-x28.
 *  - Shadow stacks (GCS, Armv9.4; CET's shadow stack on x86-64): every
 *    goroutine would need its own guarded control stack and the switch
 *    would have to switch it (gcsss1/gcsss2). Not done: this object does
 *    not claim GCS in its property note, so a program that links libgoro
 *    runs with GCS off.
 */
#if defined(__ARM_FEATURE_BTI_DEFAULT) && __ARM_FEATURE_BTI_DEFAULT
#define GORO_BTI_C	hint	34	/* bti c */
#define GORO_PROP_BTI	1
#else
#define GORO_BTI_C
#define GORO_PROP_BTI	0
#endif
#if defined(__ARM_FEATURE_PAC_DEFAULT) && __ARM_FEATURE_PAC_DEFAULT
#define GORO_PROP_PAC	2
#else
#define GORO_PROP_PAC	0
#endif

	.text
	.globl	goro__ctx_swap
	.hidden	goro__ctx_swap
	.type	goro__ctx_swap, %function
	.p2align 4
goro__ctx_swap:
	.cfi_startproc
	GORO_BTI_C
	sub	sp, sp, #176
	.cfi_def_cfa_offset 176
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	mrs	x9, fpcr
	str	x9, [sp, #160]
	mov	x9, sp
	str	x9, [x0]
	mov	sp, x1
	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	ldr	x9, [sp, #160]
	mrs	x10, fpcr
	cmp	x9, x10
	b.eq	1f
	msr	fpcr, x9
1:	add	sp, sp, #176
	mov	x0, x2
	ret
	.cfi_endproc
	.size	goro__ctx_swap, .-goro__ctx_swap

	.globl	goro__ctx_entry
	.hidden	goro__ctx_entry
	.type	goro__ctx_entry, %function
	.p2align 4
goro__ctx_entry:
	.cfi_startproc
	.cfi_undefined x30
	GORO_BTI_C
	/* x0: the M (the switch's return value); x29 is 0 */
	mov	x1, x19
	mov	x30, xzr
	bl	goro__g_entry
	brk	#0
	.cfi_endproc
	.size	goro__ctx_entry, .-goro__ctx_entry

	.section .note.GNU-stack,"",%progbits

#if GORO_PROP_BTI || GORO_PROP_PAC
	/* GNU_PROPERTY_AARCH64_FEATURE_1_AND: BTI (1) and PAC (2) */
	.section .note.gnu.property,"a"
	.p2align 3
	.word	4
	.word	16
	.word	5		/* NT_GNU_PROPERTY_TYPE_0 */
	.asciz	"GNU"
	.word	0xc0000000	/* GNU_PROPERTY_AARCH64_FEATURE_1_AND */
	.word	4
	.word	GORO_PROP_BTI | GORO_PROP_PAC
	.word	0
#endif
