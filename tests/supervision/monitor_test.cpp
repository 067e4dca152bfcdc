// Monitors: Down messages with the exit reason, monitors of actors already gone, demonitor, and
// a Down that arrives while a coroutine awaits.
#include "supervision/recorder.hpp"

TEST_SUITE("links and monitors") {
  TEST_CASE("a monitor gets a Down with the exit reason: error (an escaped exception), normal, kill") {
    HookLog log;
    troupe::System system(log.config());
    troupe::ScopedActor me(system);
    auto events = std::make_shared<Events>();

    auto a = system.spawn<Recorder>(events);
    const troupe::MonitorRef ra = me.monitor(a);
    a.send(Fail{});
    auto down = expect_down(me);
    CHECK(down.actor == a);
    CHECK(down.ref == ra);
    CHECK(down.reason.kind == troupe::ExitReason::Kind::error);
    CHECK(contains(down.reason.message, "boom"));

    auto b = system.spawn<Recorder>(events);
    const troupe::MonitorRef rb = me.monitor(b);
    CHECK(rb != ra);
    b.send(QuitWith{troupe::ExitReason::normal()});
    down = expect_down(me);
    CHECK(down.ref == rb);
    CHECK(down.reason.is_normal());

    auto c = system.spawn<Recorder>(events, true);  // traps exits: kill goes through anyway
    me.monitor(c);
    auto killer = system.spawn<Recorder>(events);
    killer.send(ExitIt{c, troupe::ExitReason::kill()});
    down = expect_down(me);
    CHECK(down.actor == c);
    CHECK(down.reason.kind == troupe::ExitReason::Kind::kill);
    CHECK(events->count("exit") == 0);
  }

  TEST_CASE("monitoring an actor already gone gives a Down at once, never silence") {
    HookLog log;
    troupe::System system(log.config());
    troupe::ScopedActor me(system);
    auto events = std::make_shared<Events>();

    auto gone = system.spawn<Recorder>(events);
    gone.send(QuitWith{troupe::ExitReason::error("earlier")});
    REQUIRE(system.wait_idle(10s));
    REQUIRE(log.exit_count() == 1);

    // From a scoped actor: the kept exit reason.
    me.monitor(gone);
    auto down = expect_down(me);
    CHECK(down.actor == gone);
    CHECK(down.reason.kind == troupe::ExitReason::Kind::error);
    CHECK(down.reason.message == "earlier");

    // From an actor: its Down handler runs.
    auto watcher = system.spawn<Recorder>(events);
    watcher.send(MonitorIt{gone});
    REQUIRE(eventually([&] { return events->count("down") == 1; }));
    {
      std::lock_guard lock(events->mutex);
      CHECK(events->downs.at(0).actor == gone);
      CHECK(events->downs.at(0).reason.message == "earlier");
    }

    // An empty handle: noproc.
    me.monitor(troupe::DynamicHandle{});
    down = expect_down(me);
    CHECK_FALSE(down.actor.valid());
    CHECK(down.reason.kind == troupe::ExitReason::Kind::noproc);
    CHECK(system.dead_letters() == 0);
  }

  TEST_CASE("demonitor: no Down afterwards") {
    HookLog log;
    troupe::System system(log.config());
    troupe::ScopedActor me(system);
    auto events = std::make_shared<Events>();
    auto target = system.spawn<Recorder>(events);
    auto watcher = system.spawn<Recorder>(events);
    watcher.send(MonitorIt{target});
    watcher.send(DemonitorIt{});
    target.send(Fail{});
    REQUIRE(system.wait_idle(10s));
    CHECK(me.request(watcher, Count{}).value() == 0);
    CHECK(events->count("down") == 0);

    // Demonitor racing the Down: the Down already on its way is dropped, not handled.
    auto target2 = system.spawn<Recorder>(events);
    watcher.send(MonitorIt{target2});
    REQUIRE(system.wait_idle(10s));
    target2.send(Fail{});
    watcher.send(DemonitorIt{});
    REQUIRE(system.wait_idle(10s));
    CHECK(events->count("down") <= 1);  // handled before the demonitor, or not at all
  }

  TEST_CASE("while a coroutine awaits, a Down waits for it, then goes before the queued messages") {
    HookLog log;
    troupe::System system(log.config());
    troupe::ScopedActor me(system);
    auto events = std::make_shared<Events>();
    auto slow_events = std::make_shared<Events>();
    auto target = system.spawn<Recorder>(events);
    auto slow = system.spawn<Recorder>(slow_events);
    auto watcher = system.spawn<Recorder>(events);
    watcher.send(MonitorIt{target});
    REQUIRE(system.wait_idle(10s));
    slow.send(Block{});
    watcher.send(AskSlow{slow});  // awaits slow's answer, which waits for the release
    for (int i = 0; i < 10; ++i) watcher.send(Ping{});
    target.send(Fail{});
    REQUIRE(eventually([&] { return log.exit_count() == 1; }));
    std::this_thread::sleep_for(20ms);
    CHECK(events->all().empty());  // nothing handled while the coroutine awaits
    slow_events->release = true;
    REQUIRE(eventually([&] { return events->count("ping") == 10; }));
    auto seen = events->all();
    REQUIRE(seen.size() == 12);
    CHECK(seen[0] == "answered");
    CHECK(seen[1] == "down");
  }

}  // TEST_SUITE
