// The actor cell's turn loop: handling one envelope, stopping, dead letters. Responses and
// coroutines are in actor_cell_requests.cpp; signals in actor_cell_signals.cpp.
#include <troupe/actor_cell.hpp>
#include <troupe/system.hpp>

#include "actor_extras.hpp"
#include "actor_metrics.hpp"
#include "describe.hpp"
#include "send_credits.hpp"
#include "system_internals.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <string>
#include <thread>
#include <utility>

namespace troupe {
namespace {

// The executor of a stopped actor. The pusher that finds the mailbox empty drains it at once,
// on its own thread, as dead letters: a stopped actor is never scheduled again, so nothing can
// touch it after its last handle is gone.
class DeadLetterExecutor final : public runtime::Executor {
 public:
  void schedule(runtime::ActorCore* actor) noexcept override {
    static_cast<detail::ActorCell*>(actor)->drain_dead_letters();
  }
};
DeadLetterExecutor dead_letter_executor;

// The message being handled on this thread, for Context::promise and stash. Thread-local rather than a
// member: it costs no memory per actor.
thread_local Envelope* tls_current_message = nullptr;

// The actor whose turn runs on this thread, for backpressure: a send to a full bounded mailbox
// mutes the sending actor.
thread_local detail::ActorCell* tls_current_actor = nullptr;

// Context::pace() lets the other actors run once the coroutine has paced for kPaceSlice without
// waiting, as a scheduler pre-empts a goroutine or a process after its time slice. It reads the
// clock every kPacesPerCheck paces only (a read costs as much as dozens of paces); deterministic
// mode, whose schedule may depend on nothing but its seed, lets the others run at every check.
// (A fixed 1,024 paces in every mode made a fan-out's producer yield every ten microseconds or
// so: behind the sixty receivers it had woken, it ran too seldom to fill their mailboxes, and
// each of them ran a turn for every handful of messages — 7% of fanout-paced's rate.)
constexpr unsigned kPacesPerCheck = 1024;
constexpr std::chrono::microseconds kPaceSlice{500};

// Sets tls_current_actor for the length of a turn.
class TurnScope {
 public:
  explicit TurnScope(detail::ActorCell* actor) noexcept : previous_(std::exchange(tls_current_actor, actor)) {}
  ~TurnScope() {
    tls_current_actor = previous_;
    detail::settle_send_credits();
  }
  TurnScope(const TurnScope&) = delete;
  TurnScope& operator=(const TurnScope&) = delete;

