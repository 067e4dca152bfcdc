// The process barrier (process_barrier.hpp) is registered as the program starts, while it has one
// thread. A process with threads registers only after an RCU grace period, which made the first
// System's construction take ~20 ms (its watchdog asked for the barrier). This file's entry runs
// in a process of its own (CTest), where no System was made before this case.
#include "process_barrier.hpp"

#include <doctest/doctest.h>

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

TEST_CASE("the process barrier is registered before main, with no System made") {
  const long supported = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
  if (supported < 0 || (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) {
    MESSAGE("this kernel offers no expedited membarrier: nothing to register");
    CHECK_FALSE(troupe::runtime::detail::process_barrier_available());
    return;
  }
  // Unregistered, the expedited barrier fails with EPERM.
  errno = 0;
  const long barrier = syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
  CHECK(barrier == 0);
  CHECK(errno == 0);
  CHECK(troupe::runtime::detail::process_barrier_available());
}
