// One node this node talks to, and the parts kept per peer: its dialling (Dialler), what waits to
// be written to it (Outbox), and the links and monitors a node-down undoes (Ties). The directory
// (PeerDirectory) forgets a peer once nothing has used it for a while (idle_peers.hpp says what
// "used" is): the node's parts hold references only while they use it. The remote actors of a
// forgotten peer, which users' handles may keep, share its ownership (RemoteActor), since they
// borrow its outbound bound. Transport thread only, but for what Outbox marks otherwise.
#pragma once

#include "dialler.hpp"
#include "outbox.hpp"
#include "ties.hpp"

#include <troupe/transport/node.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>

namespace troupe::transport::detail {

class Connection;

// What crossed the connections to one peer since this node started, and how they went: the
// node's metrics (node_metrics.hpp) read them. Plain integers, not atomics: the transport thread
// is their only writer and their only reader (the metrics are read there too), so counting
// costs an add per frame and nothing per envelope.
struct PeerCounts {
  std::uint64_t envelopes_out = 0;  // written to its connections
  std::uint64_t envelopes_in = 0;   // read from them
  // The frames after each connection's handshake, as written to and read from the stream
  // (Cap'n Proto's framing included).
  std::uint64_t bytes_out = 0;
  std::uint64_t bytes_in = 0;
  std::uint64_t downs = 0;          // node-downs (Liveness::node_down; a graceful leave is none)
  std::chrono::nanoseconds rtt{0};  // the last heartbeat round trip measured (0: none yet)
};

struct Peer : std::enable_shared_from_this<Peer> {
  Peer(std::string peer_name, const NodeConfig& config) : name(std::move(peer_name)), outbox(config) {}
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  const std::string name;
  // Where it listens: given (Node::add_peer), or learnt from its hello or from a handle's reference.
  std::optional<std::pair<std::string, std::uint16_t>> address;
  // Kept by ConnectionSet: the authenticated connection that carries everything this node sends
  // the peer, and the peer's run, from that connection (0: none yet).
  Connection* connection = nullptr;
  std::uint64_t incarnation = 0;
  // A placeholder for a seed's address, dialled to learn which node listens there (SeedResolver):
  // never connected itself; its dial becomes a dial of the node that answers.
  bool seed = false;
  // It left the cluster gracefully (LeftCluster): its connection closing next is no node-down
  // to report (logged as a leave; NodeConfig::on_node_down is not called). Cleared then.
  bool left = false;
  // The run of it the cluster declared down (its membership actor, MemberDown), until a connection
  // to another run authenticates; 0: none.
  std::uint64_t declared_down = 0;
  // Its address was given (Node::add_peer): configuration, never forgotten.
  bool configured = false;
  // Since when the directory's sweeps have found it unused (IdlePeers); none while in use.
  std::optional<kj::TimePoint> idle_since;
  PeerCounts counts;
  DialState dial;
  Outbox outbox;
  Ties ties;
};

}  // namespace troupe::transport::detail
