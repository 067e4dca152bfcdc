// Handles on the wire. One tag byte, then:
//   0  an empty handle
//   1  an actor on the sending node: its export id there
//   2  an actor on a node the sender knows: that node's name, listen host and port, and the actor's
//      export id there (the receiver may be that node itself)
#include "codec_context.hpp"
#include "node_core.hpp"
#include "remote_actor.hpp"

#include <troupe/transport/wire_type.hpp>

namespace troupe::transport::detail {
namespace {

enum class RefTag : std::uint8_t { empty = 0, on_sender = 1, on_node = 2 };

CodecContext& require_context() {
  CodecContext& ctx = codec_context();
  if (ctx.node == nullptr) throw WireError("troupe: handles encode and decode only as a node sends or receives them");
  return ctx;
}

}  // namespace

CodecContext& codec_context() noexcept {
  thread_local CodecContext context;
  return context;
}

void encode_actor_ref(WireWriter& w, runtime::ActorCore* actor) {
  CodecContext& ctx = require_context();
  if (actor == nullptr) {
    WireCodec<RefTag>::encode(w, RefTag::empty);
    return;
  }
  // A proxy of this node names the actor's own node, so the receiver talks to it directly. A
  // proxy of another Node object in this process is exported like a local actor: it forwards.
  auto* remote = dynamic_cast<RemoteActor*>(actor);
  if (remote != nullptr && remote->owner() == ctx.node) {
    const Peer& p = remote->peer();
    WireCodec<RefTag>::encode(w, RefTag::on_node);
    WireCodec<std::string>::encode(w, p.name);
    WireCodec<std::string>::encode(w, p.address ? p.address->first : std::string());
    WireCodec<std::uint16_t>::encode(w, p.address ? p.address->second : std::uint16_t{0});
    WireCodec<std::uint64_t>::encode(w, remote->remote_id());
    return;
  }
  WireCodec<RefTag>::encode(w, RefTag::on_sender);
  WireCodec<std::uint64_t>::encode(w, ctx.node->export_actor(actor));
}

runtime::ActorCore* decode_actor_ref(WireReader& r) {
  CodecContext& ctx = require_context();
  RefTag tag{};
  WireCodec<RefTag>::decode(r, tag);
  runtime::ActorCore* actor = nullptr;
  switch (tag) {
    case RefTag::empty:
      return nullptr;
    case RefTag::on_sender: {
      std::uint64_t id = 0;
      WireCodec<std::uint64_t>::decode(r, id);
      actor = ctx.node->proxy(*ctx.peer, id);
      break;
    }
    case RefTag::on_node: {
      std::string node;
      std::string host;
      std::uint16_t port = 0;
      std::uint64_t id = 0;
      WireCodec<std::string>::decode(r, node);
      WireCodec<std::string>::decode(r, host);
      WireCodec<std::uint16_t>::decode(r, port);
      WireCodec<std::uint64_t>::decode(r, id);
      if (node.empty()) throw WireError("troupe: a handle names no node");
      if (node == ctx.node->config().name) {
        actor = ctx.node->exported(id);
        if (actor == nullptr) throw WireError("troupe: a handle names an actor this node never exported");
      } else {
        Peer& p = ctx.node->peer(node);
        if (!p.address && port != 0) p.address = std::make_pair(std::move(host), port);
        actor = ctx.node->proxy(p, id);
      }
      break;
    }
    default:
      throw WireError("troupe: unknown handle encoding");
  }
  actor->add_ref();  // the decoded handle's own reference
  return actor;
}

}  // namespace troupe::transport::detail
