// A behavior: the handlers of an actor, one per message type, written as lambdas.
//
//   return troupe::behavior(
//       [this](Increment) { ++count_; },            // one-way; a request of it gets Unit
//       [this](Get) { return count_; },              // a request of Get gets an int
//       [&](Fetch f) -> troupe::Task<Data> { ... }); // may co_await other actors
//
// Each lambda takes exactly one parameter, the message (by value, reference or const reference).
// What it returns is the reply to a request: a value, a Result<T> (value or Error), a Task<T>
// (a coroutine), or a Promise<T> taken with self.promise<T>() (a reply given later). The last
// handler may be troupe::others(f), a catch-all (any_message.hpp).
//
// A message no handler takes is a dead letter of reason `unhandled` (DeadLetter), and a request
// of it is answered with Errc::unexpected_message: see detail::unexpected_message.
//
// An actor may change its behavior: self.become(b) and self.unbecome() (context.hpp); the
// behaviors it becomes are kept type-erased (BehaviorBase, below).
#pragma once

#include <troupe/any_message.hpp>
#include <troupe/context.hpp>
#include <troupe/error.hpp>
#include <troupe/handle.hpp>
#include <troupe/message.hpp>
#include <troupe/task.hpp>

#include <cstddef>
#include <memory>
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
template <class F>
struct handler_traits<Others<F>, void> {  // the catch-all: no message type of its own
  static constexpr bool valid = true;
};

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

// What happens to a message no handler takes (and no catch-all): a dead letter of reason
// `unhandled`; a request's requester gets Errc::unexpected_message naming the type.
void unexpected_message(Context& self, Envelope& env);

// The typed handle of a behavior: one signature per handler, the catch-all left out.
template <class Handle, class... Fs>
struct handle_of {
  using type = Handle;
};
template <class... Sigs, class F, class... Rest>
struct handle_of<Handle<Sigs...>, F, Rest...> {
  using type = typename handle_of<Handle<Sigs..., handler_signature<F>>, Rest...>::type;
};
template <class... Sigs, class F, class... Rest>
struct handle_of<Handle<Sigs...>, Others<F>, Rest...> {
  using type = typename handle_of<Handle<Sigs...>, Rest...>::type;
};

template <class F>
constexpr bool returns_task() noexcept {
  if constexpr (is_others<F>::value) {
    return false;
  } else {
    return is_task<typename handler_traits<F>::result>::value;
  }
}

// Whether the behavior has no catch-all, or one only, as its last handler.
template <class... Fs>
constexpr bool catch_all_last() noexcept {
  constexpr std::size_t n = (std::size_t{0} + ... + std::size_t{is_others<Fs>::value});
  if constexpr (n == 0) {
    return true;
  } else {
    return n == 1 && is_others<std::tuple_element_t<sizeof...(Fs) - 1, std::tuple<Fs...>>>::value;
  }
}

// Whether handler F takes messages of type `t` (a catch-all takes every type).
template <class F>
bool takes(const MessageType* t) noexcept {
  if constexpr (is_others<F>::value) {
    return true;
  } else {
    return t == &message_type<typename handler_traits<F>::message>;
  }
}

template <class F>
void invoke_handler(F& f, Context& self, Envelope& env) {
  using Traits = handler_traits<F>;
  using Param = typename Traits::param;
  using R = typename Traits::result;
  auto& value = payload<typename Traits::message>(env);
  const bool wants_reply = env.kind() == EnvelopeKind::request;
  if constexpr (is_task<R>::value) {
    static_cast<ActorCell&>(self).start_task(f(static_cast<Param&&>(value)), env);
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
  static_assert(detail::catch_all_last<Fs...>(),
                "troupe: troupe::others(...) must be the last handler of a behavior, and there may be only one");

 public:
  // The catch-all adds no signature: the handle sends only the types named by handlers.
  using handle_type = typename detail::handle_of<Handle<>, Fs...>::type;
  static constexpr bool has_task_handler = (detail::returns_task<Fs>() || ...);

  explicit Behavior(Fs... handlers) : handlers_(std::move(handlers)...) {}

  // Whether a message of type `t` reaches a handler (always, with a catch-all). Static: it
  // depends on the behavior's type only, so it may be asked from any thread.
  static bool handles(const MessageType* t) noexcept { return (detail::takes<Fs>(t) || ...); }

  void dispatch(Context& self, Envelope& env) {
    if (!dispatch_to(self, env, std::index_sequence_for<Fs...>{})) detail::unexpected_message(self, env);
  }

 private:
  template <std::size_t... I>
  bool dispatch_to(Context& self, Envelope& env, std::index_sequence<I...>) {
    return (dispatch_one<Fs>(std::get<I>(handlers_), self, env) || ...);
  }
  template <class F>
  static bool dispatch_one(F& f, Context& self, Envelope& env) {
    if constexpr (detail::is_others<F>::value) {
      detail::invoke_others(f, self, env);
      return true;
    } else {
      if (!env.is(message_type<typename detail::handler_traits<F>::message>)) return false;
      detail::invoke_handler(f, self, env);
      return true;
    }
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

namespace detail {

// A behavior of any handler types, as become() keeps it (one allocation per become).
struct BehaviorBase {
  virtual ~BehaviorBase() = default;
  virtual void dispatch(Context& self, Envelope& env) = 0;
  virtual bool handles(const MessageType* t) const noexcept = 0;
};

template <class B>
struct BehaviorBox final : BehaviorBase {
  explicit BehaviorBox(B&& b) : behavior(std::move(b)) {}
  void dispatch(Context& self, Envelope& env) override { behavior.dispatch(self, env); }
  bool handles(const MessageType* t) const noexcept override { return behavior.handles(t); }
  B behavior;
};

}  // namespace detail

template <class... Fs>
void Context::become(Behavior<Fs...> next) {
  become_erased(std::make_unique<detail::BehaviorBox<Behavior<Fs...>>>(std::move(next)), false);
}

template <class... Fs>
void Context::become(KeepBehavior, Behavior<Fs...> next) {
  become_erased(std::make_unique<detail::BehaviorBox<Behavior<Fs...>>>(std::move(next)), true);
}

}  // namespace troupe
