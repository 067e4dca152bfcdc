// Context::delegate: a request handed on to another actor, which answers the requester directly
// (CAF's delegate, Akka's forward); its errors, refusals and absence reach the requester too.
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>

using namespace std::chrono_literals;

namespace {

struct Get {
  int key;
};
struct Note {
  int n;
};

// Answers Get with 100 + key; Get{-1} with an application error.
auto spawn_back(troupe::System& system) {
  return system.spawn([](troupe::Context&) {
    return troupe::behavior([](Get g) -> troupe::Result<int> {
      if (g.key < 0) return troupe::Error{troupe::Errc::no_such_name, "no such key"};
      return 100 + g.key;
    });
  });
}

}  // namespace

TEST_SUITE("delegate") {
  TEST_CASE("the requester gets its reply from the actor the request was handed to, not through the delegator") {
    troupe::System system;
    auto back = spawn_back(system);
    // The front stops as soon as it has handed the request on: a reply that came back through it
    // would be lost.
    auto front = system.spawn([back](troupe::Context& self) {
      return troupe::behavior([&self, back](Get g) {
        auto handed = self.delegate(back, Get{g.key * 2});
        self.quit();
        return handed;
      });
    });
    troupe::ScopedActor me(system);
    auto reply = me.request(front, Get{21}, 10s);  // typed: the front answers Get with an int
    REQUIRE(reply.ok());
    CHECK(*reply == 142);
  }

  TEST_CASE("the handed-on actor's error, its absence, or its full mailbox reach the requester") {
    troupe::System system;
    troupe::ScopedActor me(system);
    auto front_to = [&system](troupe::DynamicHandle target) {
      return system.spawn([target](troupe::Context& self) {
        return troupe::behavior([&self, target](Get g) { return self.delegate<int>(target, g); });
      });
    };
    SUBCASE("an error it answers with") {
      auto front = front_to(spawn_back(system));
      auto reply = me.request(front, Get{-1}, 10s);
      CHECK(reply.code() == troupe::Errc::no_such_name);
      CHECK(reply.error().what == "no such key");
    }
    SUBCASE("an actor that has stopped") {
      auto gone = system.spawn([](troupe::Context& self) {
        self.quit();
        return troupe::behavior([](Get) { return 0; });
      });
      me.monitor(gone);
      REQUIRE(me.receive<troupe::Down>(10s).ok());
      auto reply = me.request(front_to(gone), Get{1}, 10s);
      CHECK(reply.code() == troupe::Errc::dead_actor);
    }
    SUBCASE("a full mailbox that refuses it") {
      troupe::SpawnOptions bounded;
      bounded.blocking = true;  // its first turn waits on its own thread, leaving its mailbox full
      bounded.mailbox_capacity = 1;
      bounded.overflow = troupe::Overflow::fail;
      auto gate = std::make_shared<std::promise<void>>();
      auto full = system.spawn(bounded, [opened = gate->get_future().share()](troupe::Context&) {
        opened.wait();
        return troupe::behavior([](Get) { return 0; });
      });
      REQUIRE(full.send(Get{0}).ok());
      auto reply = me.request(front_to(full), Get{1}, 10s);
      CHECK(reply.code() == troupe::Errc::mailbox_full);
      gate->set_value();
    }
  }

  TEST_CASE("a one-way message is passed on one-way") {
    troupe::System system;
    troupe::ScopedActor me(system);
    auto back = system.spawn(
        [to = me.handle()](troupe::Context&) { return troupe::behavior([to](Note n) { to.send(Note{n.n + 1}); }); });
    auto front = system.spawn([back](troupe::Context& self) {
      return troupe::behavior([&self, back](Note n) { return self.delegate(back, n); });
    });
    REQUIRE(front.send(Note{1}).ok());
    auto passed = me.receive<Note>(10s);
    REQUIRE(passed.ok());
    CHECK(passed->n == 2);
  }

  TEST_CASE("a coroutine handler cannot delegate: its actor fails, saying so") {
    troupe::System system;
    auto back = spawn_back(system);
    auto front = system.spawn([back](troupe::Context& self) {
      return troupe::behavior([&self, back](Get g) -> troupe::Task<int> {
        (void)self.delegate(back, g);
        co_return 0;
      });
    });
    troupe::ScopedActor me(system);
    auto reply = me.request(front, Get{1}, 10s);
    REQUIRE(reply.code() == troupe::Errc::actor_failed);
    CHECK(reply.error().what.find("delegate()") != std::string::npos);
  }

  TEST_CASE("a catch-all forwards each message as it is: the target answers requests, and takes one-way messages") {
    troupe::System system;
    troupe::ScopedActor me(system);
    auto back = system.spawn([to = me.handle()](troupe::Context&) {
      return troupe::behavior([](Get g) { return 100 + g.key; }, [to](Note n) { to.send(Note{n.n + 1}); });
    });
    troupe::DynamicHandle proxy = system.spawn([back](troupe::Context&) {
      return troupe::behavior(troupe::others([back](troupe::AnyMessage& m) {
        m.forward(back);
        CHECK_FALSE(m.is_request());  // the request went with the message
      }));
    });
    auto reply = me.request<int>(proxy, Get{5}, 10s);
    REQUIRE(reply.ok());
    CHECK(*reply == 105);
    REQUIRE(proxy.send(Note{7}).ok());
    auto passed = me.receive<Note>(10s);
    REQUIRE(passed.ok());
    CHECK(passed->n == 8);
    // A type the target has no handler for: the target answers, as to any request of it.
    CHECK(me.request<int>(proxy, std::string("?"), 10s).code() == troupe::Errc::unexpected_message);
  }

  TEST_CASE("a message forwarded twice: the second forward throws, and the actor fails saying so") {
    troupe::System system;
    auto back = spawn_back(system);
    troupe::DynamicHandle proxy = system.spawn([back](troupe::Context&) {
      return troupe::behavior(troupe::others([back](troupe::AnyMessage& m) {
        m.forward(back);
        m.forward(back);
      }));
    });
    troupe::ScopedActor me(system);
    me.monitor(proxy);
    auto reply = me.request<int>(proxy, Get{1}, 10s);
    CHECK(reply.ok());  // the first forward took it: the back answers
    auto down = me.receive<troupe::Down>(10s);
    REQUIRE(down.ok());
    CHECK(down->reason.message.find("already forwarded") != std::string::npos);
  }

}  // TEST_SUITE
