#!/bin/sh
# Run in the test box (selftests/vm/run --script) with the binaries from
# `make -C bench vm-bins` in /bin.  Prints RESULT lines for bench/run --from.
# The goro programs run twice, on each backend (GORO_BACKEND=kmod|user),
# their lines relabelled impl=goro-kmod and impl=goro-user; on the user
# backend a plain read() cannot hand off its P, so its handoff is the
# bracketed one.  The box is emulated (TCG): its figures compare only with
# each other, in the same boot; four or eight rounds (below) with fewer
# iterations than on the host, bench/run takes the median.
echo "# bench in the test box: $(uname -r), $(nproc) CPUs"
lsmod 2>/dev/null | grep -qw goro && echo "# goro.ko loaded" || echo "# goro.ko not loaded"

# Every program gets LIMIT seconds: a hang is reported ("# ... killed")
# and the job goes on.
LIMIT=60

# limited NAME PROGRAM ARGS...: run PROGRAM, note a failure or a kill
limited() {
	n=$1
	shift
	timeout -s KILL $LIMIT "$@"
	st=$?
	[ $st -eq 0 ] && return 0
	[ $st -eq 137 ] && echo "# $n: killed after $LIMIT s (hung)" ||
		echo "# $n: exit status $st"
}

# goro PROGRAM BACKEND ARGS...: run PROGRAM on BACKEND, relabel its lines
goro() {
	p=$1 be=$2
	shift 2
	[ -x "/bin/$p" ] || return 0
	limited "$p $* on $be" env GORO_BACKEND=$be "/bin/$p" "$@" |
		sed "s/ impl=goro / impl=goro-$be /"
}

# both PROGRAM ARGS...: PROGRAM on each backend, kmod first in odd
# rounds and user first in even ones, so that neither always runs right
# after the same neighbour
both() {
	prog=$1
	shift
	if [ $((round % 2)) -eq 1 ]; then
		goro "$prog" kmod "$@"
		goro "$prog" user "$@"
	else
		goro "$prog" user "$@"
		goro "$prog" kmod "$@"
	fi
}

# run PROGRAM ARGS...: a competitor, when it is there
run() {
	p=$1
	shift
	[ -x "/bin/$p" ] || return 0
	limited "$p $*" "/bin/$p" "$@"
}

# The handoff and work-conservation programs run in four rounds; the
# short ones (yield, spawn, fib, getppid) in eight: their kmod/user goal
# is 1.1x, and one slow boot phase moves a median of four by as much.
for round in 1 2 3 4 5 6 7 8; do
	echo "# round $round"
	if [ $round -le 4 ]; then
		run go_handoff 300
		run pthread_futex_wake 300
		goro goro_handoff kmod 300
		goro goro_handoff user 300 bracketed
		run go_workcons 10
		run pthread_workcons 10
		goro goro_workcons kmod 10
		goro goro_workcons user 10
		goro goro_workcons user 10 bracketed
	fi
	run go_yield 200000
	both goro_yield 200000
	run go_spawn 100000
	both goro_spawn 100000
	run go_fib 9
	both goro_fib 9
	run pthread_getppid 20000
	both goro_getppid 20000
done
exit 0
