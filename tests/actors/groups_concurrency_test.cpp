// Process groups changed from many threads at once: the table stays consistent, and a watcher
// gets the changes in the order the table made them.
#include "actors/groups_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <string>
#include <thread>
#include <vector>

using namespace groups_test;

TEST_SUITE_BEGIN("groups");

TEST_CASE("concurrent changes reach a watcher in the order the table made them") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  troupe::Groups& groups = system.groups();
  YieldingObserver observer;
  troupe::detail::GroupOrigins::set_observer(groups, &observer);
  auto w = system.spawn(relay, me.handle());
  auto marker = system.spawn(member);
  std::vector<troupe::DynamicHandle> actors;
  for (int i = 0; i < 4; ++i) actors.push_back(system.spawn(member));
  REQUIRE(groups.monitor("g", w).ok());

  // Each thread joins its actor `rounds` times and leaves it every other time.
  const int rounds = static_cast<int>(scaled(1000));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < rounds; ++i) {
        CHECK(groups.join("g", actors[t]).ok());
        if (i % 2 == 1) CHECK(groups.leave("g", actors[t]).ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  REQUIRE(groups.join("g", marker).ok());

  std::vector<troupe::DynamicHandle> final_members = groups.members("g");
  CHECK(final_members.size() == static_cast<std::size_t>(4 * (rounds - rounds / 2) + 1));
  for (const troupe::DynamicHandle& a : actors) {
    CHECK(std::count(final_members.begin(), final_members.end(), a) == rounds - rounds / 2);
  }

  // Each actor's changes reach the watcher in the order its thread made them: J, then J L, and
  // so on (a leave never overtakes its join), each once.
  std::string expected;
  for (int i = 0; i < rounds; ++i) expected += i % 2 == 1 ? "JL" : "J";
  std::map<troupe::DynamicHandle, std::string> seen;
  REQUIRE(me.receive<troupe::GroupMembers>(10s).value().members.empty());
  bool marker_seen = false;
  while (!marker_seen) {
    troupe::Result<void> got = me.receive(troupe::behavior(
                                              [&](const troupe::GroupJoined& j) {
                                                for (const troupe::DynamicHandle& h : j.members) {
                                                  seen[h] += 'J';
                                                  if (h == marker) marker_seen = true;
                                                }
                                              },
                                              [&](const troupe::GroupLeft& l) {
                                                for (const troupe::DynamicHandle& h : l.members) seen[h] += 'L';
                                              }),
                                          10s);
    REQUIRE(got.ok());
  }
  for (const troupe::DynamicHandle& a : actors) CHECK(seen[a] == expected);
  troupe::detail::GroupOrigins::set_observer(groups, nullptr);
}

TEST_CASE("a change made on another thread after a first one reaches a watcher after it") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  troupe::Groups& groups = system.groups();
  YieldingObserver observer;
  troupe::detail::GroupOrigins::set_observer(groups, &observer);
  auto w = system.spawn(relay, me.handle());
  auto marker = system.spawn(member);
  std::vector<troupe::DynamicHandle> actors{system.spawn(member), system.spawn(member)};
  REQUIRE(groups.monitor("g", w).ok());
  REQUIRE(me.receive<troupe::GroupMembers>(10s).ok());

  // Per actor, one thread joins it whenever it is not a member, and another leaves it whenever it
  // is: each change follows the one before it in the table, made on another thread, which may
  // still be delivering it.
  const int rounds = static_cast<int>(scaled(1000));
  std::vector<std::thread> threads;
  for (const troupe::DynamicHandle& a : actors) {
    for (bool leaver : {false, true}) {
      threads.emplace_back([&groups, a, leaver, rounds] {
        for (int i = 0; i < rounds; ++i) {
          for (;;) {
            std::vector<troupe::DynamicHandle> now = groups.members("g");
            if ((std::find(now.begin(), now.end(), a) != now.end()) == leaver) break;
            std::this_thread::yield();
          }
          CHECK((leaver ? groups.leave("g", a) : groups.join("g", a)).ok());
        }
      });
    }
  }
  for (std::thread& t : threads) t.join();
  REQUIRE(groups.join("g", marker).ok());

  std::string expected;
  for (int i = 0; i < rounds; ++i) expected += "JL";
  std::map<troupe::DynamicHandle, std::string> seen;
  bool marker_seen = false;
  while (!marker_seen) {
    troupe::Result<void> got = me.receive(troupe::behavior(
                                              [&](const troupe::GroupJoined& j) {
                                                for (const troupe::DynamicHandle& h : j.members) {
                                                  seen[h] += 'J';
                                                  if (h == marker) marker_seen = true;
                                                }
                                              },
                                              [&](const troupe::GroupLeft& l) {
                                                for (const troupe::DynamicHandle& h : l.members) seen[h] += 'L';
                                              }),
                                          10s);
    REQUIRE(got.ok());
  }
  for (const troupe::DynamicHandle& a : actors) CHECK(seen[a] == expected);
  troupe::detail::GroupOrigins::set_observer(groups, nullptr);
}
