// SPDX-License-Identifier: MIT

// Resident memory per parked goroutine: VmRSS before and after n
// goroutines block, either receiving on one channel ("chan") or waiting
// on one WaitGroup ("wg"); KiB per goroutine = delta / n.  Also the page
// tables' growth (VmPTE), which VmRSS does not count.
//
// Usage: go_parked chan|wg [n]
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
)

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "chan" && os.Args[1] != "wg") {
		fatal(fmt.Errorf("usage: %s chan|wg [n]", os.Args[0]))
	}
	how := os.Args[1]
	n := countArg(2, 1000000)
	ch := make(chan struct{})
	var gate, started, finished sync.WaitGroup
	gate.Add(1)
	started.Add(n)
	finished.Add(n)

	// The collector would rescan every parked stack at each cycle
	// while they pile up (seconds of CPU, no memory returned): off.
	runtime.GC()
	debug.SetGCPercent(-1)
	before, pteBefore := rssKiB(), statusKiB("VmPTE")
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			if how == "chan" {
				<-ch
			} else {
				gate.Wait()
			}
			finished.Done()
		}()
	}
	started.Wait()
	after, pteAfter := rssKiB(), statusKiB("VmPTE")
	result("rss_1m_"+how, float64(after-before)/float64(n), "KiB")
	result("pte_1m_"+how, float64(pteAfter-pteBefore)/float64(n), "KiB")

	close(ch)
	gate.Done()
	finished.Wait()
}
