// Supervisors stopping their children: a two-level tree in reverse start order, the shutdown
// timeout that ends in a kill, brutal kill, and a failure of the supervisor's parent.
#include "supervision/supervisor_fixture.hpp"

namespace {

struct FailNow {};

// An actor that starts a supervisor linked to itself, and fails when told.
auto parent_of(troupe::Context& self, std::shared_ptr<Log> log, troupe::DynamicHandle report) {
  report.send(self.spawn_supervisor({}, {worker(log, "a"), worker(log, "b"), worker(log, "c")}));
  return troupe::behavior([](FailNow) { throw std::runtime_error("parent failed"); });
}

}  // namespace

TEST_SUITE("supervisors") {
  TEST_CASE("shutdown of a two-level tree: reverse start order, depth first") {
    HookLog hooks;
    troupe::System system(hooks.config());
    troupe::ScopedActor me(system);
    auto log = std::make_shared<Log>();
    auto root = system.spawn_supervisor(
        {}, {worker(log, "a"), troupe::supervisor_child("inner", {}, {worker(log, "x"), worker(log, "y")}),
             worker(log, "b")});
    REQUIRE(children_of(me, root).size() == 3);
    REQUIRE(children_of(me, troupe::SupervisorHandle::from(info_of(me, root, "inner").handle)).size() == 2);
    // Each supervisor starts its children in order; the inner one on its own first turn.
    auto starts = log->all();
    auto pos = [&](const std::string& e) { return std::find(starts.begin(), starts.end(), e) - starts.begin(); };
    CHECK(starts.size() == 4);
    CHECK(pos("start:a") < pos("start:b"));
    CHECK(pos("start:x") < pos("start:y"));
    me.monitor(root);
    const std::size_t mark = log->size();
    REQUIRE(troupe::stop_supervisor(me, root, 10s).ok());  // answered once all have stopped
    CHECK(log->since(mark) == Events{"stop:b", "stop:y", "stop:x", "stop:a"});
    auto down = me.receive<troupe::Down>(10s);
    REQUIRE(down.ok());
    CHECK(down->actor == root);
    CHECK(down->reason.is_normal());
  }

  TEST_CASE("shutdown timeout: a child that traps exits and will not stop is killed") {
    HookLog hooks;
    troupe::System system(hooks.config());
    troupe::ScopedActor me(system);
    auto log = std::make_shared<Log>();
    auto sup = system.spawn_supervisor(
        {}, {worker(log, "a"), worker(log, "stubborn", true).with_shutdown(troupe::Shutdown::after(50ms)),
             worker(log, "brutal", true).with_shutdown(troupe::Shutdown::brutal_kill())});

    auto stubborn = info_of(me, sup, "stubborn").handle;
    me.monitor(stubborn);
    const std::size_t mark = log->size();
    REQUIRE(troupe::terminate_child(me, sup, "stubborn", 10s).ok());
    CHECK(log->since(mark) == Events{"refused:stubborn", "stop:stubborn"});
    auto down = me.receive<troupe::Down>(10s);
    REQUIRE(down.ok());
    CHECK(down->reason.kind == troupe::ExitReason::Kind::kill);
    auto info = info_of(me, sup, "stubborn");
    CHECK_FALSE(info.alive);  // terminated, not restarted
    CHECK(info.restarts == 0);

    // Brutal kill: no exit(shutdown) first, so it has nothing to refuse.
    const std::size_t mark2 = log->size();
    REQUIRE(troupe::terminate_child(me, sup, "brutal", 10s).ok());
    CHECK(log->since(mark2) == Events{"stop:brutal"});
    CHECK(info_of(me, sup, "a").alive);
  }

  TEST_CASE("a failure of the supervisor's parent: children stop in reverse order, same reason") {
    HookLog hooks;
    troupe::System system(hooks.config());
    troupe::ScopedActor me(system);
    auto log = std::make_shared<Log>();
    auto parent = system.spawn(parent_of, log, me.handle());
    auto sup = me.receive<troupe::SupervisorHandle>(10s);
    REQUIRE(sup.ok());
    me.monitor(*sup);
    // Wait until the supervisor is steady (all three started) before failing the parent.
    REQUIRE(children_of(me, *sup).size() == 3);
    const std::size_t mark = log->size();
    parent.send(FailNow{});
    auto down = me.receive<troupe::Down>(10s);
    REQUIRE(down.ok());
    CHECK(down->actor == *sup);
    CHECK(down->reason.kind == troupe::ExitReason::Kind::error);
    CHECK(down->reason.message == "parent failed");
    CHECK(log->since(mark) == Events{"stop:c", "stop:b", "stop:a"});
  }
}
