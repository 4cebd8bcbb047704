// SPDX-License-Identifier: MIT

// Spawn + run + join per goroutine: batches of 1000 goroutines that each
// call wg.Done, joined with wg.Wait; at GOMAXPROCS 1 and 2.
package main

import (
	"runtime"
	"sync"
)

const batch = 1000

func spawn(n int) int64 {
	var wg sync.WaitGroup
	t0 := nanotime()
	for done := 0; done < n; done += batch {
		wg.Add(batch)
		for i := 0; i < batch; i++ {
			go wg.Done()
		}
		wg.Wait()
	}
	return nanotime() - t0
}

func main() {
	n := countArg(1, 1000000) / batch * batch
	for _, procs := range []int{1, 2} {
		runtime.GOMAXPROCS(procs)
		spawn(n / 10)
		ns := spawn(n)
		result("spawn_"+[]string{"", "1p", "2p"}[procs], float64(ns)/float64(n), "ns")
	}
}
