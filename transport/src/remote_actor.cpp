#include "remote_actor.hpp"

#include <troupe/message.hpp>
#include <troupe/transport/wire_type.hpp>

namespace troupe::transport::detail {

RemoteActor::RemoteActor(std::shared_ptr<NodeCore> node, Peer& peer, std::uint64_t remote_id) noexcept
    : runtime::ActorCore(node.get()), node_(std::move(node)), peer_(peer), remote_id_(remote_id) {
  set_mailbox_limit(peer.outbound_limit.get());  // before any handle to this actor exists
}

void RemoteActor::uncount(const Envelope& env) noexcept {
  // What deliver() counted (deliver_bounded): one-way messages and requests.
  if (env.kind() == EnvelopeKind::message || env.kind() == EnvelopeKind::request) peer_.outbound_limit->consumed();
}

runtime::TurnResult RemoteActor::resume() noexcept {
  while (auto* link = mailbox_.pop()) serialize(static_cast<Envelope*>(link));
  node_->flush(peer_);
  // A sender between its push and its link leaves pop() empty-handed: stay scheduled for it.
  return mailbox_.try_mark_empty() ? runtime::TurnResult::idle : runtime::TurnResult::more;
}

void RemoteActor::serialize(Envelope* env) noexcept {
  const EnvelopeKind kind = env->kind();
  runtime::ActorCore* requester = env->reply_to();
  const std::uint64_t request_id = has_reply_header(kind) ? env->reply().request_id : 0;
  try {
    if (kind != EnvelopeKind::message && kind != EnvelopeKind::request && kind != EnvelopeKind::response) {
      node_->dead.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
      node_->log("dropped a " + std::string(env->type()->name) +
                 " to a remote actor: links, monitors and exit signals do not cross nodes yet");
      uncount(*env);
      dispose(env);
      return;
    }
    const WireTypeInfo* info = find_wire_type(env->type());
    if (info == nullptr) {
      node_->dead.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
      if (requester != nullptr) {
        troupe::detail::send_response_error(
            requester, request_id,
            Error{Errc::not_serializable, std::string(env->type()->name) + " is not declared for the wire"});
      }
      uncount(*env);
      dispose(env);
      return;
    }
    OutEnvelope out;
    out.receiver = remote_id_;
    out.type_name = info->name;
    out.request_id = request_id;
    out.kind = kind == EnvelopeKind::message   ? wire::Kind::MESSAGE
               : kind == EnvelopeKind::request ? wire::Kind::REQUEST
                                               : wire::Kind::RESPONSE;
    if (kind == EnvelopeKind::request && requester != nullptr) out.sender = node_->export_actor(requester);
    info->encode(*env, out.payload);
    out.counted = kind == EnvelopeKind::message || kind == EnvelopeKind::request;
    peer_.envelopes.push_back(std::move(out));
  } catch (const std::exception& e) {
    node_->dead.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
    node_->log(std::string("could not serialize a message for a remote actor: ") + e.what());
    if (requester != nullptr) {
      troupe::detail::send_response_error(requester, request_id, Error{Errc::not_serializable, e.what()});
    }
    uncount(*env);
  }
  dispose(env);
}

void RemoteActor::destroy() noexcept {
  while (auto* link = mailbox_.pop()) {
    auto* env = static_cast<Envelope*>(link);
    if (runtime::ActorCore* requester = env->reply_to()) {
      troupe::detail::send_response_error(requester, env->reply().request_id, Error{Errc::dead_actor, "node stopped"});
    }
    uncount(*env);
    dispose(env);
  }
  delete this;
}

}  // namespace troupe::transport::detail
