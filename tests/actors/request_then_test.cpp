// Continuing on a reply without suspending (request(...).then), and requests neither awaited nor
// continued (sent; their replies dropped, errors counted).
#include <troupe/testing.hpp>
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace troupe_test;

namespace {

struct Withdraw {
  int amount;
};
struct Release {};
struct Held {};
struct Transfer {
  int amount;
};
struct Done {};
struct Go {};
struct Log {};
struct Add {
  int n;
};
struct Total {};
struct Refuse {};

// Holds every Withdraw in a promise until Release; then approves them all.
auto vault(troupe::Context& self) {
  auto held = std::make_shared<std::vector<troupe::Promise<int>>>();
  return troupe::behavior(
      [&self, held](Withdraw w) {
        auto p = self.promise<int>();
        held->push_back(p);
        (void)w;
        return p;
      },
      [held](Release) {
        for (auto& p : *held) p.deliver(1);
        held->clear();
      },
      [held](Held) { return static_cast<int>(held->size()); });
}
using VaultHandle = decltype(std::declval<troupe::System&>().spawn(vault));

// A teller that continues each transfer on the vault's reply, answering its client from the
// continuation through a promise taken in the handler.
auto teller(troupe::Context& self, VaultHandle vault) {
  auto done = std::make_shared<int>(0);
  return troupe::behavior(
      [&self, vault, done](Transfer t) {
        auto reply = self.promise<int>();
        self.request(vault, Withdraw{t.amount}, 30s)
            .then(
                [reply, done](int approved) mutable {
                  ++*done;
                  reply.deliver(approved);
                },
                [reply](const troupe::Error& e) mutable { reply.fail(e); });
        return reply;
      },
      [done](Done) { return *done; });
}

auto counter(troupe::Context&) {
  auto total = std::make_shared<int>(0);
  return troupe::behavior([total](Add a) { *total += a.n; }, [total](Total) { return *total; },
                          [](Refuse) -> troupe::Result<int> {
                            return troupe::Error{troupe::Errc::actor_failed, "no"};
                          });
}

using Lines = std::vector<std::string>;

}  // namespace

