// The logging interface (<troupe/runtime/log.hpp>): the default sink's line on stderr, the
// minimum level, a sink of the user's, and a call site that builds nothing when filtered out.
#include <troupe/runtime/log.hpp>
#include <troupe/runtime/scheduler.hpp>

#include "stderr_capture.hpp"
#include "stuck_turn_report.hpp"  // runtime/src: a real call site

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <mutex>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using troupe::runtime::LogConfig;
using troupe::runtime::LogEvent;
using troupe::runtime::LogField;
using troupe::runtime::Logger;
using troupe::runtime::LogLevel;
using namespace std::chrono_literals;

namespace {

// Allocations by this thread while `counting` (operator new below).
thread_local bool counting = false;
thread_local std::size_t allocations = 0;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The seconds since 1970 of a line's "time=2025-01-31T09:15:02.123456Z".
std::time_t time_of(const std::string& line) {
  std::tm utc{};
  int micros = 0;
  if (std::sscanf(line.c_str(), "time=%4d-%2d-%2dT%2d:%2d:%2d.%6dZ", &utc.tm_year, &utc.tm_mon, &utc.tm_mday,
                  &utc.tm_hour, &utc.tm_min, &utc.tm_sec, &micros) != 7) {
    return 0;
  }
  utc.tm_year -= 1900;
  utc.tm_mon -= 1;
  return timegm(&utc);
}

// What follows a line's time stamp ("time=YYYY-MM-DDTHH:MM:SS.uuuuuuZ "), or "" when the stamp is
// malformed. (No std::regex: g++ 12 warns inside it, maybe-uninitialized, in sanitizer builds.)
std::string after_time(const std::string& line) {
  constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.ddddddZ";
  constexpr std::size_t kStart = std::string_view("time=").size();
  if (!line.starts_with("time=") || line.size() <= kStart + kShape.size()) return "";
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    const char c = line[kStart + i];
    if (kShape[i] == 'd' ? std::isdigit(static_cast<unsigned char>(c)) == 0 : c != kShape[i]) return "";
  }
  if (line[kStart + kShape.size()] != ' ') return "";
  return line.substr(kStart + kShape.size() + 1);
}

struct Kept {
  std::mutex mutex;
  std::vector<std::string> names;
  std::vector<LogLevel> levels;
  LogConfig config(LogLevel level) {
    return {.sink =
                [this](const LogEvent& e) {
                  std::lock_guard lock(mutex);
                  names.emplace_back(e.name);
                  levels.push_back(e.level);
                },
            .level = level};
  }
};

}  // namespace

