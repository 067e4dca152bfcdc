// The name registry: register, look up, unregister; names freed when their actor stops; taken
// names are error values; concurrent registration and lookups; reaching a replaced service by name.
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <barrier>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

using namespace troupe_test;

namespace {

struct WhoAreYou {};  // reply: the service's id
struct Stop {};
struct Boom {};

// A service that knows its id, and stops or fails on demand.
auto service(troupe::Context& self, int id) {
  return troupe::behavior([id](WhoAreYou) { return id; }, [&self](Stop) { self.quit(); },
                          [](Boom) { throw std::runtime_error("boom"); });
}

// Counts actor exits (the hook runs after the registry has dropped the actor's names).
struct ExitCounter {
  std::atomic<int> exits{0};
  troupe::Config config(unsigned workers = 2) {
    troupe::Config c{.workers = workers};
    c.on_actor_exit = [this](const troupe::ExitInfo&) { exits.fetch_add(1); };
    return c;
  }
  // Spins (yielding) until `n` actors have exited, or 10 s pass.
  bool wait_for(int n) {
    const auto deadline = Clock::now() + 10s;
    while (exits.load() < n) {
      if (Clock::now() >= deadline) return false;
      std::this_thread::yield();
    }
    return true;
  }
};

// "<prefix><i>". (Not `"prefix" + std::to_string(i)`: GCC 12 warns falsely on it, -Wrestrict.)
std::string numbered(std::string_view prefix, int i) {
  std::string name(prefix);
  name += std::to_string(i);
  return name;
}

}  // namespace

TEST_SUITE_BEGIN("registry");

TEST_CASE("register, whereis, unregister") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  auto a = system.spawn(service, 1);

  CHECK_FALSE(system.whereis("a").has_value());
  REQUIRE(system.register_name("a", a).ok());
  std::optional<troupe::DynamicHandle> found = system.whereis("a");
  REQUIRE(found.has_value());
  CHECK(*found == a);
  CHECK(me.request<int>(*found, WhoAreYou{}).value() == 1);

  CHECK(system.unregister_name("a"));
  CHECK_FALSE(system.whereis("a").has_value());
  CHECK_FALSE(system.unregister_name("a"));  // already gone
  CHECK_FALSE(system.unregister_name("never registered"));
  CHECK(me.request<int>(a, WhoAreYou{}).value() == 1);  // unregistering does not touch the actor
}

TEST_CASE("an actor may hold several names; unregistering one keeps the others") {
  troupe::System system(troupe::Config{.workers = 2});
  auto a = system.spawn(service, 1);
  REQUIRE(system.register_name("first", a).ok());
  REQUIRE(system.register_name("second", a).ok());
  REQUIRE(system.register_name("third", a).ok());
  CHECK(system.unregister_name("second"));
  CHECK(system.whereis("first") == std::optional<troupe::DynamicHandle>(a));
  CHECK_FALSE(system.whereis("second").has_value());
  CHECK(system.whereis("third") == std::optional<troupe::DynamicHandle>(a));
}

TEST_CASE("a taken name is an error value and leaves the table unchanged") {
  troupe::System system(troupe::Config{.workers = 2});
  auto a = system.spawn(service, 1);
  auto b = system.spawn(service, 2);
  REQUIRE(system.register_name("svc", a).ok());

  troupe::Result<void> again = system.register_name("svc", b);
  REQUIRE_FALSE(again.ok());
  CHECK(again.code() == troupe::Errc::name_taken);
  CHECK(again.error().what == "svc");
  CHECK(again.error().message() == "name_taken: svc");
  CHECK(system.register_name("svc", a).code() == troupe::Errc::name_taken);  // even for its holder
  CHECK(system.whereis("svc") == std::optional<troupe::DynamicHandle>(a));
}

TEST_CASE("a name is freed when its actor quits, and can be registered again") {
  ExitCounter counter;
  troupe::System system(counter.config());
  troupe::ScopedActor me(system);
  auto a = system.spawn(service, 1);
  REQUIRE(system.register_name("svc", a).ok());
  REQUIRE(system.register_name("alias", a).ok());

  a.send(Stop{});
  REQUIRE(counter.wait_for(1));
  // The hook runs after the names are dropped, so this holds at once, not eventually.
  CHECK_FALSE(system.whereis("svc").has_value());
  CHECK_FALSE(system.whereis("alias").has_value());
  CHECK_FALSE(system.unregister_name("svc"));

  auto b = system.spawn(service, 2);
  REQUIRE(system.register_name("svc", b).ok());
  auto found = system.whereis("svc");
  REQUIRE(found.has_value());
  CHECK(*found == b);
  CHECK(me.request<int>(*found, WhoAreYou{}).value() == 2);
}

TEST_CASE("a name is freed when its actor fails") {
  ExitCounter counter;
  troupe::System system(counter.config());
  auto a = system.spawn(service, 1);
  REQUIRE(system.register_name("svc", a).ok());
  a.send(Boom{});
  REQUIRE(counter.wait_for(1));
  CHECK_FALSE(system.whereis("svc").has_value());
  auto b = system.spawn(service, 2);
  CHECK(system.register_name("svc", b).ok());
}

