// An actor for threads that are not actors (main(), tests, other libraries' threads): it has a
// mailbox and a handle, and its owner blocks on it to receive messages and replies, with a timeout.
#pragma once

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
}

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
    auto* envelope = make_envelope<std::decay_t<M>>(EnvelopeKind::request, std::forward<M>(message));
    Envelope* response = nullptr;
    const Errc failure = send_and_wait(target.core(), envelope, timeout, response);
    if (response == nullptr) return Result<Reply>(failure);
    Result<Reply> result = detail::read_response<Reply>(*response);
    dispose(response);
    return result;
  }

  // Blocks until a message of type T arrives (or the timeout: Errc::timeout). Messages of other
  // types that arrive meanwhile stay queued, in order, for later calls.
  template <class T>
  Result<T> receive(Duration timeout = default_request_timeout) {
    Envelope* env = wait_for(&message_type<T>, 0, timeout);
    if (env == nullptr) return Result<T>(Errc::timeout);
    Result<T> result(std::move(payload<T>(*env)));
    dispose(env);
    return result;
  }

  // Number of messages received but not yet taken by receive().
  std::size_t queued() const noexcept;

  // Monitors `target`: receive<Down>() gets the Down when it stops (at once if it has already
  // stopped). A ScopedActor cannot link or trap exits; an actor that links to or monitors a
  // ScopedActor is told when the ScopedActor is destroyed (Exit noproc, or Down normal).
  MonitorRef monitor(const DynamicHandle& target);

 private:
  Errc send_and_wait(runtime::ActorCore* target, Envelope* request, Duration timeout, Envelope*& response);
  // The first queued or arriving one-way message of `type`, or the response to `request_id`.
  Envelope* wait_for(const MessageType* type, std::uint64_t request_id, Duration timeout);

  detail::ScopedCore* core_;
};

}  // namespace troupe
