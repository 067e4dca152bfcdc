// The node's peers by name: each made on first use (a send, a lookup, a connection from it, a
// handle that names it) and kept as long as the node. Transport thread only, and stop() once the
// thread is gone.
#pragma once

#include "peer.hpp"

#include <troupe/transport/node.hpp>

#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace troupe::transport::detail {

class PeerDirectory {
 public:
  explicit PeerDirectory(const NodeConfig& config) noexcept : config_(config) {}

  Peer& peer(std::string_view name);
  template <class F>
  void for_each(F&& f) {
    for (auto& [name, p] : peers_) f(*p);
  }

 private:
  const NodeConfig& config_;
  std::map<std::string, std::unique_ptr<Peer>, std::less<>> peers_;
};

}  // namespace troupe::transport::detail
