#include "handle_codec.hpp"

#include "node_core.hpp"
#include "remote_actor.hpp"

namespace troupe::transport::detail {
namespace {

std::string read_bounded_string(WireReader& r, std::size_t most, const char* what) {
  std::string s;
  WireCodec<std::string>::decode(r, s);
  if (s.size() > most) throw WireError(std::string("troupe: a handle's ") + what + " is too long");
  return s;
}

}  // namespace

void write_actor_ref(WireWriter& w, const ActorRef& ref) {
  WireCodec<RefTag>::encode(w, ref.tag);
  switch (ref.tag) {
    case RefTag::empty:
      return;
    case RefTag::on_sender:
      WireCodec<std::uint64_t>::encode(w, ref.id);
      return;
    case RefTag::on_node:
      if (ref.node.empty() || ref.node.size() > kMaxRefNodeNameBytes || ref.host.size() > kMaxRefHostBytes)
        throw WireError("troupe: a handle's node name or host does not fit a reference");
      WireCodec<std::string>::encode(w, ref.node);
      WireCodec<std::string>::encode(w, ref.host);
      WireCodec<std::uint16_t>::encode(w, ref.port);
      WireCodec<std::uint64_t>::encode(w, ref.id);
      return;
  }
}

ActorRef read_actor_ref(WireReader& r) {
  ActorRef ref;
  WireCodec<RefTag>::decode(r, ref.tag);
  switch (ref.tag) {
    case RefTag::empty:
      return ref;
    case RefTag::on_sender:
      WireCodec<std::uint64_t>::decode(r, ref.id);
      return ref;
    case RefTag::on_node:
      ref.node = read_bounded_string(r, kMaxRefNodeNameBytes, "node name");
      if (ref.node.empty()) throw WireError("troupe: a handle names no node");
      ref.host = read_bounded_string(r, kMaxRefHostBytes, "host");
      WireCodec<std::uint16_t>::decode(r, ref.port);
      WireCodec<std::uint64_t>::decode(r, ref.id);
      return ref;
  }
  throw WireError("troupe: unknown handle encoding");
}

void PeerHandleCodec::encode(WireWriter& w, runtime::ActorCore* actor) {
  if (actor == nullptr) {
    write_actor_ref(w, ActorRef{});
    return;
  }
  // A proxy of this node names the actor's own node, so the receiver talks to it directly. A
  // proxy of another Node object in this process is exported like a local actor: it forwards.
  auto* remote = dynamic_cast<RemoteActor*>(actor);
  if (remote != nullptr && remote->owner() == &node_) {
    const Peer& p = remote->peer();
    write_actor_ref(w, ActorRef{RefTag::on_node, remote->remote_id(), p.name, p.address ? p.address->first : "",
                                p.address ? p.address->second : std::uint16_t{0}});
    return;
  }
  write_actor_ref(w, sender_ref(node_.exports().export_actor(actor)));
}

runtime::ActorCore* PeerHandleCodec::decode(WireReader& r) {
  ActorRef ref = read_actor_ref(r);
  runtime::ActorCore* actor = nullptr;
  switch (ref.tag) {
    case RefTag::empty:
      return nullptr;
    case RefTag::on_sender:
      actor = node_.proxies().proxy(peer_, ref.id);
      break;
    case RefTag::on_node:
      if (ref.node == node_.config().name) {
        actor = node_.exports().exported(ref.id);
        if (actor == nullptr) throw WireError("troupe: a handle names an actor this node never exported");
      } else {
        Peer& p = node_.peers().peer(ref.node);
        if (!p.address && ref.port != 0) p.address = std::make_pair(std::move(ref.host), ref.port);
        actor = node_.proxies().proxy(p, ref.id);
      }
      break;
  }
  actor->add_ref();  // the decoded handle's own reference
  return actor;
}

}  // namespace troupe::transport::detail
