// SPDX-License-Identifier: MIT

// A TCP echo server on 127.0.0.1, one goroutine per connection: the Go
// twin of ../../examples/echo.c for echo_load. Prints
// "listening on 127.0.0.1:PORT" first.
package main

import (
	"fmt"
	"net"
	"os"
)

func main() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Printf("listening on %s\n", ln.Addr())
	os.Stdout.Sync()
	for {
		c, err := ln.Accept()
		if err != nil {
			continue
		}
		go func(c net.Conn) {
			buf := make([]byte, 4096)
			for {
				n, err := c.Read(buf)
				if err != nil {
					break
				}
				if _, err := c.Write(buf[:n]); err != nil {
					break
				}
			}
			c.Close()
		}(c)
	}
}
