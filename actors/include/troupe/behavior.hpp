// A behavior: the handlers of an actor, one per message type, written as lambdas.
//
//   return troupe::behavior(
//       [this](Increment) { ++count_; },            // one-way; a request of it gets Unit
//       [this](Get) { return count_; },              // a request of Get gets an int
//       [&](Fetch f) -> troupe::Task<Data> { ... }); // may co_await other actors
//
// Each lambda takes exactly one parameter, the message (by value, reference or const reference).
// What it returns is the reply to a request: a value, a Result<T> (value or Error), a Task<T>
// (a coroutine), or a Promise<T> taken with self.promise<T>() (a reply given later).
#pragma once

#include <troupe/context.hpp>
#include <troupe/error.hpp>
#include <troupe/handle.hpp>
#include <troupe/message.hpp>
#include <troupe/task.hpp>

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

namespace troupe {

namespace detail {

template <class T>
struct is_result : std::false_type {};
template <class T>
struct is_result<Result<T>> : std::true_type {
  using value_type = T;
};

template <class F, class = void>
struct handler_traits {
  static constexpr bool valid = false;
};
template <class C, class R, class A>
struct member_call {
  static constexpr bool valid = true;
  using param = A;
  using message = std::decay_t<A>;
  using result = R;
};
template <class F>
struct handler_traits<F, std::void_t<decltype(&F::operator())>> : handler_traits<decltype(&F::operator())> {};
template <class C, class R, class A>
struct handler_traits<R (C::*)(A)> : member_call<C, R, A> {};
template <class C, class R, class A>
struct handler_traits<R (C::*)(A) const> : member_call<C, R, A> {};
template <class C, class R, class A>
struct handler_traits<R (C::*)(A) noexcept> : member_call<C, R, A> {};
template <class C, class R, class A>
struct handler_traits<R (C::*)(A) const noexcept> : member_call<C, R, A> {};

// What a request of this handler's message is answered with.
template <class R>
struct reply_from_return {
  using type = R;
};
template <class T>
struct reply_from_return<Task<T>> {
  using type = T;
};
template <class T>
struct reply_from_return<Task<Result<T>>> {
  using type = T;
};
template <class T>
struct reply_from_return<Result<T>> {
  using type = T;
};
template <class T>
struct reply_from_return<Promise<T>> {
  using type = T;
};

template <class F>
using handler_signature =
    typename reply_from_return<typename handler_traits<F>::result>::type(typename handler_traits<F>::message);

void unexpected_message(Context& self, Envelope& env);

template <class F>
void invoke_handler(F& f, Context& self, Envelope& env) {
  using Traits = handler_traits<F>;
  using Param = typename Traits::param;
  using R = typename Traits::result;
  auto& value = payload<typename Traits::message>(env);
  const bool wants_reply = env.kind() == EnvelopeKind::request;
  if constexpr (is_task<R>::value) {
    self.start_task(f(static_cast<Param&&>(value)), env);
  } else if constexpr (is_promise<R>::value) {
    (void)f(static_cast<Param&&>(value));  // the promise's holders reply
  } else if constexpr (std::is_void_v<R>) {
    f(static_cast<Param&&>(value));
    if (wants_reply) send_response(env.reply().reply_to, env.reply().request_id, Unit{});
  } else if constexpr (is_result<R>::value) {
    R result = f(static_cast<Param&&>(value));
    if (!wants_reply) return;
    if (!result.ok()) {
      send_response_error(env.reply().reply_to, env.reply().request_id, result.error());
    } else if constexpr (std::is_void_v<typename is_result<R>::value_type>) {
      send_response(env.reply().reply_to, env.reply().request_id, Unit{});
    } else {
      send_response(env.reply().reply_to, env.reply().request_id, std::move(result).value());
    }
  } else {
    R result = f(static_cast<Param&&>(value));
    if (wants_reply) send_response(env.reply().reply_to, env.reply().request_id, std::move(result));
  }
}

}  // namespace detail

template <class... Fs>
class Behavior {
  static_assert((detail::handler_traits<Fs>::valid && ...),
                "troupe: every handler of a behavior must be a lambda (or function object) taking exactly "
                "one parameter, the message, with a return type the compiler can know. The usual causes: "
                "a handler that uses co_await without declaring `-> troupe::Task<T>` (a coroutine's "
                "return type cannot be deduced; see the first error above), or a generic (auto) "
                "parameter (name the message type instead).");

 public:
  using handle_type = Handle<detail::handler_signature<Fs>...>;

  explicit Behavior(Fs... handlers) : handlers_(std::move(handlers)...) {}

  // Whether one of the handlers takes messages of `type` (a fold over the handlers' message
  // types; static: it depends on the behavior's type only, so it may be asked from any thread).
  static bool handles(const MessageType* type) noexcept {
    return ((type == &message_type<typename detail::handler_traits<Fs>::message>) || ...);
  }

  void dispatch(Context& self, Envelope& env) {
    if (!dispatch_to(self, env, std::index_sequence_for<Fs...>{})) detail::unexpected_message(self, env);
  }

 private:
  template <std::size_t... I>
  bool dispatch_to(Context& self, Envelope& env, std::index_sequence<I...>) {
    return ((env.is(message_type<typename detail::handler_traits<Fs>::message>)
                 ? (detail::invoke_handler(std::get<I>(handlers_), self, env), true)
                 : false) ||
            ...);
  }

  std::tuple<Fs...> handlers_;
};

template <class T>
struct is_behavior : std::false_type {};
template <class... Fs>
struct is_behavior<Behavior<Fs...>> : std::true_type {};

template <class... Fs>
Behavior<std::decay_t<Fs>...> behavior(Fs&&... handlers) {
  return Behavior<std::decay_t<Fs>...>(std::forward<Fs>(handlers)...);
}

}  // namespace troupe