 private:
  detail::ActorCell* previous_;
};

}  // namespace

detail::ActorCell::ActorCell(System& system, runtime::Executor* executor) noexcept
    : runtime::ActorCore(executor), system_(&system) {}

detail::ActorCell::~ActorCell() { delete extras_; }

detail::ActorExtras& detail::ActorCell::extras() {
  if (extras_ == nullptr) extras_ = new detail::ActorExtras();
  return *extras_;
}

bool detail::ActorCell::awaiting() const noexcept { return extras_ != nullptr && extras_->awaited > 0; }

// Messages wait in the set-aside queue and may be handled now (no coroutine awaits). Most actors
// never set anything aside (no extras): one test, then straight to the mailbox.
inline bool detail::ActorCell::set_aside_ready() const noexcept {
  return extras_ != nullptr && extras_->awaited == 0 && !extras_->set_aside.empty();
}

void detail::ActorCell::begin_stopping(ExitReason&& reason) {
  if ((layer_flags_ & kExiting) == 0) extras().exit_reason = std::move(reason);
  layer_flags_ |= kExiting;
}

void detail::ActorCell::fail(std::string why) noexcept { stop_with(ExitReason::error(std::move(why))); }

void detail::ActorCell::stop_with(ExitReason reason) noexcept {
  try {
    begin_stopping(std::move(reason));
  } catch (...) {  // no memory to keep the reason: stop anyway
    layer_flags_ |= kExiting;
  }
}

// One turn: up to `budget` messages, then idle (mailbox marked empty) or more (re-queue).
// The first turn starts by constructing the actor's state. Once the system is stopping, a turn
// stops the actor before anything else. A sampled turn (about one in 1024 of its thread's) also times
// its handlers and counts what it leaves waiting, for the metrics: a separate copy of the turn,
// so that the others pay nothing for it.
runtime::TurnResult detail::ActorCell::resume() noexcept { return turn<false>(); }
runtime::TurnResult detail::ActorCell::resume_sampled() noexcept { return turn<true>(); }

template <bool Sampled>
runtime::TurnResult detail::ActorCell::turn() noexcept {
  const TurnScope scope(this);
  if (system_->stopping() && (layer_flags_ & kExiting) == 0) stop_with(ExitReason::shutdown());
  if ((layer_flags_ & (kConstructed | kExiting)) == 0) {
    try {
      construct();
      layer_flags_ |= kConstructed;
    } catch (...) {
      fail(detail::describe(std::current_exception()));
    }
  }
  // Overtaking: one relaxed load per turn. Set, the signals queued now go before the user
  // messages queued ahead of them (a turn already under way ends first).
  if (signal_flagged() && (layer_flags_ & kExiting) == 0) take_signals();
  const unsigned handled = handle_messages<Sampled>();
  if ((layer_flags_ & kReceiveTimeout) != 0) [[unlikely]]
    receive_timeout_after_turn(handled);
  count_handled(static_cast<std::uint16_t>(handled));  // at most the budget, 16 bits
  // What this turn took from a bounded mailbox leaves its count before anything below reads it.
  runtime::MailboxLimit* const limit = mailbox_limit();
  if (limit != nullptr) [[unlikely]]
    limit->flush_consumed();
  if ((layer_flags_ & kExiting) != 0) {
    terminate();
    return runtime::TurnResult::terminated;
  }
  // Backpressure: a send in this turn found a full mailbox or an overloaded actor. Whoever unmutes
  // us schedules us. (Still muted from an earlier turn, it could not park — it holds others back
  // — and runs on.)
  layer_flags_ &= static_cast<std::uint8_t>(~kEndTurn);
  if (park_if_muted()) return runtime::TurnResult::parked;
  if (set_aside_ready()) return runtime::TurnResult::more;
  // Drained: no longer overloaded, and nobody stays muted on this mailbox (its limit releases
  // them one at a time while it runs: MailboxLimit::release_one_at_a_time). Before the empty
  // mark, while the turn is still ours. Most actors hold nobody back: two flag tests.
  if ((overloaded() || limit != nullptr) && !mailbox_.maybe_nonempty()) [[unlikely]] {
    relieve_overload();
    if (limit != nullptr) limit->release_all_muted();
  }
  // Marked empty, the actor is no longer this turn's: a message sent to it now may run it on another
  // worker, stop it and free it there before the next line here runs. So nothing after the mark
  // touches it (the sampled turn reads what it needs before; `this` is only the board's key: at
  // worst a new actor at the same address leaves the board until its next sampled turn).
  if constexpr (Sampled) {
    ActorMetrics& metrics = system_->internals().actor_metrics;
    if (mailbox_.try_mark_empty()) {
      metrics.drained(this);
      return runtime::TurnResult::idle;
    }
  } else if (mailbox_.try_mark_empty()) {
    return runtime::TurnResult::idle;
  }
  // The whole budget went and messages wait: overloaded, so its senders slow down (actor_core.hpp).
  if (handled == budget()) mark_overloaded();
  if constexpr (Sampled) report_depth();
  return runtime::TurnResult::more;
}

// Up to `budget` messages; returns how many. A send that mutes the actor ends its turn
// (kEndTurn): backpressure holds it back message by message, at no cost to the loop. Timed: each
// handler's time goes to the metrics (a sampled turn).
template <bool Timed>
unsigned detail::ActorCell::handle_messages() noexcept {
  const unsigned budget = this->budget();
  unsigned handled = 0;  // messages: a receive timeout's check is none (nor counted, nor budgeted)
  while (handled < budget && (layer_flags_ & (kExiting | kEndTurn)) == 0) {
    bool urgent = false;
    Envelope* env = next_envelope(urgent);
    if (env == nullptr) break;
    if (env->kind() == EnvelopeKind::idle) [[unlikely]] {  // counts the ReceiveTimeout it may deliver
      check_receive_timeout(env, handled);
      continue;
    }
    if constexpr (Timed) {
      const auto start = std::chrono::steady_clock::now();
      handle(env, urgent);
      system_->internals().actor_metrics.record_handling(type_id_, std::chrono::steady_clock::now() - start);
    } else {
      handle(env, urgent);
    }
    ++handled;
  }
  return handled;
}

void detail::ActorCell::fold_handled(unsigned sum) noexcept { system_->internals().live.fold(this, sum); }

// A sampled turn that left messages waiting counts them for the board of the deepest mailboxes:
// a bounded mailbox knows its count; an unbounded one is walked, up to mailbox_count_limit.
void detail::ActorCell::report_depth() noexcept {
  std::uint64_t depth = 0;
  bool at_least = false;
  if (const runtime::MailboxLimit* limit = mailbox_limit()) {
    depth = limit->queued();
  } else {
    depth = mailbox_.count_waiting(mailbox_count_limit);
    at_least = depth >= mailbox_count_limit;
  }
  if (depth > 0) system_->internals().actor_metrics.report_depth(type_id_, this, depth, at_least);
}

Envelope* detail::ActorCell::next_envelope(bool& urgent) noexcept {
  if (set_aside_ready()) [[unlikely]]
    return extras_->set_aside.pop(urgent);
  return static_cast<Envelope*>(mailbox_.pop());
}

void detail::ActorCell::handle(Envelope* env, bool urgent) noexcept {
  switch (env->kind()) {
    case EnvelopeKind::stop:
      stop_with(ExitReason::shutdown());
      dispose(env);
      return;
    case EnvelopeKind::response:
    case EnvelopeKind::timeout:
      handle_response(env);
      return;
    case EnvelopeKind::signal:
      handle_signal(env);
      return;
    case EnvelopeKind::message:
    case EnvelopeKind::request:
      handle_message(env, urgent);
      return;
    case EnvelopeKind::idle:  // handle_messages takes these itself; here for completeness
      check_receive_timeout(env, 0);
      return;
  }
  dispose(env);
}

// A user message, or (urgent) a Down / Exit made from a signal: runs its handler, or, while a
// coroutine awaits, sets it aside (an urgent one after the urgent ones already there, before the rest).
// A user's message sent urgent is set aside among the urgent ones, and so leaves its mailbox's
// count now: what the set-aside queue holds as urgent is never counted.
void detail::ActorCell::handle_message(Envelope* env, bool urgent) noexcept {
  if (awaiting()) {
    try {
      if (urgent) {
        extras_->set_aside.push_urgent(env);
      } else if (env->urgent()) {
        extras_->set_aside.push_urgent(env);
        message_taken(*env);
      } else {
        extras_->set_aside.push(env);
      }
    } catch (...) {  // no memory to keep it: it becomes a dead letter
      if (!urgent) message_taken(*env);
      dead_letter(env);
    }
    return;
  }
  if (!urgent) message_taken(*env);  // a Down / Exit made here was never counted
  run_handler(*env);
  if ((layer_flags_ & kEnvelopeAdopted) != 0) {
    layer_flags_ &= static_cast<std::uint8_t>(~kEnvelopeAdopted);  // the task or the user's stash has it
  } else {
    dispose(env);
  }
}

Envelope* detail::current_message() noexcept { return tls_current_message; }

void detail::forget_current_message() noexcept { tls_current_message = nullptr; }

detail::ActorCell* detail::ActorCell::current_actor() noexcept { return tls_current_actor; }

void detail::ActorCell::run_handler(Envelope& env) {
  tls_current_message = &env;
  try {
    if ((layer_flags_ & kBecame) != 0) [[unlikely]] {
      dispatch_became(env);
    } else {
      dispatch(env);
    }
    tls_current_message = nullptr;
  } catch (...) {
    tls_current_message = nullptr;
    std::string why = detail::describe(std::current_exception());
    // Adopted, the envelope holds no requester (a stash or a coroutine took it), or is no longer
    // ours to touch (forwarded: AnyMessage::forward).
    if ((layer_flags_ & kEnvelopeAdopted) == 0 && env.kind() == EnvelopeKind::request) {
      detail::send_response_error(env.reply().reply_to, env.reply().request_id, Error{Errc::actor_failed, why});
    }
    fail(std::move(why));
  }
}

// Stopping, in order: abandon a suspended coroutine (its requester gets an error) and the
// requests on their way (continuations never run), turn stashed messages (the user's, then the
// coroutine's) into dead letters, drop the behaviors become() made, destroy the state, tell the
// system, and close the mailbox (everything left and everything later is a dead letter). The
// executor drops the actor's own reference after the turn (runtime::TurnResult::terminated).
void detail::ActorCell::terminate() noexcept {
  layer_flags_ |= kTerminated;
  ExitReason reason = ExitReason::normal();
  if (extras_ != nullptr) {
    auto& x = *extras_;
    if (x.task.handle) {
      const bool shutting_down = x.exit_reason && x.exit_reason->kind == ExitReason::Kind::shutdown;
      detail::send_response_error(x.task.promise->reply_to, x.task.promise->request_id,
                                  Error{shutting_down ? Errc::system_shutdown : Errc::dead_actor, {}});
      if (x.task.promise->reply_to != nullptr) x.task.promise->reply_to->release();
      x.resume_point = {};
      x.task.handle.destroy();
      dispose(x.task.message);
      x.task = {};
    }
    // Requests on their way: their replies will find no entry. Continuations never run; what
    // they captured is destroyed here, before the state.
    x.pending.remove_if([](detail::PendingRequest&) { return true; });
    x.awaited = 0;
    // Its timer holds a reference to this actor (see cancel_receive_timeout).
    x.request_timer.timer.cancel();
    x.request_timer = detail::RequestTimer{};
    cancel_receive_timeout();  // its timer holds a reference to this actor
    end_behaviors();  // the user's stash first: it came before the messages set aside meanwhile
    bool urgent = false;
    while (Envelope* env = x.set_aside.pop(urgent)) dead_letter(env);
    // Kept (not moved): the dead-letter path reads it after the state is gone.
    if (x.exit_reason) reason = *x.exit_reason;
  }
  if ((layer_flags_ & kConstructed) != 0) destruct();
  // No limit once stopped: what is still sent becomes a dead letter; muted senders and waiting
  // threads go on now.
  if (runtime::MailboxLimit* limit = mailbox_limit()) limit->close();
  relieve_overload();
  system_->actor_exited(*this, reason);
  if (extras_ != nullptr && !extras_->links.empty()) extras_->links.tell_exit(self(), reason);
  close_mailbox();
  // The actor's own reference is dropped by the executor, once the turn is over (TurnResult).
}

void detail::ActorCell::close_mailbox() noexcept {
  layer_flags_ |= kTerminated;
  // Before the mark: the pusher that takes the mark reads the executor (see Mailbox::push).
  set_executor(&dead_letter_executor);
  drain_dead_letters();
}

void detail::ActorCell::drain_dead_letters() noexcept {
  for (;;) {
    while (auto* env = static_cast<Envelope*>(mailbox_.pop())) dead_letter(env);
    if (mailbox_.try_mark_empty()) return;
    std::this_thread::yield();  // a producer is between its exchange and its link
  }
}

void detail::ActorCell::dead_letter(Envelope* env) noexcept {
  switch (env->kind()) {
    case EnvelopeKind::message:
    case EnvelopeKind::request:
    case EnvelopeKind::response:
      system_->dead_letter(*this, *env, DeadLetter::Reason::receiver_stopped);
      break;
    case EnvelopeKind::signal:
      dead_signal(env);
      break;
    default:  // a stop or a timeout for a stopped actor means nothing
      break;
  }
  dispose(env);
}

// Here rather than beside the bounded mailboxes' sends: a loop that floods an overloaded actor
// calls it on every send, and here the turn's actor is one thread-local load away.
void detail::mute_sender_on(runtime::ActorCore* target) noexcept {
  ActorCell* sender = tls_current_actor;
  // Threads of the caller's own are not slowed by an unbounded actor; an actor is never muted
  // by its own mailbox; and once muted, a sender's turn ends already.
  if (sender == nullptr || sender == target || sender->muted()) return;
  if (sender->mute_on(target)) sender->end_turn_early();
}

// Only a coroutine paces, and a coroutine's actor has its extras.
bool detail::ActorCell::pace_ready() noexcept {
  if (muted()) return false;
  auto& x = *extras_;
  if (++x.paces % kPacesPerCheck != 0) return true;
  if (system_->deterministic_seed()) return false;
  // The slice starts at the first check since pace() last suspended the coroutine (pause()).
  const auto now = std::chrono::steady_clock::now();
  if (x.pace_slice_start == std::chrono::steady_clock::time_point{}) {
    x.pace_slice_start = now;
    return true;
  }
  return now - x.pace_slice_start < kPaceSlice;
}

// Suspends the coroutine until this actor's next turn: a response to itself resumes it, and the
// turn ends now. A muted actor is parked at the end of this turn, so that next turn comes once
// the receiver has drained; otherwise the actor only goes to the back of the run queue.
void detail::ActorCell::pause(std::coroutine_handle<> h) {
  auto* wake = make_envelope<Unit>(EnvelopeKind::response);
  auto& x = extras();
  std::uint64_t id = 0;
  try {
    id = x.pending.add({0, [](void*, Envelope*, Error*) { return true; }, nullptr, nullptr});
  } catch (...) {
    dispose(wake);
    throw;
  }
  wake->reply().request_id = id;
  x.paces = 0;
  x.pace_slice_start = {};
  ++x.awaited;
  x.resume_point = h;
  enqueue(wake);
  end_turn_early();
}

bool PaceAwaitable::await_ready() const noexcept { return static_cast<detail::ActorCell&>(*self_).pace_ready(); }

void PaceAwaitable::await_suspend(std::coroutine_handle<> h) const { static_cast<detail::ActorCell&>(*self_).pause(h); }

namespace detail {
void unexpected_message(Context& self, Envelope& env) {
  self.system().dead_letter(static_cast<ActorCell&>(self), env, DeadLetter::Reason::unhandled);
}
}  // namespace detail

}  // namespace troupe
