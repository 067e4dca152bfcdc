// Supervisors: the three strategies, the three restart types, and restart intensity (escalation
// to the parent supervisor, and at the root).
#include "supervision/supervisor_fixture.hpp"

TEST_SUITE("supervisors") {
  TEST_CASE("one_for_one: only the failed child is restarted, with a new handle") {
    HookLog hooks;
    troupe::System system(hooks.config());
    troupe::ScopedActor me(system);
    auto log = std::make_shared<Log>();
    auto sup = system.spawn_supervisor(reporting({.strategy = troupe::Strategy::one_for_one}, me),
                                       {worker(log, "a"), worker(log, "b"), worker(log, "c")});
    const auto before = children_of(me, sup);  // answered once the first start is done
    CHECK(log->all() == Events{"start:a", "start:b", "start:c"});
    REQUIRE(before.size() == 3);

    const std::size_t mark = log->size();
    crash(me, sup, "b");
    auto r = expect_restart(me);
    CHECK(r.child == "b");
    CHECK(r.failed == "b");
    CHECK(r.reason.kind == troupe::ExitReason::Kind::error);
    CHECK(contains(r.reason.message, "crashed on purpose"));
    CHECK(r.restarts == 1);
    CHECK(log->since(mark) == Events{"stop:b", "start:b"});

    const auto after = children_of(me, sup);
    REQUIRE(after.size() == 3);
    CHECK(after[0].handle == before[0].handle);
    CHECK(after[1].handle != before[1].handle);
    CHECK(after[1].alive);
    CHECK(after[1].restarts == 1);
    CHECK(after[2].handle == before[2].handle);
    CHECK(me.request(after[1].handle, WhoAreYou{}).value() == "b");
  }

  TEST_CASE("one_for_all: the others stop in reverse start order, then all start in order") {
    HookLog hooks;
    troupe::System system(hooks.config());
    troupe::ScopedActor me(system);
    auto log = std::make_shared<Log>();
    auto sup = system.spawn_supervisor(reporting({.strategy = troupe::Strategy::one_for_all}, me),
                                       {worker(log, "a"), worker(log, "b"), worker(log, "c"), worker(log, "d")});
    const auto before = children_of(me, sup);
    const std::size_t mark = log->size();
    crash(me, sup, "b");
    std::vector<std::string> restarted;
    for (int i = 0; i < 4; ++i) {
      auto r = expect_restart(me);
      CHECK(r.failed == "b");
      restarted.push_back(r.child);
    }
    CHECK(restarted == Events{"a", "b", "c", "d"});
    CHECK(log->since(mark) ==
          Events{"stop:b", "stop:d", "stop:c", "stop:a", "start:a", "start:b", "start:c", "start:d"});
    const auto after = children_of(me, sup);
    for (std::size_t i = 0; i < after.size(); ++i) {
      CHECK(after[i].handle != before[i].handle);
      CHECK(after[i].restarts == 1);
    }
  }

  TEST_CASE("rest_for_one: the failed child and those started after it are restarted") {
    HookLog hooks;
    troupe::System system(hooks.config());
    troupe::ScopedActor me(system);
    auto log = std::make_shared<Log>();
    auto sup = system.spawn_supervisor(
        reporting({.strategy = troupe::Strategy::rest_for_one, .max_restarts = 5}, me),
        {worker(log, "a"), worker(log, "b"), worker(log, "c"), worker(log, "d")});
    const auto before = children_of(me, sup);
    const std::size_t mark = log->size();
    crash(me, sup, "b");
    for (const char* expected : {"b", "c", "d"}) CHECK(expect_restart(me).child == expected);
    CHECK(log->since(mark) == Events{"stop:b", "stop:d", "stop:c", "start:b", "start:c", "start:d"});
    const auto after = children_of(me, sup);
    CHECK(after[0].handle == before[0].handle);
    CHECK(after[0].restarts == 0);
    for (std::size_t i = 1; i < 4; ++i) CHECK(after[i].handle != before[i].handle);

    // The last child failing restarts only itself.
    const std::size_t mark2 = log->size();
    crash(me, sup, "d");
    CHECK(expect_restart(me).child == "d");
    CHECK(log->since(mark2) == Events{"stop:d", "start:d"});
  }

  TEST_CASE("restart types: permanent always, transient after a failure only, temporary never") {
    HookLog hooks;
    troupe::System system(hooks.config());
    troupe::ScopedActor me(system);
    auto log = std::make_shared<Log>();
    auto sup = system.spawn_supervisor(
        reporting({.max_restarts = 10}, me),
        {worker(log, "perm"), worker(log, "trans").with_restart(troupe::Restart::transient),
         worker(log, "temp").with_restart(troupe::Restart::temporary),
         worker(log, "temp2").with_restart(troupe::Restart::temporary)});

    auto quit_normally = [&](const std::string& id) {
      auto h = info_of(me, sup, id).handle;
      REQUIRE(h.valid());
      me.monitor(h);
      h.send(QuitNormally{});
      auto down = me.receive<troupe::Down>(10s);
      REQUIRE(down.ok());
      CHECK(down->reason.is_normal());
    };

    SUBCASE("permanent: restarted after a normal exit, and after a failure") {
      quit_normally("perm");
      auto r = expect_restart(me);
      CHECK(r.child == "perm");
      CHECK(r.reason.is_normal());
      crash(me, sup, "perm");
      CHECK(expect_restart(me).child == "perm");
      CHECK(info_of(me, sup, "perm").restarts == 2);
    }
    SUBCASE("transient: a normal exit leaves it stopped; a failure restarts it") {
      quit_normally("trans");
      auto info = info_of(me, sup, "trans");
      CHECK_FALSE(info.alive);
      CHECK_FALSE(info.handle.valid());
      CHECK(me.queued() == 0);  // no restart reported
      REQUIRE(troupe::restart_child(me, sup, "trans").ok());
      crash(me, sup, "trans");
      CHECK(expect_restart(me).child == "trans");
      CHECK(info_of(me, sup, "trans").alive);
    }
    SUBCASE("temporary: never restarted, and its spec is gone") {
      crash(me, sup, "temp");
      quit_normally("temp2");
      std::vector<std::string> ids;
      for (auto& c : children_of(me, sup)) ids.push_back(c.id);
      CHECK(ids == Events{"perm", "trans"});
      CHECK(me.queued() == 0);
    }
  }

  TEST_CASE("intensity: a child supervisor that gives up is restarted by its parent") {
    HookLog hooks;
    troupe::System system(hooks.config());
    troupe::ScopedActor me(system);
    auto log = std::make_shared<Log>();
    auto inner_spec = reporting({.max_restarts = 1, .period = std::chrono::hours(1)}, me);
    auto root = system.spawn_supervisor(reporting({.max_restarts = 3}, me),
                                        {worker(log, "x"),
                                         troupe::supervisor_child("inner", inner_spec, {worker(log, "w1"), worker(log, "w2")})});
    auto inner = troupe::SupervisorHandle::from(info_of(me, root, "inner").handle);
    REQUIRE(info_of(me, root, "inner").supervisor);

    crash(me, inner, "w1");
    CHECK(expect_restart(me).child == "w1");  // the first restart is within the intensity
    const std::size_t mark = log->size();
    me.monitor(inner);
    crash(me, inner, "w1");  // one too many: inner stops w2 and exits
    auto down = me.receive<troupe::Down>(10s);
    REQUIRE(down.ok());
    CHECK(down->actor == inner);
    CHECK(down->reason.kind == troupe::ExitReason::Kind::error);
    CHECK(down->reason.message == "reached max restart intensity");

    auto r = expect_restart(me);  // the root acts on it: one_for_one restarts inner
    CHECK(r.child == "inner");
    CHECK(r.reason.message == "reached max restart intensity");
    auto info = info_of(me, root, "inner");
    REQUIRE(children_of(me, troupe::SupervisorHandle::from(info.handle)).size() == 2);  // it has started them
    CHECK(log->since(mark) == Events{"stop:w1", "stop:w2", "start:w1", "start:w2"});
    CHECK(info.alive);
    CHECK(info.restarts == 1);
    CHECK(info.handle != inner);
    CHECK(info_of(me, root, "x").restarts == 0);
  }

  TEST_CASE("intensity at the root: the supervisor stops its children in reverse order and exits") {
    HookLog hooks;
    troupe::System system(hooks.config());
    troupe::ScopedActor me(system);
    auto log = std::make_shared<Log>();
    auto sup = system.spawn_supervisor({.max_restarts = 0},
                                       {worker(log, "a"), worker(log, "b"), worker(log, "c"), worker(log, "d")});
    REQUIRE(children_of(me, sup).size() == 4);
    me.monitor(sup);
    const std::size_t mark = log->size();
    crash(me, sup, "b");
    auto down = me.receive<troupe::Down>(10s);
    REQUIRE(down.ok());
    CHECK(down->actor == sup);
    CHECK(down->reason.message == "reached max restart intensity");
    CHECK(log->since(mark) == Events{"stop:b", "stop:d", "stop:c", "stop:a"});
  }
}
