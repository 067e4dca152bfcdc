// Context: an actor as its own handlers see it. Only the user's verbs: sending requests, links and
// monitors, timers, spawning, changing behavior, stopping.
//
// The runtime object behind it is the actor cell (actor_cell.hpp, an internal type): the turn
// loop, the mailbox, replies, signals. Every actor is a cell, and every cell is a Context (as an
// Akka ActorCell implements ActorContext); a Context has no data of its own, so a handler's
// `self` costs nothing beyond the cell and shows none of its internals.
#pragma once

#include <troupe/error.hpp>
#include <troupe/exit_reason.hpp>
#include <troupe/handle.hpp>
#include <troupe/message.hpp>
#include <troupe/promise.hpp>
#include <troupe/request.hpp>
#include <troupe/runtime/timer_service.hpp>
#include <troupe/signals.hpp>

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace troupe {

class System;
class AnyMessage;
struct SpawnOptions;
struct SupervisorSpec;
struct ChildSpec;
class SupervisorHandle;
template <class... Fs>
class Behavior;
using Timer = runtime::TimerService::Handle;

// become(keep_behavior, b): push b, keeping the current behavior for unbecome().
struct KeepBehavior {
  explicit KeepBehavior() = default;
};
inline constexpr KeepBehavior keep_behavior{};

namespace detail {
class ActorCell;
struct BehaviorBase;
// The message whose handler runs on this thread now (nullptr outside handlers, or once the
// handler forwarded it: AnyMessage::forward).
Envelope* current_message() noexcept;
void forget_current_message() noexcept;
}  // namespace detail

// What Context::pace() gives: co_await it, in a handler that returns Task<...>.
class [[nodiscard]] PaceAwaitable {
 public:
  bool await_ready() const noexcept;
  void await_suspend(std::coroutine_handle<> h) const;
  void await_resume() const noexcept {}

 private:
  friend class Context;
  explicit PaceAwaitable(Context& self) noexcept : self_(&self) {}
  Context* self_;
};

// What an actor gets once it has handled no message for the time it set with
// Context::set_receive_timeout (Akka's ReceiveTimeout, Erlang's `receive ... after`): a message
// like any other, for its current behavior to handle.
struct ReceiveTimeout {};

class Context {
 public:
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  System& system() const noexcept;
  // A handle to this actor, to hand to others.
  DynamicHandle self() const noexcept;
  // The actor's type, for diagnostics.
  std::string_view name() const noexcept;

  // Stops this actor once the current handler returns; its state is destroyed then and the
  // messages left in its mailbox become dead letters.
  void quit(ExitReason reason = ExitReason::normal());

  // Links and monitors (see signals.hpp). All of them only send signals: the other actor's
  // state is never touched from here.
  // One-way: a Down with the returned ref comes when `target` stops. If it has stopped already,
  // the Down comes at once, with its exit reason (noproc for an empty handle).
  MonitorRef monitor(const DynamicHandle& target);
  // Removes the monitor; no Down for it is handled afterwards, even one already on its way.
  void demonitor(MonitorRef ref);
  // Two-way: when either actor stops with a reason other than normal, the other gets an exit
  // signal with that reason. If `target` has stopped already, this actor gets one at once, with
  // reason noproc. Linking twice is linking once; linking to oneself does nothing.
  void link(const DynamicHandle& target);
  // Removes the link; no exit signal due to it is acted on afterwards.
  void unlink(const DynamicHandle& target);
  // While trapping, exit signals (except an untrappable kill) arrive as troupe::Exit messages
  // instead of stopping this actor.
  void trap_exits(bool on = true) noexcept;
  bool trapping_exits() const noexcept;
  // Sends `target` an exit signal (erlang:exit/2): unless it traps exits, it stops with `reason`
  // (a normal reason is ignored). ExitReason::kill stops it even if it traps exits.
  void exit(const DynamicHandle& target, ExitReason reason);

  // A request to `target` (see request.hpp): `co_await` it inside a handler that returns
  // Task<...>, or continue it without suspending with .then(on_reply, on_error). The reply type
  // comes from the typed handle, or from M::reply_type; for a DynamicHandle name it: request<R>(...).
  template <class R = void, class H, class M>
  auto request(const H& target, M&& message, Duration timeout = default_request_timeout) {
    using Reply = request_reply_t<R, H, std::decay_t<M>>;
    auto* envelope = make_envelope<std::decay_t<M>>(EnvelopeKind::request, std::forward<M>(message));
    return RequestAwaitable<Reply>(*this, target.core(), envelope, timeout);
  }

  // Flow control for a handler that sends many messages in one go: `co_await self.pace();` after
  // each send (the handler returns Task<...>). A send to an actor that is behind (overloaded:
  // its last turn used its whole budget) or to a full bounded mailbox mutes this actor; a plain
  // handler is held back only once it returns, but pace() waits right there until the receiver
  // has drained, as a send on a full Go channel would. Otherwise it returns at once, except that
  // once it has paced for half a millisecond without waiting (in deterministic mode, 1,024 paces)
  // it lets the other actors run (even on one thread, the receivers get their turns). Other
  // messages to this actor wait while it waits, as they do while it awaits a request.
  PaceAwaitable pace() noexcept { return PaceAwaitable(*this); }

  // Inside a request's handler: take over its reply, to give it later (return the promise from
  // the handler). For a one-way message the promise is inert.
  template <class T>
  Promise<T> promise() {
    Envelope* current = detail::current_message();
    if (current == nullptr || current->reply_to() == nullptr) return Promise<T>::adopt(nullptr, 0);
    return Promise<T>::adopt(std::exchange(current->reply().reply_to, nullptr), current->reply().request_id);
  }

  // Hands the request being handled on to `target`, as `message` (CAF's delegate, Akka's
  // forward): `target` answers the requester directly, under the request's id and timeout, and
  // this actor takes no further part (no hop back through it, nothing kept here). Return what it
  // returns, an inert Promise of the reply type: the handler's own return then sends nothing.
  // The reply type comes from `target`'s typed handle, or is named: delegate<R>(handle, m).
  // - If `target` has stopped, or a full mailbox refuses `message`, the requester gets that
  //   error, as for a request of its own; `target` may be on another node.
  // - For a one-way message it sends `message` on, one-way (a later call for one request does
  //   too: the request went with the first).
  // - Only in a handler that does not return Task (std::logic_error elsewhere): a coroutine
  //   answers with `co_return co_await self.request(...)`. Precondition: `target` is valid.
  template <class R = void, class H, class M>
  Promise<request_reply_t<R, H, std::decay_t<M>>> delegate(const H& target, M&& message) {
    Envelope& current = message_to_delegate();
    const EnvelopeKind kind = current.reply_to() != nullptr ? EnvelopeKind::request : EnvelopeKind::message;
    Envelope* onward = make_envelope<std::decay_t<M>>(kind, std::forward<M>(message));  // may throw: nothing sent
    if (kind == EnvelopeKind::request) {
      onward->reply() = current.reply();
      current.reply().reply_to = nullptr;  // the requester's reference goes with the request
    }
    if (current.urgent()) onward->mark_urgent();       // as urgent as the requester made it
    detail::deliver_as_marked(target.core(), onward);  // a refused request answers its requester
    return {};
  }

  // Messages to `target` later, or every `period`, from the system's timer thread.
  template <class M>
  Timer send_after(const DynamicHandle& target, Duration delay, M&& message);
  template <class M>
  Timer send_every(const DynamicHandle& target, Duration period, M&& message);

  // A receive timeout (Akka's setReceiveTimeout, Erlang's `after`): once this actor has handled
  // no message for `after`, counted from now, it gets a troupe::ReceiveTimeout; then another
  // after each further `after` without one, until it sets another time, or zero to stop.
  // - Every message handled counts (responses, Downs and Exits too); a ReceiveTimeout does not.
  // - It is the actor's, not a behavior's: the behavior current then handles it (one without a
  //   handler for it makes it a dead letter, as any message).
  // - While a handler's coroutine is suspended (a request, pace()), nothing else is handled: the
  //   wait counts as activity, and the timeout comes no earlier than `after` once it ends.
  // - Its timer runs in the background: it does not keep System::wait_idle() waiting (in
  //   deterministic mode, advance_time() reaches it). When the actor stops, it is cancelled.
  // Precision: the timer thread's, plus the time the actor waits for a worker.
  void set_receive_timeout(Duration after);
  Duration receive_timeout() const noexcept;  // zero when none is set

  // Spawns a sibling actor in this actor's system (see System::spawn).
  template <class F, class... A>
  requires std::invocable < std::decay_t<F>
  &, Context&, std::decay_t<A>&&... > auto spawn(F&& init, A&&... args);
  template <class Impl, class... A>
  requires requires(Impl& impl) { impl.behavior(); }
  auto spawn(A&&... args);

  // Spawns an actor already linked to this one (Erlang's spawn_link): the link is in place on
  // both sides before the child's first turn, so even a child that fails at once is seen
  // failing (its reason, never noproc). Otherwise as spawn.
  template <class F, class... A>
  requires std::invocable < std::decay_t<F>
  &, Context&, std::decay_t<A>&&... > auto spawn_link(F&& init, A&&... args);
  template <class F, class... A>
  requires std::invocable < std::decay_t<F>
  &, Context&, std::decay_t<A>&&... > auto spawn_link(SpawnOptions options, F&& init, A&&... args);
  template <class Impl, class... A>
  requires requires(Impl& impl) { impl.behavior(); }
  auto spawn_link(A&&... args);
  template <class Impl, class... A>
  requires requires(Impl& impl) { impl.behavior(); }
  auto spawn_link(SpawnOptions options, A&&... args);

  // A supervisor (see supervisor.hpp) linked to this actor, as spawn_link: if this actor fails,
  // the supervisor stops its children in order and exits; if the supervisor gives up, this actor
  // gets its exit (an Exit message, when trapping).
  SupervisorHandle spawn_supervisor(SupervisorSpec spec, std::vector<ChildSpec> children);

  // Changing behavior (context_behavior.cpp; owner only, in its handlers). The behaviors become
  // a stack whose bottom is the initial one (Akka's become/unbecome):
  // - become(b) replaces the top with b (the initial behavior itself is never dropped: becoming
  //   from it pushes b above it);
  // - become(keep_behavior, b) pushes b, keeping the current one for unbecome();
  // - unbecome() pops the top: back to the behavior below (nothing on the initial one).
  // It takes effect from the next message on. The actor's typed handle stays its initial
  // behavior's: a message the current behavior has no handler for goes the default way (dead
  // letter; a request gets Errc::unexpected_message), or to its catch-all (troupe::others).
  // Each become allocates the behavior; an actor that never calls it pays nothing.
  template <class... Fs>
  void become(Behavior<Fs...> next);
  template <class... Fs>
  void become(KeepBehavior, Behavior<Fs...> next);
  void unbecome();
  // stash(): sets the message being handled aside (in a handler that does not return Task; it
  // throws std::logic_error elsewhere). A stashed request keeps its reply obligation: what the
  // handler returns now is not sent; the reply goes when the message is handled again.
  // unstash_all(): puts every stashed message back, in the order they came, before every
  // message not yet handled (Downs and Exits made from signals still go first). A stashed
  // message still counts toward a bounded mailbox's capacity until it is handled for good;
  // when the actor stops, stashed messages become dead letters (requesters get dead_actor).
  void stash();
  void unstash_all();
  std::size_t stashed() const noexcept;  // messages stashed now

 private:
  friend class detail::ActorCell;  // the only class that derives from Context
  Context() = default;
  ~Context() = default;

  detail::ActorCell& cell() noexcept;
  const detail::ActorCell& cell() const noexcept;
  // The message a handler of this actor that does not return Task is handling; nullptr outside
  // its handlers, in a coroutine handler, or once the handler forwarded it (stash, delegate).
  Envelope* plain_handler_message() noexcept;
  // The same, for delegate(); std::logic_error where there is none.
  Envelope& message_to_delegate();
  // AnyMessage::forward: the message being handled goes to `target` as it is, and its handling
  // here leaves it alone (context.cpp).
  friend class AnyMessage;
  void forward_current(runtime::ActorCore* target);
  void become_erased(std::unique_ptr<detail::BehaviorBase> next, bool keep);
};

}  // namespace troupe

#include <troupe/actor_cell.hpp>  // the cell is complete wherever a Context is
