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
	/bin/blocking &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		cat "/proc/goro/$pid/sched" 2>/dev/null
		sleep 0.2
	done
	wait "$pid"
fi
echo "== /proc/goro/stats"
cat /proc/goro/stats 2>/dev/null
