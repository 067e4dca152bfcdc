// Membership through seeds (cluster.hpp): joins, late joins, concurrent joins, events in order, a
// graceful leave, a node that stops, a duplicate name. (A partition, and the run that rejoins after
// it: rejoin_test.cpp.)
#include "cluster/cluster_support.hpp"
#include "transport/peer_process.hpp"

#include <signal.h>

#include <atomic>
#include <thread>

using namespace cluster_test;
using troupe::Errc;

TEST_CASE("a node joins through a seed, and a late joiner is learnt by every member") {
  ClusterNode a("a");
  REQUIRE(a.node.cluster().wait_up());
  Watcher on_a(a.node, a.system);
  CHECK(on_a.next() == "members a");

  ClusterNode b("b", {seed_of(a.node)});
  REQUIRE(b.node.cluster().wait_up());
  CHECK(on_a.next() == "up b");
  // c knows only b: it learns a from b, and a learns c from c.
  ClusterNode c("c", {seed_of(b.node)});
  REQUIRE(c.node.cluster().wait_up());
  CHECK(on_a.next() == "up c");

  const std::vector<std::string> all{"a", "b", "c"};
  CHECK(sees(a.node, all));
  CHECK(sees(b.node, all));
  CHECK(sees(c.node, all));
  CHECK(a.node.stats().connections_open == 2);  // the full mesh
  CHECK(c.node.stats().connections_open == 2);
}

// A port that was free a moment ago (a node listened there and stopped).
std::uint16_t free_port() {
  ClusterNode probe("probe");
  return probe.node.port();
}

TEST_CASE("a first node may list itself as a seed, and a seed may be given with its name") {
  const std::uint16_t port = free_port();
  troupe::transport::NodeConfig config = transport_test::node_config("first");
  config.listen_port = port;
  ClusterNode first("first", {"127.0.0.1:" + std::to_string(port)}, std::move(config));
  REQUIRE(first.node.cluster().wait_up(2s));  // its own address is skipped: it is the first member
  ClusterNode named("named", {"first@" + seed_of(first.node)});
  REQUIRE(named.node.cluster().wait_up());
  CHECK(sees(first.node, {"first", "named"}));
  CHECK(first.node.stats().handshakes_refused == 0);  // it never dialled itself
}

TEST_CASE("nodes joining at once through different seeds all end up seeing each other") {
  ClusterNode a("a");
  ClusterNode b("b", {seed_of(a.node)});
  REQUIRE(b.node.cluster().wait_up());
  // c through a and d through b, at the same time: whichever reaches the other's seed later
  // learns of the other there.
  std::unique_ptr<ClusterNode> c;
  std::unique_ptr<ClusterNode> d;
  std::thread start_c([&] { c = std::make_unique<ClusterNode>("c", std::vector<std::string>{seed_of(a.node)}); });
  std::thread start_d([&] { d = std::make_unique<ClusterNode>("d", std::vector<std::string>{seed_of(b.node)}); });
  start_c.join();
  start_d.join();
  REQUIRE(c->node.cluster().wait_up());
  REQUIRE(d->node.cluster().wait_up());
  const std::vector<std::string> all{"a", "b", "c", "d"};
  for (troupe::transport::Node* n : {&a.node, &b.node, &c->node, &d->node}) CHECK(sees(*n, all));
}

TEST_CASE("a graceful leave: members see leaving, then left, and no node-down") {
  std::atomic<int> downs{0};
  troupe::transport::NodeConfig config = transport_test::node_config("a");
  config.on_node_down = [&](std::string_view) { downs.fetch_add(1, std::memory_order_relaxed); };  // relaxed: a count
  ClusterNode a("a", {}, std::move(config));
  ClusterNode b("b", {seed_of(a.node)});
  REQUIRE(b.node.cluster().wait_up());
  Watcher on_a(a.node, a.system);
  CHECK(on_a.next() == "members a,b");

  auto c = std::make_unique<ClusterNode>("c", std::vector<std::string>{seed_of(a.node)});
  REQUIRE(c->node.cluster().wait_up());
  CHECK(on_a.next() == "up c");
  auto on_c = std::make_unique<Watcher>(c->node, c->system);  // gone before c's System
  CHECK(on_c->next() == "members a,b,c");

  REQUIRE(c->node.cluster().leave());
  CHECK(on_a.next() == "leaving c");
  CHECK(on_a.next() == "left c");
  CHECK(on_c->next() == "leaving c");  // the leaver's own subscribers see it too
  CHECK(on_c->next() == "left c");
  on_c.reset();
  c.reset();  // its connections close now: a leave, not a failure
  CHECK(sees(a.node, {"a", "b"}));
  CHECK(sees(b.node, {"a", "b"}));
  // Nothing more for c: had its close been a node-down, "down c" would come here.
  CHECK(on_a.next(500ms) == "(nothing)");
  CHECK(downs.load(std::memory_order_relaxed) == 0);
}

