// Membership kept in a real etcd (EtcdDiscovery): joins with no seeds, a duplicate name refused by
// the compare-and-create, a graceful leave, and a node whose lease expires down for everyone.
#include "cluster/cluster_support.hpp"
#include "cluster/etcd_server.hpp"
#include "test_support.hpp"
#include "transport/peer_process.hpp"

#include <atomic>
#include <set>
#include <thread>

#include <signal.h>

using namespace cluster_test;
using troupe::Errc;

namespace {

// A node of its own System whose cluster is kept in `etcd`.
struct EtcdNode {
  EtcdNode(std::string name, const EtcdServer& etcd, std::string prefix = "/troupe/",
           std::chrono::milliseconds heartbeat = 100ms)
      : system(troupe::Config{.workers = 2}),
        node(system, configure(std::move(name), etcd, std::move(prefix), heartbeat)) {}

  static troupe::transport::NodeConfig configure(std::string name, const EtcdServer& etcd, std::string prefix,
                                                 std::chrono::milliseconds heartbeat) {
    troupe::transport::NodeConfig config = transport_test::node_config(std::move(name));
    config.heartbeat_interval = heartbeat;  // the timeout far from any stall (cluster_support.hpp)
    config.heartbeat_timeout = std::max<std::chrono::milliseconds>(4 * heartbeat, troupe_test::heartbeat_timeout);
    troupe::transport::EtcdDiscovery discovery;
    discovery.endpoint = etcd.endpoint();
    discovery.prefix = std::move(prefix);
    discovery.lease_ttl = 2s;
    discovery.retry_interval = 100ms;
    config.discovery = std::move(discovery);
    return config;
  }

  troupe::System system;
  troupe::transport::Node node;
};

// What node_peer's echo actor answers (tests/transport/wire_messages.hpp: the same wire names and
// fields; that header needs the transport tests' generated schemas).
struct Ping {
  std::int32_t n = 0;
  std::string text;
  std::vector<std::int64_t> values;
};
TROUPE_WIRE_MESSAGE(Ping, n, text, values);
struct Pong {
  std::int32_t n = 0;
  std::string text;
  std::int64_t sum = 0;
};
TROUPE_WIRE_MESSAGE(Pong, n, text, sum);

}  // namespace

TEST_CASE("etcd: nodes find each other through etcd alone, a late one too") {
  EtcdServer etcd;
  EtcdNode a("a", etcd);
  REQUIRE(a.node.cluster().wait_up());
  Watcher on_a(a.node, a.system);
  CHECK(on_a.next() == "members a");
  EtcdNode b("b", etcd);
  EtcdNode c("c", etcd);
  REQUIRE(b.node.cluster().wait_up());
  REQUIRE(c.node.cluster().wait_up());
  const std::vector<std::string> all{"a", "b", "c"};
  CHECK(sees(a.node, all));
  CHECK(sees(b.node, all));
  CHECK(sees(c.node, all));
  std::vector<std::string> events{on_a.next(), on_a.next()};
  std::sort(events.begin(), events.end());
  CHECK(events == std::vector<std::string>{"up b", "up c"});
  // Another cluster under another prefix of the same etcd stays apart.
  EtcdNode other("x", etcd, "/another-cluster/");
  REQUIRE(other.node.cluster().wait_up());
  CHECK(sees(other.node, {"x"}));
  CHECK(sees(a.node, all));
}

TEST_CASE("etcd: a second node of a live member's name is refused by etcd") {
  EtcdServer etcd;
  EtcdNode a("a", etcd);
  REQUIRE(a.node.cluster().wait_up());
  EtcdNode impostor("a", etcd);
  const troupe::Result<void> up = impostor.node.cluster().wait_up(10s);  // refused at once, not timed out
  REQUIRE_FALSE(up);
  CHECK(up.error().code == Errc::name_taken);
  CHECK(up.error().what.find("etcd") != std::string::npos);
  CHECK(sees(a.node, {"a"}));
}