TEST_SUITE("request then") {
  TEST_CASE("a teller continues transfers without suspending: all are in flight at once, and it answers meanwhile") {
    troupe::System system(troupe::Config{.workers = 2});
    auto v = system.spawn(vault);
    auto t = system.spawn(teller, v);
    constexpr int kClients = 3;
    std::vector<troupe::Result<int>> replies(kClients, troupe::Result<int>(troupe::Errc::timeout));
    std::vector<std::thread> clients;
    for (int i = 0; i < kClients; ++i) {
      clients.emplace_back([&, i] {
        troupe::ScopedActor me(system);
        replies[static_cast<std::size_t>(i)] = me.request(t, Transfer{10}, 30s);
      });
    }
    troupe::ScopedActor me(system);
    // With co_await, the teller would hold the second transfer until the first was answered, and
    // the vault would never hold more than one.
    REQUIRE(eventually([&] { return me.request(v, Held{}).value_or(-1) == kClients; }));
    CHECK(me.request(t, Done{}).value_or(-1) == 0);  // the teller answers while transfers wait
    v.send(Release{});
    for (auto& c : clients) c.join();
    for (const auto& r : replies) CHECK(r.value_or(-1) == 1);
    CHECK(me.request(t, Done{}).value_or(-1) == kClients);
  }

  TEST_CASE("an error reaches on_error later, as a turn, never inside the handler that made the request") {
    troupe::System system(troupe::Config{.workers = 2});
    auto log = std::make_shared<Lines>();
    auto asker = system.spawn([log](troupe::Context& self) {
      return troupe::behavior(
          [&self, log](Go) {
            self.request<int>(troupe::DynamicHandle{}, Total{})
                .then([log](int) { log->push_back("reply"); },
                      [log](const troupe::Error& e) { log->push_back(std::string(troupe::to_string(e.code))); });
            log->push_back("handler returned");
          },
          [log](Log) { return *log; });
    });
    troupe::ScopedActor me(system);
    REQUIRE(me.request(asker, Go{}).ok());
    // The error was queued during Go's turn, so it is handled before the Log request.
    CHECK(me.request<Lines>(asker, Log{}).value_or(Lines{}) == Lines{"handler returned", "dead_actor"});
  }

  TEST_CASE("then: a timeout, a stopped receiver and a handler's Error each reach on_error with their code") {
    troupe::System system(troupe::Config{.workers = 2});
    auto v = system.spawn(vault);
    auto c = system.spawn(counter);
    struct Quit {};
    auto quitter = system.spawn([](troupe::Context& self) { return troupe::behavior([&self](Quit) { self.quit(); }); });
    troupe::ScopedActor me(system);
    auto down = me.monitor(quitter);
    quitter.send(Quit{});
    REQUIRE(me.receive<troupe::Down>(30s).ok());
    (void)down;
    auto log = std::make_shared<Lines>();
    troupe::DynamicHandle gone = quitter;
    auto asker = system.spawn([log, v, c, gone](troupe::Context& self) {
      auto note = [log](const troupe::Error& e) { log->push_back(std::string(troupe::to_string(e.code))); };
      return troupe::behavior(
          [&self, log, v, c, gone, note](Go) {
            self.request(v, Withdraw{1}, 50ms).then([log](int) { log->push_back("approved"); }, note);
            self.request<int>(gone, Total{}).then([log](int) { log->push_back("total"); }, note);
            self.request(c, Refuse{}).then([log](int) { log->push_back("refused?"); }, note);
            self.request(c, Total{}).then([log](troupe::Result<int> r) {
              log->push_back("total " + std::to_string(*r));
            });
          },
          [log](Log) { return static_cast<int>(log->size()); }, [log](Held) { return *log; });
    });
    asker.send(Go{});
    REQUIRE(eventually([&] { return me.request(asker, Log{}).value_or(0) == 4; }, 30s));
    auto lines = me.request<Lines>(asker, Held{}).value_or(Lines{});
    std::sort(lines.begin(), lines.end());
    CHECK(lines == Lines{"actor_failed", "dead_actor", "timeout", "total 0"});
  }

  TEST_CASE("a continuation whose reply arrives while a coroutine awaits runs after the coroutine ends") {
    // Virtual time: the gate answers 10 ms after asked, so the echo's reply surely comes first,
    // while the coroutine still awaits the gate.
    troupe::System system(troupe::testing::deterministic(7));
    struct Wait {};
    struct Open {};
    auto echo = system.spawn(counter);
    auto gate = system.spawn([](troupe::Context& self) {
      auto waiting = std::make_shared<std::vector<troupe::Promise<int>>>();
      return troupe::behavior(
          [&self, waiting](Wait) {
            waiting->push_back(self.promise<int>());
            self.send_after(self.self(), 10ms, Open{});
            return waiting->back();
          },
          [waiting](Open) {
            for (auto& p : *waiting) p.deliver(2);
            waiting->clear();
          });
    });
    auto log = std::make_shared<Lines>();
    auto actor = system.spawn([log, echo, gate](troupe::Context& self) {
      return troupe::behavior([&self, log, echo, gate](Go) -> troupe::Task<void> {
        self.request(echo, Total{})
            .then([log](int) { log->push_back("continuation"); },
                  [log](const troupe::Error&) { log->push_back("error"); });
        auto r = co_await self.request<int>(gate, Wait{});
        log->push_back("coroutine got " + std::to_string(r.value_or(-1)));
      });
    });
    actor.send(Go{});
    REQUIRE(system.wait_idle());
    CHECK(*log == Lines{"coroutine got 2", "continuation"});
  }

  TEST_CASE("an actor that stops first never runs its continuation; a promise it captured answers dead_actor") {
    troupe::System system(troupe::Config{.workers = 2});
    auto v = system.spawn(vault);
    struct Quit {};
    auto ran = std::make_shared<std::atomic<int>>(0);
    auto t = system.spawn([v, ran](troupe::Context& self) {
      return troupe::behavior(
          [&self, v, ran](Transfer tr) {
            auto reply = self.promise<int>();
            self.request(v, Withdraw{tr.amount}, 30s)
                .then(
                    [reply, ran](int a) mutable {
                      ran->fetch_add(1);
                      reply.deliver(a);
                    },
                    [reply](const troupe::Error& e) mutable { reply.fail(e); });
            return reply;
          },
          [&self](Quit) { self.quit(); });
    });
    std::thread client([&] {
      troupe::ScopedActor me(system);
      auto r = me.request(t, Transfer{5}, 30s);
      CHECK(r.code() == troupe::Errc::dead_actor);
      CHECK(r.error().what == "reply dropped");
    });
    troupe::ScopedActor me(system);
    REQUIRE(eventually([&] { return me.request(v, Held{}).value_or(-1) == 1; }));
    auto down = me.monitor(t);
    (void)down;
    t.send(Quit{});
    REQUIRE(me.receive<troupe::Down>(30s).ok());
    client.join();
    v.send(Release{});  // the reply now goes to a stopped actor
    REQUIRE(eventually([&] { return me.request(v, Held{}).value_or(-1) == 0; }));
    CHECK(ran->load() == 0);
  }

  TEST_CASE("a continuation that throws fails its actor with the exception's text, seen by a monitor") {
    troupe::System system(troupe::Config{.workers = 2});
    auto c = system.spawn(counter);
    auto a = system.spawn([c](troupe::Context& self) {
      return troupe::behavior([&self, c](Go) {
        self.request(c, Total{}).then([](int) { throw std::runtime_error("bad total"); }, [](const troupe::Error&) {});
      });
    });
    troupe::ScopedActor me(system);
    auto ref = me.monitor(a);
    (void)ref;
    a.send(Go{});
    auto down = me.receive<troupe::Down>(30s);
    REQUIRE(down.ok());
    CHECK(down->reason.kind == troupe::ExitReason::Kind::error);
    CHECK(down->reason.message.find("bad total") != std::string::npos);
  }

  TEST_CASE("a request neither awaited nor continued is sent; an error reply to it is counted") {
    troupe::System system(troupe::Config{.workers = 2});
    auto c = system.spawn(counter);
    auto a = system.spawn([c](troupe::Context& self) {
      return troupe::behavior([&self, c](Go) {
        (void)self.request(c, Add{2});        // sent: the reply (Unit) is dropped
        (void)self.request(c, Refuse{});      // sent: the reply is an Error, counted
        auto kept = self.request(c, Add{3});  // sent when `kept` goes, at the end of the handler
      });
    });
    troupe::ScopedActor me(system);
    CHECK(system.dropped_request_errors() == 0u);
    a.send(Go{});
    REQUIRE(eventually([&] { return me.request(c, Total{}).value_or(-1) == 5; }));
    REQUIRE(eventually([&] { return system.dropped_request_errors() == 1u; }));
  }

}  // TEST_SUITE
