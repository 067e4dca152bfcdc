// The worker pool, through the Scheduler and a minimal ActorCore: every message handled once,
// turns of one actor never overlap, stealing, budgets, quiescence.
#include <troupe/runtime/scheduler.hpp>

#include "runtime/test_actor.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

using troupe::runtime::Scheduler;
using troupe::runtime::SchedulerConfig;
using namespace troupe_test;

constexpr unsigned ActorCoreBudget = troupe::runtime::ActorCore::default_budget;

namespace {

std::chrono::steady_clock::time_point in(std::chrono::milliseconds d) { return Clock::now() + d; }

// Owns references to test actors and drops them at the end.
struct Actors {
  std::vector<TestActor*> list;
  ~Actors() {
    for (auto* a : list) a->release();
  }
};

}  // namespace

TEST_SUITE("scheduler") {

TEST_CASE("every message is handled exactly once, turns never overlap, the pool goes quiescent") {
  Scheduler pool(SchedulerConfig{4});
  REQUIRE(pool.worker_count() == 4);
  constexpr unsigned kActors = 64;
  constexpr std::uint64_t kHops = 3;  // each message is forwarded 3 times, from inside a turn
  const std::uint64_t per_thread = scaled(20'000);
  constexpr unsigned kThreads = 2;

  std::atomic<std::uint64_t> handled{0};
  std::atomic<std::uint64_t> bad_worker_index{0};
  std::atomic<unsigned> workers_seen{0};  // bit per worker index
  Actors actors;
  for (unsigned i = 0; i < kActors; ++i) {
    actors.list.push_back(new TestActor(&pool, [&, i](TestActor&, TestMessage& m) {
      const int w = Scheduler::current_worker_index();
      if (w < 0 || w >= 4) {
        bad_worker_index.fetch_add(1, std::memory_order_relaxed);
      } else {
        workers_seen.fetch_or(1u << w, std::memory_order_relaxed);
      }
      handled.fetch_add(1, std::memory_order_relaxed);
      if (m.value > 0) actors.list[(i * 7 + m.value) % kActors]->enqueue(new TestMessage(m.value - 1));
    }));
  }

  std::vector<std::thread> producers;
  for (unsigned t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (std::uint64_t i = 0; i < per_thread; ++i) actors.list[(i + t) % kActors]->enqueue(new TestMessage(kHops));
    });
  }
  for (auto& p : producers) p.join();

  const std::uint64_t expected = kThreads * per_thread * (kHops + 1);
  CHECK(eventually([&] { return handled.load() == expected; }, 60s));
  CHECK(pool.wait_quiescent(in(10s)));
  CHECK(pool.quiescent());
  CHECK(handled.load() == expected);
  std::uint64_t sum = 0;
  for (auto* a : actors.list) {
    CHECK(a->overlaps() == 0);
    sum += a->handled();
  }
  CHECK(sum == expected);
  CHECK(bad_worker_index.load() == 0);
  CHECK(workers_seen.load() != 0);
  CHECK(Scheduler::current_worker_index() == -1);
}

TEST_CASE("actors queued behind a busy worker are stolen by the others") {
  Scheduler pool(SchedulerConfig{2});
  constexpr unsigned kWoken = 50;
  std::atomic<unsigned> woken_done{0};
  std::atomic<int> busy_worker{-1};
  std::atomic<unsigned> stolen_on_other_worker{0};
  std::atomic<unsigned> seen_during_busy_turn{0};

  Actors woken;
  for (unsigned i = 0; i < kWoken; ++i) {
    woken.list.push_back(new TestActor(&pool, [&](TestActor&, TestMessage&) {
      if (Scheduler::current_worker_index() != busy_worker.load()) stolen_on_other_worker.fetch_add(1);
      woken_done.fetch_add(1);
    }));
  }
  // One turn wakes 50 actors on its own worker (LIFO slot, then its deque), then stays busy until
  // all but the LIFO slot's occupant have run: only other workers can have run them.
  auto* busy = new TestActor(&pool, [&](TestActor&, TestMessage&) {
    busy_worker.store(Scheduler::current_worker_index());
    for (auto* a : woken.list) a->enqueue(new TestMessage());
    const auto deadline = Clock::now() + 10s;
    while (woken_done.load() < kWoken - 1 && Clock::now() < deadline) std::this_thread::yield();
    seen_during_busy_turn.store(woken_done.load());
  });
  Actors keep{{busy}};
  busy->enqueue(new TestMessage());

  CHECK(eventually([&] { return woken_done.load() == kWoken; }, 20s));
  CHECK(pool.wait_quiescent(in(10s)));
  CHECK(seen_during_busy_turn.load() >= kWoken - 1);
  CHECK(stolen_on_other_worker.load() >= kWoken - 1);
}

