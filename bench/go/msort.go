// SPDX-License-Identifier: MIT

// Parallel merge sort of 16 M random ints: above 64 K elements a
// goroutine sorts one half while the caller sorts the other, a WaitGroup
// joins them, then the caller merges; at or below, the serial sort.
// Median time of several runs at GOMAXPROCS 1 and 2; the result is
// checked every time. Same data and code as ../msort.h and ../goro_msort.c.
package main

import (
	"runtime"
	"sort"
	"sync"
)

const (
	msortN = 16 << 20
	seed   = 0x9e3779b97f4a7c15
	small  = 16
	cutoff = 64 << 10
)

// fill fills a with splitmix64 values and returns their sum.
func fill(a []int32) uint64 {
	s, sum := uint64(seed), uint64(0)
	for i := range a {
		s += 0x9e3779b97f4a7c15
		z := s
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
		a[i] = int32(uint32(z >> 32))
		sum += uint64(int64(a[i]))
	}
	return sum
}

func check(a []int32, sum uint64) bool {
	s := uint64(0)
	for i, v := range a {
		if i > 0 && a[i-1] > v {
			return false
		}
		s += uint64(int64(v))
	}
	return s == sum
}

func insertion(a []int32) {
	for i := 1; i < len(a); i++ {
		v := a[i]
		j := i
		for ; j > 0 && a[j-1] > v; j-- {
			a[j] = a[j-1]
		}
		a[j] = v
	}
}

// merge merges x and y, each sorted, into out (stable). The comparison
// only picks values (conditional moves), as in ../msort.h: random data
// would mispredict a branch half the time.
func merge(x, y, out []int32) {
	i, j, k := 0, 0, 0
	for i < len(x) && j < len(y) {
		xv, yv := x[i], y[j]
		v, t := xv, 0
		if yv < xv {
			v, t = yv, 1
		}
		out[k] = v
		j += t
		i += 1 - t
		k++
	}
	k += copy(out[k:], x[i:])
	copy(out[k:], y[j:])
}

// serial sorts the elements of a, b as scratch; the result in b when
// toB, else in a.
func serial(a, b []int32, toB bool) {
	n := len(a)
	if n <= small {
		insertion(a)
		if toB {
			copy(b, a)
		}
		return
	}
	h := n / 2
	serial(a[:h], b[:h], !toB)
	serial(a[h:], b[h:], !toB)
	if toB {
		merge(a[:h], a[h:], b)
	} else {
		merge(b[:h], b[h:], a)
	}
}

// psort is serial with the first half on a new goroutine above cutoff.
func psort(a, b []int32, toB bool) {
	n := len(a)
	if n <= cutoff {
		serial(a, b, toB)
		return
	}
	h := n / 2
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		psort(a[:h], b[:h], !toB)
		wg.Done()
	}()
	psort(a[h:], b[h:], !toB)
	wg.Wait()
	if toB {
		merge(a[:h], a[h:], b)
	} else {
		merge(b[:h], b[h:], a)
	}
}

func main() {
	runs := countArg(1, 1)
	a := make([]int32, msortN)
	b := make([]int32, msortN)
	sum := fill(a)
	for _, procs := range []int{1, 2} {
		runtime.GOMAXPROCS(procs)
		fill(a)
		psort(a[:msortN/8], b[:msortN/8], false)
		ts := make([]int64, runs)
		for i := range ts {
			fill(a)
			t0 := nanotime()
			psort(a, b, false)
			ts[i] = nanotime() - t0
			if !check(a, sum) {
				panic("the result is not sorted")
			}
		}
		sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
		result("msort16m_"+[]string{"", "1p", "2p"}[procs],
			float64(ts[runs/2])/1e6, "ms")
	}
}