void* operator new(std::size_t size) {
  if (counting) ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
// g++ takes free() on what this operator new returned for a mismatch: it is this pair's own.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

TEST_SUITE("logs") {
  TEST_CASE("the default sink writes each event as one logfmt line on stderr, stamped with the time") {
    const Logger logger;  // unset: info and above, to stderr
    const LogField worker[] = {{"worker", "2"}};
    const std::time_t before = std::time(nullptr);
    troupe_test::StderrCapture captured;
    logger.log({.level = LogLevel::warning,
                .name = "node_down",
                .message = "node 'b' is down: no heartbeat",
                .node = "a",
                .peer = "b",
                .reason = "no heartbeat",
                .fields = worker});
    logger.log({.level = LogLevel::error, .name = "actor_failed", .message = "boom", .actor = "Counter"});
    logger.log({.level = LogLevel::debug, .name = "below_info", .message = "dropped"});
    const std::vector<std::string> lines = lines_of(captured.finish());
    const std::time_t after = std::time(nullptr);

    REQUIRE(lines.size() == 2);
    // Absent fields are omitted; `msg` comes last.
    CHECK(after_time(lines[0]) ==
          R"(level=warning event=node_down node=a peer=b reason="no heartbeat" worker=2 )"
          R"(msg="node 'b' is down: no heartbeat")");
    CHECK(after_time(lines[1]) == "level=error event=actor_failed actor=Counter msg=boom");
    for (const auto& line : lines) {
      CAPTURE(line);
      REQUIRE_FALSE(after_time(line).empty());  // the stamp first, in its shape
      CHECK(time_of(line) >= before - 1);       // UTC, now
      CHECK(time_of(line) <= after + 1);
    }
  }

  TEST_CASE("values are quoted and escaped where logfmt needs it, and odd keys are made plain") {
    const LogField fields[] = {{"bad key=", "x"}, {"empty", ""}, {"unicode", "caf\xc3\xa9"}};
    const std::string line = troupe::runtime::format_log_line({.level = LogLevel::info,
                                                               .name = "e",
                                                               .message = "say \"hi\"\\ \n\t\x01 end",
                                                               .reason = "a=b",
                                                               .fields = fields});
    CHECK(line.find(R"( reason="a=b" )") != std::string::npos);
    CHECK(line.find(R"( bad_key_=x empty="" unicode=café )") != std::string::npos);
    CHECK(line.ends_with(R"( msg="say \"hi\"\\ \n\t\x01 end")"));
    CHECK(line.find('\n') == std::string::npos);
    // Not stamped by a Logger: dated now rather than 1970.
    CHECK(time_of(line) >= std::time(nullptr) - 60);
  }

  TEST_CASE("lines that threads log at once stay whole, one per event") {
    const Logger logger;
    constexpr int kThreads = 8;
    constexpr int kEach = 100;
    const std::string padding(300, 'x');  // long lines: written in pieces, they would interleave
    troupe_test::StderrCapture captured;
    {
      std::vector<std::jthread> threads;
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
          for (int i = 0; i < kEach; ++i) {
            const std::string message = std::to_string(t) + "/" + std::to_string(i) + " " + padding;
            logger.log({.level = LogLevel::info, .name = "many", .message = message});
          }
        });
      }
    }
    const std::vector<std::string> lines = lines_of(captured.finish(false));  // 800 lines: not shown again
    CHECK(lines.size() == kThreads * kEach);
    // Whole: level=info event=many msg="T/I xxx...x", the 300 x's last.
    auto whole = [&](const std::string& line) {
      const std::string rest = after_time(line);
      const std::string head = R"(level=info event=many msg=")";
      if (!rest.starts_with(head) || !rest.ends_with(padding + "\"")) return false;
      const std::string counter = rest.substr(head.size(), rest.size() - head.size() - padding.size() - 2);
      const std::size_t slash = counter.find('/');
      auto digits = [](std::string_view d) {
        return !d.empty() && std::all_of(d.begin(), d.end(), [](char c) { return c >= '0' && c <= '9'; });
      };
      return rest[rest.size() - padding.size() - 2] == ' ' && slash != std::string::npos &&
             digits(std::string_view(counter).substr(0, slash)) && digits(std::string_view(counter).substr(slash + 1));
    };
    int broken = 0;
    for (const auto& line : lines) broken += whole(line) ? 0 : 1;
    CHECK(broken == 0);
  }

  TEST_CASE("a minimum level drops the events below it before they reach the sink") {
    Kept kept;
    const Logger logger(kept.config(LogLevel::warning));
    CHECK_FALSE(logger.enabled(LogLevel::debug));
    CHECK_FALSE(logger.enabled(LogLevel::info));
    CHECK(logger.enabled(LogLevel::warning));
    CHECK(logger.enabled(LogLevel::error));
    for (LogLevel level : {LogLevel::debug, LogLevel::info, LogLevel::warning, LogLevel::error}) {
      logger.log({.level = level, .name = troupe::runtime::to_string(level)});
    }
    CHECK(kept.names == std::vector<std::string>{"warning", "error"});

    Kept none;
    const Logger off(none.config(LogLevel::off));
    CHECK_FALSE(off.enabled(LogLevel::error));
    off.log({.level = LogLevel::error, .name = "error"});
    CHECK(none.names.empty());

    CHECK(Logger().level() == LogLevel::info);  // the default
  }

  TEST_CASE("a sink gets the event stamped with the time, and a throwing sink is swallowed") {
    std::chrono::system_clock::time_point stamped{};
    const Logger logger({.sink = [&](const LogEvent& e) {
      stamped = e.time;
      throw std::runtime_error("a broken sink");
    }});
    const auto before = std::chrono::system_clock::now();
    CHECK_NOTHROW(logger.log({.level = LogLevel::error, .name = "x"}));
    CHECK(stamped >= before);
  }

  TEST_CASE("copies of a logger share its sink") {
    Kept kept;
    const Logger logger(kept.config(LogLevel::debug));
    const Logger copy = logger;  // as the scheduler and the nodes hold the System's
    copy.log({.level = LogLevel::info, .name = "from_copy"});
    CHECK(kept.names == std::vector<std::string>{"from_copy"});
  }

  TEST_CASE("a stuck turn filtered out by the level builds no message; let through, it carries its fields") {
    std::atomic<int> hooked{0};
    const troupe::runtime::StuckTurn turn{"Sleeper", 3, 42ms, false};
    Kept quiet;
    const troupe::runtime::SchedulerConfig filtered{
        .on_stuck_turn = [&](const troupe::runtime::StuckTurn&) { ++hooked; },
        .logger = Logger(quiet.config(LogLevel::error))};
    allocations = 0;
    counting = true;
    troupe::runtime::detail::report_stuck_turn(filtered, turn);
    counting = false;
    CHECK(allocations == 0);
    CHECK(quiet.names.empty());
    CHECK(hooked == 1);  // the hook does not depend on the level

    int calls = 0;
    const troupe::runtime::SchedulerConfig shown{.logger = Logger({.sink = [&](const LogEvent&) { ++calls; }})};
    allocations = 0;
    counting = true;
    troupe::runtime::detail::report_stuck_turn(shown, turn);
    counting = false;
    CHECK(calls == 1);
    CHECK(allocations > 0);  // its message: the counter counts

    std::vector<std::string> seen;
    const troupe::runtime::SchedulerConfig recorded{.logger = Logger({.sink = [&](const LogEvent& e) {
                                                      seen.push_back(std::string(e.name) + " " +
                                                                     std::string(troupe::runtime::to_string(e.level)) +
                                                                     " " + std::string(e.actor));
                                                      for (const auto& f : e.fields)
                                                        seen.push_back(std::string(f.key) + "=" + std::string(f.value));
                                                      seen.emplace_back(e.message);
                                                    }})};
    troupe::runtime::detail::report_stuck_turn(recorded, turn);
    troupe::runtime::detail::report_stuck_turn(recorded, {"Sleeper", 3, 250ms, true});
    CHECK(seen == std::vector<std::string>{
                      "stuck_turn warning Sleeper", "worker=3", "duration_ms=42",
                      "a turn of actor Sleeper has held worker 3 for 42 ms so far; the actors queued behind it go "
                      "to other workers",
                      "stuck_turn_ended info Sleeper", "worker=3", "duration_ms=250",
                      "a turn of actor Sleeper held worker 3 for 250 ms (other actors ran meanwhile)"});
  }
}
