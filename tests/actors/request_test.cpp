// Request/response: values, Result<void>, errors, timeouts, dead and failing receivers.
#include <troupe/troupe.hpp>

#include "actors/exit_log.hpp"
#include "stderr_capture.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

using namespace troupe_test;

namespace {

struct Square {
  int n;
};
struct Touch {};
struct Parse {
  std::string text;
};
struct Check {
  int n;
};
struct Boom {
  std::string why;
};
struct Unknown {};
struct Nap {
  int ms;
};

auto service(troupe::Context&, std::atomic<int>* touched) {
  return troupe::behavior(
      [](Square s) { return s.n * s.n; },                 // a value
      [touched](Touch) { touched->fetch_add(1); },        // void: a request gets Result<void>
      [](Parse p) -> troupe::Result<int> {                // a value or an error
        if (p.text.empty() || p.text.find_first_not_of("0123456789") != std::string::npos) {
          return troupe::Error{troupe::Errc::unexpected_message, "not a number: " + p.text};
        }
        return std::stoi(p.text);
      },
      [](Check c) -> troupe::Result<void> {
        if (c.n < 0) return troupe::Result<void>(troupe::Errc::actor_failed, "negative");
        return {};
      },
      [](Boom b) -> int { throw std::runtime_error(b.why); });
}

}  // namespace

TEST_SUITE("requests") {

TEST_CASE("request/response: a value, Result<void>, and a Result<T> carrying an error") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  std::atomic<int> touched{0};
  auto s = system.spawn(service, &touched);

  for (int i = -3; i <= 3; ++i) CHECK(me.request(s, Square{i}).value() == i * i);

  auto touch = me.request(s, Touch{});
  static_assert(std::is_same_v<decltype(touch), troupe::Result<void>>);
  CHECK(touch.ok());
  CHECK(touched.load() == 1);  // the reply came after the handler ran

  auto parsed = me.request(s, Parse{"123"});
  CHECK(parsed.value() == 123);
  auto bad = me.request(s, Parse{"12x"});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.code() == troupe::Errc::unexpected_message);
  CHECK(bad.error().what == "not a number: 12x");
  CHECK(bad.error().message() == "unexpected_message: not a number: 12x");
  CHECK_THROWS_AS(bad.value(), troupe::BadResultAccess);
  CHECK(bad.value_or(-1) == -1);

  CHECK(me.request(s, Check{1}).ok());
  auto negative = me.request(s, Check{-1});
  CHECK(negative.code() == troupe::Errc::actor_failed);
  CHECK(negative.error().what == "negative");
  // An error returned as a value is an answer, not a failure: the actor lives on.
  CHECK(me.request(s, Square{9}).value() == 81);
  CHECK(system.live_actors() == 1);
}

TEST_CASE("a request that gets no reply within its timeout fails with Errc::timeout") {
  troupe::System system(troupe::Config{.workers = 1});
  troupe::ScopedActor me(system);
  // Nap{0} waits until the test lets it go: its reply cannot come before the timeout, however
  // slow the machine, so the request can only end by timing out.
  auto let_go = std::make_shared<std::atomic<bool>>(false);
  auto sleeper = system.spawn(troupe::SpawnOptions{.blocking = true}, [let_go](troupe::Context&) {
    return troupe::behavior([let_go](Nap n) {
      if (n.ms == 0) {
        while (!let_go->load()) std::this_thread::sleep_for(1ms);
      }
      return n.ms;
    });
  });
  const auto start = Clock::now();
  auto late = me.request(sleeper, Nap{0}, 100ms);
  const auto waited = ms_since(start);
  CHECK(late.code() == troupe::Errc::timeout);
  CHECK(waited >= 100ms);
  let_go->store(true);
  // The reply that comes later is dropped; the next request gets its own reply.
  CHECK(me.request(sleeper, Nap{1}, 5s).value() == 1);
  CHECK(me.queued() == 0);
}

TEST_CASE("Duration::max() as a request timeout means no timeout, from an actor and from main") {
  troupe::System system(troupe::Config{.workers = 1});
  troupe::ScopedActor me(system);
  auto sleeper = system.spawn(troupe::SpawnOptions{.blocking = true}, [](troupe::Context&) {
    return troupe::behavior([](Nap n) {
      std::this_thread::sleep_for(std::chrono::milliseconds(n.ms));
      return n.ms;
    });
  });
  CHECK(me.request(sleeper, Nap{30}, troupe::Duration::max()).value() == 30);
  struct Relay {};
  auto relay = system.spawn([sleeper](troupe::Context& self) {
    return troupe::behavior([&self, sleeper](Relay) -> troupe::Task<int> {
      auto r = co_await self.request(sleeper, Nap{30}, troupe::Duration::max());
      co_return r.ok() ? *r : -static_cast<int>(r.code());
    });
  });
  CHECK(me.request(relay, Relay{}, 10s).value() == 30);
  // Very long timers saturate rather than overflow: never due, so cancellable and silent.
  auto far = system.send_after(me.handle(), troupe::Duration::max(), Nap{1});
  CHECK(far.active());
  CHECK(me.receive<Nap>(50ms).code() == troupe::Errc::timeout);
  CHECK(far.cancel());
}

