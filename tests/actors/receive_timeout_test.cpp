// Receive timeouts (Context::set_receive_timeout): a ReceiveTimeout once an actor has handled no
// message for its time, again after each further one; put off by every message; changed, stopped
// and cancelled with the actor; never waited for by wait_idle. Deterministic mode (virtual time)
// but for the last case, which checks the threaded system.
#include <troupe/testing.hpp>
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using Clock = troupe::runtime::TimerService::Clock;

namespace {

struct Ping {};
struct SetTimeout {
  troupe::Duration after;
};
struct GetTimeout {
  using reply_type = troupe::Duration;
};
struct Become {};
struct Quit {};
struct AwaitSilence {};
struct Never {
  using reply_type = int;
};

// Times since the virtual clock's start: each ReceiveTimeout's.
using Seen = std::vector<troupe::Duration>;

troupe::Duration since_start(troupe::System& system) { return system.now() - Clock::time_point{}; }

// An actor that sets `after` when it starts, records when each ReceiveTimeout comes, and takes
// the messages the cases below send it.
auto timing_actor(troupe::System& system, std::shared_ptr<Seen> seen, troupe::Duration after,
                  troupe::SpawnOptions options = {}) {
  return system.spawn(options, [&system, seen, after](troupe::Context& self) {
    self.set_receive_timeout(after);
    return troupe::behavior([&system, seen](troupe::ReceiveTimeout) { seen->push_back(since_start(system)); },
                            [](Ping) {}, [&self](SetTimeout s) { self.set_receive_timeout(s.after); },
                            [&self](GetTimeout) { return self.receive_timeout(); },
                            [&self](Become) { self.become(troupe::behavior([](Ping) {})); },
                            [&self](Quit) { self.quit(); });
  });
}

}  // namespace