TEST_CASE("a node that stops without leaving is down for the others, and can come back") {
  ClusterNode a("a");
  Watcher on_a(a.node, a.system);
  CHECK(on_a.next() == "members a");
  auto b = std::make_unique<ClusterNode>("b", std::vector<std::string>{seed_of(a.node)});
  REQUIRE(b->node.cluster().wait_up());
  CHECK(on_a.next() == "up b");
  b.reset();
  CHECK(on_a.next() == "down b");
  CHECK(sees(a.node, {"a"}));
  // A new run of b (a new incarnation) joins again.
  b = std::make_unique<ClusterNode>("b", std::vector<std::string>{seed_of(a.node)});
  REQUIRE(b->node.cluster().wait_up());
  CHECK(on_a.next() == "up b");
}

TEST_CASE("a second node of a member's name is refused at join, and says why") {
  ClusterNode a("a");
  ClusterNode b("b", {seed_of(a.node)});
  REQUIRE(b.node.cluster().wait_up());
  ClusterNode impostor("b", {seed_of(a.node)});
  // The refusal answers wait_up only at its timeout: long enough for the refusal to have come.
  const troupe::Result<void> up = impostor.node.cluster().wait_up(5s);
  REQUIRE_FALSE(up);
  CHECK(up.error().code == Errc::name_taken);
  CHECK(up.error().what.find("'b'") != std::string::npos);
  CHECK(sees(a.node, {"a", "b"}));
  CHECK(sees(b.node, {"a", "b"}));
}

TEST_CASE("wait_up says why when no seed can be reached") {
  // A port nothing listens on: bound, then closed.
  std::uint16_t closed_port = 0;
  {
    ClusterNode gone("gone");
    closed_port = gone.node.port();
  }
  ClusterNode lonely("lonely", {"127.0.0.1:" + std::to_string(closed_port)});
  const troupe::Result<void> up = lonely.node.cluster().wait_up(3s);  // long enough for a dial to fail
  REQUIRE_FALSE(up);
  CHECK(up.error().code == Errc::timeout);
  CHECK(up.error().what.find("cannot connect") != std::string::npos);
}

TEST_CASE("a malformed seed is refused when the node is made") {
  troupe::System system(troupe::Config{.workers = 1});
  troupe::transport::NodeConfig config = transport_test::node_config("x");
  config.discovery = troupe::transport::SeedDiscovery{{"127.0.0.1"}};
  CHECK_THROWS_WITH_AS(troupe::transport::Node(system, config), doctest::Contains("no port"), std::invalid_argument);
  config.discovery = troupe::transport::SeedDiscovery{{"@127.0.0.1:7000"}};
  CHECK_THROWS_AS(troupe::transport::Node(system, config), std::invalid_argument);
}

TEST_CASE("a member killed with SIGKILL is down for every other member") {
  ClusterNode a("a");
  ClusterNode b("b", {seed_of(a.node)});
  REQUIRE(b.node.cluster().wait_up());
  Watcher on_a(a.node, a.system);
  CHECK(on_a.next() == "members a,b");
  Watcher on_b(b.node, b.system);
  CHECK(on_b.next() == "members a,b");
  transport_test::PeerProcess victim("victim", transport_test::kTestSecret, {"--seed", seed_of(a.node)});
  CHECK(on_a.next() == "up victim");
  CHECK(on_b.next() == "up victim");  // learnt from the victim itself, which learnt b from a
  victim.signal(SIGKILL);
  CHECK(on_a.next() == "down victim");
  CHECK(on_b.next() == "down victim");
  CHECK(sees(a.node, {"a", "b"}));
}

TEST_CASE("members that come and go under new names leave no peers behind on the ones that stay") {
  // a forgets an idle peer after 200 ms, and asks a member it declared down again for 300 ms.
  troupe::transport::NodeConfig config = transport_test::node_config("a");
  config.forget_idle_peers_after = 200ms;
  troupe::transport::SeedDiscovery discovery;
  discovery.redial_lost_for = 300ms;
  config.discovery = discovery;
  ClusterNode a("a", {}, std::move(config));
  for (int i = 0; i < 4; ++i) {
    // Autoscaled members, each named afresh: half leave, half stop without leaving (down).
    ClusterNode member("member-" + std::to_string(i), {seed_of(a.node)});
    REQUIRE(member.node.cluster().wait_up());
    REQUIRE(sees(a.node, {"a", "member-" + std::to_string(i)}));
    if (i % 2 == 0) REQUIRE(member.node.cluster().leave());
  }
  CHECK(sees(a.node, {"a"}));
  // Once a has stopped asking the members it declared down, it keeps none of them.
  CHECK(troupe_test::eventually([&] { return a.node.stats().peers == 0; }));
}
