// Sending to a bounded mailbox: the overflow policies (see SpawnOptions::mailbox_capacity).
#include <troupe/actor_cell.hpp>
#include <troupe/runtime/mailbox_limit.hpp>
#include <troupe/runtime/thread_role.hpp>
#include <troupe/system.hpp>

namespace troupe::detail {
namespace {

// A message the full mailbox will not take: a dead letter (drop), or handed back as an error
// (fail). A refused request's requester gets Errc::mailbox_full either way.
SendResult refuse(runtime::ActorCore* target, Envelope* env, runtime::Overflow policy) noexcept {
  // A bounded actor is an actor cell (spawned by a System) or a node's remote actor, which never has
  // the drop policy (a node turns it into fail). Both paths below check which it is, the same way
  // (dynamic_cast, on these rare paths only), rather than trust that invariant here.
  auto* receiver = policy == runtime::Overflow::drop ? dynamic_cast<ActorCell*>(target) : nullptr;
  if (receiver != nullptr) {
    receiver->system().dead_letter(*receiver, *env, DeadLetter::Reason::mailbox_full);
  } else if (env->kind() == EnvelopeKind::request) {
    send_response_error(env->reply().reply_to, env->reply().request_id, Error{Errc::mailbox_full, {}});
  }
  dispose(env);
  return Errc::mailbox_full;
}

}  // namespace

SendResult deliver_bounded(runtime::ActorCore* target, Envelope* env) noexcept {
  runtime::MailboxLimit& limit = *target->mailbox_limit();
  const runtime::Admission admission = target->admit(*env);
  if (admission.refusal != 0) {
    dispose(env);
    return static_cast<Errc>(admission.refusal);
  }
  const std::uint64_t bytes = admission.bytes;
  if (limit.policy() != runtime::Overflow::backpressure) {
    if (!limit.try_reserve(bytes)) return refuse(target, env, limit.policy());
    target->enqueue(env);
    return {};
  }
  ActorCell* sender = ActorCell::current_actor();
  if (sender == nullptr && !runtime::on_runtime_thread()) {
    // A thread of the caller's own may wait (in deterministic mode, by running the actors: the
    // limit's RoomWaiter, chosen at spawn). An exception here (the wait's mutex) is fatal anyway
    // under noexcept, as for any broken runtime invariant.
    limit.wait_for_room();
    limit.reserve(bytes);
    target->enqueue(env);
    return {};
  }
  const bool full = limit.reserve(bytes);
  target->enqueue(env);
  // An actor is never muted by its own mailbox: it alone drains it.
  if (full && sender != nullptr && sender != target && sender->mute()) {
    try {
      if (limit.add_muted(sender)) {
        sender->cancel_mute();  // drained meanwhile
      } else {
        sender->end_turn_early();
      }
    } catch (...) {  // no memory to register: run on unmuted (the message is queued already)
      sender->cancel_mute();
    }
  }
  return {};
}

}  // namespace troupe::detail
