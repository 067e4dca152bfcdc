// Spawning actors from functions and classes; state lifetime; quitting with a reason.
#include <troupe/runtime/scheduler.hpp>
#include <troupe/troupe.hpp>

#include "actors/exit_log.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <string>

using namespace troupe_test;

namespace {

struct Get {};
struct Add {
  int n;
};
struct Stop {};
struct StopWith {
  std::string why;
};
struct WhoAmI {};

// A class actor that takes the Context.
class Counter {
 public:
  Counter(troupe::Context& self, int start, std::atomic<int>* destroyed) : self_(self), total_(start), destroyed_(destroyed) {}
  ~Counter() {
    if (destroyed_ != nullptr) destroyed_->fetch_add(1);
  }
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  auto behavior() {
    return troupe::behavior([this](Add a) { total_ += a.n; }, [this](Get) { return total_; },
                            [this](Stop) { self_.quit(); },
                            [this](StopWith s) { self_.quit(troupe::ExitReason::error(s.why)); },
                            [this](WhoAmI) { return self_.self(); });
  }

 private:
  troupe::Context& self_;
  int total_;
  std::atomic<int>* destroyed_;
};

// A class actor that does not.
class Greeter {
 public:
  explicit Greeter(std::string greeting) : greeting_(std::move(greeting)) {}
  auto behavior() {
    return troupe::behavior([this](std::string name) { return greeting_ + ", " + name; });
  }

 private:
  std::string greeting_;
};

class ThrowsInConstructor {
 public:
  ThrowsInConstructor() { throw std::runtime_error("no state for you"); }
  auto behavior() {
    return troupe::behavior([](Get) { return 1; });
  }
};

}  // namespace

TEST_SUITE("spawn") {

TEST_CASE("function actors, with and without arguments") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  auto answer = system.spawn([](troupe::Context&) { return troupe::behavior([](Get) { return 42; }); });
  CHECK(me.request(answer, Get{}).value() == 42);

  auto adder = system.spawn(
      [](troupe::Context&, int base, std::string label) {
        return troupe::behavior([base, label](Add a) { return label + std::to_string(base + a.n); });
      },
      10, std::string("sum="));
  CHECK(me.request(adder, Add{5}).value() == "sum=15");

  // Move-only arguments are moved into the init.
  auto owner = system.spawn(
      [](troupe::Context&, std::unique_ptr<int> p) {
        return troupe::behavior([p = std::move(p)](Get) { return *p; });
      },
      std::make_unique<int>(7));
  CHECK(me.request(owner, Get{}).value() == 7);
  CHECK(system.live_actors() == 3);
}

TEST_CASE("the init function runs on a worker as the actor's first turn") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  std::atomic<int> init_worker{-2};
  auto a = system.spawn([&](troupe::Context&) {
    init_worker.store(troupe::runtime::Scheduler::current_worker_index());
    return troupe::behavior([](Get) { return 0; });
  });
  CHECK(me.request(a, Get{}).ok());
  CHECK(init_worker.load() >= 0);
}

TEST_CASE("class actors, with and without a Context& constructor parameter") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  auto counter = system.spawn<Counter>(5, static_cast<std::atomic<int>*>(nullptr));
  counter.send(Add{2});
  counter.send(Add{3});
  CHECK(me.request(counter, Get{}).value() == 10);
  // The Context it received is the actor's own.
  auto self = me.request(counter, WhoAmI{});
  REQUIRE(self.ok());
  CHECK(*self == counter);

  auto greeter = system.spawn<Greeter>(std::string("hello"));
  CHECK(me.request(greeter, std::string("troupe")).value() == "hello, troupe");
}

