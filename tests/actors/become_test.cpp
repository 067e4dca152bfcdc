// Behavior changes: become / unbecome (a stack: replace the top, or keep it with keep_behavior),
// the catch-all troupe::others, and the default for a message the current behavior lacks.
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <mutex>
#include <string>
#include <type_traits>
#include <vector>

using namespace troupe_test;

namespace {

struct Unlock {};
struct Lock {};
struct Open {};
struct Which {
  using reply_type = std::string;
};
struct Push {
  std::string name;
  bool keep;
};
struct Pop {};
struct Unknown {
  int n;
};
struct Ping {
  int n;
};

// A door: locked (the initial behavior) or unlocked (become). Opening says what happened.
class Door {
 public:
  explicit Door(troupe::Context& self) : self_(self) {}
  // Defined before behavior(), which uses it: its return type must be deduced first.
  auto unlocked() {
    return troupe::behavior([this](Lock) { self_.unbecome(); },
                            [this](Open) { return std::string("opened #") + std::to_string(++opened_); });
  }
  auto behavior() {
    return troupe::behavior([this](Unlock) { self_.become(unlocked()); }, [](Open) { return std::string("locked"); });
  }

 private:
  troupe::Context& self_;
  int opened_ = 0;
};

// Names its behavior; Push becomes a behavior of that name (replacing the top, or kept below it).
void become_level(troupe::Context& self, std::string name, bool keep);
auto level(troupe::Context& self, std::string name) {
  return troupe::behavior([name](Which) { return name; },
                          [&self](Push p) { become_level(self, std::move(p.name), p.keep); },
                          [&self](Pop) { self.unbecome(); });
}
void become_level(troupe::Context& self, std::string name, bool keep) {
  if (keep) {
    self.become(troupe::keep_behavior, level(self, std::move(name)));
  } else {
    self.become(level(self, std::move(name)));
  }
}

struct DeadLetters {
  std::mutex mutex;
  std::vector<troupe::DeadLetter> letters;
  troupe::Config config() {
    troupe::Config c{.workers = 2};
    c.on_dead_letter = [this](const troupe::DeadLetter& d) {
      std::lock_guard lock(mutex);
      letters.push_back(d);
    };
    return c;
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return letters.size();
  }
};

}  // namespace

TEST_SUITE("become") {

// A behavior of no handlers is still one (it handles nothing).
static_assert(std::is_same_v<decltype(troupe::behavior())::handle_type, troupe::Handle<>>);

TEST_CASE("a door switches between locked and unlocked; its typed handle stays the initial behavior's") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  auto door = system.spawn<Door>();
  static_assert(std::is_same_v<decltype(door), troupe::Handle<void(Unlock), std::string(Open)>>);
  CHECK(me.request(door, Open{}).value() == "locked");
  door.send(Unlock{});
  CHECK(me.request(door, Open{}).value() == "opened #1");
  CHECK(me.request(door, Open{}).value() == "opened #2");
  troupe::DynamicHandle any = door;  // Lock is only in the unlocked behavior
  any.send(Lock{});
  CHECK(me.request(door, Open{}).value() == "locked");
  door.send(Unlock{});
  CHECK(me.request(door, Open{}).value() == "opened #3");
}

TEST_CASE("become replaces the top, become(keep_behavior, ...) pushes, unbecome pops down to the initial one") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  auto actor = system.spawn(level, std::string("initial"));
  auto which = [&] { return me.request(actor, Which{}).value(); };
  actor.send(Pop{});  // nothing to pop: stays
  CHECK(which() == "initial");
  actor.send(Push{"a", false});  // from the initial one: pushed above it
  CHECK(which() == "a");
  actor.send(Push{"b", false});  // replaces a
  CHECK(which() == "b");
  actor.send(Pop{});  // a was discarded: back to the initial one
  CHECK(which() == "initial");
  actor.send(Push{"a", false});
  actor.send(Push{"b", true});  // a kept below
  actor.send(Push{"c", true});
  CHECK(which() == "c");
  actor.send(Pop{});
  CHECK(which() == "b");
  actor.send(Push{"d", false});  // replaces b
  CHECK(which() == "d");
  actor.send(Pop{});
  CHECK(which() == "a");
  actor.send(Pop{});
  CHECK(which() == "initial");
}

