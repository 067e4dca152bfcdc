// Links and exit signals: propagation, trapping, kill, exit/2, unlink, links to actors already
// gone, signals overtaking queued messages, a long chain without recursion, shutdown.
#include "supervision/recorder.hpp"

TEST_SUITE("links and monitors") {
  TEST_CASE("links: a failure takes the linked actor down with the same reason; normal exits do not") {
    HookLog log;
    troupe::System system(log.config());
    troupe::ScopedActor me(system);
    auto events = std::make_shared<Events>();

    auto a = system.spawn<Recorder>(events);
    auto b = system.spawn<Recorder>(events);
    a.send(LinkTo{b});
    REQUIRE(system.wait_idle(10s));
    me.monitor(a);
    b.send(Fail{});
    auto down = expect_down(me);
    CHECK(down.actor == a);
    CHECK(down.reason.kind == troupe::ExitReason::Kind::error);
    CHECK(contains(down.reason.message, "boom"));

    // Normal exit of a linked actor: the other lives on.
    auto c = system.spawn<Recorder>(events);
    auto d = system.spawn<Recorder>(events);
    c.send(LinkTo{d});
    REQUIRE(system.wait_idle(10s));
    d.send(QuitWith{troupe::ExitReason::normal()});
    REQUIRE(system.wait_idle(10s));
    c.send(Ping{});
    CHECK(me.request(c, Count{}).value() >= 1);

    // Links are two-way: the linking side failing takes the other down.
    auto e = system.spawn<Recorder>(events);
    auto f = system.spawn<Recorder>(events);
    e.send(LinkTo{f});
    REQUIRE(system.wait_idle(10s));
    me.monitor(f);
    e.send(QuitWith{troupe::ExitReason::error("e failed")});
    down = expect_down(me);
    CHECK(down.actor == f);
    CHECK(down.reason.message == "e failed");
  }

  TEST_CASE("trap exit: a linked failure arrives as an Exit message; the trapper lives on") {
    HookLog log;
    troupe::System system(log.config());
    troupe::ScopedActor me(system);
    auto events = std::make_shared<Events>();
    auto trapper = system.spawn<Recorder>(events, true);
    auto other = system.spawn<Recorder>(events);
    trapper.send(LinkTo{other});
    REQUIRE(system.wait_idle(10s));
    other.send(Fail{});
    REQUIRE(eventually([&] { return events->count("exit") == 1; }));
    {
      std::lock_guard lock(events->mutex);
      CHECK(events->exits.at(0).from == other);
      CHECK(contains(events->exits.at(0).reason.message, "boom"));
    }
    CHECK(me.request(trapper, Count{}).value() == 1);

    // exit/2 with an error reason: trapped too; with normal: trapped (a non-trapper ignores it).
    auto sender = system.spawn<Recorder>(events);
    sender.send(ExitIt{trapper, troupe::ExitReason::error("told to")});
    sender.send(ExitIt{trapper, troupe::ExitReason::normal()});
    REQUIRE(eventually([&] { return events->count("exit") == 3; }));
    auto plain = system.spawn<Recorder>(events);
    sender.send(ExitIt{plain, troupe::ExitReason::normal()});
    REQUIRE(system.wait_idle(10s));
    CHECK(me.request(plain, Count{}).ok());

    // ... and kill cannot be trapped.
    me.monitor(trapper);
    sender.send(ExitIt{trapper, troupe::ExitReason::kill()});
    auto down = expect_down(me);
    CHECK(down.reason.kind == troupe::ExitReason::Kind::kill);
    CHECK(events->count("exit") == 3);
  }

  TEST_CASE("exit/2 with an error stops a non-trapping actor with that reason") {
    HookLog log;
    troupe::System system(log.config());
    troupe::ScopedActor me(system);
    auto events = std::make_shared<Events>();
    auto victim = system.spawn<Recorder>(events);
    auto sender = system.spawn<Recorder>(events);
    me.monitor(victim);
    sender.send(ExitIt{victim, troupe::ExitReason::error("go away")});
    auto down = expect_down(me);
    CHECK(down.reason.message == "go away");
    // Exits spread over links from an exit/2 as from any other stop; a killed actor's links get
    // a trappable exit with reason kill.
    auto a = system.spawn<Recorder>(events, true);
    auto b = system.spawn<Recorder>(events);
    a.send(LinkTo{b});
    REQUIRE(system.wait_idle(10s));
    sender.send(ExitIt{b, troupe::ExitReason::kill()});
    REQUIRE(eventually([&] { return events->count("exit") == 1; }));
    std::lock_guard lock(events->mutex);
    CHECK(events->exits.at(0).reason.kind == troupe::ExitReason::Kind::kill);
  }

  TEST_CASE("unlink: no exit signal afterwards") {
    HookLog log;
    troupe::System system(log.config());
    troupe::ScopedActor me(system);
    auto events = std::make_shared<Events>();
    auto a = system.spawn<Recorder>(events);
    auto b = system.spawn<Recorder>(events);
    a.send(LinkTo{b});
    a.send(UnlinkFrom{b});
    b.send(Fail{});
    REQUIRE(system.wait_idle(10s));
    CHECK(me.request(a, Count{}).ok());
    CHECK(log.exit_count() == 1);

    // Unlinking while d's own unlink signal may still be on its way to d: whichever reaches d
    // first — the unlink or the failure — c must not act on an exit. (c must have handled its
    // UnlinkFrom first: an exit signal overtakes user messages still queued, as in Erlang.)
    auto c = system.spawn<Recorder>(events);
    auto d = system.spawn<Recorder>(events);
    c.send(LinkTo{d});
    REQUIRE(system.wait_idle(10s));
    c.send(UnlinkFrom{d});
    REQUIRE(me.request(c, Count{}).ok());
    d.send(Fail{});
    REQUIRE(system.wait_idle(10s));
    CHECK(me.request(c, Count{}).ok());
  }

  TEST_CASE("linking to an actor already gone: an exit signal with reason noproc") {
    HookLog log;
    troupe::System system(log.config());
    troupe::ScopedActor me(system);
    auto events = std::make_shared<Events>();
    auto gone = system.spawn<Recorder>(events);
    gone.send(QuitWith{troupe::ExitReason::normal()});
    REQUIRE(system.wait_idle(10s));

    auto trapper = system.spawn<Recorder>(events, true);
    trapper.send(LinkTo{gone});
    REQUIRE(eventually([&] { return events->count("exit") == 1; }));
    {
      std::lock_guard lock(events->mutex);
      CHECK(events->exits.at(0).from == gone);
      CHECK(events->exits.at(0).reason.kind == troupe::ExitReason::Kind::noproc);
    }

    auto plain = system.spawn<Recorder>(events);
    me.monitor(plain);
    plain.send(LinkTo{gone});
    auto down = expect_down(me);
    CHECK(down.reason.kind == troupe::ExitReason::Kind::noproc);

    auto empty_linker = system.spawn<Recorder>(events);
    me.monitor(empty_linker);
    empty_linker.send(LinkTo{troupe::DynamicHandle{}});
    down = expect_down(me);
    CHECK(down.reason.kind == troupe::ExitReason::Kind::noproc);
  }

  TEST_CASE("signals overtake queued user messages") {
    for (std::uint16_t budget : {std::uint16_t{1}, std::uint16_t{100}}) {
      CAPTURE(budget);
      HookLog log;
      troupe::System system(log.config());
      troupe::ScopedActor me(system);
      auto events = std::make_shared<Events>();
      auto target = system.spawn<Recorder>(events);
      auto busy = system.spawn<Recorder>(troupe::SpawnOptions{.budget = budget}, events);
      // me monitors the target before and after busy does: the target tells its monitors in
      // turn, so once both of me's Downs are in, busy's is queued (whichever way the turn goes).
      me.monitor(target);
      busy.send(MonitorIt{target});
      REQUIRE(system.wait_idle(10s));
      me.monitor(target);
      busy.send(Block{});  // the turn under way: the signal waits for it
      constexpr int kPings = 300;
      for (int i = 0; i < kPings; ++i) busy.send(Ping{});
      REQUIRE(eventually([&] { return events->blocked.load() == 1; }));
      target.send(Fail{});
      expect_down(me);
      expect_down(me);  // busy's Down is queued behind the pings now
      events->release = true;
      REQUIRE(eventually([&] { return events->count("ping") == kPings; }));
      auto seen = events->all();
      std::size_t at = 0;
      while (at < seen.size() && seen[at] != "down") ++at;
      REQUIRE(at < seen.size());
      // At most the rest of the turn under way (budget - 1 messages after Block) goes first.
      CHECK(at <= static_cast<std::size_t>(budget - 1));

      // An exit signal that is not trapped: the actor stops before the queued messages.
      auto victim = system.spawn<Recorder>(troupe::SpawnOptions{.budget = 1}, events);
      auto partner = system.spawn<Recorder>(events);
      // Two witnesses that trap exits link to the partner before and after the victim does: the
      // partner tells its links in turn, so once both have their Exit, the victim's is queued.
      auto witnessed = std::make_shared<Events>();
      auto before = system.spawn<Recorder>(witnessed, true);
      auto after = system.spawn<Recorder>(witnessed, true);
      before.send(LinkTo{partner});
      REQUIRE(system.wait_idle(10s));
      victim.send(LinkTo{partner});
      REQUIRE(system.wait_idle(10s));
      after.send(LinkTo{partner});
      REQUIRE(system.wait_idle(10s));
      events->release = false;
      const auto pings_before = events->count("ping");
      const int blocked_before = events->blocked.load();
      victim.send(Block{});
      for (int i = 0; i < kPings; ++i) victim.send(Ping{});
      // The victim must be inside Block before the exit is sent: otherwise the exit signal would
      // (rightly) overtake Block too, and the victim would stop before this test can watch it.
      REQUIRE(eventually([&] { return events->blocked.load() == blocked_before + 1; }));
      partner.send(Fail{});
      REQUIRE(eventually([&] { return witnessed->count("exit") == 2; }));  // the victim's exit is queued
      events->release = true;
      REQUIRE(eventually([&] { return log.exit_count() == 3; }));
      REQUIRE(system.wait_idle(10s));
      CHECK(events->count("ping") == pings_before);
      CHECK(system.dead_letters() == static_cast<std::uint64_t>(kPings));
    }
  }

  TEST_CASE("a chain of linked actors comes down from one failure, one turn each, without recursion") {
    const std::uint64_t n = scaled(100000);
    std::atomic<std::uint64_t> failed{0};
    std::atomic<std::uint64_t> exited{0};
    troupe::Config config{.workers = 2};
    config.on_actor_exit = [&](const troupe::ExitInfo& info) {
      if (info.reason.kind == troupe::ExitReason::Kind::error && info.reason.message == "boom") failed.fetch_add(1);
      exited.fetch_add(1);
    };
    troupe::System system(config);
    troupe::ScopedActor me(system);
    auto link_to = [](troupe::Context& self, troupe::DynamicHandle prev) {
      if (prev.valid()) self.link(prev);
      return troupe::behavior([](Fail) { throw std::runtime_error("boom"); }, [](Ping) {});
    };
    auto first = system.spawn(link_to, troupe::DynamicHandle{});
    troupe::DynamicHandle prev = first;
    for (std::uint64_t i = 1; i < n; ++i) prev = system.spawn(link_to, prev);
    troupe::DynamicHandle last = prev;
    prev = {};
    REQUIRE(system.wait_idle(60s));
    CHECK(system.live_actors() == n);
    me.monitor(last);
    first.send(Fail{});
    auto down = me.receive<troupe::Down>(120s);
    REQUIRE(down.ok());
    CHECK(down.value().reason.message == "boom");
    REQUIRE(system.wait_idle(60s));
    CHECK(exited.load() == n);
    CHECK(failed.load() == n);
    CHECK(system.live_actors() == 0);
  }

  TEST_CASE("shutdown: linked and monitoring actors stop with reason shutdown, nothing leaks") {
    HookLog log;
    auto events = std::make_shared<Events>();
    {
      troupe::System system(log.config());
      auto a = system.spawn<Recorder>(events, true);
      auto b = system.spawn<Recorder>(events);
      a.send(LinkTo{b});
      a.send(MonitorIt{b});
      b.send(MonitorIt{a});
      REQUIRE(system.wait_idle(10s));
    }
    REQUIRE(log.exit_count() == 2);
    for (auto& e : log.exits()) CHECK(e.reason.kind == troupe::ExitReason::Kind::shutdown);
  }

}  // TEST_SUITE
