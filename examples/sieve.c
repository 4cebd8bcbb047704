/* SPDX-License-Identifier: MIT */
/*
 * sieve: the concurrent prime sieve of Go's tour, in C. A generator
 * goroutine sends 2, 3, 4, ... down a channel; every prime found starts a
 * filter goroutine that passes on what its prime does not divide.
 *
 *     sieve [N]    print the first N primes (default 1000), one a line
 */
#include <goro.h>
#include <stdio.h>
#include <stdlib.h>

static void generate(void *arg)
{
	goro_chan *ch = arg;
	int i;

	for (i = 2;; i++)
		goro_chan_send(ch, &i);
}

struct filter {
	goro_chan *in, *out;
	int prime;
};

static void filter(void *arg)
{
	struct filter f = *(struct filter *)arg;
	int i;

	free(arg);
	for (;;) {
		goro_chan_recv(f.in, &i);
		if (i % f.prime != 0)
			goro_chan_send(f.out, &i);
	}
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000, i;
	goro_chan *ch = goro_chan_make(sizeof(int), 0);

	if (!ch || n < 1) {
		fprintf(stderr, "usage: sieve [N>0]\n");
		return 1;
	}
	goro_go(generate, ch);
	for (i = 0; i < n; i++) {
		struct filter *f = malloc(sizeof(*f));
		int prime;

		goro_chan *next = goro_chan_make(sizeof(int), 0);

		goro_chan_recv(ch, &prime);
		printf("%d\n", prime);
		if (!f || !next) {
			fprintf(stderr, "sieve: out of memory\n");
			return 1;
		}
		f->in = ch;
		f->out = next;
		f->prime = prime;
		/* f is the filter's now (it frees it): keep next ourselves */
		if (goro_go(filter, f) < 0) {
			fprintf(stderr, "sieve: out of memory\n");
			return 1;
		}
		ch = next;
	}
	return 0;	/* main returns: the filters end with the process */
}
