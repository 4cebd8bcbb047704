// SPDX-License-Identifier: MIT

// Yield switch between two goroutines on GOMAXPROCS=1: each calls
// runtime.Gosched n times; ns per switch = elapsed / 2n.
package main

import (
	"runtime"
	"sync"
)

func pingpong(n int) int64 {
	var wg sync.WaitGroup
	f := func() {
		for i := 0; i < n; i++ {
			runtime.Gosched()
		}
		wg.Done()
	}
	wg.Add(2)
	t0 := nanotime()
	go f()
	go f()
	wg.Wait()
	return nanotime() - t0
}

func main() {
	n := countArg(1, 2000000)
	runtime.GOMAXPROCS(1)
	pingpong(n / 10)
	result("yield_1p", float64(pingpong(n))/float64(2*n), "ns")
}
