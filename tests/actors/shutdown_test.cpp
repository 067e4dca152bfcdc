// Shutdown and idleness: nothing in flight is lost, idle systems end promptly, wait_idle.
#include <troupe/troupe.hpp>

#include "actors/exit_log.hpp"
#include "log_recorder.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

using namespace troupe_test;

namespace {

struct Work {
  int n;
};
struct Pump {};
struct Hold {};

// Its handler of Hold holds its thread until `let_go` (a blocking actor's, or a worker).
class Holder {
 public:
  Holder(troupe::Context&, std::atomic<int>& holding, std::atomic<bool>& let_go) : holding_(holding), let_go_(let_go) {}
  auto behavior() {
    return troupe::behavior([this](Hold) {
      holding_.fetch_add(1);
      while (!let_go_.load()) std::this_thread::sleep_for(1ms);
    });
  }

 private:
  std::atomic<int>& holding_;
  std::atomic<bool>& let_go_;
};

}  // namespace

TEST_SUITE("shutdown") {

TEST_CASE("a shutdown with messages in flight loses nothing: handled + dead letters == sent") {
  std::atomic<std::uint64_t> sent_work{0}, handled_work{0}, dead_work{0};
  std::atomic<std::uint64_t> sent_pump{0}, handled_pump{0}, dead_pump{0}, dead_other{0};
  std::atomic<std::uint64_t> exits{0}, shutdown_exits{0};
  troupe::Config config{.workers = 2};
  config.on_dead_letter = [&](const troupe::DeadLetter& d) {
    if (d.message_type == troupe::message_type<Work>.name) {
      dead_work.fetch_add(1);
    } else if (d.message_type == troupe::message_type<Pump>.name) {
      dead_pump.fetch_add(1);
    } else {
      dead_other.fetch_add(1);
    }
  };
  config.on_actor_exit = [&](const troupe::ExitInfo& info) {
    exits.fetch_add(1);
    if (info.reason.kind == troupe::ExitReason::Kind::shutdown) shutdown_exits.fetch_add(1);
  };
  troupe::System system(std::move(config));

  constexpr int kReceivers = 4, kSenders = 4;
  std::vector<troupe::Handle<void(Work)>> receivers;
  for (int i = 0; i < kReceivers; ++i) {
    receivers.push_back(system.spawn([&](troupe::Context&) {
      return troupe::behavior([&](Work) { handled_work.fetch_add(1, std::memory_order_relaxed); });
    }));
  }
  // Each sender sends a burst to every receiver, then pumps itself to go on: it never stops.
  std::vector<troupe::Handle<void(Pump)>> senders;
  for (int s = 0; s < kSenders; ++s) {
    senders.push_back(system.spawn([&](troupe::Context& self) {
      return troupe::behavior([&](Pump) {
        handled_pump.fetch_add(1, std::memory_order_relaxed);
        for (int i = 0; i < 64; ++i) {
          sent_work.fetch_add(1, std::memory_order_relaxed);
          receivers[static_cast<std::size_t>(i) % receivers.size()].send(Work{i});
        }
        sent_pump.fetch_add(1, std::memory_order_relaxed);
        self.self().send(Pump{});
      });
    }));
  }
  for (auto& s : senders) {
    sent_pump.fetch_add(1);
    s.send(Pump{});
  }
  REQUIRE(eventually([&] { return handled_work.load() > 50'000; }, 30s));
  system.shutdown();

  INFO("work: sent " << sent_work.load() << ", handled " << handled_work.load() << ", dead " << dead_work.load());
  INFO("pump: sent " << sent_pump.load() << ", handled " << handled_pump.load() << ", dead " << dead_pump.load());
  CHECK(sent_work.load() == handled_work.load() + dead_work.load());
  CHECK(sent_pump.load() == handled_pump.load() + dead_pump.load());
  CHECK(dead_other.load() == 0);
  CHECK(system.dead_letters() == dead_work.load() + dead_pump.load());
  CHECK(dead_pump.load() >= 1);  // the senders were stopped mid-flight
  CHECK(system.live_actors() == 0);
  CHECK(exits.load() == kReceivers + kSenders);
  CHECK(shutdown_exits.load() == kReceivers + kSenders);
  system.shutdown();  // idempotent
}

TEST_CASE("shutdown answers a request awaited by a suspended coroutine with system_shutdown") {
  troupe::System system(troupe::Config{.workers = 2});
  std::atomic<bool> asked{false};
  struct Slow {};
  // Answers only once shutdown has begun, so its reply never comes before it, however slow the
  // machine; any turn of `waiting` from then on stops it first.
  auto slow = system.spawn(troupe::SpawnOptions{.blocking = true}, [&](troupe::Context&) {
    return troupe::behavior([&](Slow) {
      asked.store(true);
      while (!system.stopping()) std::this_thread::sleep_for(1ms);
      return 1;
    });
  });
  struct Start {};
  auto waiting = system.spawn([slow](troupe::Context& self) {
    return troupe::behavior([&self, slow](Start) -> troupe::Task<int> {
      auto r = co_await self.request(slow, Slow{}, 10s);
      co_return r.value_or(-1);
    });
  });
  std::atomic<int> code{-1};
  std::thread requester([&] {
    troupe::ScopedActor me(system);
    auto r = me.request(waiting, Start{}, 10s);
    code.store(r.ok() ? 0 : static_cast<int>(r.code()));
  });
  REQUIRE(eventually([&] { return asked.load(); }));
  system.shutdown();
  requester.join();
  CHECK(code.load() == static_cast<int>(troupe::Errc::system_shutdown));
  CHECK(system.live_actors() == 0);
}

TEST_CASE("destroying a system with idle actors does not hang, and stops them all") {
  std::atomic<int> exits{0};
  const auto start = Clock::now();
  {
    troupe::Config config{.workers = 2};
    config.on_actor_exit = [&](const troupe::ExitInfo& info) {
      if (info.reason.kind == troupe::ExitReason::Kind::shutdown) exits.fetch_add(1);
    };
    troupe::System system(std::move(config));
    for (int i = 0; i < 1000; ++i) {
      system.spawn([](troupe::Context&) { return troupe::behavior([](Work w) { return w.n; }); });
    }
    system.spawn(troupe::SpawnOptions{.blocking = true},
                 [](troupe::Context&) { return troupe::behavior([](Work w) { return w.n; }); });
    // Periodic timers do not keep it alive; pending one-shot timers are waited for.
    troupe::ScopedActor me(system);
    system.send_every(me.handle(), 1h, Work{0});
  }
  CHECK(exits.load() == 1001);
  // Far above what it takes (milliseconds; a loaded sanitizer build may stall for seconds), and
  // far below the hour a destructor that waited for the periodic timer would take.
  CHECK(ms_since(start) < 5min);
}

TEST_CASE("actors spawned while the system shuts down each stop exactly once, and the shutdown ends") {
  // A spawn puts the new actor in the system's live set, then starts it; shutdown walks that set
  // and sends each actor its stop signal. It used to reach actors between those two steps: the
  // signal, the first push to a new mailbox, scheduled the actor, and its start scheduled it
  // again. Queued twice, it broke the run queues: other actors were never run again, and shutdown
  // waited for them for ever (in 6 runs of this case, by its round 1 to 90). Two actors
  // spawn here as fast as they can while the system shuts down.
  struct Grow {};
  for (std::uint64_t round = 0; round < scaled(300); ++round) {
    std::atomic<std::uint64_t> spawned{0}, exits{0};
    {
      troupe::Config config{.workers = 2};
      config.on_actor_exit = [&](const troupe::ExitInfo&) { exits.fetch_add(1); };
      troupe::System system(std::move(config));
      for (int breeder = 0; breeder < 2; ++breeder) {
        auto b = system.spawn([&](troupe::Context& self) {
          return troupe::behavior([&](Grow) {
            for (int i = 0; i < 8; ++i) {
              system.spawn([](troupe::Context&) { return troupe::behavior([](Work w) { return w.n; }); });
            }
            spawned.fetch_add(8);
            self.self().send(Grow{});
          });
        });
        spawned.fetch_add(1);
        b.send(Grow{});
      }
      REQUIRE(eventually([&] { return spawned.load() >= 10; }));
      system.shutdown();
      CHECK(system.live_actors() == 0);
    }
    REQUIRE(exits.load() == spawned.load());
  }
}

TEST_CASE("a shutdown kept waiting by handlers that do not end says which actors it waits for") {
  LogRecorder log;
  std::atomic<int> holding{0};
  std::atomic<bool> let_go{false};
  troupe::System system(troupe::Config{.workers = 2, .log = log.config(troupe::LogLevel::warning)});
  system.spawn<Holder>(troupe::SpawnOptions{.blocking = true}, std::ref(holding), std::ref(let_go)).send(Hold{});
  system.spawn<Holder>(std::ref(holding), std::ref(let_go)).send(Hold{});  // holds a worker
  REQUIRE(eventually([&] { return holding.load() == 2; }));
  std::thread closer([&] { system.shutdown(); });
  // The first report comes after a second; the next ten seconds later.
  REQUIRE(eventually([&] { return !log.named("shutdown_waiting").empty(); }));
  const auto report = log.named("shutdown_waiting").front();
  CHECK(report.level == troupe::LogLevel::warning);
  CHECK(report.field("waiting_for") == "2");
  CHECK(contains(report.message, "shutdown has waited 1 s for 2 actors to stop: "));
  CHECK(contains(report.message, "Holder (blocking: in a handler on its own thread)"));
  CHECK(contains(report.message, "Holder (in a turn, or waiting for a worker)"));
  CHECK(system.live_actors() == 2);
  let_go = true;
  closer.join();
  CHECK(system.live_actors() == 0);
  CHECK(log.named("shutdown_waiting").size() == 1);
}

TEST_CASE("the destructor waits for work in flight, then stops") {
  std::atomic<std::uint64_t> handled{0};
  const std::uint64_t total = scaled(100'000);
  {
    troupe::System system(troupe::Config{.workers = 2});
    auto sink = system.spawn([&](troupe::Context&) {
      return troupe::behavior([&](Work) { handled.fetch_add(1, std::memory_order_relaxed); });
    });
    for (std::uint64_t i = 0; i < total; ++i) sink.send(Work{1});
    system.send_after(sink, 50ms, Work{2});  // a pending one-shot timer is waited for too
  }
  CHECK(handled.load() == total + 1);
}

TEST_CASE("wait_idle: true once idle; false while a one-shot timer is pending or work runs") {
  troupe::System system(troupe::Config{.workers = 2});
  CHECK(system.wait_idle(5s));
  CHECK(system.worker_count() == 2);
  std::atomic<std::uint64_t> handled{0};
  auto sink = system.spawn([&](troupe::Context&) {
    return troupe::behavior([&](Work) { handled.fetch_add(1, std::memory_order_relaxed); });
  });
  const std::uint64_t total = scaled(200'000);
  for (std::uint64_t i = 0; i < total; ++i) sink.send(Work{1});
  CHECK(system.wait_idle());
  CHECK(handled.load() == total);  // idle means every message was handled

  auto timer = system.send_after(sink, 2s, Work{2});  // far enough that no stall lets it fire first
  CHECK_FALSE(system.wait_idle(50ms));
  CHECK(system.wait_idle(10s));
  CHECK(handled.load() == total + 1);
  CHECK_FALSE(timer.active());

  auto cancelled = system.send_after(sink, 10min, Work{3});
  CHECK_FALSE(system.wait_idle(20ms));
  CHECK(cancelled.cancel());
  CHECK(system.wait_idle(5s));

  std::atomic<bool> release{false};
  auto busy = system.spawn([&](troupe::Context&) {
    return troupe::behavior([&](Work) {
      const auto deadline = Clock::now() + 10s;
      while (!release.load() && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
    });
  });
  busy.send(Work{0});
  CHECK_FALSE(system.wait_idle(50ms));
  release.store(true);
  CHECK(system.wait_idle(10s));
}

}  // TEST_SUITE
