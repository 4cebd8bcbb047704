#!/bin/sh
# Run in the test box (selftests/vm/run --script) with the binaries from
# `make -C bench vm-bins` in /bin: the handoff and syscall-cost benchmarks,
# whose goro side needs goro.ko.  Prints RESULT lines for bench/run --from.
# The box is emulated (TCG), so the counts are smaller than on the host.
echo "# bench in the test box: $(uname -r), $(nproc) CPUs"
lsmod 2>/dev/null | grep -qw goro && echo "# goro.ko loaded" || echo "# goro.ko not loaded"
for round in 1 2 3; do
	for b in go_handoff pthread_futex_wake goro_handoff; do
		[ -x "/bin/$b" ] && "/bin/$b" 300
	done
	[ -x /bin/goro_handoff ] && /bin/goro_handoff 300 bracketed
	for b in pthread_getppid goro_getppid; do
		[ -x "/bin/$b" ] && "/bin/$b" 20000
	done
done
exit 0
