package main

import (
	"sync"
	"time"
)

// floodCap is the capacity of a channel that many messages flood into (fan-in's one receiver,
// fan-out's workers). troupe's mailboxes are unbounded; a Go channel must be given a bound, and
// a Go programmer writing for speed gives it a buffer: large enough that a sender fills it in a
// burst and the receiver drains it in a burst (few goroutine switches), small enough to stay in
// cache. When it is full, the sender blocks until the receiver makes room (back-pressure).
const floodCap = 1024

// -- ping-pong: pairs bounce a sequence number; each ping checks the order of its replies ------

// Unbuffered channels: only one message of a pair is ever in flight, and the other side is
// already waiting in its receive, so a send hands the value over directly.
func pingpong(pairs int, roundTrips int64) line {
	start := make(chan struct{})
	done := make(chan int64, pairs)
	var ready sync.WaitGroup
	ready.Add(2 * pairs)
	for p := 0; p < pairs; p++ {
		toPong := make(chan int64)
		toPing := make(chan int64)
		go func() { // pong: answers every ping with its sequence number
			ready.Done()
			for seq := range toPong {
				toPing <- seq
			}
		}()
		go func() { // ping
			ready.Done()
			<-start
			toPong <- 0
			var next int64
			for seq := range toPing {
				if seq != next {
					die("ping-pong: reply out of order")
				}
				next++
				if next == roundTrips {
					done <- next
					close(toPong)
					return
				}
				toPong <- next
			}
		}()
	}
	ready.Wait() // every pair's goroutines started before the clock starts
	t0 := time.Now()
	close(start)
	var total int64
	for p := 0; p < pairs; p++ {
		total += await(done, "ping-pong")
	}
	secs := time.Since(t0).Seconds()
	if total != roundTrips*int64(pairs) {
		die("ping-pong: round trips mismatch")
	}
	return line{"msgs/s", 2 * float64(total) / secs}
}

// -- fan-in: 20 senders, one receiver ---------------------------------------------------------

type countSum struct{ count, sum int64 }

func fanin(scale float64) line {
	const senders = 20
	perSender := scaled(200000, scale)
	expected := perSender * senders
	in := make(chan int64, floodCap)
	done := make(chan countSum, 1)
	var ready sync.WaitGroup
	ready.Add(1)
	go func() { // the receiver
		ready.Done()
		var count, sum int64
		for count < expected {
			sum += <-in
			count++
		}
		done <- countSum{count, sum}
	}()
	ready.Wait()
	t0 := time.Now()
	for s := 0; s < senders; s++ {
		go func() {
			for i := int64(0); i < perSender; i++ {
				in <- i
			}
		}()
	}
	d := await(done, "fan-in")
	secs := time.Since(t0).Seconds()
	if d.count != expected || d.sum != senders*(perSender*(perSender-1)/2) {
		die("fanin: wrong count or sum")
	}
	return line{"msgs/s", float64(expected) / secs}
}

// -- ring: 503 goroutines pass one token ------------------------------------------------------

// Unbuffered channels: one token is in flight and its next holder is waiting in its receive.
// The token is the number of hops still to make; each node counts the tokens it handled.
func ring(scale float64) line {
	const size = 503
	hops := scaled(5000000, scale)
	chans := make([]chan int64, size)
	for i := range chans {
		chans[i] = make(chan int64)
	}
	done := make(chan int64, 1)
	handled := make([]int64, size) // node i writes handled[i] when its channel is closed
	var ready, finished sync.WaitGroup
	ready.Add(size)
	finished.Add(size)
	for i := 0; i < size; i++ {
		go func(i int, in <-chan int64, next chan<- int64) {
			ready.Done()
			var n int64
			for remaining := range in {
				n++
				if remaining == 0 {
					done <- int64(i)
				} else {
					next <- remaining - 1
				}
			}
			handled[i] = n
			finished.Done()
		}(i, chans[i], chans[(i+1)%size])
	}
	ready.Wait()
	t0 := time.Now()
	chans[0] <- hops
	last := await(done, "ring")
	secs := time.Since(t0).Seconds()
	if last != hops%size {
		die("ring: token ended at the wrong node")
	}
	for _, c := range chans {
		close(c) // every node reports its count
	}
	finished.Wait()
	var tokens int64
	for _, n := range handled {
		tokens += n
	}
	if tokens != hops+1 {
		die("ring: token count mismatch %d", tokens)
	}
	return line{"msgs/s", float64(hops) / secs}
}
