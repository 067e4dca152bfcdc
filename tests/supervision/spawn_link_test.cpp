// Context::spawn_link: the child starts linked, on both sides, before its first turn.
#include "supervision/recorder.hpp"

namespace {

struct SpawnChild {
  bool fail_at_once;
};
struct Crash {};

auto fails_at_once(troupe::Context&) -> decltype(troupe::behavior([](Ping) {})) {
  throw std::runtime_error("failed in its first turn");
}

auto quiet(troupe::Context&) {
  return troupe::behavior([](Ping) {}, [](Crash) { throw std::runtime_error("child crashed"); });
}

// Traps exits, spawns linked children when told, and forwards the Exit messages it gets.
auto spawner(troupe::Context& self, troupe::DynamicHandle report) {
  self.trap_exits(true);
  return troupe::behavior(
      [&self, report](SpawnChild s) {
        if (s.fail_at_once) {
          report.send(troupe::DynamicHandle(self.spawn_link(fails_at_once)));
        } else {
          report.send(troupe::DynamicHandle(self.spawn_link(quiet)));
        }
      },
      [report](const troupe::Exit& e) { report.send(e); }, [](Fail) { throw std::runtime_error("spawner failed"); });
}

}  // namespace

TEST_SUITE("links and monitors") {
  TEST_CASE("spawn_link: a child that fails at once is seen failing, never as noproc") {
    HookLog log;
    troupe::System system(log.config());
    troupe::ScopedActor me(system);
    auto parent = system.spawn(spawner, me.handle());
    for (int i = 0; i < static_cast<int>(scaled(200)); ++i) {
      parent.send(SpawnChild{true});
      auto child = me.receive<troupe::DynamicHandle>(10s);
      REQUIRE(child.ok());
      auto exit = me.receive<troupe::Exit>(10s);
      REQUIRE(exit.ok());
      CHECK(exit->from == *child);
      REQUIRE(exit->reason.kind == troupe::ExitReason::Kind::error);
      CHECK(exit->reason.message == "failed in its first turn");
    }
  }

  TEST_CASE("spawn_link: the link holds both ways") {
    HookLog log;
    troupe::System system(log.config());
    troupe::ScopedActor me(system);
    auto parent = system.spawn(spawner, me.handle());

    // Child fails: the (trapping) parent gets the Exit.
    parent.send(SpawnChild{false});
    auto child = me.receive<troupe::DynamicHandle>(10s);
    REQUIRE(child.ok());
    child->send(Crash{});
    auto exit = me.receive<troupe::Exit>(10s);
    REQUIRE(exit.ok());
    CHECK(exit->from == *child);
    CHECK(exit->reason.message == "child crashed");

    // Parent fails: the (non-trapping) child stops with the parent's reason.
    parent.send(SpawnChild{false});
    auto child2 = me.receive<troupe::DynamicHandle>(10s);
    REQUIRE(child2.ok());
    me.monitor(*child2);
    parent.send(Fail{});
    auto down = expect_down(me);
    CHECK(down.actor == *child2);
    CHECK(down.reason.message == "spawner failed");
  }
}
