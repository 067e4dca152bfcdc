// The node's peers by name: each made on first use (a send, a lookup, a connection from it, a
// handle that names it), and forgotten once unused for NodeConfig::forget_idle_peers_after
// (IdlePeers decides; a peer given by Node::add_peer stays). Transport thread only, and stop()
// once the thread is gone; but for count().
#pragma once

#include "peer.hpp"

#include <troupe/transport/node.hpp>

#include <atomic>
#include <cstdint>
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
  // Drops the peers `forgettable` says yes to (IdlePeers). A peer's remote actors may keep its
  // object a while longer (peer.hpp); its name is free for a new one.
  template <class F>
  void forget_if(F&& forgettable) {
    std::erase_if(peers_, [&](const auto& entry) { return forgettable(*entry.second); });
    counted();
  }
  // Any thread: the peers known now, seeds' placeholders included (NodeStats::peers).
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }  // relaxed: a statistic

 private:
  void counted() noexcept { count_.store(peers_.size(), std::memory_order_relaxed); }  // relaxed: a statistic

  const NodeConfig& config_;
  std::map<std::string, std::shared_ptr<Peer>, std::less<>> peers_;
  std::atomic<std::uint64_t> count_{0};
};

}  // namespace troupe::transport::detail