TEST_CASE("a turn returning `more` is run again; a preloaded flood takes budget-sized turns") {
  Scheduler pool(SchedulerConfig{2});
  constexpr std::uint16_t kBudget = 10;
  constexpr std::uint64_t kMessages = 1000;
  auto* actor = new TestActor(&pool, [](TestActor&, TestMessage&) {}, kBudget);
  Actors keep{{actor}};
  bool must_schedule = false;
  for (std::uint64_t i = 0; i < kMessages; ++i) must_schedule |= actor->preload(new TestMessage(i));
  REQUIRE(must_schedule);  // the first push found the new mailbox empty
  pool.schedule(actor);
  CHECK(eventually([&] { return actor->handled() == kMessages; }));
  CHECK(pool.wait_quiescent(in(10s)));
  CHECK(actor->max_turn() == kBudget);
  CHECK(actor->turns() >= kMessages / kBudget);
  CHECK(actor->overlaps() == 0);
}

TEST_CASE("one worker: an actor scheduled after a flood runs before the flood is done") {
  Scheduler pool(SchedulerConfig{1});
  // Holds the only worker until both the flood and the other actor are queued.
  std::atomic<bool> blocked{false}, released{false};
  auto* blocker = new TestActor(&pool, [&](TestActor&, TestMessage&) {
    blocked.store(true);
    const auto deadline = Clock::now() + 20s;
    while (!released.load() && Clock::now() < deadline) std::this_thread::yield();
  });
  const std::uint64_t kFlood = 100'000;
  auto* flood = new TestActor(&pool, [](TestActor&, TestMessage&) {});
  std::atomic<std::uint64_t> flood_handled_when_other_ran{~std::uint64_t{0}};
  auto* other = new TestActor(&pool, [&](TestActor&, TestMessage&) {
    flood_handled_when_other_ran.store(flood->handled());
  });
  Actors keep{{blocker, flood, other}};
  blocker->enqueue(new TestMessage());
  REQUIRE(eventually([&] { return blocked.load(); }));
  for (std::uint64_t i = 0; i < kFlood; ++i) (void)flood->preload(new TestMessage(i));
  pool.schedule(flood);
  other->enqueue(new TestMessage());
  released.store(true);
  CHECK(eventually([&] { return flood->handled() == kFlood && other->handled() == 1; }, 30s));
  CHECK(pool.wait_quiescent(in(10s)));
  INFO("flood messages handled before the other actor's turn: " << flood_handled_when_other_ran.load());
  CHECK(flood_handled_when_other_ran.load() < kFlood);
  CHECK(flood->max_turn() <= ActorCoreBudget);
}

TEST_CASE("quiescence: holds keep the pool busy; wait_quiescent honours its deadline") {
  Scheduler pool(SchedulerConfig{2});
  CHECK(pool.wait_quiescent(in(10s)));
  pool.hold();
  CHECK_FALSE(pool.quiescent());
  const auto start = Clock::now();
  CHECK_FALSE(pool.wait_quiescent(in(50ms)));
  CHECK(ms_since(start) >= 50ms);
  pool.unhold();
  CHECK(pool.wait_quiescent(in(10s)));

  // Work in flight is not quiescent; finished work is.
  std::atomic<bool> release{false};
  auto* slow = new TestActor(&pool, [&](TestActor&, TestMessage&) {
    while (!release.load()) std::this_thread::yield();
  });
  Actors keep{{slow}};
  slow->enqueue(new TestMessage());
  CHECK_FALSE(pool.wait_quiescent(in(50ms)));
  release.store(true);
  CHECK(pool.wait_quiescent(in(10s)));
  CHECK(slow->handled() == 1);
}

TEST_CASE("default worker count and stopping an idle pool") {
  auto pool = std::make_unique<Scheduler>();
  CHECK(pool->worker_count() >= 1);
  CHECK(pool->wait_quiescent(in(10s)));
  pool->stop();
  pool->stop();  // idempotent
  pool.reset();
}

}  // TEST_SUITE
