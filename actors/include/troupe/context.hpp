// Context: an actor as its own handlers see it, and the actors layer's part of every actor
// (the turn loop, replies, awaiting a response, stopping).
#pragma once

#include <troupe/error.hpp>
#include <troupe/exit_reason.hpp>
#include <troupe/handle.hpp>
#include <troupe/message.hpp>
#include <troupe/promise.hpp>
#include <troupe/request.hpp>
#include <troupe/runtime/actor_core.hpp>
#include <troupe/runtime/mailbox_limit.hpp>
#include <troupe/runtime/timer_service.hpp>
#include <troupe/signals.hpp>
#include <troupe/task.hpp>

#include <chrono>
#include <concepts>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

namespace troupe {

class System;
class Context;
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
struct ActorExtras;
struct BehaviorBase;
struct LiveLinks {
  Context* prev = nullptr;
  Context* next = nullptr;
};
}  // namespace detail

class Context : public runtime::ActorCore {
 public:
  System& system() const noexcept { return *system_; }
  // A handle to this actor, to hand to others.
  DynamicHandle self() const noexcept { return DynamicHandle::share(const_cast<Context*>(this)); }

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
  bool trapping_exits() const noexcept { return (layer_flags_ & kTrapExits) != 0; }
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

  // Inside a request's handler: take over its reply, to give it later (return the promise from
  // the handler). For a one-way message the promise is inert.
  template <class T>
  Promise<T> promise() {
    Envelope* current = current_message();
    if (current == nullptr || current->reply_to() == nullptr) return Promise<T>::adopt(nullptr, 0);
    return Promise<T>::adopt(std::exchange(current->reply().reply_to, nullptr), current->reply().request_id);
  }

  // Messages to `target` later, or every `period`, from the system's timer thread.
  template <class M>
  Timer send_after(const DynamicHandle& target, Duration delay, M&& message);
  template <class M>
  Timer send_every(const DynamicHandle& target, Duration period, M&& message);

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
  // The behavior become() put on top, or nullptr while the initial behavior is current.
  const detail::BehaviorBase* became() const noexcept;

  // The actor's type, for diagnostics.
  std::string_view name() const noexcept override = 0;
  // Whether this actor has a handler for messages of `type`: what a typed lookup or spawn checks
  // (Errc::interface_mismatch). Any thread, any time: an actor spawned from a behavior answers for
  // the behavior it was spawned with (its type; spawn.hpp). A context built from no behavior (a
  // ScopedActor) takes any type.
  virtual bool handles(const MessageType* type) const noexcept {
    (void)type;
    return true;
  }

  // Internals, used by the runtime and by System.
  runtime::TurnResult resume() noexcept final;
  template <class T>
  void start_task(Task<T> task, Envelope& env) {
    auto h = task.release();
    start_task_erased(h, h.promise(), env);
  }
  detail::LiveLinks& live_links() noexcept { return live_links_; }
  // Links this actor (on its own thread) and `child`, which has not started yet, on both sides.
  // Strong guarantee: throws (no memory) with neither side changed.
  void link_unstarted(Context& child);
  // The message whose handler runs on this thread now (nullptr outside handlers).
  static Envelope* current_message() noexcept;
  // The actor whose turn runs on this thread (nullptr outside turns).
  static Context* current_actor() noexcept;
  // Owner, in a turn: handle no more messages this turn (backpressure muted the actor).
  void end_turn_early() noexcept { layer_flags_ |= kEndTurn; }
  // Pusher side: drains a stopped actor's mailbox as dead letters.
  void drain_dead_letters() noexcept;
  // The reason the actor stopped (normal while it runs). Owner, or anyone after it stopped.
  ExitReason exit_reason() const;

 protected:
  Context(System& system, runtime::Executor* executor) noexcept;
  ~Context() override;

  // Implemented by each actor type (see spawn.hpp).
  virtual void construct() = 0;              // builds the state (first turn)
  virtual void dispatch(Envelope& env) = 0;  // runs the handler for env's type
  virtual void destruct() noexcept = 0;      // destroys the state

  // Marks the actor stopped and turns the rest of its mailbox, and all later messages, into
  // dead letters. Consumer only.
  void close_mailbox() noexcept;
  void dead_letter(Envelope* env) noexcept;
  enum LifecycleFlag : std::uint8_t {
    kConstructed = 1,
    kExiting = 2,
    kTerminated = 4,
    kEnvelopeAdopted = 8,  // the handler's coroutine, or the user's stash, keeps the current envelope
    kTrapExits = 16,
    kEndTurn = 32,  // a send of this turn muted the actor: handle no more messages this turn
    kBecame = 64,   // become() was used: dispatch through dispatch_became (context_behavior.cpp)
  };

 private:
  bool awaiting() const noexcept;
  Envelope* next_envelope(bool& urgent) noexcept;
  void handle(Envelope* env, bool urgent = false) noexcept;
  // A counted user message leaves the mailbox's count (bounded mailboxes only).
  void message_taken() noexcept {
    if (runtime::MailboxLimit* limit = mailbox_limit()) [[unlikely]]
      limit->consumed();
  }
  void handle_response(Envelope* env) noexcept;
  void run_continuation(detail::Continuation& continuation, Envelope* env) noexcept;
  void abandon_awaited() noexcept;
  friend struct detail::Requests;
  void handle_message(Envelope* env, bool urgent) noexcept;
  void take_signals() noexcept;
  void handle_signal(Envelope* env) noexcept;
  void dead_signal(Envelope* env) noexcept;
  void drop_stashed_down(MonitorRef ref) noexcept;
  void propagate_exit(const ExitReason& reason) noexcept;
  void run_handler(Envelope& env);
  // Behavior changes and the user's stash (context_behavior.cpp).
  void become_erased(std::unique_ptr<detail::BehaviorBase> next, bool keep);
  void dispatch_became(Envelope& env);
  void end_behaviors() noexcept;
  void start_task_erased(std::coroutine_handle<> h, detail::TaskPromiseBase& promise, Envelope& env);
  void after_task_step() noexcept;
  void fail(std::string why) noexcept;
  void stop_with(ExitReason reason) noexcept;
  void terminate() noexcept;
  detail::ActorExtras& extras();

  System* system_;
  detail::ActorExtras* extras_ = nullptr;  // allocated on first request, coroutine or quit
  detail::LiveLinks live_links_;
};

}  // namespace troupe
