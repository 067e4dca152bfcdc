// Overload: an actor that falls behind mutes the actors that send to it (runtime/actor_core.hpp),
// and Context::pace() holds a sending loop inside one handler. Deterministic mode makes the
// backlogs exact; the real-thread cases check that nothing deadlocks or stays muted.
#include <troupe/testing.hpp>
#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>

using namespace std::chrono_literals;

namespace {

struct Item {};
struct Tick {};
struct Go {};
struct Done {
  std::int64_t count;
};

// What the sender sent and the receiver handled, and the largest difference the receiver saw.
struct Backlog {
  std::int64_t sent = 0;
  std::int64_t handled = 0;
  std::int64_t max = 0;
};

// Counts items; tells `done` once it has `expected` of them.
auto counting_receiver(std::shared_ptr<Backlog> backlog, std::int64_t expected, troupe::DynamicHandle done) {
  return [backlog, expected, done](troupe::Context&) {
    return troupe::behavior([backlog, expected, done](Item) {
      backlog->max = std::max(backlog->max, backlog->sent - backlog->handled);
      if (++backlog->handled == expected) done.send(Done{backlog->handled});
    });
  };
}

}  // namespace

TEST_SUITE("supervision") {
  TEST_CASE("a sender to an actor that falls behind is muted until it drains: its backlog stays bounded") {
    // The producer handles one Tick at a time and sends 10 items for each: ten times what the
    // receiver handles per message. Unmuted, it would run ahead by 9 items per tick (90,000 here).
    static constexpr int ticks = 10000;
    auto backlog = std::make_shared<Backlog>();
    troupe::System system(troupe::testing::deterministic(7));
    troupe::ScopedActor me(system);
    auto receiver = system.spawn(counting_receiver(backlog, std::int64_t{ticks} * 10, me.handle()));
    auto producer = system.spawn([backlog, receiver](troupe::Context& self) {
      auto left = std::make_shared<int>(ticks);
      return troupe::behavior([&self, backlog, receiver, left](Tick) {
        for (int i = 0; i < 10; ++i) {
          ++backlog->sent;
          receiver.send(Item{});
        }
        if (--*left > 0) self.self().send(Tick{});
      });
    });
    producer.send(Tick{});
    auto done = me.receive<Done>(60s);
    REQUIRE(done);
    CHECK(done->count == std::int64_t{ticks} * 10);
    // One producer turn (its budget of 100 ticks) runs ahead before the receiver is seen behind.
    CHECK(backlog->max <= 2100);
  }

  TEST_CASE("pace() holds a loop of sends inside one handler while the receiver is behind") {
    static constexpr std::int64_t items = 100000;
    auto backlog = std::make_shared<Backlog>();
    troupe::System system(troupe::testing::deterministic(11));
    troupe::ScopedActor me(system);
    auto receiver = system.spawn(counting_receiver(backlog, items, me.handle()));
    auto producer = system.spawn([backlog, receiver](troupe::Context& self) {
      return troupe::behavior([&self, backlog, receiver](Go) -> troupe::Task<void> {
        for (std::int64_t i = 0; i < items; ++i) {
          ++backlog->sent;
          receiver.send(Item{});
          co_await self.pace();
        }
      });
    });
    producer.send(Go{});
    auto done = me.receive<Done>(60s);
    REQUIRE(done);
    CHECK(done->count == items);
    // Without pace() the whole loop would be queued at once (100,000). With it, the producer lets
    // the receiver run every 1,024 sends, and waits once the receiver is seen behind: the backlog
    // is the few producer turns this seed runs before the receiver's (7,168).
    CHECK(backlog->max <= 8 * 1024);
  }

  TEST_CASE("two actors that flood each other are muted on each other without deadlock") {
    // Each answers every item with two more until it has handled `limit`: both fall behind, and
    // each is muted on the other. An actor that holds senders back never parks, so both finish.
    static constexpr std::int64_t limit = 200000;
    troupe::System system;
    troupe::ScopedActor me(system);
    auto flooder = [](troupe::Context& self, troupe::DynamicHandle done) {
      auto peer = std::make_shared<troupe::DynamicHandle>();
      auto handled = std::make_shared<std::int64_t>(0);
      return troupe::behavior([peer](troupe::DynamicHandle p) { *peer = std::move(p); },
                              [&self, peer, handled, done](Item) {
                                if (++*handled == limit) done.send(Done{*handled});
                                if (*handled < limit) {
                                  peer->send(Item{});
                                  peer->send(Item{});
                                }
                                (void)self;
                              });
    };
    auto a = system.spawn(flooder, me.handle());
    auto b = system.spawn(flooder, me.handle());
    a.send(troupe::DynamicHandle(b));
    b.send(troupe::DynamicHandle(a));
    for (int i = 0; i < 1000; ++i) {
      a.send(Item{});
      b.send(Item{});
    }
    CHECK(me.receive<Done>(30s));
    CHECK(me.receive<Done>(30s));
  }

  TEST_CASE("senders muted on an actor go on when it stops instead of draining") {
    // The receiver falls behind four pacing senders, which are muted on it, and quits in the middle
    // of its second turn: they are released, and their later items become dead letters.
    troupe::System system(troupe::testing::deterministic(5));
    troupe::ScopedActor me(system);
    auto receiver = system.spawn([](troupe::Context& self) {
      auto handled = std::make_shared<int>(0);
      return troupe::behavior([&self, handled](Item) {
        if (++*handled == 150) self.quit();
      });
    });
    constexpr int senders = 4;
    for (int s = 0; s < senders; ++s) {
      auto sender = system.spawn(
          [receiver](troupe::Context& self, troupe::DynamicHandle done) {
            return troupe::behavior([&self, receiver, done](Go) -> troupe::Task<void> {
              for (int i = 0; i < 2000; ++i) {
                receiver.send(Item{});
                co_await self.pace();
              }
              done.send(Done{2000});
            });
          },
          me.handle());
      sender.send(Go{});
    }
    for (int s = 0; s < senders; ++s) CHECK(me.receive<Done>(30s));
  }

  TEST_CASE("pace() in deterministic mode with several senders: every item arrives, in each sender's order") {
    // Three pacing senders share one receiver; each checks its own order.
    troupe::System system(troupe::testing::deterministic(3));
    troupe::ScopedActor me(system);
    struct Numbered {
      int sender;
      int index;
    };
    auto receiver = system.spawn([done = me.handle()](troupe::Context&) {
      auto next = std::make_shared<std::array<int, 3>>();
      auto total = std::make_shared<int>(0);
      return troupe::behavior([next, total, done](Numbered n) {
        if ((*next)[n.sender] != n.index) throw std::runtime_error("out of order");
        ++(*next)[n.sender];
        if (++*total == 3 * 5000) done.send(Done{*total});
      });
    });
    for (int s = 0; s < 3; ++s) {
      system
          .spawn([receiver, s](troupe::Context& self) {
            return troupe::behavior([&self, receiver, s](Go) -> troupe::Task<void> {
              for (int i = 0; i < 5000; ++i) {
                receiver.send(Numbered{s, i});
                co_await self.pace();
              }
            });
          })
          .send(Go{});
    }
    auto done = me.receive<Done>(60s);
    REQUIRE(done);
    CHECK(done->count == 3 * 5000);
  }

  TEST_CASE("pace() on one worker thread lets the other actors run once its loop has paced for its time slice") {
    // The loop sends nothing, so nothing mutes it: only pace()'s slice lets `other` run on the one
    // worker (the stuck-turn watchdog, which would start another thread, is off). The slice is
    // timed from the first look at the clock, after 1,024 paces, and read again only after 1,024
    // more: the loop has paced at least 2,048 times when it first lets the others run.
    troupe::Config config{.workers = 1};
    config.stuck_turn = std::chrono::microseconds::zero();
    troupe::System system(config);
    troupe::ScopedActor me(system);
    auto seen = std::make_shared<std::atomic<bool>>(false);
    auto other =
        system.spawn([seen](troupe::Context&) { return troupe::behavior([seen](Tick) { seen->store(true); }); });
    auto looper = system.spawn([seen, other, done = me.handle()](troupe::Context& self) {
      return troupe::behavior([&self, seen, other, done](Go) -> troupe::Task<void> {
        other.send(Tick{});  // `other` waits for the one worker
        std::int64_t paces = 0;
        const auto give_up = std::chrono::steady_clock::now() + 10s;  // bounded, for a failing test
        while (!seen->load() && std::chrono::steady_clock::now() < give_up) {
          ++paces;
          co_await self.pace();
        }
        done.send(Done{seen->load() ? paces : -1});
      });
    });
    looper.send(Go{});
    auto done = me.receive<Done>(30s);
    REQUIRE(done);
    CHECK(done->count >= 2 * 1024);
  }
}  // TEST_SUITE
