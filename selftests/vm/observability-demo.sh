#!/bin/sh
# The README's observability examples, run inside the test box:
#   selftests/vm/check --script selftests/vm/observability-demo.sh
show() { echo "\$ $*"; "$@"; echo; }
goro_obsdemo 60 >/tmp/demo &
i=0
while ! grep -qs ready /tmp/demo && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
pid=$(sed -n 's/^ready //p' /tmp/demo)
sleep 1
echo "== demo pid $pid"
show cat /proc/goro/version
show cat /proc/goro/$pid/sched
show cat /proc/goro/$pid/ps
show cat /proc/goro/$pid/ms
show cat /proc/goro/$pid/goroutines
show gorostat
echo "\$ bpftool btf dump file /sys/kernel/btf/goro | grep -A6 \"STRUCT 'goro_proc'\""
bpftool btf dump file /sys/kernel/btf/goro | grep -A6 "STRUCT 'goro_proc'"
echo
show ls /sys/kernel/tracing/events/goro
show cat /sys/kernel/tracing/events/goro/goro_handoff/format
kill "$pid"
wait "$pid" 2>/dev/null
rm -f /tmp/go
goro_handoffs 20 /tmp/go >/tmp/hs &
h=$!
while ! grep -qs ready /tmp/hs; do sleep 0.1; done
echo "\$ gorotrace -p $h -c 1 -i 5   # while goro_handoffs 20 runs"
gorotrace -p "$h" -c 1 -i 5 &
g=$!
sleep 1
touch /tmp/go
wait "$h"
wait "$g"
echo
show cat /proc/goro/stats
sleep 1
