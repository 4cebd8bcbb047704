// SPDX-License-Identifier: MIT

// What the Go benchmarks share; each benchmark is one file with its
// own main, built together with this file.  Results are printed as
//
//	RESULT bench=<id> impl=go value=<number> unit=<unit>
//
// the same lines the C benchmarks print (see ../common.h).
package main

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

var epoch = time.Now()

// nanotime is CLOCK_MONOTONIC-based: time.Since reads the monotonic clock.
func nanotime() int64 { return int64(time.Since(epoch)) }

func result(bench string, value float64, unit string) {
	fmt.Printf("RESULT bench=%s impl=go value=%.3f unit=%s\n", bench, value, unit)
}

// latencyResults prints mean, p50, p99 and max of lat (ns) in µs.
func latencyResults(prefix string, lat []int64) {
	if len(lat) == 0 {
		return
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	var sum float64
	for _, v := range lat {
		sum += float64(v)
	}
	n := len(lat)
	result(prefix+"_mean", sum/float64(n)/1e3, "us")
	result(prefix+"_p50", float64(lat[int(0.50*float64(n-1))])/1e3, "us")
	result(prefix+"_p99", float64(lat[int(0.99*float64(n-1))])/1e3, "us")
	result(prefix+"_max", float64(lat[n-1])/1e3, "us")
}

// rssKiB returns VmRSS from /proc/self/status.
func rssKiB() int64 { return statusKiB("VmRSS") }

// statusKiB returns a "<field>: N kB" line of /proc/self/status.
func statusKiB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if f := strings.Fields(s.Text()); len(f) >= 2 && f[0] == field+":" {
			v, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				fatal(err)
			}
			return v
		}
	}
	fatal(fmt.Errorf("no %s in /proc/self/status", field))
	return 0
}

// countArg returns os.Args[i] as a positive count, or def when absent.
func countArg(i int, def int) int {
	if len(os.Args) <= i {
		return def
	}
	v, err := strconv.Atoi(os.Args[i])
	if err != nil || v <= 0 {
		fatal(fmt.Errorf("bad count %q", os.Args[i]))
	}
	return v
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", os.Args[0], err)
	os.Exit(1)
}
