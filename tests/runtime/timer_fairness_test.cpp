// Fairness for timers (README, "Guarantees": timers run on their own thread, so a long handler
// does not delay them). The system's only worker is held in one handler until the test lets it
// go; meanwhile a one-shot timer, a periodic timer and a request's timeout must all fire. Each is
// waited for as a positive event: nothing here depends on how long the handler takes.
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <thread>

using namespace troupe_test;

namespace {

struct Hold {};
struct Ask {
  using reply_type = int;
};
struct Go {};
struct OneShot {};
struct Periodic {};
struct AskOutcome {
  troupe::Errc code;
  bool ok;
};

struct Held {
  std::atomic<bool> holding{false};
  std::atomic<bool> released{false};
  std::atomic<bool> finished{false};  // the Hold handler has returned
};

// Holds its worker in the Hold handler until released (or, in a failing test, for a minute).
auto holder(troupe::Context&, std::shared_ptr<Held> held) {
  return troupe::behavior(
      [held](Hold) {
        held->holding.store(true);
        const auto deadline = Clock::now() + 60s;  // bounds a failing test only
        while (!held->released.load() && Clock::now() < deadline) std::this_thread::yield();
        held->finished.store(true);
      },
      [](Ask) { return 1; });
}

// A blocking actor (a thread of its own, not the held worker): on Go, requests `target` with a
// 50 ms timeout and reports the outcome. The timeout is a timer like any other.
auto asker(troupe::Context& self, troupe::DynamicHandle target, troupe::DynamicHandle report) {
  return troupe::behavior([&self, target, report](Go) -> troupe::Task<void> {
    auto r = co_await self.request(target, Ask{}, std::chrono::milliseconds(50));
    report.send(AskOutcome{r.ok() ? troupe::Errc{} : r.code(), r.ok()});
  });
}

}  // namespace

TEST_SUITE("fairness") {
  TEST_CASE("a worker held in a long handler delays no timer: one-shot, periodic and request timeouts fire") {
    troupe::System system(troupe::Config{.workers = 1});
    REQUIRE(system.worker_count() == 1);
    troupe::ScopedActor me(system);
    auto held = std::make_shared<Held>();
    auto busy = system.spawn(holder, held);
    busy.send(Hold{});
    REQUIRE(eventually([&] { return held->holding.load(); }));

    const auto start = Clock::now();
    system.send_after(me.handle(), 20ms, OneShot{});
    troupe::Timer periodic = system.send_every(me.handle(), 5ms, Periodic{});
    auto ask = system.spawn(troupe::SpawnOptions{.blocking = true}, asker, troupe::DynamicHandle(busy), me.handle());
    ask.send(Go{});

    auto one = me.receive<OneShot>(10s);  // 10 s only bounds a failing test
    CHECK(one.ok());
    CHECK(ms_since(start) >= 20ms);  // not early either
    for (int i = 0; i < 3; ++i) CHECK(me.receive<Periodic>(10s).ok());
    auto outcome = me.receive<AskOutcome>(10s);
    REQUIRE(outcome.ok());
    CHECK_FALSE(outcome->ok);
    CHECK(outcome->code == troupe::Errc::timeout);
    // All of it while the worker was still held.
    CHECK_FALSE(held->finished.load());

    CHECK(periodic.cancel());
    held->released.store(true);
    REQUIRE(system.wait_idle(30s));
  }
}
