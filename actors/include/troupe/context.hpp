// Context: an actor as its own handlers see it, and the actors layer's part of every actor
// (the turn loop, replies, awaiting a response, stopping).
#pragma once

#include <troupe/error.hpp>
#include <troupe/exit_reason.hpp>
#include <troupe/handle.hpp>
#include <troupe/message.hpp>
#include <troupe/promise.hpp>
#include <troupe/runtime/actor_core.hpp>
#include <troupe/runtime/mailbox_limit.hpp>
#include <troupe/runtime/timer_service.hpp>
#include <troupe/signals.hpp>
#include <troupe/task.hpp>

#include <chrono>
#include <concepts>
#include <coroutine>
#include <cstdint>
#include <optional>
#include <tuple>
#include <string_view>
#include <utility>
#include <vector>

namespace troupe {

class System;
class Context;
struct SpawnOptions;
struct SupervisorSpec;
struct ChildSpec;
class SupervisorHandle;
using Timer = runtime::TimerService::Handle;
using Duration = std::chrono::steady_clock::duration;

inline constexpr Duration default_request_timeout = std::chrono::seconds(5);

namespace detail {
struct ActorExtras;
struct LiveLinks {
  Context* prev = nullptr;
  Context* next = nullptr;
};
// Fills the awaiting request's result from a response (or from an error when `response` is null).
using DeliverFn = void (*)(void* awaitable, Envelope* response, Error* error);
}  // namespace detail

// What `co_await self.request(...)` gives: the reply, or an Error (timeout, dead_actor, ...).
template <class R>
class [[nodiscard]] RequestAwaitable {
 public:
  RequestAwaitable(Context& self, runtime::ActorCore* target, Envelope* request, Duration timeout) noexcept
      : self_(self), target_(target), request_(request), timeout_(timeout) {}
  RequestAwaitable(const RequestAwaitable&) = delete;
  // Movable until awaited (troupe::all collects them); once sent, its address is registered.
  RequestAwaitable(RequestAwaitable&& other) noexcept
      : self_(other.self_),
        target_(other.target_),
        request_(std::exchange(other.request_, nullptr)),
        timeout_(other.timeout_),
        result_(std::move(other.result_)) {}
  ~RequestAwaitable() {
    if (request_ != nullptr) dispose(request_);  // never awaited: never sent
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h);
  Result<R> await_resume() { return std::move(*result_); }

  // For troupe::all: sends the request; false if its result is already there.
  bool start(std::coroutine_handle<> h) { return await_suspend(h); }

 private:
  static void deliver(void* self, Envelope* response, Error* error) {
    auto* me = static_cast<RequestAwaitable*>(self);
    if (response != nullptr) {
      me->result_.emplace(detail::read_response<R>(*response));
    } else {
      me->result_.emplace(std::move(*error));
    }
  }

  Context& self_;
  runtime::ActorCore* target_;
  Envelope* request_;
  Duration timeout_;
  std::optional<Result<R>> result_;
};

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

  // A request to `target`, to `co_await` inside a handler that returns Task<...>. The reply type
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
    requires std::invocable<std::decay_t<F>&, Context&, std::decay_t<A>&&...>
  auto spawn(F&& init, A&&... args);
  template <class Impl, class... A>
    requires requires(Impl& impl) { impl.behavior(); }
  auto spawn(A&&... args);

  // Spawns an actor already linked to this one (Erlang's spawn_link): the link is in place on
  // both sides before the child's first turn, so even a child that fails at once is seen
  // failing (its reason, never noproc). Otherwise as spawn.
  template <class F, class... A>
    requires std::invocable<std::decay_t<F>&, Context&, std::decay_t<A>&&...>
  auto spawn_link(F&& init, A&&... args);
  template <class F, class... A>
    requires std::invocable<std::decay_t<F>&, Context&, std::decay_t<A>&&...>
  auto spawn_link(SpawnOptions options, F&& init, A&&... args);
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
  // Sends the request and suspends the awaiting coroutine; false (do not suspend, the result is
  // already delivered) when the target handle is empty.
  bool begin_request(runtime::ActorCore* target, Envelope* request, Duration timeout, std::coroutine_handle<> h,
                     detail::DeliverFn deliver, void* awaitable);
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
  virtual void construct() = 0;                // builds the state (first turn)
  virtual void dispatch(Envelope& env) = 0;    // runs the handler for env's type
  virtual void destruct() noexcept = 0;        // destroys the state

  // Marks the actor stopped and turns the rest of its mailbox, and all later messages, into
  // dead letters. Consumer only.
  void close_mailbox() noexcept;
  void dead_letter(Envelope* env) noexcept;
  enum LifecycleFlag : std::uint8_t {
    kConstructed = 1,
    kExiting = 2,
    kTerminated = 4,
    kEnvelopeAdopted = 8,  // the handler's coroutine keeps the current envelope until it ends
    kTrapExits = 16,
    kEndTurn = 32,  // a send of this turn muted the actor: handle no more messages this turn
  };

 private:
  bool awaiting() const noexcept;
  Envelope* next_envelope(bool& urgent) noexcept;
  void handle(Envelope* env, bool urgent = false) noexcept;
  // A counted user message leaves the mailbox's count (bounded mailboxes only).
  void message_taken() noexcept {
    if (runtime::MailboxLimit* limit = mailbox_limit()) [[unlikely]] limit->consumed();
  }
  void handle_response(Envelope* env) noexcept;
  void handle_message(Envelope* env, bool urgent) noexcept;
  void take_signals() noexcept;
  void handle_signal(Envelope* env) noexcept;
  void dead_signal(Envelope* env) noexcept;
  void drop_stashed_down(MonitorRef ref) noexcept;
  void propagate_exit(const ExitReason& reason) noexcept;
  void run_handler(Envelope& env);
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

template <class R>
bool RequestAwaitable<R>::await_suspend(std::coroutine_handle<> h) {
  return self_.begin_request(target_, std::exchange(request_, nullptr), timeout_, h, &deliver, this);
}

// Awaits several requests at once (they run concurrently); gives a tuple of their Results.
//   auto [a, b] = co_await troupe::all(self.request(x, Ask{}), self.request(y, Ask{}));
template <class... R>
class [[nodiscard]] AllAwaitable {
 public:
  explicit AllAwaitable(RequestAwaitable<R>&&... requests) : requests_(std::move(requests)...) {}
  bool await_ready() const noexcept { return sizeof...(R) == 0; }
  bool await_suspend(std::coroutine_handle<> h) {
    return std::apply([h](auto&... r) { return (0 + ... + static_cast<int>(r.start(h))) > 0; }, requests_);
  }
  std::tuple<Result<R>...> await_resume() {
    return std::apply([](auto&... r) { return std::tuple<Result<R>...>(r.await_resume()...); }, requests_);
  }

 private:
  std::tuple<RequestAwaitable<R>...> requests_;
};

template <class... R>
AllAwaitable<R...> all(RequestAwaitable<R>&&... requests) {
  return AllAwaitable<R...>(std::move(requests)...);
}

}  // namespace troupe
