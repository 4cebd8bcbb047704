/* SPDX-License-Identifier: MIT */
/*
 * goro: preemption at function entry for code built with
 * -finstrument-functions (libgoro_instrument.a, linked only by programs
 * that use the option). The compiler calls __cyg_profile_func_enter at the
 * entry of every instrumented function: it is a preempt point, so a
 * goroutine looping through function calls yields within ~10 ms of its P
 * being asked to, with no goro_preempt_point() in its code. This file and
 * libgoro itself are never instrumented.
 */
#include <goro.h>

#define NOINSTR __attribute__((no_instrument_function))

GORO_API NOINSTR void __cyg_profile_func_enter(void *fn, void *site);
GORO_API NOINSTR void __cyg_profile_func_exit(void *fn, void *site);

void __cyg_profile_func_enter(void *fn, void *site)
{
	(void)fn;
	(void)site;
	goro_preempt_point();
}

void __cyg_profile_func_exit(void *fn, void *site)
{
	(void)fn;
	(void)site;
}