TEST_CASE("etcd: a node kept out by a live member of its name joins once the name is free, as the run it began") {
  EtcdServer etcd;
  auto first = std::make_unique<EtcdNode>("a", etcd);
  REQUIRE(first->node.cluster().wait_up());
  EtcdNode second("a", etcd);
  Watcher on_second(second.node, second.system);
  CHECK(on_second.next() == "members a");  // itself, joining
  const std::uint64_t run = incarnation_of(second.node, "a");
  // Refused while the first one's key lives, for longer than its own lease (2 s, not renewed
  // before it registers): a lease that ran out before the run was registered is only replaced.
  CHECK(second.node.cluster().wait_up(3s).error().code == Errc::name_taken);
  REQUIRE(first->node.cluster().leave());
  first.reset();
  REQUIRE(second.node.cluster().wait_up(10s));
  CHECK(on_second.next() == "up a");  // never declared down: it never was up
  CHECK(on_second.incarnation() == run);
  CHECK(incarnation_of(second.node, "a") == run);
}

TEST_CASE("etcd: a graceful leave deletes the node's key; members see leaving then left") {
  EtcdServer etcd;
  EtcdNode a("a", etcd);
  REQUIRE(a.node.cluster().wait_up());
  auto b = std::make_unique<EtcdNode>("b", etcd);
  REQUIRE(b->node.cluster().wait_up());
  REQUIRE(sees(a.node, {"a", "b"}));
  Watcher on_a(a.node, a.system);
  CHECK(on_a.next() == "members a,b");
  REQUIRE(b->node.cluster().leave());
  CHECK(on_a.next() == "leaving b");
  CHECK(on_a.next() == "left b");
  b.reset();
  CHECK(on_a.next(1s) == "(nothing)");
  // Its key is gone at once (not at its lease's expiry): the name is free for a new node, which
  // etcd would refuse (name_taken, as for the impostor above) while the key lived.
  EtcdNode again("b", etcd);
  REQUIRE(again.node.cluster().wait_up(10s));
  CHECK(on_a.next() == "up b");
}

TEST_CASE("etcd: a node whose lease expires is down for every member, though still connected, and rejoins anew") {
  EtcdServer etcd;
  // Heartbeats too slow to notice a 4 s freeze: the connection stays up, only etcd says it went.
  EtcdNode a("a", etcd, "/troupe/", 10s);
  REQUIRE(a.node.cluster().wait_up());
  // A node that stops answering (SIGSTOP): its connections stay open and its heartbeats time out
  // only after 40 s, but its 2 s lease in etcd expires first.
  Watcher on_a(a.node, a.system);
  CHECK(on_a.next() == "members a");
  transport_test::PeerProcess frozen("frozen", transport_test::kTestSecret,
                                     {"--etcd", etcd.endpoint(), "--heartbeat-ms", "10000"});
  CHECK(on_a.next() == "up frozen");
  const std::uint64_t first_run = on_a.incarnation();
  troupe::Result<troupe::DynamicHandle> old_echo = a.node.cluster().await_name("echo-frozen", 10s);
  REQUIRE(old_echo);
  auto echo = [&](const troupe::DynamicHandle& handle) {
    troupe::ScopedActor me(a.system);
    troupe::Result<Pong> pong = me.request<Pong>(handle, Ping{1, "hi", {}}, 5s);
    return pong ? std::string("pong") : std::string(troupe::to_string(pong.error().code));
  };
  CHECK(echo(*old_echo) == "pong");
  frozen.signal(SIGSTOP);
  CHECK(on_a.next(10s) == "down frozen");
  CHECK(sees(a.node, {"a"}));
  CHECK_FALSE(a.node.cluster().whereis("echo-frozen"));  // its names went with it
  // It finds its key gone, so its run was declared down: it rejoins as a new incarnation (a new
  // lease and key), closing the connection its old run kept.
  frozen.signal(SIGCONT);
  CHECK(on_a.next(10s) == "up frozen");
  CHECK(on_a.incarnation() != first_run);
  CHECK(on_a.next(500ms) == "(nothing)");
  // The handle from its old run stays dead; its name is claimed again in etcd by the new run.
  CHECK(echo(*old_echo) == "node_down");
  troupe::Result<troupe::DynamicHandle> new_echo = a.node.cluster().await_name("echo-frozen", 10s);
  REQUIRE(new_echo);
  CHECK(echo(*new_echo) == "pong");
}

