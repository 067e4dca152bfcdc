// A run declared down comes back as a new incarnation: after a partition, the side that rejoins is
// a new run for every member, handles to its old run's actors stay dead, and its names come back
// as the new run's.
#include "cluster/cluster_support.hpp"
#include "test_support.hpp"

#include <atomic>

using namespace cluster_test;
using troupe::Errc;

namespace {

// Its own name on the wire: one name is one type in a process (names_test.cpp has a Hello).
struct WhichNode {
  std::string from;
};
TROUPE_WIRE_MESSAGE(WhichNode, from);

// An actor that answers WhichNode with its node's name.
troupe::DynamicHandle greeter(troupe::System& system, std::string node) {
  return troupe::DynamicHandle(
      system.spawn([node](troupe::Context&) { return troupe::behavior([node](const WhichNode&) { return node; }); }));
}

// What `handle` answers from `node`'s System: its node's name, or the error's code.
std::string ask(ClusterNode& node, const troupe::DynamicHandle& handle) {
  troupe::ScopedActor me(node.system);
  troupe::Result<std::string> answer = me.request<std::string>(handle, WhichNode{"test"}, 5s);
  return answer ? *answer : std::string(troupe::to_string(answer.error().code));
}

// What the actor registered as `name` answers, looked up from `node` (its error code if none).
std::string ask_name(ClusterNode& node, const std::string& name) {
  troupe::Result<troupe::DynamicHandle> found = node.node.cluster().whereis(name);
  return found ? ask(node, *found) : std::string(troupe::to_string(found.error().code));
}

// Members a and b, b joined through a, each watched: b reaches a only through `link`, and a
// reaches b only through `to_b`, so that cutting both is a partition between them.
struct PartitionablePair {
  ClusterNode a;
  transport_test::TcpProxy link;
  ClusterNode b;
  transport_test::TcpProxy to_b;
  bool joined;  // before the watchers: each one's first event lists both members
  Watcher on_a;
  Watcher on_b;

  PartitionablePair(troupe::transport::NodeConfig a_config, troupe::transport::NodeConfig b_config)
      : a("a", {}, std::move(a_config)),
        link(a.node.port()),
        b("b", {"127.0.0.1:" + std::to_string(link.port())}, std::move(b_config)),
        to_b(inbound_proxy(b.node)),
        joined(b.node.cluster().wait_up().ok()),
        on_a(a.node, a.system),
        on_b(b.node, b.system) {
    REQUIRE(joined);
    CHECK(on_a.next() == "members a,b");
    CHECK(on_b.next() == "members a,b");
  }
  void partition() {
    link.partition();
    to_b.partition();
  }
  void heal() {
    link.heal();
    to_b.heal();
  }
};

}  // namespace

