// Spinning before sleeping (IdleSpin): a worker, or a ScopedActor waiting for its reply, that is
// still looking when the next message comes takes it without having slept; with the spin off,
// every message after a pause means a wake-up.
#include <troupe/runtime/idle_spin.hpp>
#include <troupe/troupe.hpp>

#include "proc_threads.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <sched.h>

#include <atomic>
#include <fstream>
#include <string>
#include <thread>

using namespace troupe_test;

namespace {

// The voluntary context switches (sleeps: futex waits, not yields) of this process's threads
// whose name is `name`, summed, from /proc/self/task/*/status.
std::uint64_t voluntary_switches_of(const std::string& name) {
  std::uint64_t total = 0;
  for (const std::string& dir : troupe_test::threads_named(name)) {
    std::ifstream status(dir + "/status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0) total += std::stoull(line.substr(24));
    }
  }
  return total;
}

struct Ping {
  int n;
};

// How often the single worker slept while it handled `count` requests with pauses between them,
// each pause of 500 µs: well within a spinning worker's spin.
std::uint64_t worker_sleeps_over_paced_requests(std::chrono::microseconds idle_spin, int count) {
  troupe::System system(troupe::Config{.workers = 1, .idle_spin = idle_spin, .adaptive_spin = false});
  auto echo = system.spawn([](troupe::Context&) { return troupe::behavior([](Ping p) { return p.n; }); });
  troupe::ScopedActor me(system);
  REQUIRE(me.request(echo, Ping{-1}).value() == -1);  // the worker has run once
  const std::uint64_t before = voluntary_switches_of("troupe-w0");
  for (int i = 0; i < count; ++i) {
    std::this_thread::sleep_for(500us);
    REQUIRE(me.request(echo, Ping{i}).value() == i);
  }
  return voluntary_switches_of("troupe-w0") - before;
}

// The control: how many of `count` idle spells put a worker that does not spin to sleep in the
// kernel. Each spell lasts until the worker's sleep shows in its switch count, or 1 s. A fixed
// pause would not do: on a loaded machine the parked worker may wait longer than any short pause
// for a CPU to reach its futex wait, and the request would find it still awake.
int idle_spells_that_slept_without_spin(int count) {
  troupe::System system(troupe::Config{.workers = 1, .idle_spin = std::chrono::microseconds(0)});
  auto echo = system.spawn([](troupe::Context&) { return troupe::behavior([](Ping p) { return p.n; }); });
  troupe::ScopedActor me(system);
  int slept = 0;
  for (int i = 0; i < count; ++i) {
    const std::uint64_t before = voluntary_switches_of("troupe-w0");
    REQUIRE(me.request(echo, Ping{i}).value() == i);
    REQUIRE(system.wait_idle(10s));  // the worker has committed to sleep
    const auto deadline = Clock::now() + 1s;
    while (voluntary_switches_of("troupe-w0") == before && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
    if (voluntary_switches_of("troupe-w0") > before) ++slept;
  }
  return slept;
}

}  // namespace

TEST_SUITE("idle") {
  TEST_CASE("IdleSpin: true once found, false after its budget, never spins with a zero budget") {
    using troupe::runtime::IdleSpin;
    std::atomic<bool> flag{false};
    std::thread setter([&] {
      std::this_thread::sleep_for(2ms);
      flag.store(true, std::memory_order_release);  // release: pairs with the acquire load below
    });
    CHECK(IdleSpin(std::chrono::seconds(30)).until([&] { return flag.load(std::memory_order_acquire); }));
    setter.join();

    int calls = 0;
    const auto start = Clock::now();
    CHECK_FALSE(IdleSpin(std::chrono::microseconds(2000)).until([&] { return ++calls, false; }));
    CHECK(Clock::now() - start >= 2ms);
    CHECK(calls >= 2);

    calls = 0;
    CHECK_FALSE(IdleSpin(std::chrono::microseconds(0)).until([&] { return ++calls, true; }));
    CHECK(calls == 0);
  }

  TEST_CASE("AdaptiveSpin: after misses in a row it sleeps through idle spells that double; a find resets it") {
    using troupe::runtime::AdaptiveSpin;
    // Misses only: on a loaded machine a yield may also take long, and the CPUs may be full, either
    // of which would pause spinning too.
    AdaptiveSpin spin(std::chrono::microseconds(200), true, AdaptiveSpin::Clock::duration::max(), false);
    int looks = 0;
    auto nothing = [&] { return ++looks, false; };
    // Spins that find nothing, until the pause starts.
    for (std::uint32_t i = 0; i < AdaptiveSpin::kMissesBeforePause; ++i) {
      looks = 0;
      CHECK_FALSE(spin.until(nothing));
      CHECK(looks >= 2);  // it spun
    }
    CHECK(spin.pausing());
    looks = 0;
    CHECK_FALSE(spin.until(nothing));  // one idle spell slept through: not a single look
    CHECK(looks == 0);
    CHECK_FALSE(spin.until(nothing));  // the probe: it spins, misses, and pauses for two spells
    CHECK(looks >= 2);
    looks = 0;
    CHECK_FALSE(spin.until(nothing));
    CHECK_FALSE(spin.until(nothing));
    CHECK(looks == 0);
    CHECK(spin.until([&] { return ++looks, true; }));  // the next probe finds work: spinning pays again
    CHECK(looks == 1);
    CHECK_FALSE(spin.pausing());
    CHECK(spin.misses_in_a_row() == 0);

    SUBCASE("not adaptive: it never pauses") {
      AdaptiveSpin plain(std::chrono::microseconds(100), false);
      for (int i = 0; i < 10; ++i) {
        looks = 0;
        CHECK_FALSE(plain.until(nothing));
        CHECK(looks >= 2);
      }
    }
  }

  // Pins the calling thread to one CPU; false where the process may not (then the test says so).
  bool pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return ::sched_setaffinity(0, sizeof set, &set) == 0;
  }

