package main

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// -- skynet: a 10-ary tree of goroutines summing the numbers of its leaves --------------------

// Each inner node gets a channel of capacity 10 from its children: each child sends once and
// ends without waiting for its parent to receive, as an actor's send to a mailbox never waits.
func skynetNode(parent chan<- int64, num, size int64) {
	if size == 1 {
		parent <- num
		return
	}
	children := make(chan int64, 10)
	child := size / 10
	for i := int64(0); i < 10; i++ {
		go skynetNode(children, num+i*child, child)
	}
	var sum int64
	for i := 0; i < 10; i++ {
		sum += <-children
	}
	parent <- sum
}

func skynet(scale float64) line {
	leaves := int64(1)
	for leaves*10 <= scaled(1000000, scale) {
		leaves *= 10
	}
	if leaves < 10 {
		leaves = 10
	}
	result := make(chan int64, 1)
	t0 := time.Now()
	go skynetNode(result, 0, leaves)
	sum := await(result, "skynet")
	secs := time.Since(t0).Seconds()
	if sum != leaves*(leaves-1)/2 {
		die("skynet: wrong sum %d", sum)
	}
	return line{"s", secs}
}

// -- idle footprint: RSS growth per idle goroutine, each blocked on its own channel -----------

func residentBytes() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		die("cannot read /proc/self/statm: %v", err)
	}
	fields := strings.Fields(string(data))
	if len(fields) < 2 {
		die("cannot parse /proc/self/statm")
	}
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	if err != nil {
		die("cannot parse /proc/self/statm: %v", err)
	}
	return pages * int64(os.Getpagesize())
}

// An idle actor here is a goroutine blocked receiving from its own (unbuffered) channel: the
// goroutine (its descriptor and initial stack) and the channel are counted; the slice that
// holds the channels, as troupe's vector of handles, is allocated and touched before the
// baseline.
func idleFootprint(scale float64) line {
	n := scaled(1000000, scale)
	mailboxes := make([]chan int64, n)
	for i := range mailboxes {
		mailboxes[i] = nil // touch every page: fresh memory from the OS is not resident yet
	}
	var started sync.WaitGroup
	started.Add(int(n))
	before := residentBytes()
	for i := range mailboxes {
		c := make(chan int64)
		mailboxes[i] = c
		go func(c <-chan int64) {
			started.Done()
			for range c {
			}
		}(c)
	}
	started.Wait() // every goroutine has run and is about to block on its channel
	after := residentBytes()
	fmt.Fprintf(os.Stderr, "go-micro: idle-footprint: RSS %d -> %d bytes for %d goroutines\n", before, after, n)
	if after < before {
		die("idle-footprint: RSS shrank while spawning")
	}
	return line{"bytes", math.Round(float64(after-before) / float64(n))}
}
