// ScopedActor: receive with a timeout, selective receive, requests from a thread that is not an actor.
#include <troupe/troupe.hpp>

#include "actors/exit_log.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace troupe_test;

namespace {

struct A {
  int n;
};
struct B {
  int n;
};
struct Ask {
  int n;
};
struct Tell {
  troupe::DynamicHandle to;
  int n;
};

}  // namespace

TEST_SUITE("scoped actor") {

TEST_CASE("receive<T> times out with Errc::timeout when nothing comes") {
  troupe::System system(troupe::Config{.workers = 1});
  troupe::ScopedActor me(system);
  const auto start = Clock::now();
  auto r = me.receive<A>(100ms);
  CHECK(r.code() == troupe::Errc::timeout);
  CHECK(ms_since(start) >= 100ms);
  // A message of another type does not end the wait, and stays queued.
  me.handle().send(B{1});
  CHECK(me.receive<A>(50ms).code() == troupe::Errc::timeout);
  CHECK(me.queued() == 1);
  CHECK(me.receive<B>(1s).value().n == 1);
  CHECK(me.queued() == 0);
}

TEST_CASE("selective receive keeps other messages, in order") {
  troupe::System system(troupe::Config{.workers = 1});
  troupe::ScopedActor me(system);
  auto h = me.handle();
  h.send(A{1});
  h.send(A{2});
  h.send(B{3});
  h.send(A{4});
  h.send(B{5});
  h.send(A{6});
  CHECK(me.receive<B>(1s).value().n == 3);
  CHECK(me.queued() == 2);  // A{1} and A{2} were set aside
  CHECK(me.receive<B>(1s).value().n == 5);
  CHECK(me.queued() == 3);  // and A{4}
  for (int n : {1, 2, 4, 6}) CHECK(me.receive<A>(1s).value().n == n);
  CHECK(me.queued() == 0);
  CHECK(me.receive<A>(10ms).code() == troupe::Errc::timeout);
}

TEST_CASE("requests from main; messages that arrive meanwhile stay queued for receive()") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  // The actor tells us something, then answers the request.
  auto teller = system.spawn([](troupe::Context&) {
    return troupe::behavior(
        [](Tell t) {
          t.to.send(A{t.n});
          t.to.send(B{t.n});
          return t.n * 10;
        },
        [](Ask a) { return std::to_string(a.n); });
  });
  CHECK(me.request(teller, Ask{7}).value() == "7");
  auto answer = me.request(teller, Tell{me.handle(), 3});
  CHECK(answer.value() == 30);
  CHECK(me.queued() == 2);
  CHECK(me.receive<B>(1s).value().n == 3);
  CHECK(me.receive<A>(1s).value().n == 3);
  for (int i = 0; i < 1000; ++i) REQUIRE(me.request(teller, Ask{i}).value() == std::to_string(i));
}

