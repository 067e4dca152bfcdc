// A node's side of liveness across nodes: what a node-down undoes (monitors, links, pending
// requests, handles to the peer's actors), and the link/monitor/exit/down signals a peer sends,
// turned into local effects. (Each connection's heartbeats: heartbeat.hpp. Signals on their way
// out: RemoteActor.) Transport thread only.
#pragma once

#include "wire_signal.hpp"

#include <string>

namespace troupe::transport::detail {

class NodeCore;
struct Peer;

class Liveness {
 public:
  explicit Liveness(NodeCore& node) noexcept : node_(node) {}

  // Why a peer's connection went: `lost` (it closed or failed: the peer is down here, a warning
  // and NodeConfig::on_node_down, unless it had left: Peer::left), or `renewal` (this node closed
  // it to rejoin its cluster as a new incarnation, NodeCore::renew_incarnation: the peer is not
  // down, so neither is reported; the membership's rejoining event says why).
  enum class Cause { lost, renewal };
  // The peer's connection is gone (ConnectionSet let go of it): monitors get Down node_down, links
  // the exit signal, requests Errc::node_down; handles to its actors die; queued messages are
  // dead letters; the next dial waits for the backoff.
  void node_down(Peer& peer, const std::string& why, Cause cause = Cause::lost);
  // This node stops (Node::~Node, after its transport thread ended): the local actors tied to the
  // peer hear what a node-down tells them, and requests awaiting its answers fail now
  // (Errc::node_down, "node '<this node>' stopped") rather than at their timeouts, since no answer
  // can come. Nothing is logged or dialled: the thread that would is gone.
  void node_stopped(Peer& peer);
  // A signal that came from the peer.
  void on_signal(Peer& peer, const WireSignal& signal);

 private:
  // What both tell the local actors: requests fail, monitors get Down node_down, links the exit
  // signal, the peer's watchers are forgotten, and handles to its actors die.
  void untie(Peer& peer, const std::string& why_requests_fail);

  NodeCore& node_;
};

}  // namespace troupe::transport::detail
