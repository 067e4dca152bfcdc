// The name registry under concurrency: threads racing for one name, a registration racing its
// actor's exit, and lookups from many threads while names churn.
#include <troupe/troupe.hpp>

#include "supervision/registry_support.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <barrier>
#include <cstddef>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

using namespace troupe_test;
using namespace registry_test;

TEST_SUITE_BEGIN("registry");

TEST_CASE("8 threads register one name at once: exactly one wins every round") {
  troupe::System system(troupe::Config{.workers = 2});
  constexpr std::size_t kThreads = 8;
  const int rounds = static_cast<int>(scaled(2000));
  std::vector<troupe::DynamicHandle> actors;
  for (std::size_t i = 0; i < kThreads; ++i) actors.push_back(system.spawn(service, static_cast<int>(i)));

  std::barrier sync(static_cast<std::ptrdiff_t>(kThreads + 1));
  std::array<int, kThreads> won{};  // written by thread i between the barriers, read by main after
  std::atomic<int> bad_codes{0};
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      for (int r = 0; r < rounds; ++r) {
        sync.arrive_and_wait();
        troupe::Result<void> result = system.register_name("leader", actors[i]);
        won[i] = result.ok() ? 1 : 0;
        if (!result.ok() && result.code() != troupe::Errc::name_taken) bad_codes.fetch_add(1);
        sync.arrive_and_wait();
      }
    });
  }
  int rounds_with_one_winner = 0, lookups_of_winner = 0, unregistered = 0;
  for (int r = 0; r < rounds; ++r) {
    sync.arrive_and_wait();  // go
    sync.arrive_and_wait();  // all done
    int winners = 0;
    std::size_t winner = 0;
    for (std::size_t i = 0; i < kThreads; ++i) {
      if (won[i] != 0) {
        ++winners;
        winner = i;
      }
    }
    if (winners == 1) ++rounds_with_one_winner;
    if (system.whereis("leader") == std::optional<troupe::DynamicHandle>(actors[winner])) ++lookups_of_winner;
    if (system.unregister_name("leader")) ++unregistered;
  }
  for (auto& t : threads) t.join();
  CHECK(rounds_with_one_winner == rounds);
  CHECK(lookups_of_winner == rounds);
  CHECK(unregistered == rounds);
  CHECK(bad_codes.load() == 0);
  CHECK_FALSE(system.whereis("leader").has_value());
}

TEST_CASE("a registration racing its actor's exit never leaves the name behind") {
  ExitCounter counter;
  troupe::System system(counter.config());
  // At least `rounds`, and on until each outcome has come up: at most ten times as many (a
  // bound only for a failing test; both outcomes come up within the first few dozen rounds).
  const int rounds = static_cast<int>(scaled(2000));
  const int max_rounds = 10 * std::max(rounds, 200);
  int registered = 0, refused = 0, left_behind = 0, bad_codes = 0, r = 0;
  for (; r < max_rounds && (r < rounds || registered == 0 || refused == 0); ++r) {
    auto a = system.spawn(service, r);
    std::atomic<bool> go{false};
    troupe::Result<void> result;
    std::thread registrar([&] {
      // Acquire: pairs with the release store below; only a start signal.
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      result = system.register_name("racer", a);
    });
    // Release: pairs with the acquire load above. Alternate which side starts first, so both
    // outcomes come up.
    if (r % 2 == 0) {
      go.store(true, std::memory_order_release);
      a.send(Stop{});
    } else {
      a.send(Stop{});
      go.store(true, std::memory_order_release);
    }
    registrar.join();
    REQUIRE(counter.wait_for(r + 1));
    if (result.ok()) {
      ++registered;
    } else if (result.code() == troupe::Errc::dead_actor) {
      ++refused;
    } else {
      ++bad_codes;
    }
    if (system.whereis("racer").has_value()) {
      ++left_behind;
      (void)system.unregister_name("racer");
    }
  }
  INFO("registered before the exit: " << registered << ", refused as stopped: " << refused);
  CHECK(registered + refused == r);
  CHECK(registered > 0);  // both sides of the race were run
  CHECK(refused > 0);
  CHECK(bad_codes == 0);
  CHECK(left_behind == 0);
}

