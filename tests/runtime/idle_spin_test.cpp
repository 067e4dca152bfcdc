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

// How often the single worker slept while it handled `count` requests with pauses between them.
// A spinning worker gets pauses of 500 µs, well within its spin. A worker that does not spin gets
// pauses that last until it has parked (wait_idle: on a loaded machine it might otherwise still
// be waiting for a CPU when the next request comes), and 2 ms more, past the few yields
// std::atomic::wait makes before it sleeps in the kernel.
std::uint64_t worker_sleeps_over_paced_requests(std::chrono::microseconds idle_spin, int count) {
  troupe::System system(troupe::Config{.workers = 1, .idle_spin = idle_spin});
  auto echo = system.spawn([](troupe::Context&) { return troupe::behavior([](Ping p) { return p.n; }); });
  troupe::ScopedActor me(system);
  REQUIRE(me.request(echo, Ping{-1}).value() == -1);  // the worker has run once
  const std::uint64_t before = voluntary_switches_of("troupe-w0");
  for (int i = 0; i < count; ++i) {
    if (idle_spin.count() > 0) {
      std::this_thread::sleep_for(500us);
    } else {
      REQUIRE(system.wait_idle(10s));
      std::this_thread::sleep_for(2ms);
    }
    REQUIRE(me.request(echo, Ping{i}).value() == i);
  }
  return voluntary_switches_of("troupe-w0") - before;
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
  const std::uint64_t sleeping = worker_sleeps_over_paced_requests(std::chrono::microseconds(0), count);
  INFO("worker sleeps: " << spinning << " spinning, " << sleeping << " without spinning");
  CHECK(spinning < count / 10);
  CHECK(sleeping >= count / 2);
}

}  // TEST_SUITE
