/* SPDX-License-Identifier: MIT */
/*
 * hello: Go's first goroutine program in C.
 *
 *     go say("world")
 *     say("hello")
 */
#include <goro.h>
#include <stdio.h>

static void say(void *arg)
{
	int i;

	for (i = 0; i < 5; i++) {
		goro_sleep(10 * 1000000);	/* 10 ms */
		printf("%s\n", (const char *)arg);
	}
}

int main(void)
{
	goro_go(say, "world");
	say("hello");
	return 0;
}
