// The deterministic scheduler and the manual-clock timer service: no threads, turns in an order
// fixed by the seed, timers that fire only when told, in due order.
#include <troupe/runtime/deterministic_scheduler.hpp>
#include <troupe/runtime/timer_service.hpp>

#include "runtime/test_actor.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <set>
#include <thread>
#include <vector>

using troupe::runtime::DeterministicScheduler;
using troupe::runtime::TimerService;
using namespace troupe_test;

namespace {

// Four actors with a message each and budget 1; each handled message is forwarded twice more to
// the same actor. Returns the order of handled messages as actor indices.
std::vector<int> run_order(std::uint64_t seed) {
  DeterministicScheduler scheduler(seed);
  std::vector<int> order;
  std::vector<TestActor*> actors;
  for (int i = 0; i < 4; ++i) {
    actors.push_back(new TestActor(
        &scheduler,
        [&order, i](TestActor& self, TestMessage& m) {
          order.push_back(i);
          if (m.value > 0) self.enqueue(new TestMessage(m.value - 1));
        },
        1));
  }
  for (auto* a : actors) a->enqueue(new TestMessage(2));
  CHECK_FALSE(scheduler.idle());
  scheduler.run_until_idle();
  CHECK(scheduler.idle());
  CHECK_FALSE(scheduler.run_one());
  for (auto* a : actors) a->release();
  return order;
}

struct Fired final : troupe::runtime::TimerTask {
  Fired(std::vector<int>& log, int id) : log_(log), id_(id) {}
  void fire() noexcept override { log_.push_back(id_); }
  std::vector<int>& log_;
  int id_;
};

}  // namespace

TEST_SUITE("deterministic scheduler") {

TEST_CASE("turns run on the calling thread, in the same order for the same seed, in other orders for others") {
  const std::vector<int> first = run_order(42);
  REQUIRE(first.size() == 12u);
  CHECK(run_order(42) == first);
  std::set<std::vector<int>> distinct;
  for (std::uint64_t seed = 0; seed < 30; ++seed) distinct.insert(run_order(seed));
  CHECK(distinct.size() >= 2u);

  DeterministicScheduler scheduler(1);
  std::thread::id where;
  auto* actor = new TestActor(&scheduler, [&where](TestActor&, TestMessage&) { where = std::this_thread::get_id(); });
  actor->enqueue(new TestMessage());
  CHECK(scheduler.run_one());
  CHECK(where == std::this_thread::get_id());
  CHECK(scheduler.turns() == 1u);
  actor->release();
}

TEST_CASE("a manual clock: timers fire only through fire_next, in due order, moving the clock") {
  TimerService timers(TimerService::ManualClock{});
  CHECK(timers.manual());
  const auto zero = TimerService::Clock::time_point{};
  CHECK(timers.now() == zero);
  std::vector<int> log;
  timers.run_after(3s, std::make_unique<Fired>(log, 3));
  timers.run_after(1s, std::make_unique<Fired>(log, 1));
  auto cancelled = timers.run_after(2s, std::make_unique<Fired>(log, 2));
  auto ticks = timers.run_every(1500ms, std::make_unique<Fired>(log, 0));
  CHECK(cancelled.cancel());
  CHECK(timers.next_due(false) == zero + 1s);
  CHECK(timers.next_due(true) == zero + 1s);
  CHECK_FALSE(timers.fire_next(zero + 500ms));  // nothing due yet
  CHECK(timers.now() == zero);
  while (timers.fire_next(zero + 3s)) {
  }
  CHECK(log == std::vector<int>{1, 0, 3, 0});  // 1s, 1.5s, 3s, and the tick at 3s after the one-shot
  CHECK(timers.now() == zero + 3s);
  CHECK_FALSE(timers.next_due(false).has_value());
  CHECK(timers.next_due(true) == zero + 4500ms);
  timers.advance_clock_to(zero + 4s);
  CHECK(timers.now() == zero + 4s);
  timers.advance_clock_to(zero + 1s);  // never back
  CHECK(timers.now() == zero + 4s);
  CHECK(ticks.cancel());
  CHECK_FALSE(timers.fire_next(zero + 1h));
}

}  // TEST_SUITE
