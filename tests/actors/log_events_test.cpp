// The system's log events (Config::log): an actor that failed, a stuck turn, and the default
// sink's line for a failure when nothing is configured.
#include <troupe/troupe.hpp>

#include "log_recorder.hpp"
#include "stderr_capture.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>

using namespace troupe_test;

namespace {

struct Fail {
  std::string why;
};
struct Stop {};
struct Nap {
  std::chrono::milliseconds ms;
};

class Failing {
 public:
  auto behavior() {
    return troupe::behavior([](const Fail& f) { throw std::runtime_error(f.why); }, [this](Stop) { self_.quit(); });
  }
  explicit Failing(troupe::Context& self) : self_(self) {}

 private:
  troupe::Context& self_;
};

// A handler that holds its worker: the safety net's business (a blocking actor's job, usually).
class Sleeper {
 public:
  auto behavior() {
    return troupe::behavior([](const Nap& n) { std::this_thread::sleep_for(n.ms); });
  }
};

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_SUITE("logs") {
  TEST_CASE("an actor that fails is logged as actor_failed with its type and reason, beside the exit hook") {
    LogRecorder log;
    std::atomic<int> exits{0};
    troupe::System system(
        troupe::Config{.workers = 2, .on_actor_exit = [&](const troupe::ExitInfo&) { ++exits; }, .log = log.config()});
    system.spawn<Failing>().send(Fail{"out of cheese"});
    system.spawn<Failing>().send(Stop{});  // a normal exit: not an event
    REQUIRE(system.wait_idle(10s));

    CHECK(exits == 2);
    const auto failed = log.named("actor_failed");
    REQUIRE(failed.size() == 1);
    const RecordedEvent& e = failed[0];
    CHECK(e.level == troupe::LogLevel::error);
    CHECK(contains(e.actor, "Failing"));
    CHECK(e.reason == "out of cheese");
    CHECK(contains(e.message, " stopped: error: out of cheese"));
    CHECK(e.node.empty());  // not a node's event
    CHECK(e.peer.empty());
  }

  TEST_CASE("a stuck turn is logged as it is found (warning) and as it ends (info), with the actor and worker") {
    LogRecorder log;
    troupe::System system(troupe::Config{.workers = 1, .stuck_turn = 5ms, .log = log.config()});
    system.spawn<Sleeper>().send(Nap{300ms});
    REQUIRE(eventually([&] { return !log.named("stuck_turn_ended").empty(); }, 30s));

    const auto found = log.first("stuck_turn");
    REQUIRE(found);
    CHECK(found->level == troupe::LogLevel::warning);
    CHECK(contains(found->actor, "Sleeper"));
    CHECK(found->field("worker") == "0");  // the only worker
    CHECK_FALSE(found->field("duration_ms").empty());

    const auto ended = log.first("stuck_turn_ended");
    REQUIRE(ended);
    CHECK(ended->level == troupe::LogLevel::info);
    CHECK(contains(ended->actor, "Sleeper"));
    CHECK(ended->field("worker") == "0");
    // Both count from the watchdog's first look at the turn (which a stalled watchdog makes late,
    // so no bound on wall time here): found once it had run stuck_turn, ended no sooner.
    CHECK(std::stoi(found->field("duration_ms")) >= 5);
    CHECK(std::stoi(ended->field("duration_ms")) >= std::stoi(found->field("duration_ms")));
    CHECK(contains(ended->message, "held worker 0 for "));
  }

  TEST_CASE("a system at warning drops the stuck turn's end (info) and keeps the rest") {
    LogRecorder log;
    troupe::System system(
        troupe::Config{.workers = 1, .stuck_turn = 5ms, .log = log.config(troupe::LogLevel::warning)});
    system.spawn<Sleeper>().send(Nap{100ms});
    system.spawn<Failing>().send(Fail{"after the nap"});
    REQUIRE(eventually([&] { return !log.named("actor_failed").empty(); }, 30s));
    REQUIRE(system.wait_idle(10s));
    CHECK(log.named("stuck_turn").size() == 1);
    CHECK(log.named("stuck_turn_ended").empty());
    for (const auto& e : log.events()) CHECK(e.level >= troupe::LogLevel::warning);
  }

  TEST_CASE("with no sink configured, a failure is one logfmt line on stderr") {
    troupe::System system(troupe::Config{.workers = 1});
    StderrCapture captured;
    system.spawn<Failing>().send(Fail{"a \"quoted\" reason"});
    REQUIRE(system.wait_idle(10s));
    const std::string text = captured.finish();
    const auto at = text.find(" level=error event=actor_failed actor=");
    REQUIRE(at != std::string::npos);
    const std::string line = text.substr(text.rfind('\n', at) + 1, text.find('\n', at) - text.rfind('\n', at) - 1);
    CAPTURE(line);
    CHECK(line.starts_with("time="));
    CHECK(contains(line, R"( reason="a \"quoted\" reason" msg="actor )"));
    CHECK(line.ends_with(R"( stopped: error: a \"quoted\" reason")"));
  }
}