  TEST_CASE("AdaptiveSpin: a yield that lands in another thread's time slice ends the spin, and spinning pauses") {
    // A busy thread that never yields shares one CPU with the spinner: the spinner's yield gives it
    // the CPU for a time slice, far past kContendedYield.
    cpu_set_t saved;
    REQUIRE(::sched_getaffinity(0, sizeof saved, &saved) == 0);
    const int cpu = ::sched_getcpu();
    if (!pin_to_cpu(cpu)) {
      WARN_MESSAGE(false, "cannot pin threads to a CPU here; the contention case is not exercised");
      return;
    }
    std::atomic<bool> busy_started{false};
    std::atomic<bool> stop{false};
    std::thread busy([&] {
      pin_to_cpu(cpu);
      busy_started.store(true, std::memory_order_release);  // release: pairs with the acquire below
      while (!stop.load(std::memory_order_relaxed)) {       // relaxed: only a stop flag
      }
    });
    while (!busy_started.load(std::memory_order_acquire)) std::this_thread::yield();
    // The run-queue sign off: the busy thread, with other tests' threads under ctest -j2, may fill
    // the CPUs, and then the spin would not start at all.
    troupe::runtime::AdaptiveSpin spin(std::chrono::seconds(5), true, troupe::runtime::AdaptiveSpin::kContendedYield, false);
    const auto start = Clock::now();
    CHECK_FALSE(spin.until([] { return false; }));  // not the 5 s budget: the first long yield ends it
    const auto spun = Clock::now() - start;
    CHECK(spun < 4s);
    CHECK(spin.pausing());
    int looks = 0;
    CHECK_FALSE(spin.until([&] { return ++looks, true; }));  // paused: it sleeps, without looking
    CHECK(looks == 0);
    stop.store(true, std::memory_order_relaxed);
    busy.join();
    ::sched_setaffinity(0, sizeof saved, &saved);
  }

  TEST_CASE("a spinning worker takes work that comes within its spin without sleeping; without the spin it sleeps") {
    const int count = 100;
    // A spin of 10 s outlasts the 500 µs pauses (and the test) by far; the system's shutdown ends it.
    const std::uint64_t spinning = worker_sleeps_over_paced_requests(std::chrono::seconds(10), count);
    INFO("worker sleeps while spinning: " << spinning << " over " << count << " paced requests");
    CHECK(spinning < count / 10);
    // The control, so that the count above can fail: the same worker without a spin sleeps whenever
    // it goes idle.
    const int spells = 20;
    const int slept = idle_spells_that_slept_without_spin(spells);
    INFO("idle spells that slept without spinning: " << slept << " of " << spells);
    CHECK(slept == spells);
  }

}  // TEST_SUITE
