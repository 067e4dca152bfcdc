// Coroutine handlers: co_await requests, nested tasks, ordering while suspended, cycles.
#include <troupe/troupe.hpp>

#include "actors/exit_log.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace troupe_test;

namespace {

struct Double {
  int n;
};
struct Sum {
  int a, b;
};
struct Fail {};

auto doubler(troupe::Context&) {
  return troupe::behavior([](Double d) { return 2 * d.n; }, [](Fail) -> int { throw std::runtime_error("doubler failed"); });
}
using DoublerHandle = decltype(std::declval<troupe::System&>().spawn(doubler));

// A nested task: awaits two requests, gives their sum.
troupe::Task<int> double_both(troupe::Context& self, DoublerHandle d, int a, int b) {
  auto x = co_await self.request(d, Double{a});
  auto y = co_await self.request(d, Double{b});
  co_return x.value() + y.value();
}

troupe::Task<int> throws_after_await(troupe::Context& self, DoublerHandle d) {
  auto x = co_await self.request(d, Double{1});
  if (x.ok()) throw std::logic_error("nested task threw");
  co_return 0;
}

}  // namespace

TEST_SUITE("coroutines") {

TEST_CASE("co_await a request inside an actor, and nested tasks") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  auto d = system.spawn(doubler);
  struct Nested {};
  struct Guarded {};
  auto adder = system.spawn([d](troupe::Context& self) {
    return troupe::behavior(
        [&self, d](Sum s) -> troupe::Task<int> {
          auto a = co_await self.request(d, Double{s.a});
          co_return a.value() + s.b;
        },
        [&self, d](Nested) -> troupe::Task<int> {
          const int first = co_await double_both(self, d, 1, 2);   // 6
          const int second = co_await double_both(self, d, 10, 20);  // 60
          co_return first + second;
        },
        [&self, d](Guarded) -> troupe::Task<std::string> {
          try {
            co_await throws_after_await(self, d);
            co_return std::string("no exception");
          } catch (const std::logic_error& e) {
            co_return std::string("caught: ") + e.what();
          }
        });
  });
  CHECK(me.request(adder, Sum{5, 1}).value() == 11);
  CHECK(me.request(adder, Nested{}).value() == 66);
  CHECK(me.request(adder, Guarded{}).value() == "caught: nested task threw");
}

TEST_CASE("co_await gives errors as values: the target failed, or has stopped") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  auto d = system.spawn(doubler);
  struct Probe {};
  auto prober = system.spawn([d](troupe::Context& self) {
    return troupe::behavior([&self, d](Probe) -> troupe::Task<std::vector<int>> {
      std::vector<int> codes;
      auto failed = co_await self.request(d, Fail{});
      codes.push_back(static_cast<int>(failed.code()));
      auto dead = co_await self.request(d, Double{1});  // the failure stopped it
      codes.push_back(static_cast<int>(dead.code()));
      co_return codes;
    });
  });
  auto codes = me.request(prober, Probe{});
  REQUIRE(codes.ok());
  REQUIRE(codes->size() == 2);
  CHECK((*codes)[0] == static_cast<int>(troupe::Errc::actor_failed));
  CHECK((*codes)[1] == static_cast<int>(troupe::Errc::dead_actor));
}

TEST_CASE("while a handler awaits, the actor handles nothing else; queued messages keep their order") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  // The slow service holds its reply until the test has queued more messages at the client.
  std::atomic<bool> service_got_request{false};
  std::atomic<bool> may_reply{false};
  struct Slow {};
  auto slow = system.spawn(troupe::SpawnOptions{.blocking = true}, [&](troupe::Context&) {
    return troupe::behavior([&](Slow) {
      service_got_request.store(true);
      const auto deadline = Clock::now() + 10s;
      while (!may_reply.load() && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
      return std::string("reply");
    });
  });
  struct Start {};
  struct Mark {
    int n;
  };
  struct GetLog {};
  auto client = system.spawn([slow](troupe::Context& self) {
    auto log = std::make_shared<std::vector<std::string>>();
    return troupe::behavior(
        [&self, slow, log](Start) -> troupe::Task<void> {
          log->push_back("start");
          auto r = co_await self.request(slow, Slow{});
          log->push_back("resumed with " + r.value_or("error"));
        },
        [log](Mark m) { log->push_back("mark " + std::to_string(m.n)); },
        [log](GetLog) { return *log; });
  });
  client.send(Start{});
  REQUIRE(eventually([&] { return service_got_request.load(); }));
  client.send(Mark{1});
  client.send(Mark{2});
  // Both marks are queued ahead of the reply. The blocking service, mid-turn, keeps the system busy.
  CHECK_FALSE(system.wait_idle(50ms));
  may_reply.store(true);
  client.send(Mark{3});
  auto log = me.request(client, GetLog{});
  REQUIRE(log.ok());
  const std::vector<std::string> expected{"start", "resumed with reply", "mark 1", "mark 2", "mark 3"};
  CHECK(*log == expected);
}