TEST_CASE("the exit hook sees the name freed and can register a replacement under it") {
  std::atomic<int> hook_saw_name{0}, replacements{0}, replacement_failures{0};
  troupe::System* sys = nullptr;  // set before the first spawn, read only by the hook
  troupe::Config config{.workers = 2};
  config.on_actor_exit = [&](const troupe::ExitInfo& info) {
    if (sys->whereis("svc").has_value()) hook_saw_name.fetch_add(1);
    if (info.reason.kind != troupe::ExitReason::Kind::error) return;
    const int generation = replacements.fetch_add(1) + 2;
    if (!sys->register_name("svc", sys->spawn(service, generation)).ok()) {
      replacement_failures.fetch_add(1);
    }
  };
  troupe::System system(std::move(config));
  sys = &system;
  troupe::ScopedActor me(system);
  REQUIRE(system.register_name("svc", system.spawn(service, 1)).ok());

  for (int generation = 1; generation <= 3; ++generation) {
    std::optional<troupe::DynamicHandle> svc;
    REQUIRE(eventually([&] { return (svc = system.whereis("svc")).has_value(); }));
    CHECK(me.request<int>(*svc, WhoAreYou{}).value() == generation);
    svc->send(Boom{});  // the hook restarts it under the same name
    REQUIRE(eventually([&] { return replacements.load() == generation; }));
  }
  CHECK(hook_saw_name.load() == 0);
  CHECK(replacement_failures.load() == 0);
  system.shutdown();  // shutdown exits are not errors: no more replacements
  CHECK(replacements.load() == 3);
  CHECK_FALSE(system.whereis("svc").has_value());
}

TEST_CASE("registering a stopped actor, an empty handle or a scoped actor fails with dead_actor") {
  ExitCounter counter;
  troupe::System system(counter.config());
  auto a = system.spawn(service, 1);
  a.send(Stop{});
  REQUIRE(counter.wait_for(1));
  troupe::Result<void> stopped = system.register_name("svc", a);
  CHECK(stopped.code() == troupe::Errc::dead_actor);
  CHECK_FALSE(system.whereis("svc").has_value());

  CHECK(system.register_name("svc", troupe::DynamicHandle{}).code() == troupe::Errc::dead_actor);
  troupe::ScopedActor me(system);  // its stop is not seen by the registry: refused
  CHECK(system.register_name("svc", me.handle()).code() == troupe::Errc::dead_actor);

  troupe::System other(troupe::Config{.workers = 1});
  auto foreign = other.spawn(service, 2);
  CHECK(system.register_name("svc", foreign).code() == troupe::Errc::dead_actor);
  CHECK_FALSE(system.whereis("svc").has_value());
  CHECK(system.register_name("svc", system.spawn(service, 3)).ok());
}

TEST_CASE("an actor registers itself, and other actors find it by name") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  struct Registered {
    bool ok;
  };
  auto probe = me.handle();
  system.spawn([probe](troupe::Context& self) {
    const bool ok = self.system().register_name("self-named", self.self()).ok();
    probe.send(Registered{ok});
    return troupe::behavior([](WhoAreYou) { return 42; });
  });
  REQUIRE(me.receive<Registered>().value().ok);
  struct Ask {};
  auto asker = system.spawn([](troupe::Context& self) {
    return troupe::behavior([&self](Ask) -> troupe::Task<int> {
      auto target = self.system().whereis("self-named");
      if (!target) co_return -1;
      auto reply = co_await self.request<int>(*target, WhoAreYou{});
      co_return reply.value_or(-2);
    });
  });
  CHECK(me.request(asker, Ask{}).value() == 42);
}

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
  const int rounds = static_cast<int>(scaled(2000));
  int registered = 0, refused = 0, left_behind = 0, bad_codes = 0;
  for (int r = 0; r < rounds; ++r) {
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
  CHECK(registered + refused == rounds);
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

TEST_CASE("a client reaches a replaced service by name") {
  ExitCounter counter;
  troupe::System system(counter.config());
  troupe::ScopedActor me(system);
  struct Call {};  // reply: the service's id; -1 when no service has the name
  auto client = system.spawn([](troupe::Context& self) {
    return troupe::behavior([&self](Call) -> troupe::Task<int> {
      auto service = self.system().whereis("counter");
      if (!service) co_return -1;
      auto reply = co_await self.request<int>(*service, WhoAreYou{});
      co_return reply.value_or(-2);
    });
  });

  auto v1 = system.spawn(service, 1);
  REQUIRE(system.register_name("counter", v1).ok());
  CHECK(me.request(client, Call{}).value() == 1);

  v1.send(Stop{});
  REQUIRE(counter.wait_for(1));
  CHECK(me.request(client, Call{}).value() == -1);  // the name went with the stopped service

  auto v2 = system.spawn(service, 2);
  REQUIRE(system.register_name("counter", v2).ok());
  CHECK(me.request(client, Call{}).value() == 2);
  CHECK_FALSE(v1 == v2);
  CHECK(me.request<int>(v1, WhoAreYou{}).code() == troupe::Errc::dead_actor);  // the old handle is dead
}

TEST_CASE("shutdown drops every name") {
  troupe::System system(troupe::Config{.workers = 2});
  constexpr int kActors = 100;
  for (int i = 0; i < kActors; ++i) {
    auto a = system.spawn(service, i);
    REQUIRE(system.register_name(numbered("a", i), a).ok());
    REQUIRE(system.register_name(numbered("b", i), a).ok());
  }
  system.shutdown();
  CHECK(system.live_actors() == 0);
  int left = 0;
  for (int i = 0; i < kActors; ++i) {
    if (system.whereis(numbered("a", i)).has_value()) ++left;
    if (system.whereis(numbered("b", i)).has_value()) ++left;
  }
  CHECK(left == 0);
  // Nothing is live to register any more. (Under ASan, a leaked reference would show as a leak.)
  CHECK_FALSE(system.unregister_name("a0"));
}

TEST_SUITE_END();
