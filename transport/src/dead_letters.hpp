// What becomes of what this node queued for a peer and will not send: each envelope a dead letter
// (NodeStats::dead_letters), its requester answered with an error rather than at its timeout, its
// room in the outbound bound given back. Transport thread only.
#pragma once

#include "out_envelope.hpp"

#include <troupe/error.hpp>

#include <string>

namespace troupe::transport::detail {

class NodeCore;
struct Peer;

class DeadLetters {
 public:
  explicit DeadLetters(NodeCore& node) noexcept : node_(node) {}

  // An envelope taken off the peer's queue unsent, its requester answered with `error`.
  void drop(Peer& peer, const OutEnvelope& envelope, const Error& error);
  // drop() for one larger than the peer accepts (its limit shrank after the send), logged.
  void drop_unsendable(Peer& peer, const OutEnvelope& envelope);
  // The peer cannot be reached (no address, a failed dial or handshake, a node-down): its
  // lookups fail, and everything queued for it goes, requests answered Errc::node_unreachable.
  void unreachable(Peer& peer, const std::string& why);

 private:
  NodeCore& node_;
};

}  // namespace troupe::transport::detail
