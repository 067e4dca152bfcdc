// Sending to a bounded mailbox: the overflow policies (see SpawnOptions::mailbox_capacity).
#include <troupe/actor_cell.hpp>
#include <troupe/runtime/mailbox_limit.hpp>
#include <troupe/runtime/thread_role.hpp>
#include <troupe/system.hpp>

#include "send_credits.hpp"

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

// At most this many messages reserved at once; an eighth of the capacity for small mailboxes, so
// that they stay close to exact. A worker's sends may go over the capacity by at most one batch.
constexpr std::uint32_t kCreditBatch = 32;
std::uint32_t credit_batch(const runtime::MailboxLimit& limit) noexcept {
  const std::uint32_t eighth = limit.capacity() / 8;
  return eighth == 0 ? 1 : (eighth < kCreditBatch ? eighth : kCreditBatch);
}

}  // namespace

constinit thread_local SendCredits tls_send_credits;

void settle_send_credits_held() noexcept {
  runtime::ActorCore* target = tls_send_credits.target;
  if (tls_send_credits.left != 0) target->mailbox_limit()->consumed_many(tls_send_credits.left);
  tls_send_credits.target = nullptr;
  tls_send_credits.left = 0;
  target->release();
}

SendResult deliver_bounded(runtime::ActorCore* target, Envelope* env) noexcept {
  // Room this turn reserved already: only an actor's turn, sending to an actor cell's unweighed
  // backpressure mailbox, reserves ahead (below), so nothing else needs asking.
  if (tls_send_credits.target == target && tls_send_credits.left != 0) {
    --tls_send_credits.left;
    target->enqueue(env);
    return {};
  }
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
  bool full = false;
  if (sender == nullptr || limit.byte_capacity() != 0) {
    // A worker outside any turn (it never waits: its message goes over capacity), or a mailbox
    // that weighs each message: counted one by one.
    full = limit.reserve(bytes);
  } else if (tls_send_credits.last_counted != target) {
    tls_send_credits.last_counted = target;
    full = limit.reserve(bytes);
  } else {
    settle_send_credits();
    const std::uint32_t batch = credit_batch(limit);
    full = limit.reserve_many(batch);
    target->add_ref();
    tls_send_credits.target = target;
    tls_send_credits.left = batch - 1;
  }
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
