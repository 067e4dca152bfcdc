// Spinning before sleeping (IdleSpin): a worker, or a ScopedActor waiting for its reply, that is
// still looking when the next message comes takes it without having slept; with the spin off,
// every message after a pause means a wake-up.
#include <troupe/runtime/idle_spin.hpp>
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <dirent.h>

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
  DIR* tasks = ::opendir("/proc/self/task");
  REQUIRE(tasks != nullptr);
  while (dirent* entry = ::readdir(tasks)) {
    if (entry->d_name[0] == '.') continue;
    const std::string dir = std::string("/proc/self/task/") + entry->d_name;
    std::string comm;
    std::getline(std::ifstream(dir + "/comm"), comm);
    if (comm != name) continue;
    std::ifstream status(dir + "/status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("voluntary_ctxt_switches:", 0) == 0) total += std::stoull(line.substr(24));
    }
  }
  ::closedir(tasks);
  return total;
}

struct Ping {
  int n;
};

// How often the single worker slept while it handled `count` requests with pauses between them,
// each pause of 500 µs: well within a spinning worker's spin.
std::uint64_t worker_sleeps_over_paced_requests(std::chrono::microseconds idle_spin, int count) {
  troupe::System system(troupe::Config{.workers = 1, .idle_spin = idle_spin});
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
