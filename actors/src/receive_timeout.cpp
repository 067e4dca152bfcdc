// The receive timeout (Context::set_receive_timeout): a ReceiveTimeout once the actor has handled
// no message for the time it set.
//
// Resetting a timer on every message would cost each message a trip through the timer thread's
// heap. Instead each turn notes when it handled something (one clock read per turn, only for
// actors with a timeout), and at most one check is ever on its way: a background timer that
// sends the actor an EnvelopeKind::idle envelope. When the check comes, the actor compares the
// time it has been idle with its timeout: due, it gets its ReceiveTimeout; not yet, the next
// check is armed for when it would be. A message in the mailbox ahead of the check came before
// the check fell due, so it counts even when the check is handled in the same turn.
#include <troupe/actor_cell.hpp>
#include <troupe/system.hpp>

#include "actor_extras.hpp"

#include <memory>
#include <utility>

namespace troupe {
namespace {

using Clock = runtime::TimerService::Clock;

// Sends its actor one check. The envelope is made when the check is armed (in the actor's turn,
// where a failure to allocate is the actor's to see), so the timer thread allocates nothing.
class ReceiveTimeoutCheck final : public runtime::TimerTask {
 public:
  explicit ReceiveTimeoutCheck(DynamicHandle owner)
      : owner_(std::move(owner)), check_(make_envelope<ReceiveTimeout>(EnvelopeKind::idle)) {}
  ~ReceiveTimeoutCheck() override {
    if (check_ != nullptr) dispose(check_);  // cancelled before it fired
  }
  ReceiveTimeoutCheck(const ReceiveTimeoutCheck&) = delete;
  ReceiveTimeoutCheck& operator=(const ReceiveTimeoutCheck&) = delete;

  // Straight into the mailbox, as a signal goes: a check is never counted against a bounded
  // mailbox nor mutes anyone. A stopped actor's mailbox disposes of it.
  void fire() noexcept override { owner_.core()->enqueue(std::exchange(check_, nullptr)); }

 private:
  DynamicHandle owner_;
  Envelope* check_;
};

}  // namespace

void Context::set_receive_timeout(Duration after) {
  detail::ActorCell& c = cell();
  if (after <= Duration::zero()) {
    c.cancel_receive_timeout();
    return;
  }
  auto& slot = c.extras().receive_timeout;
  if (!slot) slot = std::make_unique<detail::ReceiveTimeoutState>();
  detail::ReceiveTimeoutState& rt = *slot;
  const Clock::time_point now = c.system().now();
  const Clock::time_point due = now + after;
  // A check on its way that falls due first arms the next for this time when it comes. One
  // that would come too late is replaced; if it fired already, its envelope is queued, and when
  // it comes it arms the next for this time.
  if (rt.armed && due < rt.armed_due) {
    if (rt.timer.cancel()) rt.armed = false;
    rt.timer = Timer{};  // see cancel_receive_timeout
  }
  // May throw (no memory): the old time stays, and the turn's end arms a check for it.
  if (!rt.armed) c.arm_receive_timeout(due);
  rt.after = after;
  rt.last_activity = now;
  c.layer_flags_ |= detail::ActorCell::kReceiveTimeout;
}

Duration Context::receive_timeout() const noexcept {
  const detail::ActorExtras* x = cell().extras_;
  return x != nullptr && x->receive_timeout ? x->receive_timeout->after : Duration::zero();
}

// Owner, in its turn.
void detail::ActorCell::arm_receive_timeout(Clock::time_point due) {
  ReceiveTimeoutState& rt = *extras_->receive_timeout;
  const Clock::time_point now = system_->now();
  rt.timer = system_->add_timer(due > now ? due - now : Duration::zero(), System::TimerKind::background,
                                std::make_unique<ReceiveTimeoutCheck>(self()));
  rt.armed = true;
  rt.armed_due = due;
}

// Off: no more ReceiveTimeouts. A check already fired is disposed of when it comes.
void detail::ActorCell::cancel_receive_timeout() noexcept {
  layer_flags_ &= static_cast<std::uint8_t>(~kReceiveTimeout);
  if (extras_ == nullptr || !extras_->receive_timeout) return;
  ReceiveTimeoutState& rt = *extras_->receive_timeout;
  rt.after = Duration::zero();
  if (rt.armed && rt.timer.cancel()) rt.armed = false;
  // A timer that fired keeps its task, and the task a reference to this actor: held here, it
  // would keep the actor from ever being freed.
  rt.timer = Timer{};
}

// A check came. The messages handled before it in this turn came before it fell due: activity.
void detail::ActorCell::check_receive_timeout(Envelope* check, unsigned handled_before) noexcept {
  dispose(check);
  // Only an actor that armed a check gets one; a check from a stopped run never reaches a new one.
  ReceiveTimeoutState& rt = *extras_->receive_timeout;
  rt.armed = false;
  rt.timer = Timer{};                                                          // it fired: see cancel_receive_timeout
  if (rt.after == Duration::zero() || (layer_flags_ & kExiting) != 0) return;  // turned off, or stopping
  const Clock::time_point now = system_->now();
  if (handled_before > 0) rt.last_activity = now;
  const bool waiting = awaiting();  // a coroutine's wait counts as activity
  const bool due = !waiting && now - rt.last_activity >= rt.after;
  try {
    // Armed before the handler runs, which may set another time or none.
    arm_receive_timeout(due || waiting ? now + rt.after : rt.last_activity + rt.after);
    if (!due) return;
    rt.last_activity = now;  // the next one after another `after` of silence
    // A message of its own (the check is the timer's): never counted, like a Down made from a
    // signal, so handle_message takes nothing off a bounded mailbox's count for it.
    handle_message(make_envelope<ReceiveTimeout>(EnvelopeKind::message), /*urgent=*/true);
    count_handled(1);  // a message the actor handled (the check itself is none: the turn counts no check)
  } catch (...) {  // no memory for the next check: the turn's end tries again
  }
}

// The end of a turn of an actor with a receive timeout: if it handled a message (checks are
// none), it was active now. A check that could not be armed (no memory) is armed now.
void detail::ActorCell::receive_timeout_after_turn(unsigned handled) noexcept {
  ReceiveTimeoutState& rt = *extras_->receive_timeout;
  if (handled > 0) rt.last_activity = system_->now();
  if (rt.armed || rt.after == Duration::zero() || (layer_flags_ & kExiting) != 0) return;
  try {
    arm_receive_timeout(rt.last_activity + rt.after);
  } catch (...) {  // still no memory: the next turn tries again
  }
}

}  // namespace troupe
