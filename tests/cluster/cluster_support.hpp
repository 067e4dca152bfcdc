// What the cluster tests share: nodes that join through seeds, each in its own System, and a
// subscriber that reads member events as short lines ("up b", "down c", ...).
#pragma once

#include "result_string.hpp"
#include "test_support.hpp"
#include "transport/tcp_proxy.hpp"
#include "transport/transport_test_support.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace cluster_test {

using namespace std::chrono_literals;

inline std::string seed_of(const troupe::transport::Node& node) { return "127.0.0.1:" + std::to_string(node.port()); }

// A node of its own System, joining through `seeds` (none: the first member). A `config` with a
// name is used as given, but for its liveness and discovery timings (its SeedDiscovery's other
// settings are kept).
struct ClusterNode {
  explicit ClusterNode(std::string name, std::vector<std::string> seeds = {}, troupe::transport::NodeConfig config = {})
      : system(troupe::Config{.workers = 2}),
        node(system, configure(std::move(name), std::move(seeds), std::move(config))) {}

  static troupe::transport::NodeConfig configure(std::string name, std::vector<std::string> seeds,
                                                 troupe::transport::NodeConfig config) {
    if (config.name.empty()) config = transport_test::node_config(std::move(name));
    // Heartbeats often, and a timeout far from any stall of a live process (test_support.hpp):
    // a node-down a test did not cause breaks its exact sequence of events.
    config.heartbeat_interval = 100ms;
    config.heartbeat_timeout = troupe_test::heartbeat_timeout;
    troupe::transport::SeedDiscovery discovery;
    if (const auto* given = std::get_if<troupe::transport::SeedDiscovery>(&config.discovery)) discovery = *given;
    discovery.seeds = std::move(seeds);
    discovery.retry_interval = 100ms;
    config.discovery = std::move(discovery);
    return config;
  }

  troupe::System system;
  troupe::transport::Node node;
};

// A node the others reach only through a proxy, so that a test can cut what is dialled to it as
// well as what it dials (its seeds given as proxies): made with `reached_through_proxy(name)`, it
// names 127.0.0.2 (another loopback address) as its host, where `inbound_proxy(node)` listens on
// the node's own port and forwards to it. (Before the proxy exists, no one has dialled it yet: a
// joiner dials the members, and they answer on its connections.)
inline constexpr const char* kProxiedHost = "127.0.0.2";
inline troupe::transport::NodeConfig reached_through_proxy(std::string name) {
  troupe::transport::NodeConfig config = transport_test::node_config(std::move(name));
  config.advertise_host = kProxiedHost;
  return config;
}
inline transport_test::TcpProxy inbound_proxy(const troupe::transport::Node& node) {
  return transport_test::TcpProxy(node.port(), kProxiedHost, node.port());
}

// Waits (bounded) until `node` sees exactly `expected` (sorted names) as members.
bool sees(troupe::transport::Node& node, const std::vector<std::string>& expected,
          std::chrono::milliseconds within = std::chrono::seconds(10));

// Nodes a, b and c, b and c joined through a, each seeing all three.
struct ThreeNodes {
  ThreeNodes() : a("a"), b("b", {seed_of(a.node)}), c("c", {seed_of(a.node)}) {
    REQUIRE(b.node.cluster().wait_up());
    REQUIRE(c.node.cluster().wait_up());
    for (ClusterNode* n : {&a, &b, &c}) REQUIRE(sees(n->node, {"a", "b", "c"}));
  }
  ClusterNode a;
  ClusterNode b;
  ClusterNode c;
};

// The incarnation of member `name` as `node` sees it (0: not a member there).
inline std::uint64_t incarnation_of(troupe::transport::Node& node, const std::string& name) {
  for (const auto& m : node.cluster().members()) {
    if (m.name == name) return m.incarnation;
  }
  return 0;
}

// The names of the members `node` sees up or leaving, sorted.
inline std::vector<std::string> member_names(troupe::transport::Node& node) {
  std::vector<std::string> names;
  for (const auto& m : node.cluster().members()) names.push_back(m.name);
  std::sort(names.begin(), names.end());
  return names;
}

inline bool sees(troupe::transport::Node& node, const std::vector<std::string>& expected,
                 std::chrono::milliseconds within) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (std::chrono::steady_clock::now() < deadline) {
    if (member_names(node) == expected) return true;
    std::this_thread::sleep_for(10ms);  // polling a view: there is no event for "these exactly"
  }
  return member_names(node) == expected;
}

// A subscriber: each event as a line, "members a,b", "up c", "leaving c", "left c", "down c", and
// the incarnation of the member it is about.
class Watcher {
 public:
  explicit Watcher(troupe::transport::Node& node, troupe::System& system) : self_(system) {
    node.cluster().subscribe(self_.handle());
  }

  std::string next(troupe::Duration timeout = 10s) {
    std::string line = "(nothing)";
    incarnation_ = 0;
    (void)self_.receive(troupe::behavior(  // a timeout leaves "(nothing)"

                            [&](const troupe::transport::ClusterMembers& m) {
                              std::vector<std::string> names;
                              for (const auto& member : m.members) names.push_back(member.name);
                              std::sort(names.begin(), names.end());
                              line = "members";
                              for (std::size_t i = 0; i < names.size(); ++i) line += (i == 0 ? " " : ",") + names[i];
                            },
                            [&](const troupe::transport::MemberUp& e) { line = seen("up ", e.member); },
                            [&](const troupe::transport::MemberLeaving& e) { line = seen("leaving ", e.member); },
                            [&](const troupe::transport::MemberLeft& e) { line = seen("left ", e.member); },
                            [&](const troupe::transport::MemberDown& e) { line = seen("down ", e.member); }),
                        timeout);
    return line;
  }

  // The incarnation of the member in the last event next() returned (0 after a snapshot).
  std::uint64_t incarnation() const noexcept { return incarnation_; }

  troupe::ScopedActor& self() { return self_; }

 private:
  std::string seen(const char* what, const troupe::transport::Member& member) {
    incarnation_ = member.incarnation;
    return what + member.name;
  }

  troupe::ScopedActor self_;
  std::uint64_t incarnation_ = 0;
};

}  // namespace cluster_test
