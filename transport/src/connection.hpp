// One TCP connection to a peer node: the handshake, then frames both ways. Every kj::Exception
// (a malformed frame, a broken stream, a refused proof) ends at this boundary: the connection
// closes with a logged reason and the node goes on serving the others. A failure before the
// connection is authenticated, whatever it is, is a refusal: counted and logged in plain words
// once, by run() (NodeCore::refuse).
#pragma once

#include "frame_reader.hpp"
#include "handshake.hpp"
#include "inbound_flow.hpp"
#include "node_core.hpp"
#include "peer_address.hpp"
#include "type_names.hpp"

#include <capnp/message.h>
#include <kj/async-io.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace troupe::transport::detail {

class Connection {
 public:
  // `peer` is known when this node dialed; a listener learns it from the dialer's hello.
  // `local_host`: this node's address on the connection (local_host_of), or "" if unknown.
  // `from`: who is at the other end, for the log.
  Connection(NodeCore& node, kj::Own<kj::AsyncIoStream> stream, Peer* dialed_peer, std::string local_host,
             PeerAddress from);
  ~Connection();

  // Handshake, then the read loop; resolves when the peer closes, rejects on any error.
  kj::Promise<void> run();
  // Starts writing what the peer queued, unless a write is under way (it continues after it).
  void write_pending();
  void close();  // stops reading and writing (the node removes it afterwards)

  Peer* peer() const noexcept { return peer_; }
  bool authenticated() const noexcept { return authenticated_; }
  bool dialled() const noexcept { return role_ == Role::dialer; }
  // One of the two connections of a pair that dialled each other at once, closed during the
  // handshake (NodeCore::Incoming::duplicate_connection): by the listener, or, dialled by this
  // node, because the listener said so.
  bool duplicate() const noexcept { return duplicate_; }
  std::string describe() const;
  // Why the connection was refused before authentication, in plain words ("" if it was not).
  const std::string& refusal() const noexcept { return refusal_; }

 private:
  kj::Promise<void> listener_handshake();
  kj::Promise<void> dialer_handshake();
  kj::Promise<void> exchange_incarnations();  // resolves to nothing; records the peer's
  // The next frame of the handshake. The end of the stream, a broken stream, or a frame the
  // reader refuses is a refusal (refuse), said in plain words.
  kj::Promise<kj::Own<capnp::MessageReader>> handshake_frame(FrameLimits limits);
  // Fails the handshake: `why`, in plain words, is what the node logs about the peer.
  [[noreturn]] void refuse(std::string why);
  // What a refused handshake rejected with: counted and logged once, unless it was the second
  // connection of a pair that dialled each other at once (duplicate_).
  kj::Promise<void> not_authenticated(kj::Exception&& e);
  std::string closed_reason() const;  // the peer closed the stream during the handshake
  kj::Promise<void> read_loop();
  // Sends a heartbeat when this side has been quiet, and fails ("no heartbeat") when the peer has.
  kj::Promise<void> heartbeat_loop();
  void start_write(kj::Own<capnp::MallocMessageBuilder> frame);
  std::size_t envelopes_for_next_frame();
  void handle(capnp::MessageReader& frame);
  void handle_envelopes(capnp::List<wire::Envelope>::Reader envelopes);
  kj::Promise<void> write_frame(kj::Own<capnp::MallocMessageBuilder> frame);

  NodeCore& node_;
  kj::Own<kj::AsyncIoStream> stream_;
  FrameReader reader_;  // every frame from stream_, the handshake's included
  Peer* peer_;
  const Role role_;
  const std::string local_host_;
  const PeerAddress from_;
  std::string refusal_;      // see refusal()
  bool proof_sent_ = false;  // this side sent its proof (a dialer, before the listener's came)
  bool authenticated_ = false;
  bool writing_ = false;
  bool duplicate_ = false;
  std::uint64_t peer_incarnation_ = 0;
  std::uint64_t peer_max_frame_ = 0;   // from the peer's hello (0: not stated)
  kj::TimePoint last_read_;            // when the last frame arrived
  kj::TimePoint last_write_;           // when the last frame was handed to the stream
  std::shared_ptr<InboundFlow> flow_;  // credits for what the peer sends here; set once authenticated
  // Per frame: the actors its messages went to and how many each (reused; transport thread).
  struct Delivered {
    runtime::ActorCore* actor;
    std::uint32_t envelopes;
    std::uint64_t bytes;  // as envelope_wire_bytes counts them
  };
  std::vector<Delivered> delivered_;
  OutgoingTypeNames names_out_;  // the types this connection has named to the peer
  IncomingTypeNames names_in_;   // and those the peer has named to it
  kj::Canceler canceler_;        // cancels the reads and writes still under way when the connection goes
};

}  // namespace troupe::transport::detail