TEST_SUITE("receive timeout") {
  TEST_CASE("an idle actor gets a ReceiveTimeout after its time, and again after each further one") {
    troupe::System system(troupe::testing::deterministic(1));
    auto seen = std::make_shared<Seen>();
    auto actor = timing_actor(system, seen, 100ms);
    // Its timer is in the background: wait_idle does not wait for it, nor moves the clock.
    REQUIRE(system.wait_idle());
    CHECK(seen->empty());
    CHECK(since_start(system) == 0ms);
    system.advance_time(350ms);
    CHECK(*seen == Seen{100ms, 200ms, 300ms});
    troupe::ScopedActor me(system);
    CHECK(me.request(actor, GetTimeout{}).value() == 100ms);
  }

  TEST_CASE("every message handled puts it off: it comes its time after the last one") {
    troupe::System system(troupe::testing::deterministic(2));
    auto seen = std::make_shared<Seen>();
    auto actor = timing_actor(system, seen, 100ms);
    system.advance_time(50ms);
    actor.send(Ping{});
    system.advance_time(70ms);  // 120 ms
    actor.send(Ping{});
    system.advance_time(180ms);  // 300 ms: one, 100 ms after the last Ping
    CHECK(*seen == Seen{220ms});
    system.advance_time(100ms);
    CHECK(*seen == Seen{220ms, 320ms});
  }

  TEST_CASE("an urgent message, handled ahead of the queue, puts it off too") {
    troupe::System system(troupe::testing::deterministic(8));
    auto seen = std::make_shared<Seen>();
    auto actor = timing_actor(system, seen, 100ms);
    system.advance_time(50ms);
    REQUIRE(actor.send_urgent(Ping{}).ok());
    system.advance_time(70ms);  // 120 ms: none at 100
    CHECK(seen->empty());
    system.advance_time(30ms);  // 150 ms: one, 100 ms after the urgent Ping
    CHECK(*seen == Seen{150ms});
  }

  TEST_CASE("set again: a shorter time counts at once, a longer one from now; zero stops it") {
    troupe::System system(troupe::testing::deterministic(3));
    auto seen = std::make_shared<Seen>();
    auto actor = timing_actor(system, seen, 1h);
    troupe::ScopedActor me(system);
    system.advance_time(10ms);
    actor.send(SetTimeout{100ms});  // the check armed for an hour is not waited for
    system.advance_time(140ms);     // 150 ms
    CHECK(*seen == Seen{110ms});
    actor.send(SetTimeout{300ms});  // the check armed for 210 ms finds it not due yet
    system.advance_time(350ms);     // 500 ms
    CHECK(*seen == Seen{110ms, 450ms});
    actor.send(SetTimeout{0ms});
    system.advance_time(2h);
    CHECK(*seen == Seen{110ms, 450ms});
    CHECK(me.request(actor, GetTimeout{}).value() == 0ms);
    // Set again after it was stopped.
    actor.send(SetTimeout{1s});
    system.advance_time(1500ms);
    REQUIRE(seen->size() == 3u);
    CHECK(seen->back() - seen->at(1) == 2h + 1s + 50ms);
  }

  TEST_CASE("the current behavior handles it; one without a handler for it makes it a dead letter") {
    troupe::System system(troupe::testing::deterministic(4));
    auto seen = std::make_shared<Seen>();
    auto actor = timing_actor(system, seen, 100ms);
    system.advance_time(150ms);
    CHECK(*seen == Seen{100ms});
    CHECK(system.dead_letters() == 0u);
    actor.send(Become{});
    system.advance_time(250ms);  // 400 ms: two more, the behavior on top has no handler for them
    CHECK(*seen == Seen{100ms});
    CHECK(system.dead_letters() == 2u);
  }

  TEST_CASE("while a handler's coroutine awaits, none comes: the first comes its time after the wait") {
    troupe::System system(troupe::testing::deterministic(5));
    auto seen = std::make_shared<Seen>();
    auto silent = system.spawn([](troupe::Context& self) {
      // Keeps every promise, unanswered: the requester's timeout ends its wait.
      return troupe::behavior([&self, kept = std::vector<troupe::Promise<int>>()](Never) mutable {
        kept.push_back(self.promise<int>());
        return kept.back();
      });
    });
    auto actor = system.spawn([&system, seen, silent](troupe::Context& self) {
      self.set_receive_timeout(100ms);
      return troupe::behavior(
          [&system, seen](troupe::ReceiveTimeout) { seen->push_back(since_start(system)); },
          [&self, silent](AwaitSilence) -> troupe::Task<void> { (void)co_await self.request(silent, Never{}, 500ms); });
    });
    actor.send(AwaitSilence{});
    system.advance_time(550ms);
    CHECK(seen->empty());
    system.advance_time(100ms);  // 650 ms
    CHECK(*seen == Seen{600ms});
  }

  TEST_CASE("a ReceiveTimeout takes nothing off a bounded mailbox's count") {
    troupe::System system(troupe::testing::deterministic(6));
    auto seen = std::make_shared<Seen>();
    troupe::SpawnOptions bounded;
    bounded.mailbox_capacity = 2;
    bounded.overflow = troupe::Overflow::fail;
    auto actor = timing_actor(system, seen, 100ms, bounded);
    system.advance_time(350ms);
    REQUIRE(seen->size() == 3u);
    // Nothing runs the actor while this thread sends: two fit, the third does not.
    CHECK(actor.send(Ping{}).ok());
    CHECK(actor.send(Ping{}).ok());
    CHECK(actor.send(Ping{}).code() == troupe::Errc::mailbox_full);
  }

  TEST_CASE("an actor that stops cancels its timer") {
    troupe::System system(troupe::testing::deterministic(7));
    auto seen = std::make_shared<Seen>();
    auto actor = timing_actor(system, seen, 1h);
    REQUIRE(system.wait_idle());
    CHECK(system.timers().next_due(true).has_value());
    actor.send(Quit{});
    REQUIRE(system.wait_idle());
    // No timer left: the check's, which holds a reference to the actor, went with it.
    CHECK_FALSE(system.timers().next_due(true).has_value());
    system.advance_time(2h);
    CHECK(seen->empty());
    CHECK(system.dead_letters() == 0u);
  }

  TEST_CASE("threaded: it comes, again and again, and wait_idle does not wait for it") {
    troupe::System system(troupe::Config{.workers = 2});
    troupe::ScopedActor me(system);
    auto actor = system.spawn([to = me.handle()](troupe::Context& self) {
      self.set_receive_timeout(20ms);
      return troupe::behavior([to](troupe::ReceiveTimeout) { to.send(Ping{}); });
    });
    for (int i = 0; i < 3; ++i) REQUIRE(me.receive<Ping>(10s).ok());
    CHECK(system.wait_idle(10s));
  }

  TEST_CASE("threaded, under a stream of messages from another thread: none ever comes sooner than its time") {
    // Each actor notes when it last handled a Ping; its ReceiveTimeout must come at least its time
    // after that, whichever turn the check and the Pings share. Bounded: 300 ms of Pings.
    constexpr auto kAfter = 5ms;
    struct Tally {
      std::atomic<int> early{0};
      std::atomic<int> timeouts{0};
    };
    auto tally = std::make_shared<Tally>();
    troupe::System system(troupe::Config{.workers = 2});
    std::vector<troupe::DynamicHandle> actors;
    for (int i = 0; i < 20; ++i) {
      actors.push_back(system.spawn([tally, kAfter](troupe::Context& self) {
        auto last = std::make_shared<Clock::time_point>(Clock::now());
        self.set_receive_timeout(kAfter);
        return troupe::behavior([last](Ping) { *last = Clock::now(); },
                                [last, tally, kAfter](troupe::ReceiveTimeout) {
                                  if (Clock::now() - *last < kAfter) tally->early.fetch_add(1);
                                  tally->timeouts.fetch_add(1);
                                });
      }));
    }
    std::uint32_t random = 12345;
    const auto end = Clock::now() + 300ms;
    while (Clock::now() < end) {
      random = random * 1664525u + 1013904223u;
      actors[(random >> 8) % actors.size()].send(Ping{});
      if ((random >> 20) % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds((random >> 12) % 2000));
    }
    // Silence: every actor's timeout comes now.
    const int before = tally->timeouts.load();
    const auto give_up = Clock::now() + 10s;  // a bound for a failing test only
    while (tally->timeouts.load() < before + static_cast<int>(actors.size()) && Clock::now() < give_up) {
      std::this_thread::sleep_for(1ms);
    }
    CHECK(tally->timeouts.load() >= before + static_cast<int>(actors.size()));
    CHECK(tally->early.load() == 0);
  }

}  // TEST_SUITE
