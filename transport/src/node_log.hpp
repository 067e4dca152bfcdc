// What a node says about itself, through its System's logger (Config::log; there is no logger of
// the node's own: every event carries the node's name, which is how a sink tells two nodes of one
// process apart). NodeLogger stamps the name; NodeLog adds the refusals of connections, counted
// and rate-limited per address.
#pragma once

#include "node_counters.hpp"
#include "peer_address.hpp"
#include "refusal_cause.hpp"
#include "refusal_log.hpp"

#include <troupe/runtime/log.hpp>

#include <string>

namespace troupe::transport::detail {

using runtime::LogEvent;
using runtime::LogField;
using runtime::LogLevel;

// A copy of the System's logger and the node's name; copies may outlive the node (the membership
// actor holds one).
class NodeLogger {
 public:
  NodeLogger(runtime::Logger logger, std::string node) : logger_(std::move(logger)), node_(std::move(node)) {}

  // Whether an event of `level` would be logged: ask before building its message.
  bool enabled(LogLevel level) const noexcept { return logger_.enabled(level); }
  // Any thread. The event's node is this node.
  void log(LogEvent event) const noexcept {
    event.node = node_;
    logger_.log(event);
  }
  const std::string& node() const noexcept { return node_; }

 private:
  runtime::Logger logger_;
  std::string node_;
};

class NodeLog : public NodeLogger {
 public:
  NodeLog(runtime::Logger logger, std::string node, NodeCounters& counters);

  // Transport thread. A connection refused before it was authenticated, whatever the reason:
  // counted in `refused` and logged ("connection_refused", warning; peer: the node dialled, or
  // else the address; fields: address, and unlogged; reason: plain words), at most one event per
  // address per kRefusalLogInterval (RefusalLog), the next one saying how many went unlogged.
  // Every refused connection comes here exactly once: from the TLS phase (Listener, Dialler), or
  // from its Connection's handshake. Also counted under `cause` (refused_by_cause).
  void refuse(const PeerAddress& from, RefusalCause cause, const std::string& why);

 private:
  NodeCounters& counters_;
  RefusalLog refusal_log_;  // transport thread only
};

}  // namespace troupe::transport::detail
