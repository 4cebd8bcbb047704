// SPDX-License-Identifier: MIT

// Unbuffered channel ping-pong between two goroutines on GOMAXPROCS=1;
// one round trip is ping -> pong -> ping.
package main

import "runtime"

func main() {
	n := countArg(1, 1000000)
	runtime.GOMAXPROCS(1)
	ping := make(chan int)
	pong := make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	rounds := func(n int) int64 {
		t0 := nanotime()
		for i := 0; i < n; i++ {
			ping <- i
			<-pong
		}
		return nanotime() - t0
	}
	rounds(n / 10)
	result("chan_pingpong_1p", float64(rounds(n))/float64(n), "ns")
	close(ping)
}
