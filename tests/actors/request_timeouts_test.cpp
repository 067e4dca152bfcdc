// Request timeouts: one timer per actor stands for all its requests on their way (request_table.hpp).
// Each request still times out at its own deadline, an answered one never does, and the timer goes
// once no request is left, so an idle system is idle. Deterministic mode (virtual time) but for
// the two threaded cases at the end.
#include <troupe/testing.hpp>
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

using namespace std::chrono_literals;
using Clock = troupe::runtime::TimerService::Clock;

namespace {

struct Hold {  // never answered: the silent actor keeps its promise
  using reply_type = int;
};
struct Echo {
  using reply_type = int;
  int n;
};
struct Go {};

// What an asker saw: "<tag>@<ms since the clock's start>:<ok|timeout>".
using Seen = std::vector<std::string>;

std::string at(troupe::System& system, const std::string& tag, bool ok) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(system.now() - Clock::time_point{});
  std::string s = tag;
  s += '@';
  s += std::to_string(ms.count());
  s += ok ? ":ok" : ":timeout";
  return s;
}

// Keeps every Hold's promise (never delivered) and answers Echo at once.
auto silent_or_echo(troupe::System& system) {
  return system.spawn([](troupe::Context& self) {
    auto held = std::make_shared<std::vector<troupe::Promise<int>>>();
    return troupe::behavior(
        [&self, held](Hold) {
          held->push_back(self.promise<int>());
          return held->back();
        },
        [](Echo e) { return e.n; });
  });
}

bool no_timer_pending(troupe::System& system) { return !system.timers().next_due(true).has_value(); }

}  // namespace

