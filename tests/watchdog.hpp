// The test watchdog: stops a test process that has run away, and says where it was.
//
// A test that hangs is stopped by CTest's TIMEOUT, and one whose memory runs away by the kernel's
// OOM killer (after it has starved every other test on the machine); either way the log says
// only that it died. The watchdog is a thread of every test executable (doctest_main.cpp) that
// stops the process first, while it can still report: it names the test case and subcase that
// was running, prints every thread's stack (gdb, attached to this process), and exits with
// kExitStatus. Its limits come from the environment, which each CTest entry sets
// (cmake/TroupeTesting.cmake):
//   TROUPE_TEST_MAX_RSS_MIB  resident memory, in MiB, over which the process is stopped;
//   TROUPE_TEST_STALL_S      seconds after which the process is stopped (a little under the
//                            entry's TIMEOUT, so that it reports before CTest kills it).
// Unset, or 0: no limit. A test executable run by hand has neither.
#pragma once

#include <string>

namespace troupe_test::watchdog {

inline constexpr int kExitStatus = 70;

// Starts the watchdog thread if a limit is set; stop() ends it (before main returns).
void start();
void stop();

// What the watchdog names as running (doctest_main.cpp's listener keeps it up to date).
void entered_test_case(const char* name);
void entered_subcase(const std::string& name);
void left_subcase();

}  // namespace troupe_test::watchdog
