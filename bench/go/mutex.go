// SPDX-License-Identifier: MIT

// Contended mutex: 4 goroutines on GOMAXPROCS=2 each take and release one
// sync.Mutex n/4 times around an increment of the counter next to it; ns
// per Lock+Unlock = elapsed / n.
package main

import (
	"os"
	"runtime"
	"sync"
)

const workers = 4

var s struct {
	mu sync.Mutex
	n  int
}

func run(n int) int64 {
	var wg sync.WaitGroup
	per := n / workers
	s.n = 0
	t0 := nanotime()
	wg.Add(workers)
	for i := 0; i < workers; i++ {
		go func() {
			for j := 0; j < per; j++ {
				s.mu.Lock()
				s.n++
				s.mu.Unlock()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	t := nanotime() - t0
	if s.n != per*workers {
		os.Exit(1)
	}
	return t
}

func main() {
	n := countArg(1, 4000000)
	runtime.GOMAXPROCS(2)
	run(n / 10)
	result("mutex_2p", float64(run(n))/float64(n/workers*workers), "ns")
}
