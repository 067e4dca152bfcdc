// The worker pool, through the Scheduler and a minimal ActorCore: every message handled once,
// turns of one actor never overlap, stealing, budgets, quiescence.
#include <troupe/runtime/scheduler.hpp>

#include "runtime/test_actor.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

using troupe::runtime::Scheduler;
using troupe::runtime::SchedulerConfig;
using namespace troupe_test;

constexpr unsigned ActorCoreBudget = troupe::runtime::ActorCore::default_budget;

namespace {

std::chrono::steady_clock::time_point in(std::chrono::milliseconds d) { return Clock::now() + d; }

// The threads of this process named as pool workers ("troupe-w<index>", worker.cpp).
unsigned worker_threads() {
  unsigned n = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream comm(task.path() / "comm");
    std::string name;
    if (!std::getline(comm, name) || name.size() <= 8 || name.rfind("troupe-w", 0) != 0) continue;
    n += std::all_of(name.begin() + 8, name.end(), [](char c) { return c >= '0' && c <= '9'; }) ? 1 : 0;
  }
  return n;
}

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
  constexpr unsigned kSenders = kActors + kThreads;  // senders 0..63 are actors, then the threads

  // Every message has its own number, `key`: its origin (thread t, send i) and the hops it has
  // left. Each is counted as it is handled, so a loss cannot hide behind a duplicate. Each also
  // carries its sender and its place in that sender's stream to its receiver (FIFO per pair).
  const std::uint64_t kKeys = kThreads * per_thread * (kHops + 1);
  std::vector<std::atomic<std::uint8_t>> handled_times(kKeys);
  // Written by the sender before the enqueue, read by the receiver after it pops the message.
  std::vector<unsigned> from(kKeys);
  std::vector<std::uint32_t> place(kKeys);
  // next[sender][receiver]: only the sender touches its row; last[receiver][sender]: only the
  // receiver (one turn at a time) touches its row.
  std::vector<std::uint32_t> next(kSenders * kActors, 0);
  std::vector<std::uint32_t> last(kActors * kSenders, 0);
  std::atomic<std::uint64_t> out_of_order{0};

  std::atomic<std::uint64_t> handled{0};
  std::atomic<std::uint64_t> bad_worker_index{0};
  std::atomic<unsigned> workers_seen{0};  // bit per worker index
  Actors actors;
  auto send = [&](unsigned sender, unsigned receiver, std::uint64_t key) {
    from[key] = sender;
    place[key] = ++next[sender * kActors + receiver];
    actors.list[receiver]->enqueue(new TestMessage(key));
  };
  for (unsigned i = 0; i < kActors; ++i) {
    actors.list.push_back(new TestActor(&pool, [&, i](TestActor&, TestMessage& m) {
      const int w = Scheduler::current_worker_index();
      // 0-3, or 4-7 on a compensating worker: a turn that the machine's load stretches past
      // stuck_turn is covered like a long handler's (watchdog.hpp).
      if (w < 0 || w >= 8) {
        bad_worker_index.fetch_add(1, std::memory_order_relaxed);
      } else {
        workers_seen.fetch_or(1u << w, std::memory_order_relaxed);
      }
      const std::uint64_t key = m.value;
      handled_times[key].fetch_add(1, std::memory_order_relaxed);
      std::uint32_t& seen = last[i * kSenders + from[key]];
      if (place[key] != seen + 1) out_of_order.fetch_add(1, std::memory_order_relaxed);
      seen = place[key];
      handled.fetch_add(1, std::memory_order_relaxed);
      const std::uint64_t hops = key % (kHops + 1);
      if (hops > 0) send(i, static_cast<unsigned>((i * 7 + hops) % kActors), key - 1);
    }));
  }

  std::vector<std::thread> producers;
  for (unsigned t = 0; t < kThreads; ++t) {
    producers.emplace_back([&, t] {
      for (std::uint64_t i = 0; i < per_thread; ++i) {
        send(kActors + t, static_cast<unsigned>((i + t) % kActors), (t * per_thread + i) * (kHops + 1) + kHops);
      }
    });
  }
  for (auto& p : producers) p.join();

  const std::uint64_t expected = kThreads * per_thread * (kHops + 1);
  CHECK(eventually([&] { return handled.load() == expected; }, 60s));
  CHECK(pool.wait_quiescent(in(10s)));
  CHECK(pool.quiescent());
  CHECK(handled.load() == expected);
  std::uint64_t not_once = 0;
  for (auto& times : handled_times) not_once += times.load() == 1 ? 0 : 1;
  CHECK(not_once == 0);
  CHECK(out_of_order.load() == 0);
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

TEST_CASE("default worker count: one live worker per hardware thread; stop() joins them all") {
  const unsigned before = worker_threads();  // other pools' workers, if any were alive
  auto pool = std::make_unique<Scheduler>();
  const unsigned n = std::max(1u, std::thread::hardware_concurrency());
  REQUIRE(pool->worker_count() == n);
  // At least these n: an earlier pool's joined thread counted in `before` may leave /proc now.
  CHECK(worker_threads() >= n);

  // Every worker runs at once: n actors each wait in their turn until all n have started, and
  // each turn runs on a different worker.
  std::atomic<unsigned> started{0};
  std::mutex mutex;
  std::set<int> indices;
  Actors actors;
  for (unsigned i = 0; i < n; ++i) {
    actors.list.push_back(new TestActor(pool.get(), [&](TestActor&, TestMessage&) {
      {
        std::lock_guard lock(mutex);
        indices.insert(Scheduler::current_worker_index());
      }
      started.fetch_add(1);
      // A bound only for a failing test: n workers that all run get here at once.
      const auto deadline = Clock::now() + 10s;
      while (started.load() < n && Clock::now() < deadline) std::this_thread::yield();
    }));
  }
  for (auto* a : actors.list) a->enqueue(new TestMessage());
  CHECK(pool->wait_quiescent(in(30s)));
  CHECK(started.load() == n);
  {
    std::lock_guard lock(mutex);
    CHECK(indices.size() == n);
    CHECK(*indices.begin() == 0);
    CHECK(*indices.rbegin() == static_cast<int>(n - 1));
  }

  pool->stop();
  // Joined: their threads are gone. A joined thread may still be listed in /proc for a moment
  // (the kernel wakes the joiner as the thread exits, before it takes the thread off the list),
  // so the count is waited for, and may end below `before` (an earlier pool's thread, listed
  // then, gone now); a worker stop() did not join would keep it above.
  CHECK(troupe_test::eventually([&] { return worker_threads() <= before; }));
  pool->stop();  // idempotent
  CHECK(worker_threads() <= before);
  pool.reset();
}

}  // TEST_SUITE
