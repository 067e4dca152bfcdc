// What the transport test files share: the secret and a node configuration with it.
#pragma once

#include <troupe/transport/node.hpp>

#include <string>

namespace transport_test {

// 256 bits as 64 hex digits, as generate_secret_file writes them: strong enough for a node.
inline constexpr const char* kTestSecret = "5e0c7a1f9b3d48e2a6f04c8d1b7e93a5c2f86d0e4b1a7395e8c0d2f6a4b19e37";

// A node named `name` with the test secret; it logs through its System's logger (Config::log).
inline troupe::transport::NodeConfig node_config(std::string name) {
  return {.name = std::move(name), .secret = kTestSecret};
}

}  // namespace transport_test