TEST_CASE("a partition: each side sees the other down; once it heals, one rejoins as a new incarnation") {
  // b's node-downs, as its transport reports them (NodeConfig::on_node_down).
  std::atomic<int> b_node_downs{0};
  troupe::transport::NodeConfig b_config = reached_through_proxy("b");
  b_config.on_node_down = [&](std::string_view) {
    b_node_downs.fetch_add(1, std::memory_order_relaxed);  // relaxed: a count, read once it settled
  };
  PartitionablePair pair(transport_test::node_config("a"), b_config);
  auto& [a, link, b, to_b, joined, on_a, on_b] = pair;
  const std::uint64_t a_run = incarnation_of(a.node, "a");
  const std::uint64_t b_before = incarnation_of(a.node, "b");
  REQUIRE(b_before != 0);
  // A handle on a to an actor on b, and one on b to an actor on a, from before the partition; b's
  // is in a group too.
  const troupe::DynamicHandle on_b_actor = greeter(b.system, "b");
  REQUIRE(b.node.cluster().register_name("echo-b", on_b_actor));
  REQUIRE(b.system.groups().join("room", on_b_actor));
  REQUIRE(a.node.cluster().register_name("echo-a", greeter(a.system, "a")));
  REQUIRE(troupe_test::eventually([&] { return a.system.groups().members("room").size() == 1; }));
  const troupe::DynamicHandle old_member = a.system.groups().members("room").front();
  troupe::Result<troupe::DynamicHandle> old_b = a.node.cluster().await_name("echo-b", 5s);
  troupe::Result<troupe::DynamicHandle> old_a = b.node.cluster().await_name("echo-a", 5s);
  REQUIRE(old_b);
  REQUIRE(old_a);
  CHECK(ask(a, *old_b) == "b");
  CHECK(ask(b, *old_a) == "a");

  pair.partition();
  CHECK(on_a.next() == "down b");  // at the heartbeat timeout
  CHECK(on_b.next() == "down a");
  // a's connection was lost (reported on the transport thread, after the membership heard).
  CHECK(troupe_test::eventually([&] { return b_node_downs.load(std::memory_order_relaxed) == 1; }));
  const std::uint64_t b_failed = b.node.stats().connections_failed;
  CHECK(ask_name(a, "echo-b") == "no_such_name");  // gone with b's run, and so is its group member
  CHECK(troupe_test::eventually([&] { return a.system.groups().members("room").empty(); }));

  // b asks its seed again (every 100 ms), a the member it declared down, and they meet: each had
  // declared the other down, and of two sides that see as many members, the one whose name sorts
  // last rejoins, as a new incarnation.
  pair.heal();
  CHECK(on_b.next() == "down b");  // its own old run
  CHECK(on_b.incarnation() == b_before);
  CHECK(on_b.next() == "up a");
  CHECK(on_b.incarnation() == a_run);  // a stays the run it was
  CHECK(on_b.next() == "up b");
  const std::uint64_t b_after = on_b.incarnation();
  CHECK(b_after != b_before);
  CHECK(on_a.next() == "up b");
  CHECK(on_a.incarnation() == b_after);  // both sides see the new run
  CHECK(sees(a.node, {"a", "b"}));
  CHECK(sees(b.node, {"a", "b"}));
  CHECK(incarnation_of(a.node, "b") == b_after);
  CHECK(incarnation_of(b.node, "b") == b_after);
  CHECK(incarnation_of(b.node, "a") == a_run);

  // Handles from before stay dead, both ways; the names and the group member come back, as the
  // new run's.
  CHECK(ask(a, *old_b) == "node_down");
  CHECK(ask(b, *old_a) == "node_down");
  CHECK(ask(a, old_member) == "node_down");
  CHECK(troupe_test::eventually([&] { return ask_name(a, "echo-b") == "b"; }));
  CHECK(troupe_test::eventually([&] { return ask_name(b, "echo-a") == "a"; }));
  REQUIRE(troupe_test::eventually([&] { return a.system.groups().members("room").size() == 1; }));
  const troupe::DynamicHandle new_member = a.system.groups().members("room").front();
  CHECK(new_member != old_member);
  CHECK(ask(a, new_member) == "b");
  CHECK(on_a.next(500ms) == "(nothing)");  // and no more churn
  CHECK(on_b.next(500ms) == "(nothing)");
  // b closed its connections itself to rejoin: none failed, and no peer of b's went down.
  CHECK(b.node.stats().connections_failed == b_failed);
  CHECK(b_node_downs.load(std::memory_order_relaxed) == 1);
}

TEST_CASE("a member that never lost the rejoining node sees its old run go and the new one come") {
  ClusterNode a("a");
  ClusterNode c("c", {seed_of(a.node)});
  REQUIRE(c.node.cluster().wait_up());
  transport_test::TcpProxy link(a.node.port());  // only a and b are ever cut apart: link, and to_b
  ClusterNode b("b", {"127.0.0.1:" + std::to_string(link.port())}, reached_through_proxy("b"));
  transport_test::TcpProxy to_b = inbound_proxy(b.node);  // nothing but a's dials of b go through it
  REQUIRE(b.node.cluster().wait_up());
  for (ClusterNode* n : {&a, &b, &c}) REQUIRE(sees(n->node, {"a", "b", "c"}));
  Watcher on_c(c.node, c.system);
  CHECK(on_c.next() == "members a,b,c");
  const std::uint64_t b_before = incarnation_of(c.node, "b");
  REQUIRE(b.node.cluster().register_name("echo-b", greeter(b.system, "b")));
  REQUIRE(c.node.cluster().register_name("echo-c", greeter(c.system, "c")));
  troupe::Result<troupe::DynamicHandle> old_b = c.node.cluster().await_name("echo-b", 5s);
  troupe::Result<troupe::DynamicHandle> old_c = b.node.cluster().await_name("echo-c", 5s);
  REQUIRE(old_b);
  REQUIRE(old_c);
  CHECK(ask(c, *old_b) == "b");

  link.partition();
  to_b.partition();
  REQUIRE(sees(a.node, {"a", "c"}));
  REQUIRE(sees(b.node, {"b", "c"}));
  CHECK(ask(c, *old_b) == "b");  // c and b still reach each other
  CHECK(ask(b, *old_c) == "c");
  link.heal();
  to_b.heal();
  // Two members each side: b's name sorts last, so b rejoins, and c, which never lost it, sees
  // its old run go and its new one come.
  CHECK(on_c.next() == "down b");
  CHECK(on_c.incarnation() == b_before);
  CHECK(on_c.next() == "up b");
  CHECK(on_c.incarnation() != b_before);
  for (ClusterNode* n : {&a, &b, &c}) CHECK(sees(n->node, {"a", "b", "c"}));
  CHECK(incarnation_of(a.node, "b") == on_c.incarnation());
  // The handles between them from before are dead both ways; new ones work.
  CHECK(ask(c, *old_b) == "node_down");
  CHECK(ask(b, *old_c) == "node_down");
  CHECK(troupe_test::eventually([&] { return ask_name(c, "echo-b") == "b"; }));
  CHECK(troupe_test::eventually([&] { return ask_name(b, "echo-c") == "c"; }));
}

