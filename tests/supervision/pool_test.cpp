// Pools: each routing strategy, requests answered by the routee that took them, routees crashing
// and being replaced while every job is still answered exactly once, and resizing (a shrink
// lets the retired routee finish what it holds).
#include <troupe/testing.hpp>
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace troupe_test;
using namespace std::chrono_literals;

namespace {

struct Done {
  int id;
  troupe::DynamicHandle by;  // the routee that ran the job
};
struct Job {
  int id;
  bool crash = false;  // the routee throws instead
};
struct Keyed {
  int key;
};
struct Tell {  // one-way: the routee says Hello to `to`
  troupe::DynamicHandle to;
};
struct Hello {
  troupe::DynamicHandle from;
};
struct Park {  // the routee awaits the gate's reply, holding back its mailbox meanwhile
  troupe::DynamicHandle gate;
};
struct Wait {
  using reply_type = void;
};
struct Open {};
struct Parked {};

// Opens the gate when the test leaves its scope, failing or not, so no routee stays parked.
struct OpenOnExit {
  troupe::DynamicHandle gate;
  ~OpenOnExit() { gate.send(Open{}); }
};

class Worker {
 public:
  explicit Worker(troupe::Context& self) : self_(self) {}
  auto behavior() {
    return troupe::behavior(
        [this](const Job& j) {
          if (j.crash) throw std::runtime_error("job crashed on purpose");
          return Done{j.id, self_.self()};
        },
        [this](const Keyed& k) {
          return Done{k.key, self_.self()};
        },
        [this](const Tell& t) { t.to.send(Hello{self_.self()}); },
        [this](Park p) -> troupe::Task<void> { (void)co_await self_.request(p.gate, Wait{}, 1h); });
  }

 private:
  troupe::Context& self_;
};

// Answers Wait only once opened; tells `watcher` when a Wait has come.
auto gate(troupe::Context& self, troupe::DynamicHandle watcher) {
  auto held = std::make_shared<troupe::Promise<void>>();
  return troupe::behavior(
      [&self, held, watcher](Wait) {
        *held = self.promise<void>();
        watcher.send(Parked{});
        return *held;
      },
      [held](Open) { held->deliver(); });
}

template <class H>
troupe::PoolInfo info_of(troupe::ScopedActor& me, const troupe::Pool<H>& pool) {
  return troupe::pool_info(me, pool).value();
}

// The index of `h` among the routees, or -1.
int index_of(const troupe::PoolInfo& info, const troupe::DynamicHandle& h) {
  auto it = std::find(info.routees.begin(), info.routees.end(), h);
  return it == info.routees.end() ? -1 : static_cast<int>(it - info.routees.begin());
}

troupe::PoolSpec spec_of(std::size_t size, troupe::Routing routing) {
  troupe::PoolSpec spec;
  spec.size = size;
  spec.routing = routing;
  return spec;
}

}  // namespace

