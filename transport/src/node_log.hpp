// What a node says about itself: its log lines ("troupe node 'a': ..."), to NodeConfig::log or
// stderr, and its refusals of connections, counted and rate-limited per address.
#pragma once

#include "node_counters.hpp"
#include "peer_address.hpp"
#include "refusal_log.hpp"

#include <troupe/transport/node.hpp>

#include <string>

namespace troupe::transport::detail {

class NodeLog {
 public:
  NodeLog(const NodeConfig& config, NodeCounters& counters);

  // Any thread.
  void line(const std::string& text);
  // Transport thread. A connection refused before it was authenticated, whatever the reason:
  // counted in `refused` and logged, "refused <who>: <why>" (why: plain words), at most one line
  // per address per kRefusalLogInterval (RefusalLog). Every refused connection comes here exactly
  // once: from the TLS phase (Listener, Dialler), or from its Connection's handshake.
  void refuse(const PeerAddress& from, const std::string& why);

 private:
  const NodeConfig& config_;
  NodeCounters& counters_;
  RefusalLog refusal_log_;  // transport thread only
};

}  // namespace troupe::transport::detail