TEST_CASE("a request cycle A->B->A ends with a timeout, never a hang") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  struct Ask {};
  struct Inner {};
  struct Go {};
  struct BResult {};
  std::atomic<int> b_code{-1};
  troupe::Handle<int(Inner), int(Go)> a_handle;
  // B asks A back, with a longer timeout; A answers it once A's own request has timed out.
  auto b = system.spawn([&](troupe::Context& self) {
    return troupe::behavior([&self, &a_handle, &b_code](Ask) -> troupe::Task<int> {
      auto r = co_await self.request(a_handle, Inner{}, 5s);
      b_code.store(r.ok() ? 0 : static_cast<int>(r.code()));
      co_return r.value_or(-1);
    });
  });
  a_handle = system.spawn([b](troupe::Context& self) {
    return troupe::behavior([](Inner) { return 7; },
                            [&self, b](Go) -> troupe::Task<int> {
                              auto r = co_await self.request(b, Ask{}, 200ms);
                              co_return r.ok() ? 0 : static_cast<int>(r.code());
                            });
  });
  const auto start = Clock::now();
  auto outcome = me.request(a_handle, Go{}, 10s);
  REQUIRE(outcome.ok());
  CHECK(*outcome == static_cast<int>(troupe::Errc::timeout));
  CHECK(ms_since(start) >= 200ms);
  // B then got its answer from A (A handled B's request after its own one timed out).
  CHECK(eventually([&] { return b_code.load() == 0; }));
  CHECK(system.wait_idle(10s));
  // Both still work.
  CHECK(me.request(a_handle, Inner{}).value() == 7);
}

TEST_CASE("Task<void> handlers answer requests with Result<void>; failures after a co_await") {
  HookLog log;
  troupe::System system(log.config());
  troupe::ScopedActor me(system);
  auto d = system.spawn(doubler);
  struct Work {};
  struct Explode {};
  std::atomic<int> result{0};
  auto a = system.spawn([&, d](troupe::Context& self) {
    return troupe::behavior(
        [&self, &result, d](Work) -> troupe::Task<void> {
          auto r = co_await self.request(d, Double{21});
          result.store(r.value());
        },
        [&self, d](Explode) -> troupe::Task<int> {
          auto r = co_await self.request(d, Double{1});
          if (r.ok()) throw std::runtime_error("exploded after await");
          co_return 0;
        });
  });
  auto done = me.request(a, Work{});
  static_assert(std::is_same_v<decltype(done), troupe::Result<void>>);
  CHECK(done.ok());
  CHECK(result.load() == 42);

  auto exploded = me.request(a, Explode{});
  CHECK(exploded.code() == troupe::Errc::actor_failed);
  CHECK(contains(exploded.error().what, "exploded after await"));
  REQUIRE(eventually([&] { return log.exit_count() == 1; }));
  CHECK(log.exits()[0].reason.kind == troupe::ExitReason::Kind::error);
  CHECK(me.request(a, Work{}).code() == troupe::Errc::dead_actor);
}

TEST_CASE("a handler coroutine awaiting something troupe cannot resume fails the actor") {
  HookLog log;
  troupe::System system(log.config());
  troupe::ScopedActor me(system);
  struct Stuck {};
  auto a = system.spawn([](troupe::Context&) {
    return troupe::behavior([](Stuck) -> troupe::Task<int> {
      co_await std::suspend_always{};
      co_return 1;
    });
  });
  auto r = me.request(a, Stuck{}, 5s);
  CHECK_FALSE(r.ok());
  CHECK(r.code() != troupe::Errc::timeout);  // answered at once, not left hanging
  REQUIRE(eventually([&] { return log.exit_count() == 1; }));
  CHECK(log.exits()[0].reason.kind == troupe::ExitReason::Kind::error);
  CHECK(contains(log.exits()[0].reason.message, "awaited something other"));
}

}  // TEST_SUITE
