// A ScopedActor watching a process group (groups.hpp): it gets the events as an actor would, its
// watches end with it, a watch that races its end leaves nothing behind, and one that never
// watched does not touch the groups at its end.
#include "actors/groups_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace groups_test;

TEST_SUITE_BEGIN("groups");

TEST_CASE("a ScopedActor watches a group: the members now, then every join and leave, in order") {
  troupe::System system(quiet_config());
  troupe::Groups& groups = system.groups();
  auto a = system.spawn(member);
  auto b = system.spawn(member);
  const Names names{{a, "a"}, {b, "b"}};
  REQUIRE(groups.join("g", a).ok());

  troupe::ScopedActor me(system);
  REQUIRE(groups.monitor("g", me.handle()).ok());
  CHECK(next_event(me, names) == "members g: a");
  REQUIRE(groups.join("g", b).ok());
  REQUIRE(groups.leave("g", a).ok());
  CHECK(next_event(me, names) == "joined g: b");
  CHECK(next_event(me, names) == "left g: a");
  troupe::ScopedActor waiter(system);
  stop_and_wait(waiter, b, Stop{});
  CHECK(next_event(me, names) == "left g: b");  // a member that stops leaves

  CHECK(groups.demonitor("g", me.handle()));
  REQUIRE(groups.join("g", a).ok());
  CHECK(me.receive<troupe::GroupJoined>(200ms).code() == troupe::Errc::timeout);  // no longer watching
}

TEST_CASE("a ScopedActor's watches end with it; its handle afterwards cannot watch") {
  troupe::System system(quiet_config());
  troupe::Groups& groups = system.groups();
  troupe::DynamicHandle kept;
  {
    troupe::ScopedActor me(system);
    kept = me.handle();
    REQUIRE(groups.monitor("g", kept).ok());
    REQUIRE(groups.monitor("h", kept).ok());
  }
  // Gone from both groups: nothing is left to take back, and no event is sent to it any more.
  CHECK_FALSE(groups.demonitor("g", kept));
  CHECK_FALSE(groups.demonitor("h", kept));
  troupe::Result<void> late = groups.monitor("g", kept);
  CHECK(late.code() == troupe::Errc::dead_actor);
  CHECK_FALSE(late.error().what.empty());
  CHECK(groups.join("g", kept).code() == troupe::Errc::dead_actor);  // watch, yes; join, no
}

TEST_CASE("a watch from another thread that races the ScopedActor's end is either refused or dropped") {
  troupe::System system(quiet_config());
  troupe::Groups& groups = system.groups();
  auto m = system.spawn(member);
  REQUIRE(groups.join("g", m).ok());
  const int rounds = static_cast<int>(troupe_test::scaled(300));
  int accepted = 0;
  std::atomic<int> spins{0};
  for (int i = 0; i < rounds; ++i) {
    auto me = std::make_unique<troupe::ScopedActor>(system);
    const troupe::DynamicHandle handle = me->handle();
    std::atomic<bool> ready{false};
    std::atomic<bool> go{false};
    troupe::Result<void> watched;
    std::thread other([&] {
      ready.store(true, std::memory_order_relaxed);  // relaxed: only a start signal
      while (!go.load(std::memory_order_acquire)) {  // acquire: pairs with the release below
      }
      watched = groups.monitor("g", handle);
    });
    while (!ready.load(std::memory_order_relaxed)) {  // relaxed: as above; the join orders the rest
    }
    go.store(true, std::memory_order_release);  // release: pairs with the acquire above
    // A varying head start for the watch, so that some rounds end before it and some after.
    for (int spin = 0; spin < (i % 32) * 200; ++spin)
      spins.fetch_add(1, std::memory_order_relaxed);  // relaxed: a delay
    me.reset();
    other.join();
    if (watched) ++accepted;
    // Accepted before the end (then dropped with it) or refused after: never left behind.
    REQUIRE_FALSE(groups.demonitor("g", handle));
  }
  MESSAGE(accepted << " of " << rounds << " watches got in before their ScopedActor ended");
}

TEST_CASE("a ScopedActor that never watched a group leaves the groups alone at its end, even after its System") {
  // Tests keep a ScopedActor beyond its System (a watcher of a node that stopped, say): one that
  // watched nothing must not reach into the System's groups as it ends.
  auto system = std::make_unique<troupe::System>(quiet_config());
  auto me = std::make_unique<troupe::ScopedActor>(*system);
  system.reset();
  me.reset();  // passes by not reading the freed System (a crash here, or AddressSanitizer's report)
}
