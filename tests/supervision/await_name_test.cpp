// Waiting for a name (name_service.hpp): await_name answers when an actor registers the name, or
// at once if one has; clients of a supervised service wait across its restarts instead of
// spinning on whereis.
#include <troupe/testing.hpp>
#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <semaphore>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace {

struct Work {
  using reply_type = std::int64_t;
  std::int64_t n = 0;
};
struct Crash {};

// Asks a client to wait for `name` and send what it got to `to`.
struct WaitFor {
  std::string name;
  troupe::DynamicHandle to;
  troupe::Duration timeout = 10s;
};
struct Found {
  troupe::Result<troupe::DynamicHandle> handle;
};

auto service(troupe::Context&) {
  return troupe::behavior([](const Work& w) { return w.n * 2; }, [](Crash) { throw std::runtime_error("crash"); });
}

auto waiter(troupe::Context& self) {
  return troupe::behavior([&self](const WaitFor& w) -> troupe::Task<void> {
    troupe::Result<troupe::DynamicHandle> found = co_await troupe::await_name(self, w.name, w.timeout);
    w.to.send(Found{std::move(found)});
  });
}

}  // namespace

TEST_CASE("a name registered before the wait is answered at once") {
  troupe::System system(troupe::testing::deterministic(1));
  auto svc = system.spawn(service);
  REQUIRE(system.register_name("svc", svc).ok());
  troupe::Result<troupe::DynamicHandle> found = system.await_name("svc", 10s);
  REQUIRE(found.ok());
  CHECK(*found == svc);

  troupe::ScopedActor me(system);
  auto client = system.spawn(waiter);
  client.send(WaitFor{"svc", me.handle()});
  auto got = me.receive<Found>(10s);
  REQUIRE(got.ok());
  REQUIRE(got->handle.ok());
  CHECK(*got->handle == svc);
}

TEST_CASE("waiters are answered when the name is registered, all of them, by one registration") {
  auto result = troupe::testing::explore(20, [](std::uint64_t seed) {
    troupe::System system(troupe::testing::deterministic(seed));
    troupe::ScopedActor me(system);
    constexpr int kWaiters = 5;
    for (int i = 0; i < kWaiters; ++i) system.spawn(waiter).send(WaitFor{"svc", me.handle()});
    // Virtual time: the waiters have asked, and nothing answers them yet.
    troupe::testing::check(me.receive<Found>(1ms).code() == troupe::Errc::timeout, "an answer before the name");

    auto svc = system.spawn(service);
    troupe::testing::check(system.register_name("svc", svc).ok(), "registered");
    for (int i = 0; i < kWaiters; ++i) {
      auto got = me.receive<Found>(10s);
      troupe::testing::check(got.ok() && got->handle.ok() && *got->handle == svc, "a waiter got the service");
    }
  });
  CHECK_MESSAGE(result, result.failure);
}

TEST_CASE("a wait past its timeout is Errc::timeout, and the service goes on answering") {
  troupe::System system(troupe::testing::deterministic(2));
  troupe::ScopedActor me(system);
  system.spawn(waiter).send(WaitFor{"late", me.handle(), 50ms});
  auto got = me.receive<Found>(10s);
  REQUIRE(got.ok());
  CHECK(got->handle.code() == troupe::Errc::timeout);
  CHECK(system.await_name("late", 50ms).code() == troupe::Errc::timeout);

  // The expired waiters are dropped; a later one is answered.
  system.spawn(waiter).send(WaitFor{"late", me.handle()});
  CHECK(me.receive<Found>(1ms).code() == troupe::Errc::timeout);
  auto svc = system.spawn(service);
  REQUIRE(system.register_name("late", svc).ok());
  auto later = me.receive<Found>(10s);
  REQUIRE(later.ok());
  REQUIRE(later->handle.ok());
  CHECK(*later->handle == svc);
}

TEST_CASE("a thread waiting for a name returns when the system shuts down") {
  troupe::System system;
  REQUIRE(system.name_service().valid());  // started before the wait, so the shutdown stops it
  troupe::Result<troupe::DynamicHandle> got{troupe::Errc::timeout};
  std::thread waiting([&] { got = system.await_name("never", std::chrono::hours(1)); });
  system.shutdown();
  waiting.join();
  CHECK((got.code() == troupe::Errc::system_shutdown || got.code() == troupe::Errc::dead_actor));
  CHECK_FALSE(system.name_service().valid());
  CHECK(system.await_name("never", 1h).code() == troupe::Errc::system_shutdown);
}

