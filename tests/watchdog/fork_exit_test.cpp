// A process with the test watchdog running (this entry has CTest's usual limits) may still end
// with exit() where it never stopped the watchdog: in a forked child, say, which has the
// watchdog's object but not its thread.
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

TEST_CASE("a forked child of a watched test process ends with exit() cleanly") {
  REQUIRE(std::getenv("TROUPE_TEST_STALL_S") != nullptr);  // the watchdog runs in this process
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) std::exit(7);  // static destructors run here, the watchdog's object among them
  // Destroying the watchdog's joinable thread object would call std::terminate, and the child
  // would die of SIGABRT or hang in doctest's crash report (seen: it hung). Bounded wait.
  int status = 0;
  const bool ended = troupe_test::eventually([&] { return ::waitpid(child, &status, WNOHANG) == child; }, std::chrono::seconds(20));
  if (!ended) {
    ::kill(child, SIGKILL);
    ::waitpid(child, &status, 0);
  }
  REQUIRE(ended);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 7);
}