TEST_SUITE("pools") {
  TEST_CASE("round_robin: every routee in turn, and each request is answered by the routee that took it") {
    const auto result = troupe::testing::explore(20, [](std::uint64_t seed) {
      troupe::System system(troupe::testing::deterministic(seed));
      troupe::ScopedActor me(system);
      auto pool = troupe::spawn_pool<Worker>(system, spec_of(4, troupe::Routing::round_robin));
      std::vector<int> order;
      for (int i = 0; i < 40; ++i) {
        auto done = me.request(pool, Job{i});  // held until all four are up, then routed
        troupe::testing::check(done.ok() && done.value().id == i, "a job was not answered");
        troupe::testing::check(done.value().by != pool.router(), "the router answered, not a routee");
        order.push_back(index_of(info_of(me, pool), done.value().by));
      }
      for (int i = 0; i < 40; ++i) troupe::testing::check(order[i] >= 0 && order[i] == order[i % 4], "not in turn");
      troupe::testing::check(std::set<int>(order.begin(), order.end()).size() == 4, "not all four routees");
    });
    CHECK_MESSAGE(result, result.failure);
  }

  TEST_CASE("random: a fixed seed gives a fixed order that reaches every routee") {
    auto run = [](std::uint64_t seed) {
      troupe::System system(troupe::testing::deterministic(7));
      troupe::ScopedActor me(system);
      auto spec = spec_of(4, troupe::Routing::random);
      spec.seed = seed;
      auto pool = troupe::spawn_pool<Worker>(system, spec);
      std::vector<int> order;
      for (int i = 0; i < 200; ++i) order.push_back(index_of(info_of(me, pool), me.request(pool, Job{i}).value().by));
      return order;
    };
    const auto a = run(42);
    CHECK(std::set<int>(a.begin(), a.end()) == std::set<int>{0, 1, 2, 3});
    CHECK(a == run(42));
    CHECK(a != run(43));
  }

  TEST_CASE("smallest_mailbox: an idle routee is preferred to one held busy with a full mailbox") {
    troupe::System system;
    troupe::ScopedActor me(system);
    auto pool = troupe::spawn_pool<Worker>(system, spec_of(2, troupe::Routing::smallest_mailbox));
    REQUIRE(troupe::resize_pool(me, pool, 2).ok());  // answered once both are up
    const auto routees = info_of(me, pool).routees;
    auto g = system.spawn(gate, me.handle());
    const OpenOnExit open{g};
    routees[0].send(Park{g});
    REQUIRE(me.receive<Parked>().ok());
    for (int i = 0; i < 50; ++i) routees[0].send(Job{-1});  // queued behind the parked handler
    for (int i = 0; i < 20; ++i) {
      auto done = me.request(pool, Job{i}, 10s);
      REQUIRE(done.ok());
      CHECK(done.value().by == routees[1]);
    }
  }

  TEST_CASE("consistent_hash: equal keys reach the same routee, and a resize moves few keys") {
    troupe::System system;
    troupe::ScopedActor me(system);
    auto spec = spec_of(4, troupe::Routing::consistent_hash);
    spec.key = troupe::hash_key([](const Keyed& k) { return k.key; });
    auto pool = troupe::spawn_pool<Worker>(system, spec);
    auto route_all = [&] {
      std::map<int, troupe::DynamicHandle> by;
      for (int key = 0; key < 400; ++key) by[key] = me.request(pool, Keyed{key}).value().by;
      return by;
    };
    const auto four = route_all();
    CHECK(route_all() == four);
    std::set<troupe::DynamicHandle> used;
    for (const auto& [key, h] : four) used.insert(h);
    CHECK(used.size() == 4);

    REQUIRE(troupe::resize_pool(me, pool, 5).ok());
    const auto added = info_of(me, pool).routees.at(4);
    const auto five = route_all();
    int moved = 0;
    for (const auto& [key, h] : five) {
      if (h == four.at(key)) continue;
      ++moved;
      CHECK(h == added);  // a key moves only to the new routee
    }
    CHECK(moved > 0);
    CHECK(moved < 400 * 2 / 5);  // about 1/5 of them: jump hashing moves 1/(n+1)

    REQUIRE(troupe::resize_pool(me, pool, 4).ok());
    CHECK(route_all() == four);  // shrinking back moves the same keys back

    // A message of a type the key does not cover is refused.
    auto unkeyed = me.request(pool, Job{1});
    REQUIRE_FALSE(unkeyed.ok());
    CHECK(unkeyed.error().code == troupe::Errc::unexpected_message);
  }

  TEST_CASE("broadcast: every routee gets a copy; a request cannot be broadcast") {
    troupe::System system;
    troupe::ScopedActor me(system);
    auto pool = troupe::spawn_pool<Worker>(system, spec_of(3, troupe::Routing::broadcast));
    pool.send(Tell{me.handle()});
    std::set<troupe::DynamicHandle> from;
    for (int i = 0; i < 3; ++i) from.insert(me.receive<Hello>().value().from);
    const auto routees = info_of(me, pool).routees;
    CHECK(from == std::set<troupe::DynamicHandle>(routees.begin(), routees.end()));
    auto refused = me.request(pool, Job{1});
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().code == troupe::Errc::unexpected_message);
    CHECK(refused.error().what.find("cannot be broadcast") != std::string::npos);
  }

  TEST_CASE("crashing routees are replaced and every job is answered exactly once when clients retry") {
    troupe::Config config;
    config.on_actor_exit = [](const troupe::ExitInfo&) {};  // the crashes are expected: no report
    troupe::System system(config);
    auto spec = spec_of(4, troupe::Routing::round_robin);
    spec.max_restarts = 1000;
    spec.period = 1h;
    auto pool = troupe::spawn_pool<Worker>(system, spec);
    constexpr int kClients = 4;
    constexpr int kJobs = 100;
    std::mutex mutex;
    std::map<int, int> answered;          // job -> successful replies
    std::atomic<std::size_t> crashes{0};  // seq_cst increments; read after join(), which orders them
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        troupe::ScopedActor me(system);
        for (int j = 0; j < kJobs; ++j) {
          const int id = c * kJobs + j;
          bool crash = id % 7 == 0;                          // crashes the routee that takes it, once
          for (int attempt = 0; attempt < 100; ++attempt) {  // a pool that never recovers fails below
            auto done = me.request(pool, Job{id, crash}, 10s);
            if (!done.ok()) {  // actor_failed, or dead_actor (lost with a crashed routee): retry
              if (done.error().code == troupe::Errc::actor_failed) {
                crash = false;
                ++crashes;
              }
              continue;
            }
            std::lock_guard lock(mutex);
            if (done.value().id == id) ++answered[id];
            break;
          }
        }
      });
    }
    for (auto& t : clients) t.join();
    CHECK(answered.size() == kClients * kJobs);
    CHECK(std::all_of(answered.begin(), answered.end(), [](const auto& a) { return a.second == 1; }));
    troupe::ScopedActor me(system);
    REQUIRE(troupe::resize_pool(me, pool, 4).ok());  // steady: every routee back
    const auto info = info_of(me, pool);
    // One restart per crash, but the last few may still be on their way.
    CHECK(crashes.load() == (kClients * kJobs + 6) / 7);
    CHECK(info.restarts <= crashes.load());
    CHECK(info.restarts + kClients >= crashes.load());
    CHECK(info.running == 4);
  }

  TEST_CASE("with every routee restarting, a request waits for the first one back rather than failing") {
    const auto result = troupe::testing::explore(20, [](std::uint64_t seed) {
      troupe::Config config = troupe::testing::deterministic(seed);
      config.on_actor_exit = [](const troupe::ExitInfo&) {};
      troupe::System system(config);
      troupe::ScopedActor me(system);
      auto pool = troupe::spawn_pool<Worker>(system, spec_of(1, troupe::Routing::round_robin));
      const auto first = me.request(pool, Job{1}).value().by;
      auto crashed = me.request(pool, Job{2, true});
      troupe::testing::check(!crashed.ok() && crashed.error().code == troupe::Errc::actor_failed, "no crash");
      // The Down reached the router before this request (the routee sent it in the turn that
      // answered the crash), so the router has no routee running when it comes.
      auto done = me.request(pool, Job{3});
      troupe::testing::check(done.ok(), "refused while the routee restarted");
      troupe::testing::check(done.value().by != first, "not answered by the new routee");
    });
    CHECK_MESSAGE(result, result.failure);
  }

  TEST_CASE("resize: growing adds routees; shrinking lets a retired routee finish its mailbox, then stops it") {
    troupe::System system(troupe::testing::deterministic(3));
    troupe::ScopedActor me(system);
    auto pool = troupe::spawn_pool<Worker>(system, spec_of(2, troupe::Routing::round_robin));
    REQUIRE(troupe::resize_pool(me, pool, 5).ok());
    auto info = info_of(me, pool);
    CHECK(info.size == 5);
    CHECK(info.running == 5);
    std::set<troupe::DynamicHandle> by;
    for (int i = 0; i < 10; ++i) by.insert(me.request(pool, Job{i}).value().by);
    CHECK(by == std::set<troupe::DynamicHandle>(info.routees.begin(), info.routees.end()));

    // Routee 4 parked with ten messages behind it; the shrink must not lose them.
    const auto last = info.routees[4];
    me.monitor(last);
    auto g = system.spawn(gate, me.handle());
    const OpenOnExit open{g};
    last.send(Park{g});
    REQUIRE(me.receive<Parked>().ok());
    for (int i = 0; i < 10; ++i) last.send(Tell{me.handle()});
    pool.router().send(troupe::ResizePool{1});
    info = info_of(me, pool);
    CHECK(info.size == 1);
    CHECK(info.retiring >= 1);  // the parked one at least: the idle ones may have stopped already
    for (int i = 0; i < 10; ++i) CHECK(me.request(pool, Job{i}).value().by == info.routees[0]);
    g.send(Open{});
    for (int i = 0; i < 10; ++i) CHECK(me.receive<Hello>().value().from == last);
    auto down = me.receive<troupe::Down>();
    REQUIRE(down.ok());
    CHECK(down.value().reason.kind == troupe::ExitReason::Kind::shutdown);
    REQUIRE(troupe::resize_pool(me, pool, 1).ok());  // answered once the retired ones stopped
    info = info_of(me, pool);
    CHECK(info.retiring == 0);
    CHECK(info.size == 1);
  }

  TEST_CASE("a pool of function actors, stopped with stop_pool") {
    troupe::System system;
    troupe::ScopedActor me(system);
    auto pool = troupe::spawn_pool(
        system, spec_of(2, troupe::Routing::round_robin),
        [](troupe::Context& self, int base) {
          return troupe::behavior([&self, base](int x) { return std::make_pair(base + x, self.self()); });
        },
        100);
    auto r = me.request(pool, 5);
    REQUIRE(r.ok());
    CHECK(r.value().first == 105);
    me.monitor(pool.router());
    REQUIRE(troupe::stop_pool(me, pool).ok());
    CHECK(me.receive<troupe::Down>().value().reason.kind == troupe::ExitReason::Kind::shutdown);
  }
}
