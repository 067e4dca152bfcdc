// A catch-all handler: troupe::others(f), the last handler of a behavior, gets every message the
// handlers before it do not take (CAF's `others`, Akka's `unhandled`), as an AnyMessage:
//
//   return troupe::behavior(
//       [](Ping p) { return p.n; },
//       troupe::others([&self](troupe::AnyMessage& m) {
//         if (m.is_request()) m.reply_error(troupe::Error{troupe::Errc::unexpected_message, "busy"});
//         else m.stash();  // or self.stash(): handled again after self.unstash_all()
//       }));
//
// A message the catch-all takes is handled: it is no dead letter. A request it neither answers,
// stashes nor forwards is answered with Errc::unexpected_message (naming the type), as a request
// the behavior has no handler for is; its requester never waits for its timeout.
#pragma once

#include <troupe/context.hpp>
#include <troupe/error.hpp>
#include <troupe/message.hpp>

#include <stdexcept>
#include <string_view>
#include <type_traits>
#include <utility>

namespace troupe {

class AnyMessage {
 public:
  AnyMessage(Context& self, Envelope& env) noexcept : self_(self), env_(env) {}
  AnyMessage(const AnyMessage&) = delete;
  AnyMessage& operator=(const AnyMessage&) = delete;

  // The message's type, as the compiler names it (e.g. "Ping", "std::vector<int>").
  std::string_view type_name() const noexcept { return env_.type()->name; }
  const MessageType& type() const noexcept { return *env_.type(); }
  template <class T>
  bool is() const noexcept {
    return env_.is(message_type<T>);
  }
  // The message, if it is a T; nullptr otherwise.
  template <class T>
  T* get() noexcept {
    return is<T>() ? &payload<T>(env_) : nullptr;
  }

  // A request whose requester still waits: not answered, not stashed, not forwarded.
  bool is_request() noexcept { return !forwarded_ && env_.reply_to() != nullptr; }
  // Answers the request (nothing for a one-way message or one already answered).
  template <class V>
  void reply(V&& value) {
    if (runtime::ActorCore* to = take_requester()) {
      detail::send_response(to, env_.reply().request_id, std::forward<V>(value));
      to->release();
    }
  }
  void reply_error(Error error) {
    if (runtime::ActorCore* to = take_requester()) {
      detail::send_response_error(to, env_.reply().request_id, std::move(error));
      to->release();
    }
  }
  // self.stash() of this message: handled again after unstash_all(), reply obligation kept.
  void stash() { self_.stash(); }

  // Passes this very message on to `target` (Akka's forward; Context::delegate for a handler
  // that knows the type): a request with its requester, id and timeout, so that `target`
  // answers the requester directly; a one-way message one-way. Nothing is copied. If `target`
  // has stopped, or its full mailbox refuses the message, a requester gets that error. After
  // it, this AnyMessage holds nothing: is_request() is false, reply() does nothing. Only in the
  // catch-all of a handler that does not return Task, once (std::logic_error otherwise).
  // Precondition: `target` is valid.
  void forward(const DynamicHandle& target) {
    if (forwarded_) throw std::logic_error("troupe: AnyMessage::forward() of a message already forwarded");
    self_.forward_current(target.core());
    forwarded_ = true;
  }

 private:
  runtime::ActorCore* take_requester() noexcept {
    return !forwarded_ && env_.reply_to() != nullptr ? std::exchange(env_.reply().reply_to, nullptr) : nullptr;
  }

  Context& self_;
  Envelope& env_;  // another actor's once forwarded: not touched after
  bool forwarded_ = false;
};

// The catch-all handler (see the top of this file); made by troupe::others(f).
template <class F>
struct Others {
  F handler;
};

template <class F>
Others<std::decay_t<F>> others(F&& handler) {
  static_assert(std::is_invocable_v<std::decay_t<F>&, AnyMessage&>,
                "troupe: troupe::others(f) takes a function of (troupe::AnyMessage&)");
  return Others<std::decay_t<F>>{std::forward<F>(handler)};
}

namespace detail {

template <class T>
struct is_others : std::false_type {};
template <class F>
struct is_others<Others<F>> : std::true_type {};

// Runs the catch-all; a request it left unanswered (and unstashed) gets unexpected_message.
template <class F>
void invoke_others(Others<F>& others, Context& self, Envelope& env) {
  AnyMessage message(self, env);
  others.handler(message);
  if (message.is_request()) {
    message.reply_error(Error{Errc::unexpected_message, std::string(env.type()->name)});
  }
}

}  // namespace detail
}  // namespace troupe
