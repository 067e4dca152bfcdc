// What the transport test files share: the secret and a quiet node configuration.
#pragma once

#include <troupe/transport/node.hpp>

#include <string>

namespace transport_test {

inline constexpr const char* kTestSecret = "correct horse battery staple";

inline troupe::transport::NodeConfig quiet_node(std::string name) {
  return {.name = std::move(name), .secret = kTestSecret, .log = [](std::string_view) {}};
}

}  // namespace transport_test
