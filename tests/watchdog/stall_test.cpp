// The test watchdog (watchdog.hpp) stops a process that runs past its time, and prints every
// thread's stack. Its CTest entry sets a limit of 1 s and passes only if the watchdog's report is
// in the output (see tests/CMakeLists.txt); run without a limit, the case ends at once.
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

namespace {

// Named so that its frame is easy to find in the stacks the watchdog prints.
[[gnu::noinline]] void wait_here_for_the_watchdog(std::chrono::seconds limit) {
  const auto deadline = troupe_test::Clock::now() + 10 * limit;
  while (troupe_test::Clock::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

}  // namespace

TEST_CASE("a test case that runs past its time is stopped by the watchdog, which names it") {
  const char* limit_text = std::getenv("TROUPE_TEST_STALL_S");
  if (limit_text == nullptr) return;  // not under its CTest entry
  const std::chrono::seconds limit{std::stoull(limit_text)};
  SUBCASE("with the subcase it was in") {
    wait_here_for_the_watchdog(limit);
    FAIL("the watchdog let this process run ten times its limit of " << limit.count() << " s");
  }
}
