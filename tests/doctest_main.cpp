// The one main() of every troupe test executable: doctest's, with the test watchdog
// (watchdog.hpp) beside it.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "watchdog.hpp"

namespace {

// Tells the watchdog which test case and subcase are running; reports nothing else.
struct WatchdogListener : doctest::IReporter {
  explicit WatchdogListener(const doctest::ContextOptions&) {}
  void report_query(const doctest::QueryData&) override {}
  void test_run_start() override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_start(const doctest::TestCaseData& data) override {
    troupe_test::watchdog::entered_test_case(data.m_name);
  }
  // doctest runs a case once for each of its subcase paths, from the top each time.
  void test_case_reenter(const doctest::TestCaseData& data) override {
    troupe_test::watchdog::entered_test_case(data.m_name);
  }
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature& subcase) override {
    troupe_test::watchdog::entered_subcase(subcase.m_name.c_str());
  }
  void subcase_end() override { troupe_test::watchdog::left_subcase(); }
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

}  // namespace

DOCTEST_REGISTER_LISTENER("troupe-watchdog", 0, WatchdogListener);

int main(int argc, char** argv) {
  troupe_test::watchdog::start();
  doctest::Context context(argc, argv);
  const int status = context.run();
  troupe_test::watchdog::stop();
  return status;
}
