/* SPDX-License-Identifier: MIT */
/*
 * goro: x86-64 context switch (System V ABI).
 *
 * struct goro_m *goro__ctx_swap(void **save_sp, void *new_sp,
 *                               struct goro_m *m);
 *
 * Saves the callee-saved registers, MXCSR and the x87 control word on the
 * current stack, stores the stack pointer in *save_sp, switches to new_sp
 * and restores the same set from there. Returns m (the M now running the
 * resumed context) in the resumed context. The frame, from new_sp up:
 *   +0  MXCSR (4 bytes), x87 CW (2 bytes), pad
 *   +8  r15, r14, r13, r12, rbx, rbp
 *   +56 return address
 * A fresh context (see goro__g_prepare, switch.c) returns into goro__ctx_entry with r12 =
 * its G; goro__ctx_entry calls goro__g_entry(m, g), which never returns.
 */
	.text
	.globl	goro__ctx_swap
	.hidden	goro__ctx_swap
	.type	goro__ctx_swap, @function
	.p2align 4
goro__ctx_swap:
	.cfi_startproc
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	subq	$8, %rsp
	stmxcsr	(%rsp)
	fnstcw	4(%rsp)
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	ldmxcsr	(%rsp)
	fldcw	4(%rsp)
	addq	$8, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	movq	%rdx, %rax
	ret
	.cfi_endproc
	.size	goro__ctx_swap, .-goro__ctx_swap

	.globl	goro__ctx_entry
	.hidden	goro__ctx_entry
	.type	goro__ctx_entry, @function
	.p2align 4
goro__ctx_entry:
	.cfi_startproc
	.cfi_undefined rip
	movq	%rax, %rdi
	movq	%r12, %rsi
	xorl	%ebp, %ebp
	call	goro__g_entry
	ud2
	.cfi_endproc
	.size	goro__ctx_entry, .-goro__ctx_entry

	.section .note.GNU-stack,"",@progbits
