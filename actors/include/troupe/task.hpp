// Coroutines inside actors. A handler that returns Task<T> may `co_await` requests to other
// actors; its T (when the message was a request) is the reply, sent when the coroutine finishes.
// A Task<Result<T>> replies with the value or with the Error, without stopping the actor.
//
// g++ 12 caveat: an aggregate message with non-trivial members (a std::string, say) built as a
// temporary inside the co_await expression is miscompiled (copied bitwise, then freed twice).
// Build such a message in its own statement — `Query q{...}; co_await self.request(h, std::move(q));`
// — or give its type a constructor. Messages of trivial types are not affected.
//
// While a handler's coroutine is suspended, its actor handles nothing else: other messages wait
// in order until the awaited response or its timeout arrives (like a gen_server call in Erlang).
// The actor's state is therefore never seen half-way through a handler. A cycle A→B→A cannot
// deadlock silently: A's request times out, A goes on and then answers B.
#pragma once

#include <troupe/error.hpp>
#include <troupe/message.hpp>

#include <coroutine>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>

#include <troupe/runtime/actor_core.hpp>
#include <troupe/runtime/pool.hpp>

namespace troupe {

namespace detail {

// A coroutine's value as the reply: a Result<T> replies with its value or its Error.
template <class V>
void send_result(runtime::ActorCore* reply_to, std::uint64_t request_id, V&& value) noexcept {
  send_response(reply_to, request_id, std::forward<V>(value));
}
template <class T>
void send_result(runtime::ActorCore* reply_to, std::uint64_t request_id, Result<T>&& result) noexcept {
  if (!result.ok()) {
    send_response_error(reply_to, request_id, result.error());
  } else if constexpr (std::is_void_v<T>) {
    send_response(reply_to, request_id, Unit{});
  } else {
    send_response(reply_to, request_id, std::move(result).value());
  }
}

struct TaskPromiseBase {
  std::coroutine_handle<> continuation;  // the task awaiting this one, when nested
  std::exception_ptr exception;
  // Set for a top-level task started for a request: where the reply goes.
  runtime::ActorCore* reply_to = nullptr;
  std::uint64_t request_id = 0;
  void (*send_reply)(TaskPromiseBase&) noexcept = nullptr;  // sends the returned value

  static void* operator new(std::size_t bytes) { return runtime::pool_allocate(bytes); }
  static void operator delete(void* block, std::size_t bytes) noexcept { runtime::pool_free(block, bytes); }

  struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) noexcept {
      // Nested: resume the awaiting task. Top-level: return to the actor, which sees done().
      if (auto next = h.promise().continuation) return next;
      return std::noop_coroutine();
    }
    void await_resume() const noexcept {}
  };
  std::suspend_always initial_suspend() const noexcept { return {}; }
  FinalAwaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { exception = std::current_exception(); }
};

}  // namespace detail

template <class T = void>
class [[nodiscard]] Task {
 public:
  struct promise_type : detail::TaskPromiseBase {
    promise_type() noexcept { send_reply = &reply_with_value; }
    Task get_return_object() noexcept { return Task(std::coroutine_handle<promise_type>::from_promise(*this)); }
    void return_value(T v) { value.emplace(std::move(v)); }
    static void reply_with_value(detail::TaskPromiseBase& base) noexcept {
      auto& self = static_cast<promise_type&>(base);
      detail::send_result(self.reply_to, self.request_id, std::move(*self.value));
    }
    std::optional<T> value;
  };

  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&&) = delete;
  ~Task() {
    if (handle_) handle_.destroy();
  }

  // Awaiting a Task from another Task runs it to completion and gives its value.
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
    handle_.promise().continuation = awaiting;
    return handle_;
  }
  T await_resume() {
    auto& p = handle_.promise();
    if (p.exception) std::rethrow_exception(p.exception);
    return std::move(*p.value);
  }

  std::coroutine_handle<promise_type> release() noexcept { return std::exchange(handle_, {}); }

 private:
  explicit Task(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
  std::coroutine_handle<promise_type> handle_;
};

template <>
class [[nodiscard]] Task<void> {
 public:
  struct promise_type : detail::TaskPromiseBase {
    promise_type() noexcept { send_reply = &reply_with_unit; }
    Task get_return_object() noexcept { return Task(std::coroutine_handle<promise_type>::from_promise(*this)); }
    void return_void() noexcept {}
    static void reply_with_unit(detail::TaskPromiseBase& base) noexcept {
      detail::send_response(base.reply_to, base.request_id, Unit{});
    }
  };

  Task(Task&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Task& operator=(Task&&) = delete;
  ~Task() {
    if (handle_) handle_.destroy();
  }

  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> awaiting) noexcept {
    handle_.promise().continuation = awaiting;
    return handle_;
  }
  void await_resume() {
    if (auto e = handle_.promise().exception) std::rethrow_exception(e);
  }

  std::coroutine_handle<promise_type> release() noexcept { return std::exchange(handle_, {}); }

 private:
  explicit Task(std::coroutine_handle<promise_type> h) noexcept : handle_(h) {}
  std::coroutine_handle<promise_type> handle_;
};

template <class T>
struct is_task : std::false_type {};
template <class T>
struct is_task<Task<T>> : std::true_type {
  using value_type = T;
};

}  // namespace troupe
