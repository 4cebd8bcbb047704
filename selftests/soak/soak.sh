#!/bin/sh
# The soak in the test box: goro_soak's mixed workload for GORO_SOAK_SECS
# (default 10; make soak runs minutes) while shell loops read /proc/goro
# and gorotrace is attached to the goro tracepoints. Prints TAP.
secs=${GORO_SOAK_SECS:-10}
n=0 st=0
ok() { n=$((n + 1)); echo "ok $n $1"; }
nok() { n=$((n + 1)); echo "not ok $n $1"; st=1; sed 's/^/#   /' "$2" | tail -n 30; }
echo "TAP version 13"
echo "1..3"

# /proc readers: every file, as fast as the shell goes
: >/tmp/soak.readers
reader() {
	r=0 bad=0
	while [ ! -f /tmp/soak.stop ]; do
		cat /proc/goro/stats /proc/goro/version >/dev/null || bad=$((bad + 1))
		for f in /proc/goro/*/sched; do
			# an instance may end between the glob and the read
			cat "$f" >/dev/null 2>&1
		done
		r=$((r + 1))
	done
	echo "$r $bad" >>/tmp/soak.readers
}
rm -f /tmp/soak.stop
reader &
r1=$!
reader &
r2=$!
trace=0
if command -v gorotrace >/dev/null; then
	gorotrace -i 1 -c $((secs + 3)) >/tmp/soak.trace 2>&1 &
	trace=$!
	sleep 1
fi

# GORO_SOAK_BACKEND picks libgoro's backend (default: kmod)
backend=${GORO_SOAK_BACKEND:-kmod}
echo "# goro_soak on libgoro's $backend backend"
GORO_BACKEND=$backend goro_soak "$secs" >/tmp/soak.out 2>&1
rc=$?
touch /tmp/soak.stop
wait $r1 $r2
sed 's/^/# /' /tmp/soak.out
if [ "$rc" -eq 0 ] && grep -q "every item done exactly once" /tmp/soak.out; then
	ok "goro_soak: ${secs}s of mixed work, every item done once"
else
	nok "goro_soak: ${secs}s of mixed work (status $rc)" /tmp/soak.out
fi

reads=$(awk '{ r += $1; b += $2 } END { print r + 0, b + 0 }' /tmp/soak.readers)
echo "# /proc readers: ${reads% *} rounds, ${reads#* } failed reads" >/tmp/soak.r
if [ "${reads#* }" = 0 ] && [ "${reads% *}" -gt 0 ]; then
	ok "/proc/goro read ${reads% *} times during the soak"
else
	nok "/proc/goro readers" /tmp/soak.r
fi

if [ "$trace" = 0 ]; then
	ok "gorotrace attached during the soak # SKIP no gorotrace"
elif wait $trace && grep -q "^Tracing goro" /tmp/soak.trace; then
	ok "gorotrace attached during the soak and exited cleanly"
else
	nok "gorotrace attached during the soak" /tmp/soak.trace
fi
exit $st
