// The test watchdog (watchdog.hpp) stops a process whose memory runs away. Its CTest entry sets a
// limit of a few hundred MiB and passes only if the watchdog's report is in the output (see
// tests/CMakeLists.txt); run without a limit, the case has nothing to show and ends at once.
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

TEST_CASE("a test case whose memory runs away is stopped by the watchdog once it passes its limit") {
  const char* limit_text = std::getenv("TROUPE_TEST_MAX_RSS_MIB");
  if (limit_text == nullptr) return;  // not under its CTest entry
  const std::size_t limit = std::stoull(limit_text) << 20;
  constexpr std::size_t kChunk = 8u << 20;
  std::vector<std::unique_ptr<char[]>> held;
  // Three times the limit, written so that it is resident, a chunk every 10 ms: the watchdog
  // looks every 100 ms, so it must have stopped the process long before the loop ends.
  for (std::size_t allocated = 0; allocated < 3 * limit; allocated += kChunk) {
    held.emplace_back(new char[kChunk]);
    std::memset(held.back().get(), 1, kChunk);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  FAIL("the watchdog let this process hold three times its limit of " << (limit >> 20) << " MiB");
}