namespace {
struct WhoAreYou {};
TROUPE_WIRE_MESSAGE(WhoAreYou);
// An actor that answers WhoAreYou with its node's name, and stops on a Stop.
struct Stop {};
troupe::DynamicHandle named(troupe::System& system, std::string node) {
  return troupe::DynamicHandle(system.spawn([node](troupe::Context& self) {
    return troupe::behavior([node](WhoAreYou) { return node; }, [&self](Stop) { self.quit(); });
  }));
}
}  // namespace

TEST_CASE("etcd: three nodes registering one name at once: etcd's compare-and-create picks one") {
  EtcdServer etcd;
  EtcdNode a("a", etcd);
  EtcdNode b("b", etcd);
  EtcdNode c("c", etcd);
  for (EtcdNode* n : {&a, &b, &c}) REQUIRE(n->node.cluster().wait_up());
  for (EtcdNode* n : {&a, &b, &c}) REQUIRE(sees(n->node, {"a", "b", "c"}));
  for (int round = 0; round < 10; ++round) {
    const std::string name = "lock-" + std::to_string(round);
    std::vector<EtcdNode*> nodes{&a, &b, &c};
    std::vector<troupe::DynamicHandle> actors;
    for (EtcdNode* n : nodes) actors.push_back(named(n->system, n->node.name()));
    std::atomic<int> winners{0};
    std::vector<std::thread> racers;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      racers.emplace_back([&, i] {
        troupe::Result<void> r = nodes[i]->node.cluster().register_name(name, actors[i]);
        if (r) winners.fetch_add(1, std::memory_order_relaxed);  // relaxed: read after the joins
        if (!r) CHECK(r.error().code == Errc::name_taken);
      });
    }
    for (std::thread& t : racers) t.join();
    CHECK(winners.load(std::memory_order_relaxed) == 1);
    std::set<std::string> owners;
    for (EtcdNode* n : nodes) {
      troupe::Result<troupe::DynamicHandle> found = n->node.cluster().await_name(name, 5s);
      REQUIRE(found);
      troupe::ScopedActor me(n->system);
      owners.insert(me.request<std::string>(*found, WhoAreYou{}).value_or("?"));
    }
    CHECK(owners.size() == 1);
  }
}

TEST_CASE("etcd: a name's key goes with its actor, and the name can be registered again") {
  EtcdServer etcd;
  EtcdNode a("a", etcd);
  EtcdNode b("b", etcd);
  REQUIRE(a.node.cluster().wait_up());
  REQUIRE(b.node.cluster().wait_up());
  REQUIRE(sees(a.node, {"a", "b"}));
  troupe::DynamicHandle first = named(a.system, "a");
  REQUIRE(a.node.cluster().register_name("singleton", first));
  CHECK(b.node.cluster().register_name("singleton", named(b.system, "b")).error().code == Errc::name_taken);
  first.send(Stop{});
  // Its key is deleted once the owner sees its actor stop: b gets the name (etcd decides).
  CHECK(
      troupe_test::eventually([&] { return b.node.cluster().register_name("singleton", named(b.system, "b")).ok(); }));
  troupe::Result<troupe::DynamicHandle> found = a.node.cluster().await_name("singleton", 5s);
  REQUIRE(found);
  troupe::ScopedActor me(a.system);
  CHECK(me.request<std::string>(*found, WhoAreYou{}).value_or("?") == "b");
}

TEST_CASE("etcd: a node killed and started again on another port is joined there once its old key goes") {
  EtcdServer etcd;
  EtcdNode a("a", etcd);
  REQUIRE(a.node.cluster().wait_up());
  Watcher on_a(a.node, a.system);
  CHECK(on_a.next() == "members a");
  auto b = std::make_unique<transport_test::PeerProcess>("b", transport_test::kTestSecret,
                                                         std::vector<std::string>{"--etcd", etcd.endpoint()});
  CHECK(on_a.next() == "up b");
  const std::uint16_t old_port = b->port();
  b->signal(SIGKILL);  // its key lives on until its lease expires; a keeps asking the old address
  CHECK(on_a.next() == "down b");
  // The new run is refused by etcd until the old key expires, then registers its new port.
  b = std::make_unique<transport_test::PeerProcess>("b", transport_test::kTestSecret,
                                                    std::vector<std::string>{"--etcd", etcd.endpoint()});
  CHECK(b->port() != old_port);
  CHECK(on_a.next(10s) == "up b");
  CHECK(a.node.cluster().await_name("echo-b", 10s));
}
