// SPDX-License-Identifier: MIT

// P handoff latency on GOMAXPROCS=1.  Goroutine A spawns goroutine B (B is
// then runnable on A's P), records t0 and blocks in read(2) on an empty
// pipe (a raw blocking fd, so the M blocks with its P and the netpoller is
// not involved).  B can only run once the runtime hands the P to another
// M; it records t1 and writes the byte that lets A's read return.
// Reports t1 - t0: mean, p50, p99, max.
package main

import (
	"runtime"
	"sync/atomic"
	"syscall"
)

func main() {
	n := countArg(1, 1000)
	warm := n / 10
	runtime.GOMAXPROCS(1)

	var p [2]int
	if err := syscall.Pipe(p[:]); err != nil {
		fatal(err)
	}
	var t0, t1 int64
	lat := make([]int64, 0, n)
	byteA := make([]byte, 1)
	byteB := []byte{1}
	for i := 0; i < warm+n; i++ {
		atomic.StoreInt64(&t1, 0)
		go func() {
			atomic.StoreInt64(&t1, nanotime())
			syscall.Write(p[1], byteB)
		}()
		atomic.StoreInt64(&t0, nanotime())
		if _, err := syscall.Read(p[0], byteA); err != nil {
			fatal(err)
		}
		if i >= warm {
			lat = append(lat, atomic.LoadInt64(&t1)-atomic.LoadInt64(&t0))
		}
	}
	latencyResults("handoff", lat)
}
