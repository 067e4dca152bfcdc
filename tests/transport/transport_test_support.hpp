// What the transport test files share: the secret, a node configuration with it, and a node's
// refusals by cause.
#pragma once

#include <troupe/metrics.hpp>
#include <troupe/transport/node.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace transport_test {

// 256 bits as 64 hex digits, as generate_secret_file writes them: strong enough for a node.
inline constexpr const char* kTestSecret = "5e0c7a1f9b3d48e2a6f04c8d1b7e93a5c2f86d0e4b1a7395e8c0d2f6a4b19e37";

// A node named `name` with the test secret; it logs through its System's logger (Config::log).
inline troupe::transport::NodeConfig node_config(std::string name) {
  return {.name = std::move(name), .secret = kTestSecret};
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