TEST_CASE("lookups from many threads while names churn find only the right actors") {
  ExitCounter counter;
  troupe::System system(counter.config());
  constexpr int kNames = 8, kReaders = 4;
  const int churns = static_cast<int>(scaled(4000));
  auto name_of = [](int k) { return numbered("svc-", k); };
  // Every actor that will ever hold a name, spawned up front: actor j serves name j % kNames.
  // The readers check what they find against this map, which nobody writes once they start.
  std::vector<troupe::DynamicHandle> actors;
  std::unordered_map<const void*, int> name_index;
  for (int j = 0; j < kNames + churns; ++j) {
    actors.push_back(system.spawn(service, j % kNames));
    name_index.emplace(actors.back().core(), j % kNames);
  }
  std::vector<std::size_t> holder(kNames);  // index into actors of each name's holder
  for (int k = 0; k < kNames; ++k) {
    holder[static_cast<std::size_t>(k)] = static_cast<std::size_t>(k);
    REQUIRE(system.register_name(name_of(k), actors[static_cast<std::size_t>(k)]).ok());
  }

  std::atomic<bool> done{false};
  std::atomic<int> started{0};
  std::atomic<std::uint64_t> hits{0}, misses{0}, wrong{0}, absent_found{0};
  // Each reader looks up at least this often, and on until the churn is over.
  const int min_lookups = static_cast<int>(scaled(20'000));
  std::vector<std::thread> readers;
  for (int t = 0; t < kReaders; ++t) {
    readers.emplace_back([&, t] {
      std::uint64_t local_hits = 0, local_misses = 0, local_wrong = 0;
      std::vector<std::string> names;
      for (int k = 0; k < kNames; ++k) names.push_back(name_of(k));
      started.fetch_add(1, std::memory_order_relaxed);  // relaxed: only a start signal
      // Relaxed: a stop flag; the joins below order everything the readers did.
      for (int i = 0; i < min_lookups || !done.load(std::memory_order_relaxed); ++i) {
        const int k = (i + t) % kNames;
        if (auto h = system.whereis(names[static_cast<std::size_t>(k)])) {
          ++local_hits;
          auto it = name_index.find(h->core());
          if (it == name_index.end() || it->second != k) ++local_wrong;
        } else {
          ++local_misses;
        }
        if (system.whereis("absent").has_value()) absent_found.fetch_add(1);
        if (i % 64 == 0) std::this_thread::yield();  // leave the workers some of the 2 cores
      }
      hits.fetch_add(local_hits);
      misses.fetch_add(local_misses);
      wrong.fetch_add(local_wrong);
    });
  }

  // Churn: alternately unregister the holder and register the next actor, or stop the holder and
  // register the next actor once the exit has freed the name.
  int retries = 0, failures = 0;
  // Relaxed: only waits for the readers to be running, so the churn overlaps their lookups.
  while (started.load(std::memory_order_relaxed) < kReaders) std::this_thread::yield();
  for (int c = 0; c < churns; ++c) {
    const int k = c % kNames;
    const std::string name = name_of(k);
    const std::size_t next = static_cast<std::size_t>(kNames + c);
    if (c % 2 == 0) {
      if (!system.unregister_name(name)) ++failures;
      if (!system.register_name(name, actors[next]).ok()) ++failures;
    } else {
      actors[holder[static_cast<std::size_t>(k)]].send(Stop{});
      for (;;) {
        troupe::Result<void> result = system.register_name(name, actors[next]);
        if (result.ok()) break;
        if (result.code() != troupe::Errc::name_taken) {
          ++failures;
          break;
        }
        ++retries;  // the old holder has not stopped yet
        std::this_thread::yield();
      }
    }
    holder[static_cast<std::size_t>(k)] = next;
  }
  done.store(true, std::memory_order_relaxed);  // relaxed: see the readers' load
  for (auto& t : readers) t.join();

  INFO("hits " << hits.load() << ", misses " << misses.load() << ", retries " << retries);
  CHECK(failures == 0);
  CHECK(wrong.load() == 0);
  CHECK(absent_found.load() == 0);
  CHECK(hits.load() > 0);
  for (int k = 0; k < kNames; ++k) {
    CHECK(system.whereis(name_of(k)) ==
          std::optional<troupe::DynamicHandle>(actors[holder[static_cast<std::size_t>(k)]]));
  }
}

TEST_SUITE_END();
