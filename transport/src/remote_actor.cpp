#include "remote_actor.hpp"

#include "handle_codec.hpp"

#include <troupe/message.hpp>
#include <troupe/signals.hpp>
#include <troupe/transport/wire_type.hpp>

namespace troupe::transport::detail {

RemoteActor::RemoteActor(std::shared_ptr<NodeCore> node, Peer& peer, std::uint64_t remote_id) noexcept
    : runtime::ActorCore(node.get()), node_(std::move(node)), peer_(peer), remote_id_(remote_id) {
  set_mailbox_limit(peer.outbound_limit.get());  // before any handle to this actor exists
}

std::uint64_t RemoteActor::weight(const WireTypeInfo& info, const Envelope& env) noexcept {
  return envelope_wire_bytes(info.name.size(), info.encoded_size(env));  // named: the most it weighs
}

runtime::Admission RemoteActor::admit(runtime::MailboxLink& message) noexcept {
  auto& env = static_cast<Envelope&>(message);
  const WireTypeInfo* info = find_wire_type(env.type());
  if (info == nullptr) return refuse(env, DeadLetter::Reason::not_serializable);
  const std::uint64_t bytes = weight(*info, env);
  // Relaxed: see Peer::max_frame_bytes.
  if (bytes > max_envelope_bytes(peer_.max_frame_bytes.load(std::memory_order_relaxed)))
    return refuse(env, DeadLetter::Reason::message_too_large);
  return runtime::Admission{bytes, 0};
}

runtime::Admission RemoteActor::refuse(Envelope& env, DeadLetter::Reason reason) noexcept {
  node_->dead.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
  node_->system().dead_letter(*this, env, reason);      // counted, shown to the hook, a request answered
  const Errc code = reason == DeadLetter::Reason::not_serializable ? Errc::not_serializable : Errc::message_too_large;
  return runtime::Admission{0, static_cast<std::uint8_t>(code)};
}

void RemoteActor::uncount(const Envelope& env) noexcept {
  // What deliver() counted (deliver_bounded, after admit()): one-way messages and requests.
  if (env.kind() != EnvelopeKind::message && env.kind() != EnvelopeKind::request) return;
  const WireTypeInfo* info = find_wire_type(env.type());  // never null: admit() refused those
  peer_.outbound_limit->consumed(info != nullptr ? weight(*info, env) : 0);
}

runtime::TurnResult RemoteActor::resume() noexcept {
  while (auto* link = mailbox_.pop()) serialize(static_cast<Envelope*>(link));
  if (!dead_) node_->flush(peer_);  // a dead actor's messages are gone: no reason to dial
  // A sender between its push and its link leaves pop() empty-handed: stay scheduled for it.
  return mailbox_.try_mark_empty() ? runtime::TurnResult::idle : runtime::TurnResult::more;
}

void RemoteActor::serialize(Envelope* env) noexcept {
  const EnvelopeKind kind = env->kind();
  runtime::ActorCore* requester = env->reply_to();
  const std::uint64_t request_id = has_reply_header(kind) ? env->reply().request_id : 0;
  try {
    if (kind == EnvelopeKind::signal) {
      if (dead_) {
        answer_signal_dead(env);
      } else if (stopped_) {
        answer_signal_stopped(env);
      } else {
        serialize_signal(env);
      }
      dispose(env);
      return;
    }
    if (kind != EnvelopeKind::message && kind != EnvelopeKind::request && kind != EnvelopeKind::response) {
      node_->dead.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
      node_->log("dropped a " + std::string(env->type()->name) + " to a remote actor: not a message");
      dispose(env);
      return;
    }
    if (dead_) {
      node_->dead.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
      if (requester != nullptr) {
        troupe::detail::send_response_error(requester, request_id,
                                            Error{Errc::node_down, "node '" + peer_.name + "' went down"});
      }
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
    {
      PeerHandleCodec handles(*node_, peer_);  // handles in the message export to, or name nodes for, peer_
      info->encode(*env, out.payload, &handles);
    }
    out.counted = kind == EnvelopeKind::message || kind == EnvelopeKind::request;
    if (out.counted) out.charged = weight(*info, *env);
    peer_.envelopes.push_back(std::move(out));
    // Failed with node_down if the peer goes before its response comes.
    if (kind == EnvelopeKind::request && requester != nullptr)
      node_->track_request(peer_, out.sender, request_id, request_deadline(env->reply().timeout));
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

namespace {

std::uint64_t ref_of(MonitorRef ref) { return ref.id; }

}  // namespace

// Links, monitors and exit signals from local actors, and the Downs of local actors this one
// (a remote watcher) monitors: each becomes a wire signal, and the peer's records remember what a
// node-down must undo.
void RemoteActor::serialize_signal(Envelope* env) {
  const MessageType* type = env->type();
  OutSignal out;
  out.to = remote_id_;
  if (type == &message_type<troupe::detail::LinkSignal>) {
    const DynamicHandle& from = payload<troupe::detail::LinkSignal>(*env).from;
    if (!from.valid()) return;
    out.kind = wire::SignalKind::LINK;
    out.from = node_->export_actor(from.core());
    peer_.links.emplace(remote_id_, out.from);
  } else if (type == &message_type<troupe::detail::UnlinkSignal>) {
    const DynamicHandle& from = payload<troupe::detail::UnlinkSignal>(*env).from;
    if (!from.valid()) return;
    out.kind = wire::SignalKind::UNLINK;
    out.from = node_->export_actor(from.core());
    peer_.links.erase({remote_id_, out.from});
  } else if (type == &message_type<troupe::detail::MonitorSignal>) {
    auto& m = payload<troupe::detail::MonitorSignal>(*env);
    if (!m.watcher.valid()) return;
    out.kind = wire::SignalKind::MONITOR;
    out.from = node_->export_actor(m.watcher.core());
    out.ref = ref_of(m.ref);
    peer_.monitors.emplace(remote_id_, out.from, out.ref);
  } else if (type == &message_type<troupe::detail::DemonitorSignal>) {
    auto& d = payload<troupe::detail::DemonitorSignal>(*env);
    auto exported = node_->export_ids_.find(d.watcher);
    if (exported == node_->export_ids_.end()) return;  // it never monitored anything remote
    out.kind = wire::SignalKind::DEMONITOR;
    out.from = exported->second;
    out.ref = ref_of(d.ref);
    peer_.monitors.erase({remote_id_, out.from, out.ref});
  } else if (type == &message_type<troupe::detail::ExitSignal>) {
    auto& e = payload<troupe::detail::ExitSignal>(*env);
    out.kind = wire::SignalKind::EXIT;
    out.from = e.exit.from.valid() ? node_->id_of_stopping(e.exit.from.core()) : 0;
    out.reason = e.exit.reason;
    out.linked = e.linked;
    out.untrappable = e.untrappable;
    if (e.linked) peer_.links.erase({remote_id_, out.from});
  } else if (type == &message_type<Down>) {
    auto& d = payload<Down>(*env);
    out.kind = wire::SignalKind::DOWN;
    out.from = d.actor.valid() ? node_->id_of_stopping(d.actor.core()) : 0;
    out.ref = ref_of(d.ref);
    out.reason = d.reason;
    peer_.watchers.erase({out.from, remote_id_, out.ref});
  } else {
    return;
  }
  peer_.signals.push_back(std::move(out));
}

// A signal to an actor of a peer that went down: answered here, as its node would have.
void RemoteActor::answer_signal_dead(Envelope* env) {
  const MessageType* type = env->type();
  const ExitReason reason = ExitReason::node_down(peer_.name);
  if (type == &message_type<troupe::detail::MonitorSignal>) {
    auto& m = payload<troupe::detail::MonitorSignal>(*env);
    if (!m.watcher.valid()) return;
    troupe::detail::send_signal(
        m.watcher.core(), make_envelope<Down>(EnvelopeKind::signal, Down{DynamicHandle::share(this), reason, m.ref}));
  } else if (type == &message_type<troupe::detail::LinkSignal>) {
    auto& l = payload<troupe::detail::LinkSignal>(*env);
    if (!l.from.valid()) return;
    troupe::detail::send_signal(
        l.from.core(),
        make_envelope<troupe::detail::ExitSignal>(
            EnvelopeKind::signal, troupe::detail::ExitSignal{Exit{DynamicHandle::share(this), reason}, true, false}));
  }
}

// A monitor or link of an actor the peer reported stopped: answered as a stopped local actor
// answers (Context::dead_signal): a Down with its reason, an exit signal noproc.
void RemoteActor::answer_signal_stopped(Envelope* env) {
  const MessageType* type = env->type();
  if (type == &message_type<troupe::detail::MonitorSignal>) {
    auto& m = payload<troupe::detail::MonitorSignal>(*env);
    if (!m.watcher.valid()) return;
    troupe::detail::send_signal(
        m.watcher.core(),
        make_envelope<Down>(EnvelopeKind::signal, Down{DynamicHandle::share(this), *stopped_, m.ref}));
  } else if (type == &message_type<troupe::detail::LinkSignal>) {
    auto& l = payload<troupe::detail::LinkSignal>(*env);
    if (!l.from.valid()) return;
    troupe::detail::send_signal(
        l.from.core(),
        make_envelope<troupe::detail::ExitSignal>(
            EnvelopeKind::signal,
            troupe::detail::ExitSignal{Exit{DynamicHandle::share(this), ExitReason::noproc()}, true, false}));
  }
  // Other signals (unlink, demonitor, exit, the Downs of local actors it watched) mean nothing now.
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
