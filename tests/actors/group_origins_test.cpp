// Process groups' extension point for the cluster (group_origins.hpp): members added and removed
// by origin, dropped with their node, and an observer told of local changes.
#include "actors/groups_support.hpp"

#include <doctest/doctest.h>

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

using namespace groups_test;

TEST_SUITE_BEGIN("groups");

namespace {
// Records what the groups tell the cluster layer.
struct RecordingObserver final : troupe::detail::GroupObserver {
  std::mutex mutex;
  std::vector<std::string> calls;
  const Names* names = nullptr;
  void local_joined(std::string_view group, const troupe::DynamicHandle& m) override { record("joined", group, m); }
  void local_left(std::string_view group, const troupe::DynamicHandle& m) override { record("left", group, m); }
  void record(const char* kind, std::string_view group, const troupe::DynamicHandle& m) {
    std::string line(kind);
    line += ' ';
    line += group;
    line += ": ";
    line += listed(*names, {m});
    std::lock_guard lock(mutex);
    calls.push_back(std::move(line));
  }
};
}  // namespace

TEST_CASE("members of other nodes: added and removed by origin, dropped with their node") {
  using troupe::detail::GroupOrigins;
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  troupe::Groups& groups = system.groups();
  auto local = system.spawn<Recorder>();
  // Local actors stand in for actors of nodes n2 and n3.
  auto x = system.spawn<Recorder>();
  auto y = system.spawn<Recorder>();
  auto z = system.spawn<Recorder>();
  auto w = system.spawn(relay, me.handle());
  const Names names{{local, "local"}, {x, "x"}, {y, "y"}, {z, "z"}};
  RecordingObserver observer;
  observer.names = &names;
  GroupOrigins::set_observer(groups, &observer);

  REQUIRE(groups.join("g", local).ok());
  REQUIRE(groups.monitor("g", w).ok());
  GroupOrigins::add(groups, "n2", "g", x);
  GroupOrigins::add(groups, "n2", "g", y);
  GroupOrigins::add(groups, "n3", "g", z);
  GroupOrigins::add(groups, "n2", "h", x);
  CHECK(groups.members("g") == std::vector<troupe::DynamicHandle>{local, x, y, z});
  CHECK(groups.local_members("g") == std::vector<troupe::DynamicHandle>{local});
  CHECK(groups.groups() == std::vector<std::string>{"g", "h"});
  CHECK(groups.leave("g", x).code() == troupe::Errc::no_such_name);  // not this node's to leave

  CHECK(groups.broadcast("g", Note{7, 1}) == 4);
  for (const troupe::DynamicHandle& r : {local, x, y, z}) CHECK(me.request(r, GetNotes{}).value().size() == 1);

  CHECK_FALSE(GroupOrigins::remove(groups, "n3", "g", x));  // x came from n2
  CHECK(GroupOrigins::remove(groups, "n2", "g", y));
  CHECK(GroupOrigins::drop_origin(groups, "n2") == 2);  // x in g and in h
  CHECK(groups.members("g") == std::vector<troupe::DynamicHandle>{local, z});
  CHECK(groups.groups() == std::vector<std::string>{"g"});
  CHECK(GroupOrigins::drop_origin(groups, "n2") == 0);
  REQUIRE(groups.leave("g", local).ok());

  CHECK(next_event(me, names) == "members g: local");
  CHECK(next_event(me, names) == "joined g: x");
  CHECK(next_event(me, names) == "joined g: y");
  CHECK(next_event(me, names) == "joined g: z");
  CHECK(next_event(me, names) == "left g: y");
  CHECK(next_event(me, names) == "left g: x");
  CHECK(next_event(me, names) == "left g: local");

  // The observer heard of the local changes only, a stop included.
  auto c = system.spawn(member);
  REQUIRE(groups.join("g", c).ok());
  stop_and_wait(me, c, Stop{});
  CHECK(next_event(me, names) == "joined g: ?");
  CHECK(next_event(me, names) == "left g: ?");
  GroupOrigins::set_observer(groups, nullptr);
  std::lock_guard lock(observer.mutex);
  CHECK(observer.calls == std::vector<std::string>{"joined g: local", "left g: local", "joined g: ?", "left g: ?"});
}