TEST_CASE("an actor's state is destroyed when it stops, and the exit hook sees why") {
  HookLog log;
  std::atomic<int> destroyed{0};
  {
    troupe::System system(log.config());
    troupe::ScopedActor me(system);
    auto a = system.spawn<Counter>(0, &destroyed);
    auto b = system.spawn<Counter>(0, &destroyed);
    auto c = system.spawn<Counter>(0, &destroyed);
    CHECK(me.request(a, Get{}).ok());
    CHECK(me.request(b, Get{}).ok());
    CHECK(me.request(c, Get{}).ok());
    CHECK(system.live_actors() == 3);

    // The exit hook runs after the state is destroyed.
    a.send(Stop{});
    REQUIRE(eventually([&] { return log.exit_count() == 1; }));
    CHECK(destroyed.load() == 1);
    b.send(StopWith{"out of coffee"});
    REQUIRE(eventually([&] { return log.exit_count() == 2; }));
    CHECK(destroyed.load() == 2);
    CHECK(system.live_actors() == 1);
    auto exits = log.exits();
    CHECK(exits[0].reason.kind == troupe::ExitReason::Kind::normal);
    CHECK(exits[0].reason.is_normal());
    CHECK(contains(exits[0].actor, "Counter"));
    CHECK(exits[1].reason.kind == troupe::ExitReason::Kind::error);
    CHECK(exits[1].reason.message == "out of coffee");
    CHECK(exits[1].reason.to_string() == "error: out of coffee");
    // The stopped ones answer no more.
    CHECK(me.request(a, Get{}).code() == troupe::Errc::dead_actor);
    CHECK(me.request(b, Get{}).code() == troupe::Errc::dead_actor);
    CHECK(me.request(c, Get{}).ok());
    CHECK(destroyed.load() == 2);
  }
  // The system's end stops the idle one, with reason shutdown, and destroys its state.
  CHECK(destroyed.load() == 3);
  auto exits = log.exits();
  REQUIRE(exits.size() == 3);
  CHECK(exits[2].reason.kind == troupe::ExitReason::Kind::shutdown);
}

TEST_CASE("quit: the first reason wins; messages after the quitting one are dead letters") {
  HookLog log;
  troupe::System system(log.config());
  struct QuitTwice {};
  auto a = system.spawn([](troupe::Context& self) {
    return troupe::behavior([&self](QuitTwice) {
      self.quit(troupe::ExitReason::error("first"));
      self.quit(troupe::ExitReason::normal());
    });
  });
  a.send(QuitTwice{});
  for (int i = 0; i < 5; ++i) a.send(QuitTwice{});
  REQUIRE(system.wait_idle(10s));
  REQUIRE(log.exit_count() == 1);
  CHECK(log.exits()[0].reason.kind == troupe::ExitReason::Kind::error);
  CHECK(log.exits()[0].reason.message == "first");
  CHECK(system.dead_letters() == 5);
  CHECK(system.live_actors() == 0);
}

TEST_CASE("an actor whose state throws while being built fails; its requests get dead_actor") {
  HookLog log;
  troupe::System system(log.config());
  troupe::ScopedActor me(system);
  auto broken = system.spawn<ThrowsInConstructor>();
  CHECK(me.request(broken, Get{}).code() == troupe::Errc::dead_actor);
  REQUIRE(eventually([&] { return log.exit_count() == 1; }));
  auto exit = log.exits()[0];
  CHECK(exit.reason.kind == troupe::ExitReason::Kind::error);
  CHECK(contains(exit.reason.message, "no state for you"));
  CHECK(system.live_actors() == 0);
}

TEST_CASE("actors spawn actors") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  struct SpawnChild {
    int n;
  };
  auto parent = system.spawn([](troupe::Context& self) {
    return troupe::behavior([&self](SpawnChild s) -> troupe::Task<int> {
      auto child = self.spawn([](troupe::Context&, int n) { return troupe::behavior([n](Get) { return n * 2; }); }, s.n);
      auto greeter = self.spawn<Greeter>(std::string("hi"));
      auto doubled = co_await self.request(child, Get{});
      auto greeting = co_await self.request(greeter, std::string("x"));
      co_return doubled.value() + static_cast<int>(greeting.value().size());
    });
  });
  CHECK(me.request(parent, SpawnChild{20}).value() == 40 + 5);  // 2 * 20 + size("hi, x")
  CHECK(system.live_actors() == 3);
}

}  // TEST_SUITE
