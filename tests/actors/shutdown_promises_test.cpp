// What System::shutdown() promises (README, "Shutdown"):
// - pending timers are cancelled: shutdown does not wait for them, their messages never come,
//   and actors stopping at shutdown already find them cancelled;
// - whatever is sent after shutdown is a dead letter, and a request after it gets an error reply.
// (With a supervision tree: tests/supervision/system_shutdown_tree_test.cpp.)
#include <troupe/testing.hpp>
#include <troupe/troupe.hpp>

#include "actors/exit_log.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

using namespace troupe_test;
using troupe::testing::check;

namespace {

struct Tick {};
struct Ping {};
struct Ask {
  using reply_type = int;
};

// Far beyond the few microseconds between setting a timer and calling shutdown() here, however
// loaded the machine: a timer this long can only fire if shutdown waits for it.
constexpr auto kLongDelay = std::chrono::seconds(30);

// Sets a one-shot and a periodic timer to itself as it starts, and counts the Ticks it gets.
struct TimerOwner {
  std::atomic<int> ticks{0};
  std::atomic<bool> armed{false};
  troupe::Timer once;
  troupe::Timer every;
};

}  // namespace

TEST_SUITE("shutdown") {
  TEST_CASE("shutdown() cancels pending timers: it does not wait for them, and their messages never come") {
    HookLog hooks;
    troupe::System system(hooks.config());
    troupe::ScopedActor me(system);
    auto owner = std::make_shared<TimerOwner>();
    auto actor = system.spawn([owner](troupe::Context& self) {
      owner->once = self.send_after(self.self(), kLongDelay, Tick{});
      owner->every = self.send_every(self.self(), kLongDelay, Tick{});
      owner->armed.store(true);
      return troupe::behavior([owner](Tick) { owner->ticks.fetch_add(1); });
    });
    REQUIRE(eventually([&] { return owner->armed.load(); }));
    troupe::Timer to_me = system.send_after(me.handle(), kLongDelay, Tick{});
    troupe::Timer to_actor = system.send_after(actor, kLongDelay, Tick{});
    REQUIRE(to_me.active());
    REQUIRE(owner->once.active());

    // A pending one-shot timer holds the system out of idleness: were it not cancelled, shutdown
    // would wait until it fired, and its messages would be here after it.
    system.shutdown();
    for (troupe::Timer* t : {&to_me, &to_actor, &owner->once, &owner->every}) {
      CHECK_FALSE(t->active());
      CHECK_FALSE(t->cancel());  // cancelled already, by shutdown (not fired: see below)
    }
    CHECK(me.queued() == 0);
    CHECK(owner->ticks.load() == 0);
    for (const auto& d : hooks.dead_letters()) CHECK(d.message_type.find("Tick") == std::string::npos);
  }

  TEST_CASE("deterministic: actors that shutdown stops find their timers already cancelled; time does not move") {
    const auto result = troupe::testing::explore(20, [](std::uint64_t seed) {
      auto owner = std::make_shared<TimerOwner>();
      std::vector<std::string> seen;  // what each stopping actor found
      troupe::System* system_ptr = nullptr;
      troupe::Config config = troupe::testing::deterministic(seed);
      config.on_actor_exit = [&](const troupe::ExitInfo& info) {
        const bool first = seen.empty();
        const auto at = system_ptr->now() - troupe::runtime::TimerService::Clock::time_point{};
        seen.push_back(std::string(info.reason.to_string()) + (owner->once.active() ? " once pending" : "") +
                       (owner->every.active() ? " every pending" : "") +
                       (at != std::chrono::seconds(1) ? " later" : ""));
        // A timer set while the system shuts down is born cancelled.
        if (first && system_ptr->send_after(troupe::DynamicHandle(), std::chrono::seconds(1), Tick{}).active()) {
          seen.push_back("a new timer is pending");
        }
      };
      troupe::System system(config);
      system_ptr = &system;
      for (int i = 0; i < 3; ++i) {
        system.spawn([owner, i](troupe::Context& self) {
          if (i == 0) {
            owner->once = self.send_after(self.self(), std::chrono::hours(1), Tick{});
            owner->every = self.send_every(self.self(), std::chrono::minutes(1), Tick{});
          }
          return troupe::behavior([owner](Tick) { owner->ticks.fetch_add(1); });
        });
      }
      system.advance_time(std::chrono::seconds(1));  // the actors start; the timers are pending
      check(owner->once.active() && owner->every.active(), "the timers are pending before shutdown");
      system.shutdown();
      check(seen == std::vector<std::string>(3, "shutdown"),
            "an actor stopped by shutdown found a timer pending, or the clock moved: " +
                (seen.empty() ? "" : seen.front()));
      check(owner->ticks.load() == 0, "a timer fired");
    });
    CHECK_MESSAGE(result, result.failure);
  }

  TEST_CASE("after shutdown, a send is a dead letter and a request gets an error at once") {
    HookLog hooks;
    troupe::System system(hooks.config());
    troupe::ScopedActor me(system);
    auto handled = std::make_shared<std::atomic<int>>(0);
    auto behavior = [handled](troupe::Context&) {
      return troupe::behavior([handled](Ping) { handled->fetch_add(1); }, [](Ask) { return 1; });
    };
    auto plain = system.spawn(behavior);
    troupe::SpawnOptions bounded;
    bounded.mailbox_capacity = 1;
    bounded.overflow = troupe::Overflow::fail;
    auto limited = system.spawn(bounded, behavior);
    REQUIRE(me.request(plain, Ask{}, 10s).ok());  // both started
    REQUIRE(me.request(limited, Ask{}, 10s).ok());
    system.shutdown();
    REQUIRE(system.live_actors() == 0);
    const std::uint64_t before = system.dead_letters();
    const std::size_t hooked_before = hooks.dead_letter_count();

    plain.send(Ping{});
    limited.send(Ping{});
    limited.send(Ping{});  // no capacity left to refuse it: the actor is gone
    CHECK(system.dead_letters() == before + 3);
    const auto letters = hooks.dead_letters();
    REQUIRE(letters.size() == hooked_before + 3);
    for (std::size_t i = hooked_before; i < letters.size(); ++i) {
      CHECK(letters[i].message_type.find("Ping") != std::string::npos);
      CHECK(letters[i].reason == troupe::DeadLetter::Reason::receiver_stopped);
      CHECK_FALSE(letters[i].was_request);
    }
    // The dead letter answers the request: an error, not a wait for the timeout.
    const auto reply = me.request(plain, Ask{}, std::chrono::hours(1));
    REQUIRE_FALSE(reply.ok());
    CHECK(reply.code() == troupe::Errc::dead_actor);
    CHECK(system.dead_letters() == before + 4);
    CHECK(handled->load() == 0);

    // A timer set after shutdown is born cancelled, and sends nothing.
    troupe::Timer late = system.send_after(plain, std::chrono::milliseconds(1), Ping{});
    CHECK_FALSE(late.active());
    CHECK_FALSE(late.cancel());
  }
}
