// What the transport test files share: the secret, a node configuration with it, a node's part of
// its System's metrics and a peer in it, and a node's refusals by cause.
#pragma once

#include <troupe/metrics.hpp>
#include <troupe/system.hpp>
#include <troupe/transport/node.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace transport_test {

// 256 bits as 64 hex digits, as generate_secret_file writes them: strong enough for a node.
inline constexpr const char* kTestSecret = "5e0c7a1f9b3d48e2a6f04c8d1b7e93a5c2f86d0e4b1a7395e8c0d2f6a4b19e37";

// A node named `name` with the test secret; it logs through its System's logger (Config::log).
inline troupe::transport::NodeConfig node_config(std::string name) {
  return {.name = std::move(name), .secret = kTestSecret};
}

// Node `node`'s part of `system`'s metrics, if there is one.
inline std::optional<troupe::NodeMetrics> node_part(troupe::System& system, std::string_view node) {
  for (troupe::NodeMetrics& n : system.metrics().nodes) {
    if (n.name == node) return std::move(n);
  }
  return std::nullopt;
}

// Peer `peer` as node `node` of `system` sees it now.
inline std::optional<troupe::PeerMetrics> peer_of(troupe::System& system, std::string_view node,
                                                  std::string_view peer) {
  auto part = node_part(system, node);
  if (!part) return std::nullopt;
  for (troupe::PeerMetrics& p : part->peers) {
    if (p.node == peer) return std::move(p);
  }
  return std::nullopt;
}

// The connections `node` refused under `cause` (NodeMetrics::refusals lists every cause).
inline std::uint64_t refusals(const troupe::NodeMetrics& node, std::string_view cause) {
  for (const auto& [name, count] : node.refusals) {
    if (name == cause) return count;
  }
  FAIL("no cause " << cause);
  return 0;
}

}  // namespace transport_test
