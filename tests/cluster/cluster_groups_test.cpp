// Process groups across the cluster (Erlang pg): members of every node in members() and
// broadcasts everywhere, joins and leaves seen by monitors, and a node's members gone with it.
#include "cluster/cluster_support.hpp"
#include "test_support.hpp"

#include <map>

using namespace cluster_test;

namespace {

struct Said {
  std::string sender;
  std::uint32_t seq = 0;
};
TROUPE_WIRE_MESSAGE(Said, sender, seq);
struct Heard {
  using reply_type = std::vector<std::string>;
};

// A subscriber: keeps what it heard, "sender:seq", in order.
troupe::DynamicHandle subscriber(troupe::System& system) {
  return troupe::DynamicHandle(system.spawn([](troupe::Context&) {
    auto heard = std::make_shared<std::vector<std::string>>();
    return troupe::behavior([heard](const Said& s) { heard->push_back(s.sender + ":" + std::to_string(s.seq)); },
                            [heard](Heard) { return *heard; });
  }));
}

std::size_t members_seen(ClusterNode& n, const std::string& group) { return n.system.groups().members(group).size(); }

std::vector<std::string> heard_by(troupe::System& system, const troupe::DynamicHandle& s) {
  troupe::ScopedActor me(system);
  return me.request<std::vector<std::string>>(s, Heard{}).value_or(std::vector<std::string>{"(no answer)"});
}

}  // namespace

TEST_CASE("a group spans the cluster: members from every node, a broadcast reaches each once, in order") {
  ThreeNodes three;
  ClusterNode& a = three.a;
  ClusterNode& b = three.b;
  ClusterNode& c = three.c;

  std::vector<std::pair<ClusterNode*, troupe::DynamicHandle>> subscribers;
  for (ClusterNode* n : {&a, &b, &c}) {
    for (int i = 0; i < 2; ++i) {
      troupe::DynamicHandle s = subscriber(n->system);
      REQUIRE(n->system.groups().join("room-42", s));
      subscribers.emplace_back(n, s);
    }
  }
  for (ClusterNode* n : {&a, &b, &c}) {
    CHECK(troupe_test::eventually([&] { return members_seen(*n, "room-42") == 6; }));
    CHECK(n->system.groups().local_members("room-42").size() == 2);
  }
  // Two senders on two nodes, 50 messages each.
  for (std::uint32_t i = 0; i < 50; ++i) {
    CHECK(a.system.groups().broadcast("room-42", Said{"a", i}) == 6);
    CHECK(b.system.groups().broadcast("room-42", Said{"b", i}) == 6);
  }
  for (auto& [n, s] : subscribers) {
    CHECK(troupe_test::eventually([&] { return heard_by(n->system, s).size() == 100; }));
    std::map<std::string, std::uint32_t> next;
    for (const std::string& line : heard_by(n->system, s)) {
      const auto colon = line.find(':');
      const std::string sender = line.substr(0, colon);
      CHECK(std::stoul(line.substr(colon + 1)) == next[sender]);  // once each, in order per sender
      ++next[sender];
    }
    CHECK(next["a"] == 50);
    CHECK(next["b"] == 50);
  }
}

TEST_CASE("a group's monitor (a ScopedActor) sees remote joins and leaves, and a node's members go with it") {
  ClusterNode a("a");
  auto b = std::make_unique<ClusterNode>("b", std::vector<std::string>{seed_of(a.node)});
  REQUIRE(b->node.cluster().wait_up());
  REQUIRE(sees(a.node, {"a", "b"}));

  troupe::ScopedActor watcher(a.system);  // a ScopedActor watches as an actor does
  REQUIRE(a.system.groups().monitor("workers", watcher.handle()));
  REQUIRE(watcher.receive<troupe::GroupMembers>());

  troupe::DynamicHandle remote = subscriber(b->system);
  REQUIRE(b->system.groups().join("workers", remote));
  troupe::Result<troupe::GroupJoined> joined = watcher.receive<troupe::GroupJoined>(10s);
  REQUIRE(joined);
  CHECK(joined->members.size() == 1);
  REQUIRE(b->system.groups().leave("workers", remote));
  troupe::Result<troupe::GroupLeft> left = watcher.receive<troupe::GroupLeft>(10s);
  REQUIRE(left);

  // Joined again, then its node goes: a's view drops it, and the watcher sees them leave.
  REQUIRE(b->system.groups().join("workers", subscriber(b->system)));
  REQUIRE(b->system.groups().join("workers", subscriber(b->system)));
  CHECK(troupe_test::eventually([&] { return a.system.groups().members("workers").size() == 2; }));
  std::size_t joins = 0;
  while (joins < 2) {
    troupe::Result<troupe::GroupJoined> more = watcher.receive<troupe::GroupJoined>(10s);
    REQUIRE(more);
    joins += more->members.size();
  }
  b.reset();
  CHECK(troupe_test::eventually([&] { return a.system.groups().members("workers").empty(); }));
  std::size_t leaves = 0;
  while (leaves < 2) {
    troupe::Result<troupe::GroupLeft> gone = watcher.receive<troupe::GroupLeft>(10s);
    REQUIRE(gone);
    leaves += gone->members.size();
  }
  CHECK(joins == 2);
  CHECK(leaves == 2);
}

TEST_CASE("a node that joins later learns the groups that exist, and the members it has join everywhere") {
  ClusterNode a("a");
  REQUIRE(a.system.groups().join("early", subscriber(a.system)));  // before any other node
  ClusterNode b("b", {seed_of(a.node)});
  REQUIRE(b.node.cluster().wait_up());
  CHECK(troupe_test::eventually([&] { return members_seen(b, "early") == 1; }));
  REQUIRE(b.system.groups().join("early", subscriber(b.system)));
  CHECK(troupe_test::eventually([&] { return members_seen(a, "early") == 2; }));
}
