// An actor for threads that are not actors (main(), tests, other libraries' threads): it has a
// mailbox and a handle, and its owner blocks on it to receive messages and replies, with a timeout.
#pragma once

#include <troupe/behavior.hpp>
#include <troupe/context.hpp>
#include <troupe/error.hpp>
#include <troupe/handle.hpp>
#include <troupe/message.hpp>
#include <troupe/system.hpp>

#include <chrono>
#include <type_traits>
#include <utility>

namespace troupe {

namespace detail {
class ScopedCore;
// Which messages a receive takes: those of `type`, or, with `accepts`, those it accepts.
struct ReceiveFilter {
  const MessageType* type;
  bool (*accepts)(const void* context, const MessageType* type) noexcept;
  const void* context;
  bool takes(const MessageType* t) const noexcept { return accepts != nullptr ? accepts(context, t) : t == type; }
};
}  // namespace detail

class ScopedActor {
 public:
  explicit ScopedActor(System& system);
  // Stops the scoped actor: what is left in its mailbox, and what arrives later, is dead letters.
  ~ScopedActor();
  ScopedActor(const ScopedActor&) = delete;
  ScopedActor& operator=(const ScopedActor&) = delete;

  // A handle others can send to (or reply to).
  DynamicHandle handle() const noexcept;

  // Sends a request and blocks until its reply or the timeout. Other messages that arrive
  // meanwhile stay queued, in order, for receive().
  template <class R = void, class H, class M>
  auto request(const H& target, M&& message, Duration timeout = default_request_timeout) {
    using Reply = request_reply_t<R, H, std::decay_t<M>>;
    return request_with<Reply>(
        target.core(), make_envelope<std::decay_t<M>>(EnvelopeKind::request, std::forward<M>(message)), timeout);
  }

  // As request(), urgent: the target handles it before the messages queued ahead of it, as it
  // does a message sent with DynamicHandle::send_urgent.
  template <class R = void, class H, class M>
  auto request_urgent(const H& target, M&& message, Duration timeout = default_request_timeout) {
    using Reply = request_reply_t<R, H, std::decay_t<M>>;
    auto* envelope = make_envelope<std::decay_t<M>>(EnvelopeKind::request, std::forward<M>(message));
    envelope->mark_urgent();
    return request_with<Reply>(target.core(), envelope, timeout);
  }

  // Blocks until a message of type T arrives (or the timeout: Errc::timeout). Messages of other
  // types that arrive meanwhile stay queued, in order, for later calls.
  template <class T>
  Result<T> receive(Duration timeout = default_request_timeout) {
    Envelope* env = wait_for(detail::ReceiveFilter{&message_type<T>, nullptr, nullptr}, 0, timeout);
    if (env == nullptr) return Result<T>(Errc::timeout);
    Result<T> result(std::move(payload<T>(*env)));
    dispose(env);
    return result;
  }

  // Blocks until a message that one of the behavior's handlers takes arrives (or the timeout:
  // Errc::timeout), and runs that handler; the others stay queued, in order, for later calls.
  // A request is answered as an actor's handler answers it: with what the handler returns (a
  // value, Unit for void, or the Error of a Result). A troupe::others(...) catch-all takes any
  // message (and a Down; stash() there throws: a ScopedActor has no stash). Handlers may not
  // return Task; an exception from a handler is rethrown here (a request gets actor_failed).
  //   me.receive(troupe::behavior([&](Ping p) { ... }, [&](Stop) { ... }), 2s);
  template <class B>
    requires is_behavior<std::remove_cvref_t<B>>::value
  Result<void> receive(B&& behavior, Duration timeout = default_request_timeout) {
    static_assert(!std::remove_cvref_t<B>::has_task_handler,
                  "troupe: ScopedActor::receive runs handlers on the calling thread; a handler there cannot "
                  "return troupe::Task (use request() to wait for replies)");
    using Beh = std::remove_cvref_t<B>;
    const auto accepts = [](const void* b, const MessageType* t) noexcept {
      return static_cast<const Beh*>(b)->handles(t);
    };
    Envelope* env = wait_for(detail::ReceiveFilter{nullptr, accepts, &behavior}, 0, timeout);
    if (env == nullptr) return Result<void>(Errc::timeout);
    run_scoped(
        env, [](void* b, Context& self, Envelope& e) { static_cast<Beh*>(b)->dispatch(self, e); },
        const_cast<Beh*>(&behavior));
    return Result<void>{};
  }

  // Number of messages received but not yet taken by receive().
  std::size_t queued() const noexcept;

  // Monitors `target`: receive<Down>() gets the Down when it stops (at once if it has already
  // stopped). A ScopedActor cannot link or trap exits; an actor that links to or monitors a
  // ScopedActor is told when the ScopedActor is destroyed (Exit noproc, or Down normal).
  MonitorRef monitor(const DynamicHandle& target);

 private:
  template <class Reply>
  Result<Reply> request_with(runtime::ActorCore* target, Envelope* envelope, Duration timeout) {
    Envelope* response = nullptr;
    const Errc failure = send_and_wait(target, envelope, timeout, response);
    if (response == nullptr) return Result<Reply>(failure);
    Result<Reply> result = detail::read_response<Reply>(*response);
    dispose(response);
    return result;
  }
  // Sends `request` (as marked: urgent or not) and waits for its response.
  Errc send_and_wait(runtime::ActorCore* target, Envelope* request, Duration timeout, Envelope*& response);
  // The first queued or arriving message the filter takes, or the response to `request_id`.
  Envelope* wait_for(detail::ReceiveFilter filter, std::uint64_t request_id, Duration timeout);
  // Runs `run` on the envelope (a behavior's handler), then disposes of it; a request whose handler
  // throws is answered with actor_failed before the exception goes on.
  void run_scoped(Envelope* env, void (*run)(void*, Context&, Envelope&), void* context);

  detail::ScopedCore* core_;
};

}  // namespace troupe
