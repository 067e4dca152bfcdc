// Handles on the wire: a handle in a message travels as a reference its receiver can use
// (docs/wire.md, "Handle references"). One tag byte, then:
//   0  an empty handle
//   1  an actor on the sending node: its export id there (u64)
//   2  an actor on a node the sender knows: that node's name, its listen host (strings) and port
//      (u16), and the actor's export id there (u64); the receiver may be that node itself
// Reading a reference (read_actor_ref) needs no node: it is the untrusted part, and the fuzz
// target runs it. Resolving one into an actor is the node's part (PeerHandleCodec).
#pragma once

#include <troupe/transport/wire_type.hpp>

#include <cstdint>
#include <string>

namespace troupe::transport::detail {

class NodeCore;
struct Peer;

enum class RefTag : std::uint8_t { empty = 0, on_sender = 1, on_node = 2 };

struct ActorRef {
  RefTag tag = RefTag::empty;
  std::uint64_t id = 0;  // on_sender, on_node
  std::string node;      // on_node: never empty, at most kMaxRefNodeNameBytes
  std::string host;      // on_node: at most kMaxRefHostBytes ("" with port 0: not known)
  std::uint16_t port = 0;
};

// An actor on the sending node, by its export id.
inline ActorRef sender_ref(std::uint64_t id) {
  ActorRef ref;
  ref.tag = RefTag::on_sender;
  ref.id = id;
  return ref;
}

void write_actor_ref(WireWriter& w, const ActorRef& ref);
// Throws WireError for a reference that is truncated, of an unknown tag, or names no node or a
// name or host longer than the bounds above.
ActorRef read_actor_ref(WireReader& r);

// The handles of one message crossing between `node` and `peer`: a local actor is exported (and
// read back from its export id), a proxy of this node names its actor's node, a reference read
// from the peer becomes a proxy, or the actor itself where it is this node's. Transport thread.
class PeerHandleCodec final : public HandleCodec {
 public:
  PeerHandleCodec(NodeCore& node, Peer& peer) noexcept : node_(node), peer_(peer) {}
  void encode(WireWriter& w, runtime::ActorCore* actor) override;
  runtime::ActorCore* decode(WireReader& r) override;

 private:
  NodeCore& node_;
  Peer& peer_;  // the node the message goes to, or came from
};

}  // namespace troupe::transport::detail
