#!/bin/sh
# tools/gdb/goro.py: info goroutines and goroutine N bt on a program with
# three parked goroutines (tools/tests/gdb_goro.c), in gdb's batch mode.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=${GDB_GORO:-$top/build/tools/gdb_goro}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
n=0 st=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); echo "not ok $n $1"; st=1; sed 's/^/#   /' "$t/out"; }
expect() { # NAME REGEX: in gdb's output
	if grep -qE "$2" "$t/out"; then ok "$1"; else nok "$1"; fi
}
echo "TAP version 13"
if ! command -v gdb >/dev/null; then
	echo "1..0 # SKIP gdb is not installed (scripts/deps installs it)"
	exit 0
fi
echo "1..9"
gdb -nx -batch -x "$top/tools/gdb/goro.py" \
	-ex 'break goro_test_stop' -ex run \
	-ex 'echo ==info\n' -ex 'info goroutines' \
	-ex 'echo ==bt2\n' -ex 'goroutine 2 bt' \
	-ex 'echo ==bt3\n' -ex 'goroutine 3 bt' \
	-ex 'echo ==bt4\n' -ex 'goroutine 4 bt' \
	-ex 'echo ==bt1\n' -ex 'goroutine 1 bt' \
	-ex 'echo ==main\n' -ex 'bt 1' \
	-ex continue "$bin" >"$t/out" 2>&1
sec() { sed -n "/^==$1\$/,/^==/p" "$t/out" >"$t/sec"; }
sec info
if grep -qE '^ +1 +running +- +main +main' "$t/sec" &&
	grep -qE '^ +2 +waiting +chan receive +receiver +rx$' "$t/sec" &&
	grep -qE '^ +3 +waiting +sync.Mutex.Lock +locker +$' "$t/sec" &&
	grep -qE '^ +4 +waiting +sleep +sleeper +$' "$t/sec" &&
	[ "$(grep -cE '^ +[0-9]+ ' "$t/sec")" -eq 4 ]; then
	ok "info goroutines lists the four goroutines"
else
	nok "info goroutines lists the four goroutines"
fi
sec bt2
if grep -q ' goro_chan_recv ' "$t/sec" && grep -q ' receiver ' "$t/sec"; then
	ok "goroutine 2 bt: receiver in goro_chan_recv"
else
	nok "goroutine 2 bt: receiver in goro_chan_recv"
fi
sec bt3
if grep -q ' goro_mutex_lock ' "$t/sec" && grep -q ' locker ' "$t/sec"; then
	ok "goroutine 3 bt: locker in goro_mutex_lock"
else
	nok "goroutine 3 bt: locker in goro_mutex_lock"
fi
sec bt4
if grep -q ' goro_sleep ' "$t/sec" && grep -q ' sleeper ' "$t/sec"; then
	ok "goroutine 4 bt: sleeper in goro_sleep"
else
	nok "goroutine 4 bt: sleeper in goro_sleep"
fi
sec bt4
if grep -q 'goro__ctx_entry\|goro__g_entry' "$t/sec"; then
	ok "the unwind reaches the goroutine's first frame"
else
	nok "the unwind reaches the goroutine's first frame"
fi
sec bt1
if grep -q 'running on an M' "$t/sec"; then
	ok "goroutine 1 (running) is refused"
else
	nok "goroutine 1 (running) is refused"
fi
sec main
if grep -q '^#0 .*goro_test_stop' "$t/sec"; then
	ok "registers restored: the thread is back in goro_test_stop"
else
	nok "registers restored: the thread is back in goro_test_stop"
fi
expect "the program runs on to its end" '^done$'
expect "and exits normally" 'exited normally'
exit $st
