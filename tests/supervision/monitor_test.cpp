// Monitors: Down messages with the exit reason, monitors of actors already gone, demonitor, and
// a Down that arrives while a coroutine awaits.
#include "supervision/recorder.hpp"

#include <troupe/testing.hpp>

namespace {

struct Release {};

// Answers Count only once released, so whoever asks awaits meanwhile; counts the questions.
auto promise_keeper(troupe::Context& self, std::shared_ptr<std::atomic<int>> asked) {
  auto kept = std::make_shared<std::vector<troupe::Promise<int>>>();
  return troupe::behavior(
      [&self, kept, asked](Count) {
        kept->push_back(self.promise<int>());
        asked->fetch_add(1);
        return kept->back();
      },
      [kept](Release) {
        for (auto& p : *kept) p.deliver(0);
        kept->clear();
      });
}

}  // namespace

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
    // Both done before the failure: a Down that came between them would rightly be handled.
    REQUIRE(system.wait_idle(10s));
    target.send(Fail{});
    REQUIRE(eventually([&] { return log.exit_count() == 1; }));
    REQUIRE(system.wait_idle(10s));
    CHECK(me.request(watcher, Count{}).value() == 0);
    CHECK(events->count("down") == 0);
  }

  TEST_CASE("demonitor drops a Down already queued behind the turn under way") {
    HookLog log;
    troupe::System system(log.config());
    troupe::ScopedActor me(system);
    auto events = std::make_shared<Events>();
    auto target = system.spawn<Recorder>(events);
    auto watcher = system.spawn<Recorder>(events);
    // me monitors the target before and after the watcher does: the target tells its monitors
    // in turn, so once both of me's Downs are in, the watcher's is queued (in either order).
    me.monitor(target);
    watcher.send(MonitorIt{target});
    REQUIRE(system.wait_idle(10s));
    me.monitor(target);
    watcher.send(Block{});
    REQUIRE(eventually([&] { return events->blocked.load() == 1; }));
    watcher.send(DemonitorIt{});  // handled in the same turn as Block, after it
    target.send(Fail{});
    expect_down(me);
    expect_down(me);
    // The Down is in the watcher's mailbox, behind DemonitorIt; the turn under way goes on first.
    events->release = true;
    REQUIRE(system.wait_idle(10s));
    CHECK(me.request(watcher, Count{}).value() == 0);
    CHECK(events->count("down") == 0);
  }

  TEST_CASE("deterministic mode: demonitor from a coroutine drops the Down that came while it awaited") {
    // The Down arrives while the watcher's coroutine awaits, so it waits in the stash; the
    // coroutine then demonitors. Every explored order must drop it.
    struct AwaitThenDemonitor {
      troupe::DynamicHandle target;
      troupe::DynamicHandle slow;
    };
    auto result = troupe::testing::explore(50, [](std::uint64_t seed) {
      troupe::System system(troupe::testing::deterministic(seed, 4));
      auto events = std::make_shared<Events>();
      auto target = system.spawn<Recorder>(events);
      auto slow = system.spawn(promise_keeper, std::make_shared<std::atomic<int>>(0));
      auto watcher = system.spawn([events](troupe::Context& self) {
        return troupe::behavior(
            [&self, events](AwaitThenDemonitor a) -> troupe::Task<void> {
              const troupe::MonitorRef ref = self.monitor(a.target);
              a.target.send(Fail{});
              auto reply = co_await self.request<int>(a.slow, Count{}, 1h);
              events->add(reply.ok() ? "answered" : "failed");
              self.demonitor(ref);
            },
            [events](const troupe::Down&) { events->add("down"); });
      });
      watcher.send(AwaitThenDemonitor{target, slow});
      system.advance_time(1s);  // everything runs but the 1 h timeout: the target is gone
      troupe::testing::check(events->count("down") == 0 && events->all().empty(), "nothing handled while awaiting");
      slow.send(Release{});
      troupe::testing::check(system.wait_idle(), "the system goes idle");
      troupe::testing::check(events->all() == std::vector<std::string>{"answered"}, "the Down was dropped");
    });
    CHECK_MESSAGE(result, result.failure);
  }

  TEST_CASE("while a coroutine awaits, a Down waits for it, then goes before the queued messages") {
    HookLog log;
    troupe::System system(log.config());
    troupe::ScopedActor me(system);
    auto events = std::make_shared<Events>();
    auto asked = std::make_shared<std::atomic<int>>(0);
    auto target = system.spawn<Recorder>(events);
    auto slow = system.spawn(promise_keeper, asked);
    auto watcher = system.spawn<Recorder>(events);
    // me monitors the target before and after the watcher does: see the test above.
    me.monitor(target);
    watcher.send(MonitorIt{target});
    REQUIRE(system.wait_idle(10s));
    me.monitor(target);
    watcher.send(AskSlow{slow});  // awaits slow's answer, which waits for the release
    for (int i = 0; i < 10; ++i) watcher.send(Ping{});
    // The watcher awaits once slow is asked: from then on the Down cannot overtake AskSlow.
    REQUIRE(eventually([&] { return asked->load() == 1; }));
    target.send(Fail{});
    expect_down(me);
    expect_down(me);               // the watcher's Down is queued now, behind the pings
    CHECK(events->all().empty());  // nothing handled while the coroutine awaits
    slow.send(Release{});
    REQUIRE(eventually([&] { return events->count("ping") == 10; }));
    auto seen = events->all();
    REQUIRE(seen.size() == 12);
    CHECK(seen[0] == "answered");
    CHECK(seen[1] == "down");
  }

}  // TEST_SUITE