TEST_CASE("a handler may use its captures after become; behaviors go when the actor stops") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  auto token = std::make_shared<int>(7);
  auto actor = system.spawn([token](troupe::Context& self) {
    // become in the init function: the first message already sees the new behavior.
    self.become(troupe::behavior([&self, token, text = std::string("replaced while running")](Which) {
      self.become(troupe::behavior([token](Which) { return std::string("second"); }, [&self](Open) { self.quit(); }));
      return text + " " + std::to_string(*token);  // this closure is still alive
    }));
    return troupe::behavior([](Which) { return std::string("initial"); }, [&self](Lock) { self.quit(); });
  });
  CHECK(me.request(actor, Which{}).value() == "replaced while running 7");
  CHECK(me.request(actor, Which{}).value() == "second");
  CHECK(token.use_count() > 1);
  me.monitor(actor);
  actor.send(Lock{});  // not in the current behavior: a dead letter
  CHECK(me.request(actor, Which{}).value() == "second");
  troupe::DynamicHandle(actor).send(Open{});  // the current behavior's quit
  REQUIRE(me.receive<troupe::Down>(5s).ok());
  CHECK(token.use_count() == 1);  // the state and every behavior it became are gone
}

TEST_CASE("a message the current behavior lacks: a dead letter, a request gets unexpected_message") {
  DeadLetters dead;
  troupe::System system(dead.config());
  troupe::ScopedActor me(system);
  auto door = system.spawn<Door>();
  door.send(Unlock{});  // the unlocked behavior has no Unlock handler
  CHECK(me.request(door, Open{}).value() == "opened #1");
  auto r = me.request(door, Unlock{});
  CHECK(r.code() == troupe::Errc::unexpected_message);
  REQUIRE(dead.count() == 1);
  CHECK(dead.letters[0].reason == troupe::DeadLetter::Reason::unhandled);
  CHECK(dead.letters[0].was_request);
}

TEST_CASE("a catch-all sees unknown types by name, may answer; an unanswered request gets unexpected_message") {
  DeadLetters dead;
  troupe::System system(dead.config());
  troupe::ScopedActor me(system);
  auto seen = std::make_shared<std::vector<std::string>>();
  auto actor = system.spawn([seen](troupe::Context&) {
    return troupe::behavior([](Ping p) { return p.n; }, troupe::others([seen](troupe::AnyMessage& m) {
                              seen->push_back(std::string(m.type_name()));
                              if (Unknown* u = m.get<Unknown>()) {
                                if (u->n > 0) m.reply(u->n * 2);  // answered; n <= 0: left alone
                              } else if (m.is_request()) {
                                m.reply_error(troupe::Error{troupe::Errc::actor_failed, "refused"});
                              }
                            }));
  });
  // The catch-all adds nothing to the typed handle.
  static_assert(std::is_same_v<decltype(actor), troupe::Handle<int(Ping)>>);
  troupe::DynamicHandle any = actor;
  CHECK(me.request(actor, Ping{4}).value() == 4);
  any.send(Unknown{1});
  CHECK(me.request<int>(any, Unknown{21}).value() == 42);
  auto left = me.request<int>(any, Unknown{0});
  CHECK(left.code() == troupe::Errc::unexpected_message);
  CHECK(left.error().message().find("Unknown") != std::string::npos);
  auto refused = me.request<int>(any, std::string("hello"));
  CHECK(refused.code() == troupe::Errc::actor_failed);
  CHECK(me.request(actor, Ping{5}).value() == 5);  // the Ping handler still comes first
  REQUIRE(seen->size() == 4);
  CHECK((*seen)[0].find("Unknown") != std::string::npos);
  CHECK((*seen)[3].find("string") != std::string::npos);
  CHECK(dead.count() == 0);  // the catch-all handled them all
}

TEST_CASE("a become'd behavior may be a coroutine, and may have a catch-all of its own") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  auto echo = system.spawn([](troupe::Context&) { return troupe::behavior([](Ping p) { return p.n; }); });
  auto actor = system.spawn([echo](troupe::Context& self) {
    return troupe::behavior([&self, echo](Unlock) {
      self.become(troupe::behavior(
          [&self, echo](Ping p) -> troupe::Task<int> {
            auto r = co_await self.request(echo, Ping{p.n + 1});
            co_return r.value_or(-1) * 10;
          },
          troupe::others([](troupe::AnyMessage& m) { m.reply(std::string(m.type_name())); })));
    });
  });
  troupe::DynamicHandle any = actor;
  CHECK(me.request<int>(any, Ping{1}).code() == troupe::Errc::unexpected_message);
  actor.send(Unlock{});
  CHECK(me.request<int>(any, Ping{1}).value() == 20);
  CHECK(me.request<std::string>(any, Open{}).value().find("Open") != std::string::npos);
}

}  // TEST_SUITE
