#!/bin/sh
# The job of bench/ab: the goro programs of two builds of libgoro, one
# after the other, in the same boot of the test box (selftests/vm/run
# --script) or on this machine.  PROGRAM-base is the program linked with
# the library before the change, PROGRAM with the one after; both are in
# $AB_BIN (default /bin).  Prints RESULT lines relabelled
# impl=goro-BACKEND-base and impl=goro-BACKEND-new, and "# round N" before
# each round, for bench/run --ab.
#
# Environment (the box gets it with selftests/vm/run --env):
#   AB_ROUNDS    rounds (default 6)
#   AB_BACKENDS  backends, comma-separated (default kmod,user)
#   AB_ONLY      programs to run, comma-separated names without goro_
#                (default every one below that is there)
#   AB_HOST      1: each program's own default arguments (the host's
#                sizes) instead of the box's smaller ones
#   AB_BIN       where the programs are (default /bin)
#   AB_LIMIT     seconds each run may take (default 60; a hang is
#                reported and the job goes on)
#
# Order: a round runs each program on every backend, base and new side by
# side; odd rounds go backend by backend in the order given, base first,
# even rounds the exact reverse, so that over an even number of rounds
# every build runs as often first as second, after the same neighbours.
rounds=${AB_ROUNDS:-6}
backends=$(echo "${AB_BACKENDS:-kmod,user}" | tr , ' ')
only=$(echo "${AB_ONLY:-}" | tr , ' ')
host=${AB_HOST:-0}
bin=${AB_BIN:-/bin}
LIMIT=${AB_LIMIT:-60}

echo "# bench A/B: $(uname -r), $(nproc) CPUs, $rounds rounds, backends $backends"
lsmod 2>/dev/null | grep -qw goro && echo "# goro.ko loaded" || echo "# goro.ko not loaded"

# What runs: PROGRAM BACKENDS BOX-ARGS HOST-ARGS (arguments comma-separated,
# - for none).  The box's arguments are vm-job.sh's; the user backend's
# handoff is the bracketed one (a plain read() cannot hand its P off there).
jobs="
goro_yield kmod,user 200000 -
goro_spawn kmod,user 100000 -
goro_fib kmod,user 9 -
goro_getppid kmod,user 20000 -
goro_chan_pingpong kmod,user 100000 -
goro_chan_mpmc kmod,user 400000 -
goro_select kmod,user 200000 -
goro_handoff kmod 300 -
goro_handoff user 300,bracketed 1000,bracketed
goro_workcons kmod,user 10 -
goro_workcons user 10,bracketed 20,bracketed
"

# one PROGRAM VERSION BACKEND ARGS...: a run, alone (its output goes to a
# file, read once it is done); its RESULT lines relabelled, its own
# comments dropped (they differ from run to run), anything else it says
# (an error) kept as a comment, a failure or a kill noted
out=${TMPDIR:-/tmp}/ab-job.$$
trap 'rm -f "$out"' EXIT
one() {
	p=$1 v=$2 be=$3
	shift 3
	f=$bin/$p
	[ "$v" = new ] || f=$bin/$p-base
	[ -x "$f" ] || return 0
	timeout -s KILL "$LIMIT" env GORO_BACKEND="$be" "$f" "$@" >"$out" 2>&1
	st=$?
	sed -n -e "/^RESULT /{s/ impl=goro / impl=goro-$be-$v /;p;b;}" \
		-e '/^# /b' -e "s|^|# $p ($v) $* on $be: |p" "$out"
	[ $st -eq 0 ] && return 0
	[ $st -eq 137 ] && echo "# $p ($v) $* on $be: killed after $LIMIT s (hung)" ||
		echo "# $p ($v) $* on $be: exit status $st"
}

# wanted PROGRAM: whether AB_ONLY lets PROGRAM run
wanted() {
	[ -z "$only" ] && return 0
	for o in $only; do
		[ "goro_$o" = "$1" ] && return 0
	done
	return 1
}

# reverse WORDS...: the words in reverse order
reverse() {
	r=
	for w in "$@"; do
		r="$w $r"
	done
	echo "$r"
}

# Each build's library must take each backend: GORO_BACKEND=kmod is fatal
# when the library refuses the module (its ABI version, a feature bit)
for be in $backends; do
	for v in base new; do
		f=$bin/goro_yield
		[ "$v" = new ] || f=$bin/goro_yield-base
		[ -x "$f" ] || continue
		if msg=$(GORO_BACKEND=$be "$f" 1000 2>&1 >/dev/null); then
			echo "# $v library on $be: runs"
		else
			echo "# $v library on $be: FAILS: $msg"
		fi
	done
done

round=1
while [ "$round" -le "$rounds" ]; do
	echo "# round $round"
	if [ $((round % 2)) -eq 1 ]; then
		order=$backends versions="base new"
	else
		# shellcheck disable=SC2086
		order=$(reverse $backends) versions="new base"
	fi
	echo "$jobs" | while read -r p bes box hst; do
		[ -n "$p" ] || continue
		wanted "$p" || continue
		args=$box
		[ "$host" != 1 ] || args=$hst
		[ "$args" != - ] || args=
		args=$(echo "$args" | tr , ' ')
		for be in $order; do
			case ,$bes, in
			*,$be,*) ;;
			*) continue ;;
			esac
			for v in $versions; do
				# shellcheck disable=SC2086
				one "$p" "$v" "$be" $args
			done
		done
	done
	round=$((round + 1))
done
exit 0
