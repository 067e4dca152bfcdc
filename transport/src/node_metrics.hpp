// The node's part of its System's metrics (MetricsSnapshot::nodes): one NodeMetrics, with a
// PeerMetrics for each peer (docs/observe.md, "Per peer").
//
// Where the figures are read: on the transport thread. Everything a peer's figures come from (its
// connection and dialling, its Outbox, its PeerCounts) is that thread's alone, in plain
// variables, and stays so: the transport thread counts each frame with a plain add and each
// envelope with nothing at all, with no atomic to mirror into. A snapshot taken on another thread
// posts the collection to the transport thread and waits for it, at most kMetricsWait; what the
// node gives then is one consistent moment of it. A snapshot taken on the transport thread itself
// (a NodeConfig::on_node_down callback that reads the metrics) collects at once. The handshake
// refusals are counted as well by NodeCounters (atomics any thread reads), so a snapshot that
// waited in vain still has them, with no peers.
#pragma once

#include <troupe/metrics.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <thread>

namespace troupe::transport::detail {

class NodeCore;
struct Peer;

// How long a snapshot waits for the transport thread (a busy loop answers within microseconds).
inline constexpr std::chrono::seconds kMetricsWait{1};

class NodeMetricsSource {
 public:
  explicit NodeMetricsSource(NodeCore& node) noexcept : node_(node) {}
  ~NodeMetricsSource() { stop(); }
  NodeMetricsSource(const NodeMetricsSource&) = delete;
  NodeMetricsSource& operator=(const NodeMetricsSource&) = delete;

  // Once the transport thread runs (start()'s thread): the node's part joins every snapshot.
  void start(std::thread::id transport_thread);
  // While the transport thread still runs (stop()'s thread, first of all): the part leaves the
  // snapshots, once a snapshot filling it now is done; no snapshot calls into the node after
  // this returns. Idempotent.
  void stop();

 private:
  void fill(MetricsSnapshot& snapshot);              // any thread, under the System's metrics lock
  NodeMetrics collect();                             // transport thread
  NodeMetrics without_peers() const;                 // any thread: the name and the refusals
  PeerMetrics peer_metrics(const Peer& peer) const;  // transport thread

  NodeCore& node_;
  std::thread::id transport_thread_;
  std::optional<std::uint64_t> source_;  // the System's id for it, while added
};

// A peer's connection state as the metrics name it: "connecting", "up", "down", "declared_down".
// Transport thread.
std::string_view peer_state(const Peer& peer) noexcept;

}  // namespace troupe::transport::detail
