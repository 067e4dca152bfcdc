// One node this node talks to, and the parts kept per peer: its dialling (Dialler), what waits to
// be written to it (Outbox), and the links and monitors a node-down undoes (Ties). Peers live as
// long as their node (PeerDirectory never removes one): parts, proxies and connections keep
// references to them. Transport thread only, but for what Outbox marks otherwise.
#pragma once

#include "dialler.hpp"
#include "outbox.hpp"
#include "ties.hpp"

#include <troupe/transport/node.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace troupe::transport::detail {

class Connection;

struct Peer {
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
  DialState dial;
  Outbox outbox;
  Ties ties;
};

}  // namespace troupe::transport::detail
