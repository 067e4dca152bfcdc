// Dead letters: counted by System::dead_letters(), seen by Config::on_dead_letter.
#include <troupe/troupe.hpp>

#include "actors/exit_log.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace troupe_test;

namespace {

struct Ping {
  int n;
};
struct Quit {};

class Mortal {
 public:
  explicit Mortal(troupe::Context& self) : self_(self) {}
  auto behavior() {
    return troupe::behavior([](Ping p) { return p.n; }, [this](Quit) { self_.quit(); });
  }

 private:
  troupe::Context& self_;
};

}  // namespace

TEST_SUITE("dead letters") {

TEST_CASE("messages to a stopped actor: counted, and the hook sees type, receiver and reason") {
  HookLog log;
  troupe::System system(log.config());
  troupe::ScopedActor me(system);
  auto m = system.spawn<Mortal>();
  CHECK(me.request(m, Ping{1}).value() == 1);
  CHECK(system.dead_letters() == 0);
  m.send(Quit{});
  REQUIRE(system.wait_idle(10s));
  m.send(Ping{2});
  CHECK(me.request(m, Ping{3}).code() == troupe::Errc::dead_actor);
  CHECK(system.dead_letters() == 2);
  auto letters = log.dead_letters();
  REQUIRE(letters.size() == 2);
  CHECK(contains(letters[0].message_type, "Ping"));
  CHECK(contains(letters[0].receiver, "Mortal"));
  CHECK(letters[0].reason == troupe::DeadLetter::Reason::receiver_stopped);
  CHECK_FALSE(letters[0].was_request);
  CHECK(letters[1].was_request);
}

TEST_CASE("messages still queued when an actor quits become dead letters") {
  HookLog log;
  troupe::System system(log.config(1));
  auto m = system.spawn<Mortal>();
  m.send(Quit{});
  for (int i = 0; i < 100; ++i) m.send(Ping{i});
  REQUIRE(system.wait_idle(10s));
  CHECK(system.dead_letters() == 100);
  CHECK(log.dead_letter_count() == 100);
}

TEST_CASE("messages stashed while a coroutine awaited become dead letters when the actor fails") {
  HookLog log;
  troupe::System system(log.config());
  std::atomic<bool> asked{false}, may_reply{false};
  struct Slow {};
  auto slow = system.spawn(troupe::SpawnOptions{.blocking = true}, [&](troupe::Context&) {
    return troupe::behavior([&](Slow) {
      asked.store(true);
      const auto deadline = Clock::now() + 10s;
      while (!may_reply.load() && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
    });
  });
  struct Start {};
  std::atomic<int> pings{0};
  auto a = system.spawn([&, slow](troupe::Context& self) {
    return troupe::behavior(
        [&self, slow](Start) -> troupe::Task<void> {
          co_await self.request(slow, Slow{});
          throw std::runtime_error("failed after the await");
        },
        [&pings](Ping) { pings.fetch_add(1); });
  });
  a.send(Start{});
  REQUIRE(eventually([&] { return asked.load(); }));
  for (int i = 0; i < 3; ++i) a.send(Ping{i});
  may_reply.store(true);
  REQUIRE(system.wait_idle(10s));
  CHECK(pings.load() == 0);
  CHECK(system.dead_letters() == 3);
  REQUIRE(log.exit_count() == 1);
  CHECK(contains(log.exits()[0].reason.message, "failed after the await"));
}

TEST_CASE("dead letters from many threads at once are all counted") {
  std::atomic<std::uint64_t> seen{0};
  troupe::Config config{.workers = 2};
  config.on_dead_letter = [&](const troupe::DeadLetter&) { seen.fetch_add(1, std::memory_order_relaxed); };
  troupe::System system(std::move(config));
  auto m = system.spawn<Mortal>();
  m.send(Quit{});
  REQUIRE(system.wait_idle(10s));
  const std::uint64_t per_thread = scaled(20'000);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (std::uint64_t i = 0; i < per_thread; ++i) m.send(Ping{1});
    });
  }
  for (auto& t : threads) t.join();
  CHECK(system.dead_letters() == 4 * per_thread);
  CHECK(seen.load() == 4 * per_thread);
}

TEST_CASE("a throwing dead-letter hook does not take the runtime down") {
  troupe::Config config{.workers = 1};
  config.on_dead_letter = [](const troupe::DeadLetter&) { throw std::runtime_error("bad hook"); };
  troupe::System system(std::move(config));
  troupe::ScopedActor me(system);
  auto m = system.spawn<Mortal>();
  m.send(Quit{});
  REQUIRE(system.wait_idle(10s));
  CHECK(me.request(m, Ping{1}).code() == troupe::Errc::dead_actor);  // the reply still comes
  CHECK(system.dead_letters() == 1);
  auto other = system.spawn<Mortal>();
  CHECK(me.request(other, Ping{5}).value() == 5);
}

}  // TEST_SUITE