namespace {

struct Tally {
  std::int64_t jobs = 0;
  std::int64_t lookups = 0;
  std::int64_t failed = 0;
};
struct Run {
  std::shared_ptr<std::atomic<bool>> looking;  // set while the client waits for the name
  std::shared_ptr<std::atomic<bool>> stop;
};

// Sends Work to "svc" until told to stop; looks the name up again (waiting for it) whenever a
// request fails. A client that spun on whereis would look up many times per restart.
auto client(troupe::Context& self) {
  return troupe::behavior([&self](const Run& run) -> troupe::Task<Tally> {
    Tally tally;
    troupe::DynamicHandle svc;
    // Acquire: pairs with the test's release store; only a stop request, nothing else to see.
    while (!run.stop->load(std::memory_order_acquire)) {
      if (!svc.valid()) {
        ++tally.lookups;
        // Relaxed: a signal to the service's next incarnation, which orders nothing else by it.
        run.looking->store(true, std::memory_order_relaxed);
        run.looking->notify_all();
        troupe::Result<troupe::DynamicHandle> found = co_await troupe::await_name(self, "svc", 10s);
        run.looking->store(false, std::memory_order_relaxed);  // relaxed: as above
        if (!found) continue;
        svc = *found;
      }
      Work work{tally.jobs};
      troupe::Result<std::int64_t> r = co_await self.request<std::int64_t>(svc, std::move(work), 10s);
      if (r.ok() && *r == 2 * tally.jobs) {
        ++tally.jobs;
      } else {
        ++tally.failed;
        svc = {};
      }
    }
    co_return tally;
  });
}

}  // namespace

TEST_CASE("a client of a supervised service waits for its restarts instead of spinning") {
  troupe::System system(troupe::Config{.workers = 4, .on_actor_exit = [](const troupe::ExitInfo&) {}});
  troupe::ScopedActor me(system);
  auto looking = std::make_shared<std::atomic<bool>>(false);
  auto starts = std::make_shared<std::atomic<std::int64_t>>(0);
  // Each restarted incarnation of the service registers its name only once the client is looking
  // for it, so the name stays unregistered while the client looks: a client that spun on whereis
  // would spin all that time. The service is a blocking actor (a thread of its own), so this wait
  // stalls no worker.
  troupe::ChildSpec svc;
  svc.id = "svc";
  svc.start = [looking, starts](troupe::Context& sup) {
    // Relaxed: only the supervisor's turns touch it.
    const std::int64_t k = starts->fetch_add(1, std::memory_order_relaxed);
    auto init = [looking, k](troupe::Context& self) {
      // Relaxed: see the client.
      while (k > 0 && !looking->load(std::memory_order_relaxed)) looking->wait(false, std::memory_order_relaxed);
      if (!self.system().register_name("svc", self.self())) throw std::runtime_error("svc is taken");
      return service(self);
    };
    return troupe::DynamicHandle(sup.spawn_link(troupe::SpawnOptions{.blocking = true}, init));
  };
  troupe::SupervisorSpec spec{.max_restarts = 1000, .period = 60s};
  spec.on_restart = [to = me.handle()](const troupe::RestartEvent&) { to.send(std::string("restarted")); };
  auto sup = system.spawn_supervisor(spec, {std::move(svc)});

  auto stop = std::make_shared<std::atomic<bool>>(false);
  auto c = system.spawn(client);
  // Starts the client and sends its tally to the test when it stops.
  auto asker = system.spawn([c, looking, stop, to = me.handle()](troupe::Context& self) {
    return troupe::behavior([&self, c, looking, stop, to](const std::string&) -> troupe::Task<void> {
      Run run{looking, stop};  // its own statement: g++ 12 miscompiles it built inside co_await (task.hpp)
      troupe::Result<Tally> t = co_await self.request(c, std::move(run), 120s);
      to.send(std::move(t));
    });
  });
  asker.send(std::string("go"));

  constexpr int kCrashes = 20;
  for (int i = 0; i < kCrashes; ++i) {
    troupe::Result<troupe::DynamicHandle> current = system.await_name("svc", 10s);
    REQUIRE(current.ok());
    current->send(Crash{});
    REQUIRE(me.receive<std::string>(10s).ok());  // restarted, once the client waited for it
  }
  // Release: pairs with the client's acquire load.
  stop->store(true, std::memory_order_release);
  auto tally = me.receive<troupe::Result<Tally>>(60s);
  // The last incarnation may still wait for a lookup the stopped client never makes.
  looking->store(true, std::memory_order_relaxed);  // relaxed: as in the client
  looking->notify_all();
  REQUIRE(tally.ok());
  REQUIRE(tally->ok());
  const Tally& t = tally->value();
  MESSAGE("jobs " << t.jobs << ", lookups " << t.lookups << ", failed requests " << t.failed);
  CHECK(t.jobs > 0);
  CHECK(t.lookups <= 1 + 2 * kCrashes);  // about one wait per crash, not a spin
  CHECK(t.failed <= 2 * kCrashes);
}
