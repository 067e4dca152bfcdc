// A connection's first frames (handshake.hpp has the protocol and its cryptography): the hellos
// and proofs, then the incarnations, where the listener decides which of two crossing connections
// stays and whether a second node of one name is refused (ConnectionSet::judge_incoming,
// name_taken). A failure before the connection is authenticated, whatever it is, is a refusal:
// said in plain words (refusal()), counted and logged once (NodeLog::refuse), unless it was the
// second connection of a pair that dialled each other at once (duplicate()).
#pragma once

#include "frame_reader.hpp"
#include "handshake.hpp"
#include "peer_address.hpp"
#include "refusal_cause.hpp"
#include "wire.capnp.h"

#include <capnp/message.h>
#include <kj/async.h>

#include <cstdint>
#include <string>

namespace troupe::transport::detail {

class Connection;
class NodeCore;
struct Peer;

class ConnectionHandshake {
 public:
  // As Connection's constructor: `dialed_peer` when this node dialled, else null.
  ConnectionHandshake(NodeCore& node, Connection& connection, Peer* dialed_peer, std::string local_host,
                      PeerAddress from);

  // Resolves once the peer has proven the secret and the incarnations are exchanged. Rejects
  // otherwise, or at NodeConfig::handshake_timeout, once the refusal is counted and logged.
  kj::Promise<void> run();

  // The peer: the one dialled, or, for a listener, the one whose proof matched (else null).
  Peer* peer() const noexcept { return peer_; }
  // The seed placeholder dialled, when this dial was to a seed (then peer() is the node that
  // answered there, once its hello came); else null.
  Peer* seed() const noexcept { return seed_; }
  // The listener refused this node's name: another live node has it.
  bool name_refused() const noexcept { return name_refused_; }
  bool dialled() const noexcept { return role_ == Role::dialer; }
  // One of the two connections of a pair that dialled each other at once, closed during the
  // handshake (ConnectionSet::Incoming::duplicate_connection): by the listener, or, dialled by
  // this node, because the listener said so.
  bool duplicate() const noexcept { return duplicate_; }
  // Why the connection was refused before authentication, in plain words ("" if it was not).
  const std::string& refusal() const noexcept { return refusal_; }
  std::uint64_t peer_incarnation() const noexcept { return peer_incarnation_; }
  std::uint64_t peer_max_frame() const noexcept { return peer_max_frame_; }  // from its hello (0: not stated)
  const PeerAddress& from() const noexcept { return from_; }                 // who is at the other end

 private:
  kj::Promise<void> listener_handshake();
  kj::Promise<void> dialer_handshake();
  kj::Promise<void> exchange_incarnations();  // resolves to nothing; records the peer's
  // The next frame of the handshake. The end of the stream, a broken stream, or a frame the
  // reader refuses is a refusal (refuse), said in plain words.
  kj::Promise<kj::Own<capnp::MessageReader>> next_frame(FrameLimits limits);
  // Fails the handshake: `why`, in plain words, is what the node logs about the peer; it is
  // counted under `cause`.
  [[noreturn]] void refuse(RefusalCause cause, std::string why);
  // What both sides check alike in the other's hello: its protocol version (refused unless this
  // node's; its frame limit is recorded), and its nonce (refused unless of a nonce's size).
  void check_version(wire::Hello::Reader hello);
  Nonce nonce_of(wire::Hello::Reader hello);
  // A dial of a seed placeholder reached node `name`: from here on, a dial of that peer.
  void adopt_seed_name(std::string name);
  // What a refused handshake rejected with: counted and logged once, unless it was the second
  // connection of a pair that dialled each other at once (duplicate_).
  kj::Promise<void> not_authenticated(kj::Exception&& e);
  std::string closed_reason() const;  // the peer closed the stream during the handshake

  NodeCore& node_;
  Connection& connection_;  // reads and writes its frames
  Peer* peer_;
  Peer* seed_ = nullptr;  // see seed()
  const Role role_;
  const std::string local_host_;  // this node's address on the connection (local_host_of), or ""
  const PeerAddress from_;
  std::string refusal_;      // see refusal()
  RefusalCause refusal_cause_ = RefusalCause::malformed;  // refusal_'s, once it is set
  bool proof_sent_ = false;  // this side sent its proof (a dialer, before the listener's came)
  bool duplicate_ = false;
  bool name_refused_ = false;
  std::uint64_t peer_incarnation_ = 0;
  std::uint64_t peer_max_frame_ = 0;
};

}  // namespace troupe::transport::detail
