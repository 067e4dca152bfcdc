// Members declared down are dialled again for a while (SeedDiscovery::redial_lost_for): two
// members that are not each other's seed meet again once a partition between them heals, even
// with their seed gone; a member that left gracefully is never dialled again.
#include "cluster/cluster_support.hpp"
#include "test_support.hpp"

#include <memory>

using namespace cluster_test;

TEST_CASE("a partition between two members that joined through a third heals with that seed gone") {
  auto a = std::make_unique<ClusterNode>("a");
  const std::string seed = seed_of(a->node);
  // b and c both join through a; each reaches the other only through a proxy (c dials b through
  // to_b; b, to dial c again, goes through to_c).
  ClusterNode b("b", {seed}, reached_through_proxy("b"));
  transport_test::TcpProxy to_b = inbound_proxy(b.node);
  REQUIRE(b.node.cluster().wait_up());
  ClusterNode c("c", {seed}, reached_through_proxy("c"));
  transport_test::TcpProxy to_c = inbound_proxy(c.node);
  REQUIRE(c.node.cluster().wait_up());
  for (ClusterNode* n : {a.get(), &b, &c}) REQUIRE(sees(n->node, {"a", "b", "c"}));
  REQUIRE(to_b.accepted() >= 1);  // c's connection to b is the proxy's
  Watcher on_b(b.node, b.system);
  CHECK(on_b.next() == "members a,b,c");
  Watcher on_c(c.node, c.system);
  CHECK(on_c.next() == "members a,b,c");
  const std::uint64_t b_run = incarnation_of(b.node, "b");
  const std::uint64_t c_run = incarnation_of(c.node, "c");

  // b and c are cut apart (a still reaches both); then a stops: each is alone, and its only seed
  // is gone for good.
  to_b.partition();
  to_c.partition();
  CHECK(on_b.next() == "down c");
  CHECK(on_c.next() == "down b");
  a.reset();
  CHECK(on_b.next() == "down a");
  CHECK(on_c.next() == "down a");
  REQUIRE(sees(b.node, {"b"}));
  REQUIRE(sees(c.node, {"c"}));

  // Each dials the member it declared down again; once they meet, each had declared the other
  // down, and of two sides that see as many members, the one whose name sorts last (c) rejoins as
  // a new incarnation.
  to_b.heal();
  to_c.heal();
  CHECK(on_c.next(30s) == "down c");  // its own old run
  CHECK(on_c.incarnation() == c_run);
  CHECK(on_c.next() == "up b");
  CHECK(on_c.incarnation() == b_run);  // b stays the run it was
  CHECK(on_c.next() == "up c");
  const std::uint64_t c_after = on_c.incarnation();
  CHECK(c_after != c_run);
  CHECK(on_b.next() == "up c");
  CHECK(on_b.incarnation() == c_after);
  // One view, on both.
  CHECK(sees(b.node, {"b", "c"}));
  CHECK(sees(c.node, {"b", "c"}));
  for (ClusterNode* n : {&b, &c}) {
    CHECK(incarnation_of(n->node, "b") == b_run);
    CHECK(incarnation_of(n->node, "c") == c_after);
  }
  CHECK(on_b.next(500ms) == "(nothing)");  // and no more churn
  CHECK(on_c.next(500ms) == "(nothing)");
}

TEST_CASE("a member that left gracefully is never dialled again; one that was lost is") {
  ClusterNode a("a");
  const std::string seed = seed_of(a.node);
  ClusterNode b("b", {seed});
  REQUIRE(b.node.cluster().wait_up());
  // Every dial to c or d goes through its proxy, which counts it.
  auto c = std::make_unique<ClusterNode>("c", std::vector<std::string>{seed}, reached_through_proxy("c"));
  transport_test::TcpProxy to_c = inbound_proxy(c->node);
  REQUIRE(c->node.cluster().wait_up());
  auto d = std::make_unique<ClusterNode>("d", std::vector<std::string>{seed}, reached_through_proxy("d"));
  transport_test::TcpProxy to_d = inbound_proxy(d->node);
  REQUIRE(d->node.cluster().wait_up());
  for (ClusterNode* n : {&a, &b, c.get(), d.get()}) REQUIRE(sees(n->node, {"a", "b", "c", "d"}));

  // c leaves, and its node stops (its connections close); then d stops without leaving.
  REQUIRE(c->node.cluster().leave());
  c.reset();
  REQUIRE(sees(a.node, {"a", "b", "d"}));
  REQUIRE(sees(b.node, {"a", "b", "d"}));
  const std::uint64_t dials_to_c = to_c.accepted();
  const std::uint64_t dials_to_d = to_d.accepted();
  d.reset();
  REQUIRE(sees(a.node, {"a", "b"}));
  REQUIRE(sees(b.node, {"a", "b"}));

  // a and b dial d again, over and over (each time it fails); meanwhile no one dials c.
  CHECK(troupe_test::eventually([&] { return to_d.accepted() >= dials_to_d + 4; }, 30s));
  CHECK(to_c.accepted() == dials_to_c);
}

TEST_CASE("a member declared down is dialled again only for SeedDiscovery::redial_lost_for") {
  // a dials no one again; b dials a lost member again for 200 ms only. b also has a seed that never
  // answers (a proxy cut off from the start): b dials it again all along, which shows that b's
  // retries go on.
  auto discovery = [](troupe::Duration redial) {
    troupe::transport::SeedDiscovery seeds;
    seeds.redial_lost_for = redial;
    return seeds;
  };
  troupe::transport::NodeConfig a_config = transport_test::node_config("a");
  a_config.discovery = discovery(troupe::Duration::zero());
  ClusterNode a("a", {}, a_config);
  transport_test::TcpProxy dead_seed(a.node.port());
  dead_seed.partition();
  troupe::transport::NodeConfig b_config = transport_test::node_config("b");
  b_config.discovery = discovery(200ms);
  ClusterNode b("b", {seed_of(a.node), "127.0.0.1:" + std::to_string(dead_seed.port())}, b_config);
  REQUIRE(b.node.cluster().wait_up());
  auto d = std::make_unique<ClusterNode>("d", std::vector<std::string>{seed_of(a.node)}, reached_through_proxy("d"));
  transport_test::TcpProxy to_d = inbound_proxy(d->node);  // every dial to d goes through it
  REQUIRE(d->node.cluster().wait_up());
  REQUIRE(sees(b.node, {"a", "b", "d"}));
  d.reset();
  REQUIRE(sees(b.node, {"a", "b"}));

  // Six more dials of the dead seed take at least 100 + 200 + 400 + 800 + 1600 ms (each of them
  // fails, so the next waits twice as long, up to 2 s): past b's 200 ms for d, and past a dial of
  // d that was already waiting for its own backoff then.
  const std::uint64_t seed_dials = dead_seed.accepted();
  REQUIRE(troupe_test::eventually([&] { return dead_seed.accepted() >= seed_dials + 6; }, 60s));
  const std::uint64_t dials_to_d = to_d.accepted();
  REQUIRE(troupe_test::eventually([&] { return dead_seed.accepted() >= seed_dials + 9; }, 60s));
  CHECK(to_d.accepted() == dials_to_d);  // b gave d up
}
