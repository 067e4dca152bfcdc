// One TCP connection to a peer node: its handshake (ConnectionHandshake), then a read loop that
// hands each frame on, a write loop that takes what the peer's Outbox holds, and heartbeats.
// Frames other than envelopes are built and read by frame_codec.hpp. Every kj::Exception (a
// malformed frame, a broken stream, a refused proof) ends at this boundary: the connection closes
// with a logged reason and the node goes on serving the others.
#pragma once

#include "connection_handshake.hpp"
#include "frame_codec.hpp"
#include "frame_reader.hpp"
#include "handshake_slots.hpp"
#include "heartbeat.hpp"
#include "inbound_flow.hpp"
#include "peer_address.hpp"
#include "type_names.hpp"

#include <capnp/message.h>
#include <kj/async-io.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace troupe::transport::detail {

class NodeCore;
struct Peer;

class Connection {
 public:
  // `dialed_peer` is known when this node dialed; a listener learns it from the dialer's hello.
  // `local_host`: this node's address on the connection (local_host_of), or "" if unknown.
  // `from`: who is at the other end, for the log. `handshake_slot`: an accepted connection's place
  // among those in their handshakes (handshake_slots.hpp), held until it authenticates.
  Connection(NodeCore& node, kj::Own<kj::AsyncIoStream> stream, Peer* dialed_peer, std::string local_host,
             PeerAddress from, HandshakeSlots::Slot handshake_slot = nullptr);
  ~Connection();

  // Handshake, then the read loop; resolves when the peer closes, rejects on any error.
  kj::Promise<void> run();
  // Starts writing what the peer's outbox holds, unless a write is under way (it continues after it).
  void write_pending();
  void close();  // stops reading and writing (the node removes it afterwards)
  // This node closed it (close()): its end is no failure (NodeStats::connections_failed).
  bool closed_here() const noexcept { return closed_here_; }

  Peer* peer() const noexcept { return handshake_.peer(); }
  Peer* seed() const noexcept { return handshake_.seed(); }  // ConnectionHandshake::seed
  bool name_refused() const noexcept { return handshake_.name_refused(); }
  bool authenticated() const noexcept { return authenticated_; }
  bool dialled() const noexcept { return handshake_.dialled(); }
  bool duplicate() const noexcept { return handshake_.duplicate(); }  // ConnectionHandshake::duplicate
  const std::string& refusal() const noexcept { return handshake_.refusal(); }
  const PeerAddress& from() const noexcept { return handshake_.from(); }
  std::string describe() const;

  // The handshake's frames, read and written directly (nothing else is written before it ends).
  kj::Promise<ReadFrame> read_frame(FrameLimits limits) { return reader_.next(limits); }
  kj::Promise<void> write_frame(FrameBuilder frame);

 private:
  kj::Promise<void> read_loop();
  void handle(capnp::MessageReader& frame);
  void require_room_for_answer(const Peer& peer) const;  // throws if the peer does not read (outbox.hpp)
  void require_room_for_response(const Peer& peer) const;  // the same for its requests' responses
  void handle_envelopes(capnp::List<wire::Envelope>::Reader envelopes);
  FrameBuilder next_frame(Peer& peer);  // what the outbox lets go next, or null
  std::size_t envelopes_for_next_frame(Peer& peer);
  void start_write(FrameBuilder frame);

  NodeCore& node_;
  kj::Own<kj::AsyncIoStream> stream_;
  HandshakeSlots::Slot handshake_slot_;  // until authenticated
  FrameReader reader_;  // every frame from stream_, the handshake's included
  ConnectionHandshake handshake_;
  Heartbeat heartbeat_;
  bool authenticated_ = false;
  bool writing_ = false;
  bool closed_here_ = false;
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
