// SPDX-License-Identifier: MIT

// Buffered channel throughput: 4 producer and 4 consumer goroutines on
// one channel of capacity 128, GOMAXPROCS=2; messages received per
// second. Same shape as ../goro_chan_mpmc.c.
package main

import (
	"os"
	"runtime"
	"sync"
)

const pairs = 4

func run(n int) float64 {
	ch := make(chan int, 128)
	per := n / pairs
	var prod, cons sync.WaitGroup
	got := make([]int, pairs)
	t0 := nanotime()
	prod.Add(pairs)
	cons.Add(pairs)
	for i := 0; i < pairs; i++ {
		go func(i int) {
			c := 0
			for range ch {
				c++
			}
			got[i] = c
			cons.Done()
		}(i)
		go func() {
			for j := 0; j < per; j++ {
				ch <- j
			}
			prod.Done()
		}()
	}
	prod.Wait()
	close(ch)
	cons.Wait()
	t := nanotime() - t0
	total := 0
	for _, c := range got {
		total += c
	}
	if total != per*pairs {
		os.Exit(1)
	}
	return float64(t) / 1e9
}

func main() {
	n := countArg(1, 4000000)
	runtime.GOMAXPROCS(2)
	run(n / 10)
	result("chan_mpmc_2p", float64(n)/run(n)/1e6, "Mmsg/s")
}
