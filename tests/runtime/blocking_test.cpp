// Blocking actors run on threads of their own: a handler that sleeps does not stall the pool.
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

using namespace troupe_test;

namespace {

struct Nap {
  int ms;
};
struct Ping {
  int n;
};
struct IsNapping {};

}  // namespace

TEST_SUITE("blocking") {

TEST_CASE("a blocking actor sleeping in its handler does not stall a 1-worker pool") {
  troupe::System system(troupe::Config{.workers = 1});
  std::atomic<bool> napping{false};
  std::atomic<bool> wake_up{false};
  std::atomic<int> naps{0};
  // Sleeps `ms`, or until woken early.
  auto sleeper = system.spawn(troupe::SpawnOptions{.blocking = true}, [&](troupe::Context&) {
    return troupe::behavior([&](Nap n) {
      napping.store(true);
      const auto until = Clock::now() + std::chrono::milliseconds(n.ms);
      while (Clock::now() < until && !wake_up.load()) std::this_thread::sleep_for(1ms);
      napping.store(false);
      naps.fetch_add(1);
    });
  });
  // The echo answers whether the sleeper was asleep at the moment it handled the request.
  auto echo = system.spawn([&](troupe::Context&) {
    return troupe::behavior([&](Ping p) { return p.n; }, [&](IsNapping) { return napping.load(); });
  });
  troupe::ScopedActor me(system);
  REQUIRE(me.request(echo, Ping{1}).value() == 1);

  // A nap until woken: while it lasts, the only worker answers many requests. (Until woken, not
  // a fixed length: a loaded machine may take longer than any nap to answer.)
  sleeper.send(Nap{60'000});
  REQUIRE(eventually([&] { return napping.load(); }));
  int answered_during_nap = 0;
  for (int i = 0; i < 100; ++i) {
    auto during = me.request(echo, IsNapping{}, 5s);
    if (during.ok() && *during) ++answered_during_nap;
  }
  CHECK(answered_during_nap == 100);
  CHECK_FALSE(system.wait_idle(20ms));  // the napping blocking actor keeps the system busy
  wake_up.store(true);
  REQUIRE(system.wait_idle(10s));
  CHECK(naps.load() == 1);
  CHECK_FALSE(napping.load());

  // A 300 ms nap that ends on its own: wait_idle waits for it.
  wake_up.store(false);
  sleeper.send(Nap{300});
  REQUIRE(system.wait_idle(10s));
  CHECK(naps.load() == 2);
  CHECK_FALSE(napping.load());
}

TEST_CASE("a blocking actor answers requests in order and stops like any other") {
  std::atomic<int> exits{0};
  troupe::Config config{.workers = 1};
  config.on_actor_exit = [&](const troupe::ExitInfo&) { exits.fetch_add(1); };
  troupe::System system(std::move(config));
  struct Stop {};
  auto worker = system.spawn(troupe::SpawnOptions{.blocking = true}, [](troupe::Context& self) {
    return troupe::behavior(
        [](Ping p) {
          std::this_thread::sleep_for(1ms);
          return p.n * 10;
        },
        [&self](Stop) { self.quit(); });
  });
  troupe::ScopedActor me(system);
  for (int i = 0; i < 20; ++i) CHECK(me.request(worker, Ping{i}).value() == i * 10);
  worker.send(Stop{});
  REQUIRE(eventually([&] { return exits.load() == 1; }));
  CHECK(me.request(worker, Ping{1}).code() == troupe::Errc::dead_actor);
  CHECK(system.live_actors() == 0);
  // Spawning more reaps the finished thread; many blocking actors at once each get their own.
  std::atomic<int> concurrent{0}, peak{0};
  std::vector<troupe::Handle<void(Nap)>> sleepers;
  for (int i = 0; i < 4; ++i) {
    sleepers.push_back(system.spawn(troupe::SpawnOptions{.blocking = true}, [&](troupe::Context&) {
      return troupe::behavior([&](Nap n) {
        const int now = concurrent.fetch_add(1) + 1;
        int p = peak.load();
        while (now > p && !peak.compare_exchange_weak(p, now)) {
        }
        // Sleep until all four sleep at once (or `n.ms` passed: then they ran one after another).
        const auto until = Clock::now() + std::chrono::milliseconds(n.ms);
        while (peak.load() < 4 && Clock::now() < until) std::this_thread::sleep_for(1ms);
        concurrent.fetch_sub(1);
      });
    }));
  }
  for (auto& s : sleepers) s.send(Nap{20'000});  // ends as soon as all four sleep at once
  REQUIRE(system.wait_idle(60s));
  CHECK(peak.load() == 4);  // all four slept at once, on one worker's system
}

}  // TEST_SUITE
