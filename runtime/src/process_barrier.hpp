// A memory barrier on every thread of this process at once, paid for by the caller only (Linux's
// membarrier(2), MEMBARRIER_CMD_PRIVATE_EXPEDITED: an interrupt to each CPU that runs one of our
// threads, or their next context switch).
//
// It lets a rare party (the watchdog) pair with a hot one (a worker's turn) in a Dekker pattern
// where the hot side pays no fence: the hot side stores, then loads, with only a compiler barrier
// between (std::atomic_signal_fence); the rare side stores, calls process_barrier(), then loads.
// Either the rare side sees the hot side's store, or the hot side's load sees the rare side's.
// (The asymmetric fence of folly's AsymmetricMemoryBarrier and of userspace RCU.)
#pragma once

namespace troupe::runtime::detail {

// False when the kernel does not offer it (before Linux 4.14, or filtered by a sandbox): the
// caller must then do without whatever needed the pairing.
bool process_barrier_available() noexcept;
// Requires process_barrier_available().
void process_barrier() noexcept;

}  // namespace troupe::runtime::detail
