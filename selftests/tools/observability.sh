#!/bin/sh
# In the test box, with goro.ko loaded: bpftool sees the module's BTF and
# tracepoints, gorotrace attaches, pins its maps and exits cleanly, and
# gorostat shows a live instance and forgets it when the process ends.
# GORO_NO_BPF=1 (a box of another architecture than the host's, which has
# neither bpftool nor gorotrace: selftests/vm/check sets it): the module's
# BTF is checked by its type names in /sys/kernel/btf/goro, and the
# gorotrace checks are skipped.
n=0 st=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
skip() { n=$((n + 1)); echo "ok $n $1 # SKIP no bpftool, gorotrace in this box"; }
nobpf=${GORO_NO_BPF:-0}
nok() { n=$((n + 1)); echo "not ok $n $1"; st=1; [ -f /tmp/o ] && sed 's/^/#   /' /tmp/o | head -n 30; }
t() { # NAME CMD...: the command's output goes to /tmp/o
	name=$1
	shift
	if "$@" >/tmp/o 2>&1; then ok "$name"; else nok "$name"; fi
}
echo "TAP version 13"
echo "1..10"

if [ "$nobpf" = 1 ]; then
	t "the module's BTF is loaded" grep -q goro_inst /sys/kernel/btf/goro
else
	t "bpftool dumps the module BTF" sh -c \
		'bpftool btf dump file /sys/kernel/btf/goro | grep -q "STRUCT .goro_inst"'
fi
missing=
for e in attach detach park wake handoff steal preempt; do
	[ -f /sys/kernel/tracing/events/goro/goro_$e/format ] || missing="$missing $e"
done
echo "missing:$missing" >/tmp/o
if [ -z "$missing" ]; then ok "all goro tracepoints exist"; else nok "all goro tracepoints exist"; fi

if [ "$nobpf" = 1 ]; then
	skip "gorotrace attaches and exits"
	skip "gorotrace pins its maps for bpftool"
	skip "gorotrace rejects a bad pid"
else
	t "gorotrace attaches and exits" sh -c \
		'gorotrace -c 1 -i 0.5 && gorotrace -c 1 -i 0.5 | grep -q "^Tracing goro"'
	rm -rf /sys/fs/bpf/goro
	t "gorotrace pins its maps for bpftool" sh -c \
		'gorotrace -P /sys/fs/bpf/goro -c 1 -i 0.5 &&
		 bpftool map dump pinned /sys/fs/bpf/goro/hists &&
		 bpftool map show pinned /sys/fs/bpf/goro/steals | grep -q hash'
	rm -rf /sys/fs/bpf/goro
	t "gorotrace rejects a bad pid" sh -c '! gorotrace -p nope -c 1 2>/dev/null'
fi

goro_hold 3 30 >/tmp/hold &
hold=$!
i=0
while ! grep -q ready /tmp/hold && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
gorostat $hold >/tmp/o 2>&1
# pid, procs 3, idle 2 (one P is the attached M's), threads 1
if grep -Eq "^ +$hold +3 +2 +1 " /tmp/o; then
	ok "gorostat shows a live instance"
else
	nok "gorostat shows a live instance"
fi
t "gorostat -i prints rates for it" sh -c \
	"gorostat -i 0.2 -c 2 $hold | grep -Eq '^ +$hold +3 '"
kill $hold
wait $hold 2>/dev/null
t "gorostat forgets an ended instance" sh -c \
	"! gorostat $hold 2>/dev/null && ! gorostat | grep -Eq '^ +$hold '"

# handoffs the test provokes: gorotrace counts every one of them
if [ "$nobpf" = 1 ]; then
	skip "gorotrace counts the 20 handoffs a process provoked"
	skip "gorotrace's count agrees with the instance's counter, and it exits cleanly"
	exit $st
fi
rm -f /tmp/go /tmp/hs /tmp/gt
goro_handoffs 20 /tmp/go >/tmp/hs 2>&1 &
hpid=$!
i=0
while ! grep -qs ready /tmp/hs && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
gorotrace -p "$hpid" -c 1 -i 15 >/tmp/gt 2>&1 &
gpid=$!
i=0
while ! grep -qs "^Tracing goro" /tmp/gt && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
touch /tmp/go
wait $hpid
hst=$?
wait $gpid
gst=$?
have=$(sed -n 's/^handoffs \([0-9]*\)$/\1/p' /tmp/hs)
seen=$(sed -n "/^pid $hpid: P handoff latency/{n;s/^ *count \([0-9]*\) .*/\1/p;}" /tmp/gt)
cat /tmp/hs /tmp/gt >/tmp/o
echo "# helper: ${have:-?} handoffs, gorotrace: ${seen:-?}"
if [ $hst -eq 0 ] && [ "${have:-0}" -ge 20 ] && [ "${seen:-0}" -ge 20 ]; then
	ok "gorotrace counts the 20 handoffs a process provoked"
else
	nok "gorotrace counts the 20 handoffs a process provoked"
fi
if [ $gst -eq 0 ] && [ -n "$seen" ] && [ "$seen" = "$have" ]; then
	ok "gorotrace's count agrees with the instance's counter, and it exits cleanly"
else
	nok "gorotrace's count agrees with the instance's counter, and it exits cleanly"
fi
exit $st
