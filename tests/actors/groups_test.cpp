// Process groups (groups.hpp): join, leave, members, broadcast, monitors, removal on stop, and
// refusals. Concurrent changes: groups_concurrency_test.cpp; members of other nodes:
// group_origins_test.cpp.
#include "actors/groups_support.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace groups_test;

TEST_SUITE_BEGIN("groups");

TEST_CASE("join, members, leave; a group exists while it has members") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::Groups& groups = system.groups();
  auto a = system.spawn(member);
  auto b = system.spawn(member);

  CHECK(groups.members("g").empty());
  REQUIRE(groups.join("g", a).ok());
  REQUIRE(groups.join("g", b).ok());
  REQUIRE(groups.join("h", b).ok());
  CHECK(groups.members("g") == std::vector<troupe::DynamicHandle>{a, b});
  CHECK(groups.local_members("g") == std::vector<troupe::DynamicHandle>{a, b});
  CHECK(groups.groups() == std::vector<std::string>{"g", "h"});

  REQUIRE(groups.leave("g", a).ok());
  CHECK(groups.members("g") == std::vector<troupe::DynamicHandle>{b});
  troupe::Result<void> again = groups.leave("g", a);
  CHECK(again.code() == troupe::Errc::no_such_name);
  CHECK(again.error().what == "not a member of group 'g'");
  CHECK(groups.leave("never", a).code() == troupe::Errc::no_such_name);
  REQUIRE(groups.leave("h", b).ok());
  CHECK(groups.groups() == std::vector<std::string>{"g"});
  REQUIRE(groups.leave("g", b).ok());
  CHECK(groups.groups().empty());
  CHECK(groups.members("g").empty());
}

TEST_CASE("joining twice lists the member twice; leave takes back one join") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  troupe::Groups& groups = system.groups();
  auto a = system.spawn(member);
  auto r = system.spawn<Recorder>();
  REQUIRE(groups.join("g", a).ok());
  REQUIRE(groups.join("g", r).ok());
  REQUIRE(groups.join("g", a).ok());
  REQUIRE(groups.join("g", r).ok());
  CHECK(groups.members("g") == std::vector<troupe::DynamicHandle>{a, r, a, r});
  CHECK(groups.broadcast("g", Note{0, 1}) == 4);
  CHECK(me.request(r, GetNotes{}).value().size() == 2);  // one copy per join

  REQUIRE(groups.leave("g", a).ok());
  CHECK(groups.members("g") == std::vector<troupe::DynamicHandle>{r, a, r});
  REQUIRE(groups.leave("g", a).ok());
  CHECK(groups.leave("g", a).code() == troupe::Errc::no_such_name);
  CHECK(groups.members("g") == std::vector<troupe::DynamicHandle>{r, r});
}

TEST_CASE("a member is removed when its actor stops: quit, and a throwing handler") {
  troupe::System system(quiet_config());
  troupe::ScopedActor me(system);
  troupe::Groups& groups = system.groups();
  auto quits = system.spawn(member);
  auto fails = system.spawn(member);
  auto stays = system.spawn(member);
  for (const troupe::DynamicHandle& h : {quits, fails, stays, quits}) REQUIRE(groups.join("g", h).ok());
  REQUIRE(groups.join("only-quits", quits).ok());
  REQUIRE(groups.join("only-fails", fails).ok());

  stop_and_wait(me, quits, Stop{});
  CHECK(groups.members("g") == std::vector<troupe::DynamicHandle>{fails, stays});
  CHECK(groups.groups() == std::vector<std::string>{"g", "only-fails"});

  stop_and_wait(me, fails, Boom{});
  CHECK(groups.members("g") == std::vector<troupe::DynamicHandle>{stays});
  CHECK(groups.groups() == std::vector<std::string>{"g"});
  // A stopped actor cannot join again.
  CHECK(groups.join("g", quits).code() == troupe::Errc::dead_actor);
}

