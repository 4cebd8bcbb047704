#!/bin/sh
# The demo the README's `make run` shows, run inside the test box after
# goro.ko is loaded: the module, the seed programs, live scheduler stats.
echo "== goro.ko"
lsmod | grep -w goro
cat /proc/goro/version 2>/dev/null
echo
for p in hello orders; do
	[ -x "/bin/$p" ] || continue
	echo "== $p"
	/bin/$p
	echo
done
if [ -x /bin/blocking ]; then
	echo "== blocking: half the goroutines block in read(), /proc/goro/<pid>/sched live"
	GORO_DEBUG=1 /bin/blocking 3 &
	pid=$!
	sleep 0.5
	while kill -0 "$pid" 2>/dev/null; do
		# the schedtrace line, the counters, the Ps (not every M)
		grep -v '^  M' "/proc/goro/$pid/sched" 2>/dev/null
		echo
		sleep 1
	done
	wait "$pid"
	echo
fi
echo "== /proc/goro/stats: handoffs, kernel steals, parks, wakes"
cat /proc/goro/stats 2>/dev/null
