#!/bin/sh
# Run in the test box (selftests/vm/run --script) with the binaries from
# `make -C bench vm-bins` in /bin: the handoff and syscall-cost benchmarks,
# whose goro side needs goro.ko.  Prints RESULT lines for bench/run --from.
# The box is emulated (TCG): its figures compare only with each other, in
# the same boot; five rounds, bench/run takes the median.
echo "# bench in the test box: $(uname -r), $(nproc) CPUs"
lsmod 2>/dev/null | grep -qw goro && echo "# goro.ko loaded" || echo "# goro.ko not loaded"
for round in 1 2 3 4 5; do
	for b in go_handoff pthread_futex_wake goro_handoff; do
		[ -x "/bin/$b" ] && "/bin/$b" 1000
	done
	[ -x /bin/goro_handoff ] && /bin/goro_handoff 1000 bracketed
	for b in pthread_getppid goro_getppid; do
		[ -x "/bin/$b" ] && "/bin/$b" 20000
	done
done
exit 0