TEST_SUITE("request timeouts") {
  TEST_CASE(
      "requests on their way with different timeouts each time out at their own deadline; an answered one never does") {
    troupe::System system(troupe::testing::deterministic(1));
    auto seen = std::make_shared<Seen>();
    auto server = silent_or_echo(system);
    auto asker = system.spawn([&system, server, seen](troupe::Context& self) {
      return troupe::behavior([&system, &self, server, seen](Go) {
        auto note = [&system, seen](std::string tag) {
          return [&system, seen, tag](const troupe::Result<int>& r) { seen->push_back(at(system, tag, r.ok())); };
        };
        self.request<int>(server, Hold{}, 300ms).then(note("a"));
        self.request<int>(server, Hold{}, 100ms).then(note("b"));
        self.request<int>(server, Echo{1}, 50ms).then(note("echo"));
        self.request<int>(server, Hold{}, 200ms).then(note("c"));
        self.request<int>(server, Hold{}, 200ms).then(note("d"));
      });
    });
    asker.send(Go{});
    system.advance_time(1ms);
    CHECK(*seen == Seen{"echo@0:ok"});
    system.advance_time(99ms);  // 100 ms
    CHECK(*seen == Seen{"echo@0:ok", "b@100:timeout"});
    system.advance_time(150ms);  // 250 ms
    CHECK(*seen == Seen{"echo@0:ok", "b@100:timeout", "c@200:timeout", "d@200:timeout"});
    system.advance_time(100ms);  // 350 ms
    CHECK(*seen == Seen{"echo@0:ok", "b@100:timeout", "c@200:timeout", "d@200:timeout", "a@300:timeout"});
    CHECK(no_timer_pending(system));
  }

  TEST_CASE("once its last request is answered, an actor's timer goes: nothing keeps the system from idle") {
    troupe::System system(troupe::testing::deterministic(2));
    auto server = silent_or_echo(system);
    auto seen = std::make_shared<Seen>();
    auto asker = system.spawn([&system, server, seen](troupe::Context& self) {
      return troupe::behavior([&system, &self, server, seen](Go) -> troupe::Task<void> {
        auto r = co_await self.request<int>(server, Echo{7}, 10s);
        seen->push_back(at(system, "await", r.ok()));
        self.request<int>(server, Echo{8}, 10s).then([&system, seen](const troupe::Result<int>& r2) {
          seen->push_back(at(system, "then", r2.ok()));
        });
      });
    });
    asker.send(Go{});
    CHECK(system.wait_idle());
    CHECK(*seen == Seen{"await@0:ok", "then@0:ok"});
    CHECK(no_timer_pending(system));
    CHECK(system.now() == Clock::time_point{});  // wait_idle had no timeout to wait for
  }

  TEST_CASE("more timeouts due at once than the actor's budget: all come, in order, a budget at a time") {
    troupe::System system(troupe::testing::deterministic(7));
    auto server = silent_or_echo(system);
    auto order = std::make_shared<std::vector<int>>();
    constexpr int kRequests = 250;  // the default budget is 100
    auto asker = system.spawn([server, order](troupe::Context& self) {
      return troupe::behavior([&self, server, order](Go) {
        for (int i = 0; i < kRequests; ++i) {
          self.request<int>(server, Hold{}, 100ms).then([order, i](const troupe::Result<int>& r) {
            order->push_back(r.code() == troupe::Errc::timeout ? i : -1);
          });
        }
      });
    });
    asker.send(Go{});
    system.advance_time(99ms);
    CHECK(order->empty());
    system.advance_time(1ms);
    std::vector<int> expected;
    for (int i = 0; i < kRequests; ++i) expected.push_back(i);
    CHECK(*order == expected);
    CHECK(no_timer_pending(system));
  }

  TEST_CASE("a request on its way keeps its deadline while thousands answered after it come and go") {
    troupe::System system(troupe::testing::deterministic(6));
    auto server = silent_or_echo(system);
    auto seen = std::make_shared<Seen>();
    auto answered = std::make_shared<int>(0);
    constexpr int kChain = 5000;  // one after the other: each answered before the next starts
    struct Step {};
    auto asker = system.spawn([&system, server, seen, answered](troupe::Context& self) {
      return troupe::behavior(
          [&system, &self, server, seen](Go) {
            self.request<int>(server, Hold{}, 500ms).then([&system, seen](const troupe::Result<int>& r) {
              seen->push_back(at(system, "held", r.ok()));
            });
            self.self().send(Step{});
          },
          [&self, server, answered](Step) {
            self.request<int>(server, Echo{*answered}, 10s).then([&self, answered](const troupe::Result<int>&) {
              if (++*answered < kChain) self.self().send(Step{});
            });
          });
    });
    asker.send(Go{});
    system.advance_time(1ms);
    CHECK(*answered == kChain);
    CHECK(seen->empty());
    system.advance_time(499ms);  // 500 ms
    CHECK(*seen == Seen{"held@500:timeout"});
    CHECK(no_timer_pending(system));
  }

  TEST_CASE("a timeout handled that starts a request with no time left: that one times out too, at once") {
    troupe::System system(troupe::testing::deterministic(3));
    auto server = silent_or_echo(system);
    auto seen = std::make_shared<Seen>();
    auto asker = system.spawn([&system, server, seen](troupe::Context& self) {
      return troupe::behavior([&system, &self, server, seen](Go) -> troupe::Task<void> {
        auto first = co_await self.request<int>(server, Hold{}, 100ms);
        seen->push_back(at(system, "first", first.ok()));
        auto second = co_await self.request<int>(server, Hold{}, 0ms);
        seen->push_back(at(system, "second", second.ok()));
        auto third = co_await self.request<int>(server, Echo{3}, 0ms);  // answered, or timed out: either ends it
        (void)third;
        seen->push_back("done");
      });
    });
    asker.send(Go{});
    system.advance_time(100ms);
    CHECK(*seen == Seen{"first@100:timeout", "second@100:timeout", "done"});
    CHECK(no_timer_pending(system));
  }

  TEST_CASE("a continuation's timeout while a coroutine awaits waits for it to end, and fires once") {
    troupe::System system(troupe::testing::deterministic(4));
    auto server = silent_or_echo(system);
    auto seen = std::make_shared<Seen>();
    struct Wait {};
    auto asker = system.spawn([&system, server, seen](troupe::Context& self) {
      return troupe::behavior(
          [&system, &self, server, seen](Go) {
            self.request<int>(server, Hold{}, 100ms).then([&system, seen](const troupe::Result<int>& r) {
              seen->push_back(at(system, "then", r.ok()));
            });
          },
          [&system, &self, server, seen](Wait) -> troupe::Task<void> {
            auto r = co_await self.request<int>(server, Hold{}, 500ms);
            seen->push_back(at(system, "await", r.ok()));
          });
    });
    asker.send(Go{});
    asker.send(Wait{});
    system.advance_time(100ms);  // the continuation's timeout is due, and set aside
    CHECK(seen->empty());
    // The timer is armed for the coroutine's deadline, not fired again for the one set aside.
    REQUIRE(system.timers().next_due(true).has_value());
    CHECK(*system.timers().next_due(true) == Clock::time_point{} + 500ms);
    system.advance_time(400ms);
    CHECK(*seen == Seen{"await@500:timeout", "then@500:timeout"});
    CHECK(no_timer_pending(system));
  }

  TEST_CASE("an actor that stops with requests on their way lets its timer go") {
    troupe::System system(troupe::testing::deterministic(5));
    auto server = silent_or_echo(system);
    struct Quit {};
    auto asker = system.spawn([server](troupe::Context& self) {
      return troupe::behavior(
          [&self, server](Go) {
            for (int i = 0; i < 3; ++i)
              self.request<int>(server, Hold{}, 1h).then([](int) {}, [](const troupe::Error&) {});
          },
          [&self](Quit) { self.quit(); });
    });
    // advance_time, not wait_idle: in virtual time wait_idle would fire the timer.
    asker.send(Go{});
    system.advance_time(1ms);
    CHECK_FALSE(no_timer_pending(system));
    asker.send(Quit{});
    system.advance_time(1ms);
    CHECK(no_timer_pending(system));
  }

  TEST_CASE("threaded, one worker: a coroutine that starts a request on each timeout lets the other actors run") {
    // Each request's time is up before it starts (a deadline computed by the caller may be): its
    // timeout comes with the timer's next firing, a message of its own, not within the handling
    // of the last one's, which would hold the worker for ever.
    troupe::System system(troupe::Config{.workers = 1});
    auto server = silent_or_echo(system);
    auto stop = std::make_shared<std::atomic<bool>>(false);
    auto rounds = std::make_shared<std::atomic<int>>(0);
    auto done = std::make_shared<std::atomic<bool>>(false);
    auto looper = system.spawn([server, stop, rounds, done](troupe::Context& self) {
      return troupe::behavior([&self, server, stop, rounds, done](Go) -> troupe::Task<void> {
        while (!stop->load()) {
          (void)co_await self.request<int>(server, Hold{}, -1ms);
          rounds->fetch_add(1);
        }
        done->store(true);
      });
    });
    auto stopper =
        system.spawn([stop](troupe::Context&) { return troupe::behavior([stop](Go) { stop->store(true); }); });
    looper.send(Go{});
    REQUIRE(troupe_test::eventually([&] { return rounds->load() >= 10; }));
    stopper.send(Go{});
    CHECK(troupe_test::eventually([&] { return done->load(); }));
  }

  TEST_CASE("threaded: many actors, each with requests on their way, some answered, some timing out") {
    troupe::System system(troupe::Config{.workers = 2});
    auto server = silent_or_echo(system);
    constexpr int kAskers = 20;
    constexpr int kEach = 40;  // half answered, half held: each of those times out
    struct Tally {
      std::atomic<int> ok{0};
      std::atomic<int> timeouts{0};
      std::atomic<int> other{0};
    };
    auto tally = std::make_shared<Tally>();
    for (int a = 0; a < kAskers; ++a) {
      auto asker = system.spawn([server, tally, a](troupe::Context& self) {
        return troupe::behavior([&self, server, tally, a](Go) {
          for (int i = 0; i < kEach; ++i) {
            const auto timeout = std::chrono::milliseconds(1 + (a * kEach + i) % 30);
            auto count = [tally](const troupe::Result<int>& r) {
              if (r.ok()) {
                tally->ok.fetch_add(1);
              } else if (r.code() == troupe::Errc::timeout) {
                tally->timeouts.fetch_add(1);
              } else {
                tally->other.fetch_add(1);
              }
            };
            if (i % 2 == 0) {
              self.request<int>(server, Echo{i}, 10s).then(count);
            } else {
              self.request<int>(server, Hold{}, timeout).then(count);
            }
          }
        });
      });
      asker.send(Go{});
    }
    REQUIRE(system.wait_idle(30s));
    CHECK(tally->ok.load() == kAskers * kEach / 2);
    CHECK(tally->timeouts.load() == kAskers * kEach / 2);
    CHECK(tally->other.load() == 0);
  }
}  // TEST_SUITE
