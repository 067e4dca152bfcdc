// Idle is free: parked workers use no CPU.
#include <troupe/runtime/scheduler.hpp>
#include <troupe/troupe.hpp>

#include "runtime/test_actor.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <sys/resource.h>

#include <thread>

using namespace troupe_test;

namespace {

// CPU time (user + system) of the whole process, every thread included.
std::chrono::microseconds process_cpu_time() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto us = [](const timeval& tv) {
    return std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
  };
  return us(usage.ru_utime) + us(usage.ru_stime);
}

// CPU the process uses over one idle second.
std::chrono::milliseconds cpu_over_idle_second() {
  const auto before = process_cpu_time();
  std::this_thread::sleep_for(1s);
  return std::chrono::duration_cast<std::chrono::milliseconds>(process_cpu_time() - before);
}

constexpr auto kIdleBudget = 50ms;

struct Ping {
  int n;
};

}  // namespace

TEST_SUITE("idle") {

TEST_CASE("an idle scheduler's workers park: no CPU over an idle second") {
  troupe::runtime::Scheduler pool(troupe::runtime::SchedulerConfig{2});
  // Run some work first so the workers have been through the run loop and parked again.
  std::atomic<std::uint64_t> handled{0};
  auto* actor = new TestActor(&pool, [&](TestActor&, TestMessage&) { handled.fetch_add(1); });
  for (int i = 0; i < 10'000; ++i) actor->enqueue(new TestMessage());
  REQUIRE(eventually([&] { return handled.load() == 10'000; }));
  REQUIRE(pool.wait_quiescent(Clock::now() + 10s));
  const auto used = cpu_over_idle_second();
  INFO("CPU used while idle: " << used.count() << " ms");
  CHECK(used < kIdleBudget);
  actor->release();
}

TEST_CASE("an idle system (workers, timer thread, idle actors) uses no CPU") {
  troupe::System system(troupe::Config{.workers = 2});
  auto echo = system.spawn([](troupe::Context&) { return troupe::behavior([](Ping p) { return p.n; }); });
  {
    troupe::ScopedActor me(system);
    for (int i = 0; i < 1000; ++i) REQUIRE(me.request(echo, Ping{i}).value() == i);
  }
  // A periodic timer far in the future must not make the timer thread poll either.
  auto timer = system.send_every(echo, 1h, Ping{0});
  REQUIRE(system.wait_idle(10s));
  const auto used = cpu_over_idle_second();
  INFO("CPU used while idle: " << used.count() << " ms");
  CHECK(used < kIdleBudget);
  CHECK(timer.cancel());
}

}  // TEST_SUITE
