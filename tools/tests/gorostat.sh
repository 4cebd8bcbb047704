#!/bin/sh
# gorostat against fake /proc/goro trees: what it prints for each case.
set -u
bin=${GOROSTAT:-$(dirname "$0")/../../build/tools/gorostat}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
n=0 st=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); echo "not ok $n $1"; st=1; }
expect() { # NAME: the last command's output is in $t/out
	if grep -qE "$2" "$t/out"; then ok "$1"; else nok "$1"; sed 's/^/#   /' "$t/out"; fi
}
mkinst() { # PID HANDOFFS
	mkdir -p "$t/goro/$1"
	cat >"$t/goro/$1/sched" <<EOT
SCHED 1009ms: gomaxprocs=4 idleprocs=1 threads=7 spinningthreads=0 idlethreads=2 runqueue=3 [1 0 5 2]
  handoffs=$2 handofflat_avg_ns=900 handofflat_max_ns=2000 parks=10 wakes=9 ksteals=4 preemptreqs=1 sparewanted=0 waitp=0 goroutines=12 newkey=5
  P0: status=running schedtick=1 syscalltick=0 m=0 runqsize=1 runnext=0 handoffs=0 ksteals=0 preempt=0
EOT
}
echo "TAP version 13"
echo "1..9"
mkinst 42 5
mkinst 77 8
"$bin" -r "$t/goro" >"$t/out" 2>&1
expect "table lists every instance" '^ +42 +4 +1 +7 +0 +2 +3 +12 +8 +5 +10 +9 +4 +1$'
expect "table lists the second instance" '^ +77 .* 8 +10 +9 +4 +1$'
"$bin" -r "$t/goro" 42 >"$t/out" 2>&1
if grep -q '^ *77 ' "$t/out"; then nok "pid filter"; else ok "pid filter"; fi
"$bin" -r "$t/goro" 99 >"$t/out" 2>&1 && nok "missing pid fails" || expect "missing pid fails" 'no goro instance for pid 99'
"$bin" -r "$t/goro" -i 0 >"$t/out" 2>&1 && nok "bad interval rejected" || expect "bad interval rejected" 'bad interval'
"$bin" -r "$t/nothere" >"$t/out" 2>&1 && nok "missing /proc/goro fails" || expect "missing /proc/goro fails" 'is goro.ko loaded'
( sleep 0.5; sed -i 's/handoffs=5 /handoffs=25 /' "$t/goro/42/sched" ) &
"$bin" -r "$t/goro" -i 1 -c 1 42 >"$t/out" 2>&1
wait
expect "interval mode prints rates" '^ +42 .* +20 +0 +0 +0 +0$'
# the module's pids file: directory 4242 is pid 7 for the reader
mkinst 4242 3
printf '4242 7\n' >"$t/goro/pids"
"$bin" -r "$t/goro" >"$t/out" 2>&1
if grep -qE '^ +(42|77|4242) ' "$t/out"; then nok "pids lists what the reader may read"; sed 's/^/#   /' "$t/out"; else expect "pids lists what the reader may read" '^ +7 .* 3 +10 +9 +4 +1$'; fi
"$bin" -r "$t/goro" 7 >"$t/out" 2>&1
expect "a pid of the reader's namespace finds its directory" '^ +7 .* 3 +10 +9 +4 +1$'
exit $st
