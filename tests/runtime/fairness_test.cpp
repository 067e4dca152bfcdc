// Fairness: an actor with a long queue does not starve others, and budgets bound its turns.
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

using namespace troupe_test;

namespace {

struct Block {};
struct Flood {};
struct Poke {};

// An actor whose handler holds the system's only worker until released, so a test can queue
// work exactly as it wants before anything runs.
struct WorkerGate {
  std::atomic<bool> blocked{false};
  std::atomic<bool> released{false};

  template <class H>
  void close(const H& blocker) {
    blocker.send(Block{});
    REQUIRE(eventually([&] { return blocked.load(); }));
  }
  void open() { released.store(true); }
};

auto spawn_blocker(troupe::System& system, WorkerGate& gate) {
  return system.spawn([&gate](troupe::Context&) {
    return troupe::behavior([&gate](Block) {
      gate.blocked.store(true);
      const auto deadline = Clock::now() + 20s;  // bounds a failing test only
      while (!gate.released.load() && Clock::now() < deadline) std::this_thread::yield();
    });
  });
}

// Floods an actor with budget `budget` (or the system's, when `via_config`) and records, from a
// probe actor it wakes on every message, how many floods the flooder had handled each time the
// probe ran. Returns those counts.
std::vector<std::uint64_t> probe_turn_boundaries(std::uint16_t budget, bool via_config, std::uint64_t flood) {
  // The run loop's own fairness, as below: the safety net off, or a turn held up for 10 ms (a
  // worker thread the OS set aside on a busy machine) would start a compensating worker, and the
  // probe would run beside the flooder instead of between its turns (stuck_turn_test.cpp).
  troupe::Config config{.workers = 1, .stuck_turn = std::chrono::microseconds{0}};
  if (via_config) config.budget = budget;
  troupe::System system(std::move(config));
  WorkerGate gate;
  auto blocker = spawn_blocker(system, gate);

  std::mutex mutex;
  std::vector<std::uint64_t> observed;
  std::atomic<std::uint64_t> handled{0};  // floods the flooder has handled
  auto probe = system.spawn(troupe::SpawnOptions{.budget = 1000}, [&](troupe::Context&) {
    return troupe::behavior([&](Poke) {
      std::lock_guard lock(mutex);
      observed.push_back(handled.load());
    });
  });
  REQUIRE(system.wait_idle(10s));

  gate.close(blocker);  // the only worker is busy: the whole flood is queued before it runs
  const troupe::SpawnOptions options{.budget = via_config ? std::uint16_t{0} : budget};
  auto flooder = system.spawn(options, [&](troupe::Context&) {
    return troupe::behavior([&](Flood) {
      handled.fetch_add(1);
      probe.send(Poke{});
    });
  });
  for (std::uint64_t i = 0; i < flood; ++i) flooder.send(Flood{});
  gate.open();
  REQUIRE(system.wait_idle(30s));
  CHECK(handled.load() == flood);
  std::lock_guard lock(mutex);
  CHECK(observed.size() == flood);
  return observed;
}

void check_turns_bounded_by(std::uint16_t budget, const std::vector<std::uint64_t>& observed, std::uint64_t total) {
  // With one worker the probe can only run between the flooder's turns, so every count it saw
  // is a turn boundary.
  std::set<std::uint64_t> boundaries(observed.begin(), observed.end());
  REQUIRE(boundaries.size() >= 2);
  CHECK(*boundaries.begin() < total);  // the probe ran before the flood was done
  CHECK(*boundaries.rbegin() == total);
  // The probe, ready since the flooder's first message, got a turn after every flooder turn; and
  // every flooder turn but the first (which may also build the state) and the last was a full
  // budget: so the budget is both respected and used.
  std::uint64_t previous = 0;
  std::size_t i = 0;
  for (std::uint64_t b : boundaries) {
    const std::uint64_t turn = b - previous;
    CAPTURE(i);
    CAPTURE(b);
    CHECK(turn <= budget);
    if (i > 0 && b != total) CHECK(turn == budget);
    previous = b;
    ++i;
  }
}

}  // namespace

TEST_SUITE("fairness") {

TEST_CASE("one worker: a message sent after a 100k flood is handled before the flood completes") {
  // The run loop's own fairness: the safety net off, or the gate's long turn would let a
  // compensating worker drain the flood while it is being sent (stuck_turn_test.cpp).
  troupe::System system(troupe::Config{.workers = 1, .stuck_turn = std::chrono::microseconds{0}});
  WorkerGate gate;
  auto blocker = spawn_blocker(system, gate);
  constexpr std::uint64_t kFlood = 100'000;
  std::atomic<std::uint64_t> flooded{0};
  std::atomic<std::uint64_t> flooded_when_poked{~std::uint64_t{0}};
  auto flooder = system.spawn([&](troupe::Context&) {
    return troupe::behavior([&](Flood) { flooded.fetch_add(1, std::memory_order_relaxed); });
  });
  auto other = system.spawn([&](troupe::Context&) {
    return troupe::behavior([&](Poke) { flooded_when_poked.store(flooded.load()); });
  });
  REQUIRE(system.wait_idle(10s));

  gate.close(blocker);  // the only worker is busy: everything below queues up
  for (std::uint64_t i = 0; i < kFlood; ++i) flooder.send(Flood{});
  other.send(Poke{});
  gate.open();

  REQUIRE(system.wait_idle(60s));
  CHECK(flooded.load() == kFlood);
  INFO("flood messages handled before the poke: " << flooded_when_poked.load());
  CHECK(flooded_when_poked.load() < kFlood);
  // Bounded by how often the pool looks at its injection queue, not by the flood's length.
  CHECK(flooded_when_poked.load() <= kFlood / 4);
}

TEST_CASE("SpawnOptions::budget bounds an actor's turns") {
  constexpr std::uint64_t kFlood = 700;
  for (std::uint16_t budget : {std::uint16_t{1}, std::uint16_t{7}, std::uint16_t{30}}) {
    CAPTURE(budget);
    check_turns_bounded_by(budget, probe_turn_boundaries(budget, false, kFlood), kFlood);
  }
}

TEST_CASE("Config::budget is the default budget; the default is 100") {
  constexpr std::uint64_t kFlood = 700;
  check_turns_bounded_by(13, probe_turn_boundaries(13, true, kFlood), kFlood);
  // Neither set: 100.
  check_turns_bounded_by(100, probe_turn_boundaries(0, false, kFlood), kFlood);
}

}  // TEST_SUITE
