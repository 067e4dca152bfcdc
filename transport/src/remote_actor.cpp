#include "remote_actor.hpp"

#include "discard_for_good.hpp"
#include "handle_codec.hpp"

#include <troupe/message.hpp>
#include <troupe/signals.hpp>
#include <troupe/transport/wire_type.hpp>

namespace troupe::transport::detail {

RemoteActor::RemoteActor(std::shared_ptr<NodeCore> node, Peer& peer, std::uint64_t remote_id) noexcept
    : runtime::ActorCore(node.get()), node_(std::move(node)), peer_(peer.shared_from_this()), remote_id_(remote_id) {
  set_mailbox_limit(&peer.outbox.limit());  // before any handle to this actor exists
}

std::uint64_t RemoteActor::weight(const WireTypeInfo& info, const Envelope& env) noexcept {
  return envelope_wire_bytes(info.name.size(), info.encoded_size(env));  // named: the most it weighs
}

runtime::Admission RemoteActor::admit(runtime::MailboxLink& message) noexcept {
  auto& env = static_cast<Envelope&>(message);
  const WireTypeInfo* info = find_wire_type(env.type());
  if (info == nullptr) return refuse(env, DeadLetter::Reason::not_serializable);
  const std::uint64_t bytes = weight(*info, env);
  if (bytes > max_envelope_bytes(peer_->outbox.max_frame_bytes()))
    return refuse(env, DeadLetter::Reason::message_too_large);
  return runtime::Admission{bytes, 0};
}

runtime::Admission RemoteActor::refuse(Envelope& env, DeadLetter::Reason reason) noexcept {
  NodeCounters::add(node_->counters().dead);
  node_->system().dead_letter(*this, env, reason);  // counted, shown to the hook, a request answered
  const Errc code = reason == DeadLetter::Reason::not_serializable ? Errc::not_serializable : Errc::message_too_large;
  return runtime::Admission{0, static_cast<std::uint8_t>(code)};
}

void RemoteActor::uncount(const Envelope& env) noexcept {
  // What deliver() counted (deliver_bounded, after admit()): one-way messages and requests.
  if (env.kind() != EnvelopeKind::message && env.kind() != EnvelopeKind::request) return;
  const WireTypeInfo* info = find_wire_type(env.type());  // never null: admit() refused those
  peer_->outbox.limit().consumed(info != nullptr ? weight(*info, env) : 0);
}

runtime::TurnResult RemoteActor::resume() noexcept {
  while (auto* link = mailbox_.pop()) serialize(static_cast<Envelope*>(link));
  if (!dead_) node_->dialler().flush(*peer_);  // a dead actor's messages are gone: no reason to dial
  // A sender between its push and its link leaves pop() empty-handed: stay scheduled for it.
  return mailbox_.try_mark_empty() ? runtime::TurnResult::idle : runtime::TurnResult::more;
}

void RemoteActor::serialize(Envelope* env) noexcept {
  const EnvelopeKind kind = env->kind();
  runtime::ActorCore* requester = env->reply_to();
  const std::uint64_t request_id = has_reply_header(kind) ? env->reply().request_id : 0;
  try {
    if (kind == EnvelopeKind::signal) {
      send_signal(payload<troupe::detail::Signal>(*env));
      dispose(env);
      return;
    }
    if (kind != EnvelopeKind::message && kind != EnvelopeKind::request && kind != EnvelopeKind::response) {
      NodeCounters::add(node_->counters().dead);
      if (node_->log().enabled(LogLevel::warning)) {
        const LogField fields[] = {{"type", env->type()->name}};
        node_->log().log(
            {.level = LogLevel::warning,
             .name = "message_dropped",
             .message = "dropped a " + std::string(env->type()->name) + " to a remote actor: not a message",
             .peer = peer_->name,
             .reason = "not a message",
             .fields = fields});
      }
      dispose(env);
      return;
    }
    if (dead_) {
      NodeCounters::add(node_->counters().dead);
      if (requester != nullptr) {
        troupe::detail::send_response_error(requester, request_id,
                                            Error{Errc::node_down, "node '" + peer_->name + "' went down"});
      }
      uncount(*env);
      dispose(env);
      return;
    }
    const WireTypeInfo* info = find_wire_type(env->type());
    if (info == nullptr) {
      NodeCounters::add(node_->counters().dead);
      if (requester != nullptr) {
        troupe::detail::send_response_error(
            requester, request_id,
            Error{Errc::not_serializable, std::string(env->type()->name) + " is not declared for the wire"});
      }
      uncount(*env);
      dispose(env);
      return;
    }
    const std::uint64_t bytes = weight(*info, *env);
    if (kind == EnvelopeKind::response && !peer_->outbox.room_for_response(bytes)) {
      refuse_response(info->name, bytes, request_id);
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
    out.urgent = env->urgent();
    if (kind == EnvelopeKind::request && requester != nullptr) out.sender = node_->exports().export_actor(requester);
    {
      PeerHandleCodec handles(*node_, *peer_);  // handles in the message export to, or name nodes for, peer_
      info->encode(*env, out.payload, &handles);
    }
    out.counted = kind == EnvelopeKind::message || kind == EnvelopeKind::request;
    out.charged = bytes;  // by the outbound limit, or for a response the response bound
    const std::uint64_t sender = out.sender;
    peer_->outbox.push(std::move(out));
    // Failed with node_down if the peer goes before its response comes.
    if (kind == EnvelopeKind::request && requester != nullptr)
      node_->requests().track(*peer_, sender, request_id, request_deadline(env->reply().timeout));
  } catch (const std::exception& e) {
    NodeCounters::add(node_->counters().dead);
    if (node_->log().enabled(LogLevel::warning)) {
      const LogField fields[] = {{"type", env->type()->name}};
      node_->log().log({.level = LogLevel::warning,
                        .name = "message_dropped",
                        .message = std::string("could not serialize a message for a remote actor: ") + e.what(),
                        .peer = peer_->name,
                        .reason = e.what(),
                        .fields = fields});
    }
    if (requester != nullptr) {
      troupe::detail::send_response_error(requester, request_id, Error{Errc::not_serializable, e.what()});
    }
    uncount(*env);
  }
  dispose(env);
}

// The requester gets, in place of a response its node has no room for, an error that says why:
// small, and queued whatever the bound (Outbox::room_for_response), so that it hears at once
// rather than at its timeout. The first refusal since the responses last drained is logged.
void RemoteActor::refuse_response(std::string_view type, std::uint64_t bytes, std::uint64_t request_id) {
  Outbox& outbox = peer_->outbox;
  NodeCounters::add(node_->counters().dead);
  const std::string why = "node '" + node_->config().name + "' has " + std::to_string(outbox.response_bytes()) +
                          " bytes of responses queued for node '" + peer_->name + "' that it has not taken yet; a " +
                          std::string(type) + " response of " + std::to_string(bytes) +
                          " bytes would pass its bound of " + std::to_string(outbox.response_bound()) +
                          " (NodeConfig::max_outbound_response_bytes)";
  if (outbox.first_refusal() && node_->log().enabled(LogLevel::warning)) {
    const LogField fields[] = {{"type", type}};
    node_->log().log({.level = LogLevel::warning,
                      .name = "response_dropped",
                      .message = "dropped a response, and will drop more until the queue drains: " + why,
                      .peer = peer_->name,
                      .reason = why,
                      .fields = fields});
  }
  const WireTypeInfo* error_info = find_wire_type(&message_type<Error>);  // built in: never null
  OutEnvelope out;
  out.receiver = remote_id_;
  out.type_name = error_info->name;
  out.request_id = request_id;
  out.kind = wire::Kind::RESPONSE;
  WireWriter writer(out.payload);
  WireCodec<Error>::encode(writer, Error{Errc::mailbox_full, why});
  out.charged = envelope_wire_bytes(error_info->name.size(), out.payload.size());
  outbox.push(std::move(out));
}

// A signal to an actor that is gone is answered here, as its node would have answered it: for a
// peer that went down, with node_down; for an actor the peer reported stopped, as a stopped local
// actor answers (Context::dead_signal): a Down with its reason, an exit signal noproc.
void RemoteActor::send_signal(troupe::detail::Signal& signal) {
  if (dead_) {
    const ExitReason reason = ExitReason::node_down(peer_->name);
    troupe::detail::answer_for_gone(DynamicHandle::share(this), signal, reason, reason);
  } else if (stopped_) {
    troupe::detail::answer_for_gone(DynamicHandle::share(this), signal, *stopped_, ExitReason::noproc());
  } else {
    to_wire(signal);
  }
}

// The one switch of the sending side: links, monitors and exit signals from local actors, and
// the Downs of local actors this one (a remote watcher) monitors, each become a wire signal, and
// the peer's ties remember what a node-down must undo.
void RemoteActor::to_wire(troupe::detail::Signal& signal) {
  using Kind = troupe::detail::Signal::Kind;
  Exports& exports = node_->exports();
  Ties& ties = peer_->ties;
  WireSignal out;
  out.kind = signal.kind;
  out.to = remote_id_;
  out.ref = signal.ref.id;
  switch (signal.kind) {
    case Kind::link:
      if (!signal.from.valid()) return;
      out.from = exports.export_actor(signal.from.core());
      ties.link(remote_id_, out.from);
      break;
    case Kind::unlink:
      if (!signal.from.valid()) return;
      out.from = exports.export_actor(signal.from.core());
      ties.unlink(remote_id_, out.from);
      break;
    case Kind::monitor:
      if (!signal.from.valid()) return;
      out.from = exports.export_actor(signal.from.core());
      ties.monitor(remote_id_, out.from, out.ref);
      break;
    case Kind::demonitor: {
      const std::optional<std::uint64_t> watcher = exports.id_of(signal.watcher);
      if (!watcher) return;  // it never monitored anything remote
      out.from = *watcher;
      ties.demonitor(remote_id_, out.from, out.ref);
      break;
    }
    case Kind::exit:
      out.from = signal.from.valid() ? exports.id_of_stopping(signal.from.core()) : 0;
      out.reason = signal.reason;
      out.exit_flags = signal.exit_flags;
      if (signal.exit_flags.linked) ties.unlink(remote_id_, out.from);
      break;
    case Kind::down:
      out.from = signal.from.valid() ? exports.id_of_stopping(signal.from.core()) : 0;
      out.reason = signal.reason;
      ties.unwatch(out.from, remote_id_, out.ref);
      break;
  }
  peer_->outbox.push(std::move(out));
}

void RemoteActor::drop_queued() noexcept {
  while (auto* link = mailbox_.pop()) {
    auto* env = static_cast<Envelope*>(link);
    if (runtime::ActorCore* requester = env->reply_to()) {
      troupe::detail::send_response_error(requester, env->reply().request_id, Error{Errc::dead_actor, "node stopped"});
    }
    uncount(*env);
    dispose(env);
  }
}

void RemoteActor::discard_all() noexcept {
  discard_for_good(*this, mailbox_, [this] { drop_queued(); });
}

void RemoteActor::destroy() noexcept {
  drop_queued();
  delete this;
}

}  // namespace troupe::transport::detail
