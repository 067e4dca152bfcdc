// Cluster-wide names (Cluster::register_name, whereis, await_name): one owner per name, found from
// every member, dropped with their actor or node, and one rule when two sides of a partition both
// registered one.
#include "cluster/cluster_support.hpp"
#include "test_support.hpp"
#include "transport/tcp_proxy.hpp"

#include <set>

#include <atomic>
#include <thread>

using namespace cluster_test;
using troupe::Errc;

namespace {

struct Hello {
  std::string from;
};
TROUPE_WIRE_MESSAGE(Hello, from);
struct Stop {};

// An actor that answers Hello with its node's name, and stops on Stop.
troupe::DynamicHandle greeter(troupe::System& system, std::string node) {
  return troupe::DynamicHandle(system.spawn([node](troupe::Context& self) {
    return troupe::behavior([node](const Hello&) { return node; }, [&self](Stop) { self.quit(); });
  }));
}

}  // namespace

TEST_CASE("a name registered on one node is found from every member") {
  ThreeNodes three;
  ClusterNode& a = three.a;
  ClusterNode& b = three.b;
  ClusterNode& c = three.c;

  REQUIRE(b.node.cluster().register_name("accounts", greeter(b.system, "b")));
  for (ClusterNode* n : {&a, &b, &c}) {
    troupe::Result<troupe::DynamicHandle> found = n->node.cluster().whereis("accounts");
    REQUIRE(found);
    troupe::ScopedActor me(n->system);
    troupe::Result<std::string> answer = me.request<std::string>(*found, Hello{"test"});
    REQUIRE(answer);
    CHECK(*answer == "b");
  }
  CHECK(a.node.cluster().whereis("nobody").error().code == Errc::no_such_name);
  // Taken, from any node.
  CHECK(c.node.cluster().register_name("accounts", greeter(c.system, "c")).error().code == Errc::name_taken);
}

TEST_CASE("three nodes registering one name at once: exactly one wins, and all agree which") {
  ThreeNodes three;
  ClusterNode& a = three.a;
  ClusterNode& b = three.b;
  ClusterNode& c = three.c;

  for (int round = 0; round < 20; ++round) {
    const std::string name = "leader-" + std::to_string(round);
    std::vector<ClusterNode*> nodes{&a, &b, &c};
    std::vector<troupe::DynamicHandle> actors;
    for (ClusterNode* n : nodes) actors.push_back(greeter(n->system, n->node.name()));
    std::atomic<int> winners{0};
    std::atomic<int> taken{0};
    std::vector<std::thread> racers;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      racers.emplace_back([&, i] {
        troupe::Result<void> r = nodes[i]->node.cluster().register_name(name, actors[i]);
        (r ? winners : taken).fetch_add(1, std::memory_order_relaxed);  // relaxed: read after the joins
        if (!r) CHECK(r.error().code == Errc::name_taken);
      });
    }
    for (std::thread& t : racers) t.join();
    CHECK(winners.load(std::memory_order_relaxed) == 1);
    CHECK(taken.load(std::memory_order_relaxed) == 2);
    // Every node finds the same actor.
    std::set<std::string> owners;
    for (ClusterNode* n : nodes) {
      troupe::Result<troupe::DynamicHandle> found = n->node.cluster().await_name(name, 5s);
      REQUIRE(found);
      troupe::ScopedActor me(n->system);
      owners.insert(me.request<std::string>(*found, Hello{"test"}).value_or("?"));
    }
    CHECK(owners.size() == 1);
  }
}

TEST_CASE("a name goes when its actor stops, and with its node when the node goes") {
  ClusterNode a("a");
  auto b = std::make_unique<ClusterNode>("b", std::vector<std::string>{seed_of(a.node)});
  REQUIRE(b->node.cluster().wait_up());
  troupe::DynamicHandle short_lived = greeter(b->system, "b");
  REQUIRE(b->node.cluster().register_name("temp", short_lived));
  REQUIRE(b->node.cluster().register_name("service", greeter(b->system, "b")));
  REQUIRE(a.node.cluster().await_name("temp", 5s));
  REQUIRE(a.node.cluster().await_name("service", 5s));

  short_lived.send(Stop{});
  CHECK(troupe_test::eventually([&] { return !a.node.cluster().whereis("temp"); }));
  CHECK(!b->node.cluster().whereis("temp"));
  // The name is free again.
  REQUIRE(a.node.cluster().register_name("temp", greeter(a.system, "a")));

  b.reset();  // its node stops: its names go with it
  CHECK(troupe_test::eventually([&] { return !a.node.cluster().whereis("service"); }));
}