TEST_CASE("broadcast reaches each member exactly once, in order per sender") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  troupe::Groups& groups = system.groups();
  std::vector<troupe::DynamicHandle> recorders;
  for (int i = 0; i < 3; ++i) {
    recorders.push_back(system.spawn<Recorder>());
    REQUIRE(groups.join("room", recorders.back()).ok());
  }
  CHECK(groups.broadcast("empty", Note{0, 0}) == 0);

  constexpr int senders = 3;
  const int per_sender = static_cast<int>(scaled(300));
  std::vector<std::thread> threads;
  for (int s = 0; s < senders; ++s) {
    threads.emplace_back([&, s] {
      for (int i = 0; i < per_sender; ++i) CHECK(groups.broadcast("room", Note{s, i}) == 3);
    });
  }
  for (std::thread& t : threads) t.join();

  for (const auto& r : recorders) {
    std::vector<Note> got = me.request(r, GetNotes{}).value();
    CHECK(got.size() == static_cast<std::size_t>(senders * per_sender));
    std::vector<int> next(senders, 0);
    for (const Note& n : got) {
      REQUIRE(n.sender >= 0);
      REQUIRE(n.sender < senders);
      CHECK(n.seq == next[n.sender]);  // each sender's broadcasts arrive once, in order
      next[n.sender] = n.seq + 1;
    }
  }
}

TEST_CASE("a watcher gets the snapshot first, then every change in order, stops included") {
  troupe::System system(quiet_config());
  troupe::ScopedActor me(system);
  troupe::Groups& groups = system.groups();
  auto a = system.spawn(member);
  auto b = system.spawn(member);
  auto c = system.spawn(member);
  auto w = system.spawn(relay, me.handle());
  const Names names{{a, "a"}, {b, "b"}, {c, "c"}};

  REQUIRE(groups.join("g", a).ok());
  REQUIRE(groups.join("g", b).ok());
  REQUIRE(groups.monitor("g", w).ok());
  REQUIRE(groups.join("g", c).ok());
  REQUIRE(groups.join("other", c).ok());  // not watched
  REQUIRE(groups.leave("g", a).ok());
  REQUIRE(groups.join("g", b).ok());
  stop_and_wait(me, b, Stop{});  // joined twice: one GroupLeft naming it twice
  stop_and_wait(me, c, Boom{});
  CHECK(next_event(me, names) == "members g: a,b");
  CHECK(next_event(me, names) == "joined g: c");
  CHECK(next_event(me, names) == "left g: a");
  CHECK(next_event(me, names) == "joined g: b");
  CHECK(next_event(me, names) == "left g: b,b");
  CHECK(next_event(me, names) == "left g: c");

  // A watcher of an empty group gets an empty snapshot; demonitor ends the events.
  REQUIRE(groups.monitor("quiet", w).ok());
  CHECK(next_event(me, names) == "members quiet: ");
  CHECK(groups.demonitor("quiet", w));
  CHECK_FALSE(groups.demonitor("quiet", w));
  REQUIRE(groups.join("quiet", a).ok());
  REQUIRE(groups.join("g", a).ok());
  CHECK(next_event(me, names) == "joined g: a");  // and nothing of "quiet" before it
}

TEST_CASE("a watcher that stops is forgotten") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  troupe::Groups& groups = system.groups();
  auto a = system.spawn(member);
  auto w = system.spawn(relay, me.handle());
  REQUIRE(groups.monitor("g", w).ok());
  REQUIRE(groups.monitor("h", w).ok());
  REQUIRE(me.receive<troupe::GroupMembers>(10s).ok());
  REQUIRE(me.receive<troupe::GroupMembers>(10s).ok());

  stop_and_wait(me, w, Stop{});
  const std::uint64_t before = system.dead_letters();
  REQUIRE(groups.join("g", a).ok());  // no event is sent to the stopped watcher
  REQUIRE(groups.join("h", a).ok());
  CHECK(system.dead_letters() == before);
  CHECK_FALSE(groups.demonitor("g", w));
  CHECK(groups.monitor("g", w).code() == troupe::Errc::dead_actor);
}

TEST_CASE("only this system's live actors may join, and watch (or a ScopedActor)") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::System other(troupe::Config{.workers = 1});
  troupe::ScopedActor me(system);
  troupe::Groups& groups = system.groups();
  auto stranger = other.spawn(member);
  auto stopped = system.spawn(member);
  stop_and_wait(me, stopped, Stop{});

  for (const troupe::DynamicHandle& h : std::vector<troupe::DynamicHandle>{{}, me.handle(), stranger, stopped}) {
    troupe::Result<void> joined = groups.join("g", h);
    CHECK(joined.code() == troupe::Errc::dead_actor);
    CHECK_FALSE(joined.error().what.empty());
    // A ScopedActor may watch (groups_scoped_test.cpp); the others may not.
    if (h != me.handle()) CHECK(groups.monitor("g", h).code() == troupe::Errc::dead_actor);
  }
  CHECK(groups.leave("g", troupe::DynamicHandle()).code() == troupe::Errc::dead_actor);
  CHECK(groups.members("g").empty());
  CHECK(groups.groups().empty());
}
