// SPDX-License-Identifier: MIT

// Work conservation with blocking reads at GOMAXPROCS=2: 200 goroutines
// each do 20 rounds of ~200 µs of compute followed by a blocking read(2)
// that returns 1 ms later (a timerfd armed just before, read with
// syscall.Read: the M blocks with its P until sysmon retakes it).  Ideal
// wall time = total compute / 2 Ps.  Reports wall, ideal, wall/ideal, the
// floor (the same chunks on two goroutines that never block, measured just
// before) and wall/floor.
// Same shape as ../goro_workcons.c.
package main

import (
	"runtime"
	"sync"
	"syscall"
	"unsafe"
)

const (
	goroutines = 200
	chunkNs    = 200000
	sleepNs    = 1000000
)

var sink uint64

func compute(iters int) {
	x := sink + 1
	for i := 0; i < iters; i++ {
		x = x*6364136223846793005 + 1442695040888963407
	}
	sink = x
}

// timeChunk returns the shortest of 9 runs of iters: the chunk's cost
// without interference.
func timeChunk(iters int) int64 {
	best := int64(-1)
	for i := 0; i < 9; i++ {
		t0 := nanotime()
		compute(iters)
		if t := nanotime() - t0; best < 0 || t < best {
			best = t
		}
	}
	return best
}

// calibrate returns the iterations that take chunkNs and their shortest
// time.
func calibrate() (int, int64) {
	iters := 1000
	var t int64
	for t = timeChunk(iters); t < 2000000; t = timeChunk(iters) {
		iters *= 2
	}
	iters = int(float64(iters) * chunkNs / float64(t))
	return iters, timeChunk(iters)
}

type itimerspec struct {
	interval, value syscall.Timespec
}

func worker(rounds, iters int, wg *sync.WaitGroup) {
	fd, _, e := syscall.RawSyscall(syscall.SYS_TIMERFD_CREATE,
		1 /* CLOCK_MONOTONIC */, syscall.O_CLOEXEC, 0)
	if e != 0 {
		fatal(e)
	}
	its := itimerspec{value: syscall.Timespec{Nsec: sleepNs}}
	buf := make([]byte, 8)
	for r := 0; r < rounds; r++ {
		compute(iters)
		_, _, e := syscall.RawSyscall6(syscall.SYS_TIMERFD_SETTIME, fd, 0,
			uintptr(unsafe.Pointer(&its)), 0, 0, 0)
		if e != 0 {
			fatal(e)
		}
		if n, err := syscall.Read(int(fd), buf); err != nil || n != 8 {
			fatal(err)
		}
	}
	syscall.Close(int(fd))
	wg.Done()
}

func main() {
	rounds := countArg(1, 20)
	runtime.GOMAXPROCS(2)
	iters, chunk := calibrate()
	var wg sync.WaitGroup
	half := goroutines * rounds / 2
	t0 := nanotime()
	wg.Add(2)
	for _, n := range []int{half, goroutines*rounds - half} {
		go func(n int) {
			for i := 0; i < n; i++ {
				compute(iters)
			}
			wg.Done()
		}(n)
	}
	wg.Wait()
	floor := float64(nanotime() - t0)
	t0 = nanotime()
	wg.Add(goroutines)
	for i := 0; i < goroutines; i++ {
		go worker(rounds, iters, &wg)
	}
	wg.Wait()
	wall := float64(nanotime() - t0)
	ideal := float64(goroutines) * float64(rounds) * float64(chunk) / 2
	result("workcons_wall", wall/1e6, "ms")
	result("workcons_ideal", ideal/1e6, "ms")
	result("workcons_ratio", wall/ideal, "x")
	result("workcons_floor", floor/1e6, "ms")
	result("workcons_floor_ratio", wall/floor, "x")
}
