// SPDX-License-Identifier: MIT

// Parallel fib(30), one goroutine per call above a cutoff of 10, joined
// with a WaitGroup; median time of several runs at GOMAXPROCS 1 and 2.
package main

import (
	"runtime"
	"sort"
	"sync"
)

const (
	fibN   = 30
	cutoff = 10
	want   = 832040
)

func serialFib(n int) int {
	if n < 2 {
		return n
	}
	return serialFib(n-1) + serialFib(n-2)
}

func fib(n int) int {
	if n <= cutoff {
		return serialFib(n)
	}
	var x int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		x = fib(n - 1)
		wg.Done()
	}()
	y := fib(n - 2)
	wg.Wait()
	return x + y
}

func median(runs int) float64 {
	ts := make([]int64, runs)
	for i := range ts {
		t0 := nanotime()
		if fib(fibN) != want {
			panic("fib(30) is wrong")
		}
		ts[i] = nanotime() - t0
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return float64(ts[runs/2]) / 1e6
}

func main() {
	runs := countArg(1, 15)
	for _, procs := range []int{1, 2} {
		runtime.GOMAXPROCS(procs)
		median(3)
		result("fib30_"+[]string{"", "1p", "2p"}[procs], median(runs), "ms")
	}
}