TEST_CASE("a request to a stopped actor gets Errc::dead_actor") {
  HookLog log;
  troupe::System system(log.config());
  troupe::ScopedActor me(system);
  struct Quit {};
  auto a = system.spawn([](troupe::Context& self) {
    return troupe::behavior([&self](Quit) { self.quit(); }, [](Square s) { return s.n; });
  });
  CHECK(me.request(a, Square{3}).value() == 3);
  // Queued behind the quitting message: answered with dead_actor by the closing mailbox.
  a.send(Quit{});
  auto behind = me.request(a, Square{4});
  CHECK(behind.code() == troupe::Errc::dead_actor);
  // Long after it stopped: answered by the sender's own push.
  REQUIRE(system.wait_idle(10s));
  auto after = me.request(a, Square{5});
  CHECK(after.code() == troupe::Errc::dead_actor);
  CHECK(contains(after.error().what, "Square"));
  CHECK(system.dead_letters() == 2);
  auto letters = log.dead_letters();
  REQUIRE(letters.size() == 2);
  for (auto& d : letters) {
    CHECK(d.was_request);
    CHECK(d.reason == troupe::DeadLetter::Reason::receiver_stopped);
  }
}

TEST_CASE("a request of a type the actor does not handle gets Errc::unexpected_message") {
  HookLog log;
  troupe::System system(log.config());
  troupe::ScopedActor me(system);
  std::atomic<int> touched{0};
  auto s = system.spawn(service, &touched);
  troupe::DynamicHandle d = s;
  auto r = me.request<int>(d, Unknown{});
  CHECK(r.code() == troupe::Errc::unexpected_message);
  CHECK(contains(r.error().what, "Unknown"));
  CHECK(system.dead_letters() == 1);
  auto letters = log.dead_letters();
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].reason == troupe::DeadLetter::Reason::unhandled);
  CHECK(letters[0].was_request);
  CHECK(me.request(s, Square{2}).value() == 4);  // still alive
}

TEST_CASE("a handler that throws: Errc::actor_failed with the text; the actor stops") {
  HookLog log;
  troupe::System system(log.config());
  troupe::ScopedActor me(system);
  std::atomic<int> touched{0};
  auto s = system.spawn(service, &touched);
  CHECK(me.request(s, Square{2}).value() == 4);

  auto failed = me.request(s, Boom{"kaboom"});
  CHECK(failed.code() == troupe::Errc::actor_failed);
  CHECK(contains(failed.error().what, "kaboom"));

  REQUIRE(eventually([&] { return log.exit_count() == 1; }));
  auto exit = log.exits()[0];
  CHECK(exit.reason.kind == troupe::ExitReason::Kind::error);
  CHECK(contains(exit.reason.message, "kaboom"));
  CHECK(system.live_actors() == 0);

  // Later sends are dead letters; later requests get dead_actor. (The stopping actor closes its
  // mailbox just after the exit hook; once idle, it surely has.)
  REQUIRE(system.wait_idle(10s));
  const auto before = system.dead_letters();
  s.send(Touch{});
  s.send(Square{1});
  CHECK(system.dead_letters() == before + 2);
  CHECK(me.request(s, Square{1}).code() == troupe::Errc::dead_actor);
  CHECK(touched.load() == 0);
}

TEST_CASE("a one-way message whose handler throws stops the actor too") {
  HookLog log;
  troupe::System system(log.config());
  std::atomic<int> touched{0};
  auto s = system.spawn(service, &touched);
  s.send(Boom{"one-way"});
  s.send(Touch{});  // behind the failure: a dead letter, never handled
  REQUIRE(system.wait_idle(10s));
  REQUIRE(log.exit_count() == 1);
  CHECK(contains(log.exits()[0].reason.message, "one-way"));
  CHECK(touched.load() == 0);
  CHECK(system.dead_letters() == 1);
}

TEST_CASE("a failure is logged (actor_failed, a line on stderr by default) and the process keeps running") {
  troupe::System system(troupe::Config{.workers = 1});
  troupe::ScopedActor me(system);
  std::atomic<int> touched{0};
  StderrCapture captured;
  auto s = system.spawn(service, &touched);
  CHECK(me.request(s, Boom{"expected in this test"}).code() == troupe::Errc::actor_failed);
  // The reply goes before the actor stops; the line comes as it stops.
  REQUIRE(system.wait_idle(10s));
  const std::string log = captured.finish();
  CHECK(log.find(" level=error event=actor_failed actor=") != std::string::npos);
  CHECK(log.find(" reason=\"expected in this test\" msg=\"actor ") != std::string::npos);
  CHECK(log.find(" stopped: error: expected in this test\"\n") != std::string::npos);
  auto other = system.spawn(service, &touched);
  CHECK(me.request(other, Square{5}).value() == 25);
}

TEST_CASE("many requests in flight from many actors all get their own replies") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  std::atomic<int> touched{0};
  auto s = system.spawn(service, &touched);
  struct Run {
    int base;
  };
  auto client = [s](troupe::Context& self) {
    return troupe::behavior([&self, s](Run r) -> troupe::Task<int> {
      int wrong = 0;
      for (int i = 0; i < 200; ++i) {
        auto sq = co_await self.request(s, Square{r.base + i});
        if (!sq.ok() || *sq != (r.base + i) * (r.base + i)) ++wrong;
      }
      co_return wrong;
    });
  };
  std::vector<troupe::Handle<int(Run)>> clients;
  for (int c = 0; c < 16; ++c) clients.push_back(system.spawn(client));
  // Start them all, then collect: their requests interleave at the service.
  std::vector<std::thread> threads;
  std::atomic<int> total_wrong{0}, answered{0};
  for (int c = 0; c < 16; ++c) {
    threads.emplace_back([&, c] {
      troupe::ScopedActor waiter(system);
      auto r = waiter.request(clients[c], Run{c * 1000}, 30s);
      if (r.ok()) {
        total_wrong.fetch_add(*r);
        answered.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(answered.load() == 16);
  CHECK(total_wrong.load() == 0);
}

}  // TEST_SUITE