TEST_CASE("actors reply to a scoped actor's handle; many messages arrive exactly once") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  auto echo = system.spawn([](troupe::Context&) { return troupe::behavior([](Tell t) { t.to.send(A{t.n}); }); });
  const int total = static_cast<int>(scaled(20'000));
  std::thread sender([&] {
    for (int i = 0; i < total; ++i) echo.send(Tell{me.handle(), i});
  });
  int received = 0, out_of_order = 0;
  for (int i = 0; i < total; ++i) {
    auto a = me.receive<A>(30s);
    if (!a.ok()) break;
    if (a->n != i) ++out_of_order;
    ++received;
  }
  sender.join();
  CHECK(received == total);
  CHECK(out_of_order == 0);
  CHECK(me.receive<A>(50ms).code() == troupe::Errc::timeout);
}

TEST_CASE("a destroyed scoped actor: what is left, and what comes later, is dead letters") {
  HookLog log;
  troupe::System system(log.config(1));
  troupe::DynamicHandle gone;
  {
    troupe::ScopedActor me(system);
    gone = me.handle();
    gone.send(A{1});
    gone.send(B{2});
    CHECK(me.receive<B>(1s).ok());  // A{1} set aside, never taken
  }
  CHECK(system.dead_letters() == 1);
  gone.send(A{2});
  CHECK(system.dead_letters() == 2);
  // A request from an actor to it gets dead_actor.
  struct Poke {};
  auto poker = system.spawn([gone](troupe::Context& self) {
    return troupe::behavior([&self, gone](Poke) -> troupe::Task<int> {
      auto r = co_await self.request<int>(gone, A{3});
      co_return static_cast<int>(r.code());
    });
  });
  troupe::ScopedActor me2(system);
  CHECK(me2.request(poker, Poke{}).value() == static_cast<int>(troupe::Errc::dead_actor));
  auto letters = log.dead_letters();
  REQUIRE(letters.size() == 3);
  CHECK(contains(letters[0].receiver, "ScopedActor"));
}

TEST_CASE("scoped actors on many threads at once") {
  troupe::System system(troupe::Config{.workers = 2});
  auto square = system.spawn([](troupe::Context&) { return troupe::behavior([](Ask a) { return a.n * a.n; }); });
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      troupe::ScopedActor me(system);
      for (int i = 0; i < 500; ++i) {
        const int n = t * 1000 + i;
        auto r = me.request(square, Ask{n}, 30s);
        if (!r.ok() || *r != n * n) wrong.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(wrong.load() == 0);
}

TEST_CASE("receive with a behavior: the first message any handler takes, others stay queued in order") {
  troupe::System system(troupe::Config{.workers = 1});
  troupe::ScopedActor me(system);
  auto h = me.handle();
  h.send(std::string("x"));
  h.send(B{1});
  h.send(A{2});
  h.send(std::string("y"));
  std::vector<int> got;
  auto ab = troupe::behavior([&](A a) { got.push_back(a.n); }, [&](B b) { got.push_back(-b.n); });
  CHECK(me.receive(ab, 1s).ok());
  CHECK(me.receive(ab, 1s).ok());
  CHECK(got == std::vector<int>{-1, 2});
  CHECK(me.queued() == 1);  // "x", set aside ("y" is still in the mailbox)
  CHECK(me.receive(ab, 50ms).code() == troupe::Errc::timeout);
  CHECK(me.queued() == 2);
  // A message that arrives while it waits: sent by an actor.
  auto sender = system.spawn([](troupe::Context&) { return troupe::behavior([](Tell t) { t.to.send(A{t.n}); }); });
  sender.send(Tell{h, 3});
  CHECK(me.receive(ab, 5s).ok());
  CHECK(got == std::vector<int>{-1, 2, 3});
  // The strings are still there, in order; a catch-all takes anything.
  std::vector<std::string> names;
  for (int i = 0; i < 2; ++i) {
    CHECK(me.receive(troupe::behavior(
                         troupe::others([&](troupe::AnyMessage& m) { names.push_back(*m.get<std::string>()); })),
                     1s)
              .ok());
  }
  CHECK(names == std::vector<std::string>{"x", "y"});
  CHECK(me.queued() == 0);
}

TEST_CASE("receive with a behavior answers a request with the handler's value, or its Error") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  // An actor asks us, from a coroutine, and tells us what it got back.
  auto asker = system.spawn([](troupe::Context& self) {
    return troupe::behavior([&self](Tell t) -> troupe::Task<void> {
      troupe::Result<int> r = co_await self.request<int>(t.to, Ask{t.n}, 5s);
      t.to.send(B{r ? *r : -static_cast<int>(r.code())});
    });
  });
  asker.send(Tell{me.handle(), 20});
  auto answer = troupe::behavior([](Ask a) -> troupe::Result<int> {
    if (a.n < 0) return troupe::Error{troupe::Errc::actor_failed, "negative"};
    return a.n + 1;
  });
  CHECK(me.receive(answer, 5s).ok());
  CHECK(me.receive<B>(5s).value().n == 21);
  asker.send(Tell{me.handle(), -1});
  CHECK(me.receive(answer, 5s).ok());
  CHECK(me.receive<B>(5s).value().n == -static_cast<int>(troupe::Errc::actor_failed));
}

TEST_CASE("receive with a behavior takes a Down, and a handler's exception reaches the caller") {
  troupe::System system(troupe::Config{.workers = 1});
  troupe::ScopedActor me(system);
  auto worker = system.spawn([](troupe::Context& self) { return troupe::behavior([&self](A) { self.quit(); }); });
  const troupe::MonitorRef ref = me.monitor(worker);
  worker.send(A{0});
  std::optional<troupe::MonitorRef> down;
  CHECK(me.receive(troupe::behavior([&](B) {}, [&](const troupe::Down& d) { down = d.ref; }), 5s).ok());
  CHECK(down == std::optional<troupe::MonitorRef>(ref));
  me.handle().send(A{1});
  CHECK_THROWS_AS(me.receive(troupe::behavior([](A) { throw std::runtime_error("no"); }), 1s), std::runtime_error);
  CHECK(me.queued() == 0);  // the message was taken, and disposed of
}

}  // TEST_SUITE