TEST_CASE("await_name waits for a name registered later on another node, and unregister frees it") {
  ClusterNode a("a");
  ClusterNode b("b", {seed_of(a.node)});
  REQUIRE(b.node.cluster().wait_up());
  std::thread later([&] {
    std::this_thread::sleep_for(100ms);  // the await is under way by then (or it finds it at once)
    CHECK(b.node.cluster().register_name("late", greeter(b.system, "b")));
  });
  troupe::Result<troupe::DynamicHandle> found = a.node.cluster().await_name("late", 10s);
  later.join();
  REQUIRE(found);
  CHECK(a.node.cluster().await_name("never", 200ms).error().code == Errc::timeout);

  CHECK_FALSE(a.node.cluster().unregister_name("late"));  // only its owner unregisters it
  CHECK(b.node.cluster().unregister_name("late"));
  CHECK(troupe_test::eventually([&] { return !a.node.cluster().whereis("late"); }));
}

TEST_CASE("an actor looks a name up through the registry, without blocking its worker") {
  ClusterNode a("a");
  ClusterNode b("b", {seed_of(a.node)});
  REQUIRE(b.node.cluster().wait_up());
  REQUIRE(b.node.cluster().register_name("echo", greeter(b.system, "b")));
  troupe::DynamicHandle registry = a.node.cluster().registry();
  auto asker = a.system.spawn([registry](troupe::Context& self) {
    return troupe::behavior([&self, registry](const Hello&) -> troupe::Task<troupe::Result<std::string>> {
      troupe::transport::WhereisName lookup{"echo", 5s};
      troupe::Result<troupe::DynamicHandle> echo =
          co_await self.request<troupe::DynamicHandle>(registry, std::move(lookup));
      if (!echo) co_return echo.error();
      Hello hello{"asker"};  // built before the co_await, not inside it (g++ 12 miscompiles that)
      co_return co_await self.request<std::string>(*echo, std::move(hello));
    });
  });
  troupe::ScopedActor me(a.system);
  troupe::Result<std::string> answer = me.request<std::string>(asker, Hello{"test"}, 10s);
  REQUIRE(answer);
  CHECK(*answer == "b");
}

TEST_CASE("both sides of a partition registered one name: once it heals, every node keeps the same one") {
  ClusterNode a("a");
  transport_test::TcpProxy link(a.node.port());  // b dials a through it, and a dials b through to_b
  ClusterNode b("b", {"127.0.0.1:" + std::to_string(link.port())}, reached_through_proxy("b"));
  transport_test::TcpProxy to_b = inbound_proxy(b.node);
  REQUIRE(b.node.cluster().wait_up());
  REQUIRE(sees(a.node, {"a", "b"}));
  link.partition();
  to_b.partition();
  REQUIRE(sees(a.node, {"a"}));
  REQUIRE(sees(b.node, {"b"}));
  // Each side alone: each grants the name.
  REQUIRE(a.node.cluster().register_name("primary", greeter(a.system, "a")));
  REQUIRE(b.node.cluster().register_name("primary", greeter(b.system, "b")));
  link.heal();
  to_b.heal();
  REQUIRE(sees(a.node, {"a", "b"}));
  REQUIRE(sees(b.node, {"a", "b"}));
  // The rule: the owner whose node name sorts first keeps it, on both sides.
  auto owner_seen_by = [](ClusterNode& n) {
    troupe::Result<troupe::DynamicHandle> found = n.node.cluster().whereis("primary");
    if (!found) return std::string("none");
    troupe::ScopedActor me(n.system);
    return me.request<std::string>(*found, Hello{"test"}).value_or("?");
  };
  CHECK(troupe_test::eventually([&] { return owner_seen_by(a) == "a" && owner_seen_by(b) == "a"; }));
}
