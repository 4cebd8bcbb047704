// SPDX-License-Identifier: MIT

// select over 4 buffered channels on GOMAXPROCS=1: a sender goroutine
// fills them in turn, the receiver selects on all four; ns per select.
// Same shape as ../goro_select.c.
package main

import "runtime"

func main() {
	n := countArg(1, 2000000)
	runtime.GOMAXPROCS(1)
	var chs [4]chan int
	for k := range chs {
		chs[k] = make(chan int, 16)
	}
	run := func(n int) float64 {
		go func() {
			for i := 0; i < n; i++ {
				chs[i%4] <- i
			}
		}()
		t0 := nanotime()
		for i := 0; i < n; i++ {
			select {
			case <-chs[0]:
			case <-chs[1]:
			case <-chs[2]:
			case <-chs[3]:
			}
		}
		return float64(nanotime()-t0) / float64(n)
	}
	run(n / 10)
	result("select4_1p", run(n), "ns")
}
