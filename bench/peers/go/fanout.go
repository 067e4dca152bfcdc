package main

import (
	"sync"
	"time"
)

// -- fan-out: one producer sends M messages to each of W workers in one loop ------------------

// fanoutWork is the contract's f(i): 200 rounds of a 27-bit linear congruential generator
// (every intermediate is below 2^58), a few hundred nanoseconds of arithmetic per message.
func fanoutWork(i int64) int64 {
	x := i & (1<<27 - 1)
	for r := 0; r < 200; r++ {
		x = (x*1103515245 + 12345) & (1<<27 - 1)
	}
	return x
}

// Each worker's channel has floodCap slots: the producer runs ahead of a worker by at most that
// many messages, then blocks until the worker makes room (troupe's producer sends everything in
// one turn into unbounded mailboxes).
func fanout(scale float64) line {
	const workers = 60
	perWorker := scaled(40000, scale)
	var s int64 // the sum of f(i) for i in 0..M-1, before the clock starts
	for i := int64(0); i < perWorker; i++ {
		s += fanoutWork(i)
	}
	mailboxes := make([]chan int64, workers)
	sums := make(chan int64, workers)
	var ready sync.WaitGroup
	ready.Add(workers + 1)
	for w := range mailboxes {
		mailboxes[w] = make(chan int64, floodCap)
		go func(in <-chan int64) {
			ready.Done()
			var sum int64
			for k := int64(0); k < perWorker; k++ {
				sum += fanoutWork(<-in)
			}
			sums <- sum
		}(mailboxes[w])
	}
	start := make(chan struct{})
	go func() { // the producer
		ready.Done()
		<-start
		for i := int64(0); i < perWorker; i++ {
			for _, mailbox := range mailboxes {
				mailbox <- i
			}
		}
	}()
	ready.Wait()
	t0 := time.Now()
	close(start)
	var total int64
	for w := 0; w < workers; w++ {
		total += await(sums, "fan-out")
	}
	secs := time.Since(t0).Seconds()
	if total != workers*s {
		die("fanout: total %d, expected %d", total, workers*s)
	}
	return line{"msgs/s", float64(workers*perWorker) / secs}
}