TEST_CASE("after a partition, the side that sees fewer members rejoins, whatever its name") {
  // a is the first member; b and c reach it only through proxies, and each other directly. Cut
  // both: a alone on one side, b and c on the other. a does not dial b and c again (it would reach
  // them directly, past the proxies): they dial a, their seed.
  troupe::transport::NodeConfig a_config = transport_test::node_config("a");
  troupe::transport::SeedDiscovery no_redial;
  no_redial.redial_lost_for = troupe::Duration::zero();
  a_config.discovery = no_redial;
  ClusterNode a("a", {}, a_config);
  transport_test::TcpProxy to_a_from_b(a.node.port());
  transport_test::TcpProxy to_a_from_c(a.node.port());
  ClusterNode b("b", {"127.0.0.1:" + std::to_string(to_a_from_b.port())});
  ClusterNode c("c", {"127.0.0.1:" + std::to_string(to_a_from_c.port())});
  REQUIRE(b.node.cluster().wait_up());
  REQUIRE(c.node.cluster().wait_up());
  for (ClusterNode* n : {&a, &b, &c}) REQUIRE(sees(n->node, {"a", "b", "c"}));
  const std::uint64_t a_before = incarnation_of(b.node, "a");
  const std::uint64_t b_run = incarnation_of(b.node, "b");
  const std::uint64_t c_run = incarnation_of(c.node, "c");
  Watcher on_a(a.node, a.system);
  CHECK(on_a.next() == "members a,b,c");

  to_a_from_b.partition();
  to_a_from_c.partition();
  REQUIRE(sees(a.node, {"a"}));
  REQUIRE(sees(b.node, {"b", "c"}));
  REQUIRE(sees(c.node, {"b", "c"}));
  std::vector<std::string> downs{on_a.next(), on_a.next()};
  std::sort(downs.begin(), downs.end());
  CHECK(downs == std::vector<std::string>{"down b", "down c"});
  to_a_from_b.heal();
  to_a_from_c.heal();
  // a sorts first, but sees one member against two: a rejoins; b and c keep their runs.
  CHECK(on_a.next() == "down a");
  CHECK(on_a.incarnation() == a_before);
  for (ClusterNode* n : {&a, &b, &c}) CHECK(sees(n->node, {"a", "b", "c"}));
  const std::uint64_t a_after = incarnation_of(a.node, "a");
  CHECK(a_after != a_before);
  CHECK(incarnation_of(b.node, "a") == a_after);
  CHECK(incarnation_of(c.node, "a") == a_after);
  CHECK(incarnation_of(a.node, "b") == b_run);
  CHECK(incarnation_of(a.node, "c") == c_run);
  CHECK(incarnation_of(c.node, "b") == b_run);
}

TEST_CASE(
    "a run declared down is refused as itself only for SeedDiscovery::remember_down_for; met after that, it is "
    "admitted as it was") {
  // Both remember a down for 1 s. Cut, each declares the other down; healed only after that
  // time, neither refuses the other's run, and neither rejoins.
  auto remembering = [](troupe::transport::NodeConfig config) {
    troupe::transport::SeedDiscovery seeds;
    seeds.remember_down_for = 1s;
    config.discovery = seeds;
    return config;
  };
  PartitionablePair pair(remembering(transport_test::node_config("a")), remembering(reached_through_proxy("b")));
  auto& [a, link, b, to_b, joined, on_a, on_b] = pair;
  const std::uint64_t a_run = incarnation_of(a.node, "a");
  const std::uint64_t b_run = incarnation_of(a.node, "b");
  REQUIRE(b.node.cluster().register_name("echo-b", greeter(b.system, "b")));
  REQUIRE(a.node.cluster().await_name("echo-b", 5s));

  pair.partition();
  CHECK(on_a.next() == "down b");
  CHECK(on_b.next() == "down a");
  CHECK(ask_name(a, "echo-b") == "no_such_name");
  auto b_on_a = [&] {
    auto peer = transport_test::peer_of(a.system, "a", "b");
    return peer ? peer->state : std::string("(none)");
  };
  CHECK(troupe_test::eventually([&] { return b_on_a() == "declared_down"; }));
  std::this_thread::sleep_for(1500ms);  // each down was remembered before its event came: now forgotten
  pair.heal();
  CHECK(on_a.next() == "up b");
  CHECK(on_a.incarnation() == b_run);  // the run it was: no rejoin
  CHECK(on_b.next() == "up a");
  CHECK(on_b.incarnation() == a_run);
  CHECK(incarnation_of(b.node, "b") == b_run);
  CHECK(troupe_test::eventually([&] { return b_on_a() == "up"; }));  // no longer declared down in the metrics
  CHECK(troupe_test::eventually([&] { return ask_name(a, "echo-b") == "b"; }));  // its names told again
  CHECK(on_a.next(500ms) == "(nothing)");
  CHECK(on_b.next(500ms) == "(nothing)");
}
