// Requests from inside an actor: what `self.request(target, message, timeout)` gives, and the
// ways to take its reply.
//
//   auto r = co_await self.request(h, Get{});             // suspends the handler (a Task) until
//                                                         // the reply; the actor waits with it
//   self.request(h, Get{}).then(on_reply, on_error);      // does not suspend: the actor goes on
//                                                         // with other messages meanwhile
//   auto [a, b] = co_await troupe::all(self.request(x, Get{}), self.request(y, Get{}));
//   std::vector<Result<int>> v = co_await troupe::all(std::move(requests));  // a runtime-sized set
//   Result<int> first = co_await troupe::first_success(std::move(requests));
//
// Continuations (`then`): the reply, or the error (timeout, dead_actor, ...), runs the
// continuation later as a turn of the requesting actor, in the order replies arrive among its other
// messages. While a handler's coroutine is suspended, a continuation's reply waits, like any other
// message, until the coroutine has finished. If the actor stops first, the continuation never runs:
// it is destroyed with what it captured (a captured Promise then answers its requester with
// Errc::dead_actor, "reply dropped").
//
// A request neither awaited nor continued is still sent, when the awaitable is destroyed (at the
// end of the statement that made it); its reply is dropped, and a reply that is an error is counted
// in System::dropped_request_errors(). The compiler warns about it ([[nodiscard]]), because it is
// usually a forgotten co_await: write `(void)self.request(...)` to mean it.
#pragma once

#include <troupe/error.hpp>
#include <troupe/message.hpp>
#include <troupe/runtime/pool.hpp>

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <exception>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace troupe {

class Context;
using Duration = std::chrono::steady_clock::duration;
inline constexpr Duration default_request_timeout = std::chrono::seconds(5);

namespace detail {

// Fills an awaited request's result from its response, or from `error` when `response` is null.
// Returns true to resume the awaiting coroutine at once, even while it awaits other requests
// (first_success); false to resume it only when all of them are answered.
using DeliverFn = bool (*)(void* awaitable, Envelope* response, Error* error);

// The reply as a Result: the response's value, or the error. A reply of another type than the
// one expected is Errc::unexpected_reply.
template <class R>
Result<R> take_result(Envelope* response, Error* error) noexcept {
  if (response == nullptr) return Result<R>(std::move(*error));
  try {
    return read_response<R>(*response);
  } catch (const std::exception& e) {
    return Result<R>(Errc::unexpected_reply, e.what());
  } catch (...) {
    return Result<R>(Errc::unexpected_reply, "reading the reply threw");
  }
}

// What a continued request runs when its reply (or error) comes, as a turn of its actor.
class Continuation : public runtime::Pooled {
 public:
  Continuation() = default;
  Continuation(const Continuation&) = delete;
  Continuation& operator=(const Continuation&) = delete;
  virtual ~Continuation() = default;
  // An exception thrown here fails the actor, as one thrown by a handler.
  virtual void run(Envelope* response, Error* error) = 0;
};

template <class R, class F>
class ResultContinuation final : public Continuation {
 public:
  explicit ResultContinuation(F f) : f_(std::move(f)) {}
  void run(Envelope* response, Error* error) override { f_(take_result<R>(response, error)); }

 private:
  F f_;
};

// The actor's table of requests on their way (actor_cell_requests.cpp). Each takes `request` in
// every case.
struct Requests {
  // For co_await: sends and registers `awaitable`; false (do not suspend; the result is already
  // delivered) when the target handle is empty.
  static bool await(Context& self, runtime::ActorCore* target, Envelope* request, Duration timeout,
                    std::coroutine_handle<> h, DeliverFn deliver, void* awaitable);
  // For then: sends, and runs `continuation` (which it owns from now) when the reply comes.
  static void then(Context& self, runtime::ActorCore* target, Envelope* request, Duration timeout,
                   Continuation* continuation) noexcept;
  // For a request that was neither: sends it; its reply is dropped, an error counted.
  static void unawaited(Context& self, runtime::ActorCore* target, Envelope* request, Duration timeout) noexcept;
};

}  // namespace detail

// What `self.request(...)` gives: co_await it for a Result<R>, or continue it with then().
template <class R>
class [[nodiscard]] RequestAwaitable {
 public:
  using value_type = R;

  RequestAwaitable(Context& self, runtime::ActorCore* target, Envelope* request, Duration timeout) noexcept
      : self_(&self), target_(target), request_(request), timeout_(timeout) {}
  RequestAwaitable(const RequestAwaitable&) = delete;
  RequestAwaitable& operator=(const RequestAwaitable&) = delete;
  // Movable until sent (troupe::all collects them); once sent, its address is registered.
  RequestAwaitable(RequestAwaitable&& other) noexcept
      : self_(other.self_),
        target_(other.target_),
        request_(std::exchange(other.request_, nullptr)),
        timeout_(other.timeout_),
        result_(std::move(other.result_)) {}
  ~RequestAwaitable() {
    if (request_ != nullptr) detail::Requests::unawaited(*self_, target_, std::exchange(request_, nullptr), timeout_);
  }

  // Sends the request urgent (DynamicHandle::send_urgent): its target handles it before the
  // messages queued ahead of it. Before co_await or then():
  //   auto health = co_await self.request(server, Health{}, 1s).urgent();
  RequestAwaitable urgent() && noexcept {
    if (request_ != nullptr) request_->mark_urgent();
    return std::move(*this);
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) { return start(h); }
  Result<R> await_resume() { return std::move(*result_); }

  // Continues without suspending: on_reply(R) (on_reply() for a void reply) or on_error(Error)
  // runs later, as a turn of this actor (see the top of this file).
  template <class OnReply, class OnError>
  void then(OnReply on_reply, OnError on_error) && {
    static_assert(std::is_invocable_v<OnError&, Error>,
                  "troupe: then(on_reply, on_error): on_error must take the troupe::Error");
    if constexpr (std::is_void_v<R>) {
      static_assert(std::is_invocable_v<OnReply&>,
                    "troupe: then(on_reply, on_error): this request's reply is "
                    "void, so on_reply takes no parameter");
    } else {
      static_assert(std::is_invocable_v<OnReply&, R>,
                    "troupe: then(on_reply, on_error): on_reply must take the reply type (the typed "
                    "handle's, the message's reply_type, or request<R>'s R)");
    }
    std::move(*this).then([reply = std::move(on_reply), error = std::move(on_error)](Result<R> result) mutable {
      if (!result.ok()) {
        error(result.error());
      } else if constexpr (std::is_void_v<R>) {
        reply();
      } else {
        reply(std::move(result).value());
      }
    });
  }
  // Continues without suspending: on_result(Result<R>) runs later, as a turn of this actor.
  template <class OnResult>
  void then(OnResult on_result) && {
    static_assert(std::is_invocable_v<OnResult&, Result<R>>,
                  "troupe: then(on_result): on_result must take the troupe::Result of the reply type "
                  "(or use then(on_reply, on_error))");
    if (request_ == nullptr) return;  // already sent
    auto* continuation = new detail::ResultContinuation<R, OnResult>(std::move(on_result));
    detail::Requests::then(*self_, target_, std::exchange(request_, nullptr), timeout_, continuation);
  }

  // Sends the request for a coroutine: false if its result is already there. `first_success`:
  // a successful reply resumes the coroutine at once.
  bool start(std::coroutine_handle<> h, bool first_success = false) {
    return detail::Requests::await(*self_, target_, std::exchange(request_, nullptr), timeout_, h,
                                   first_success ? &deliver_first_success : &deliver, this);
  }
  bool has_result() const noexcept { return result_.has_value(); }
  const Result<R>& result() const noexcept { return *result_; }

 private:
  static bool deliver(void* self, Envelope* response, Error* error) {
    static_cast<RequestAwaitable*>(self)->result_.emplace(detail::take_result<R>(response, error));
    return false;
  }
  static bool deliver_first_success(void* self, Envelope* response, Error* error) {
    deliver(self, response, error);
    return static_cast<RequestAwaitable*>(self)->result_->ok();
  }

  Context* self_;
  runtime::ActorCore* target_;
  Envelope* request_;
  Duration timeout_;
  std::optional<Result<R>> result_;
};

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

// Awaits a runtime-sized set of requests at once; gives their Results in the vector's order.
template <class R>
class [[nodiscard]] AllOfAwaitable {
 public:
  explicit AllOfAwaitable(std::vector<RequestAwaitable<R>> requests) : requests_(std::move(requests)) {}
  bool await_ready() const noexcept { return requests_.empty(); }
  bool await_suspend(std::coroutine_handle<> h) {
    bool suspend = false;
    for (auto& r : requests_) suspend = r.start(h) || suspend;
    return suspend;
  }
  std::vector<Result<R>> await_resume() {
    std::vector<Result<R>> results;
    results.reserve(requests_.size());
    for (auto& r : requests_) results.push_back(r.await_resume());
    return results;
  }

 private:
  std::vector<RequestAwaitable<R>> requests_;  // never resized once sent: their addresses are registered
};

template <class R>
AllOfAwaitable<R> all(std::vector<RequestAwaitable<R>> requests) {
  return AllOfAwaitable<R>(std::move(requests));
}

namespace detail {
// "all N requests failed: #0 timeout; #1 dead_actor: ...", for first_success.
std::string describe_all_failed(const std::vector<const Error*>& errors);
}  // namespace detail

// Awaits a runtime-sized set of requests; resumes at the first successful reply, and gives it.
// The other requests' replies are then dropped when they come. If every request fails, gives an
// Error with the code of the first request's (by position) and a text listing every failure. Over
// no requests at all, gives Errc::dead_actor ("no requests").
template <class R>
class [[nodiscard]] FirstSuccessAwaitable {
 public:
  explicit FirstSuccessAwaitable(std::vector<RequestAwaitable<R>> requests) : requests_(std::move(requests)) {}
  bool await_ready() const noexcept { return requests_.empty(); }
  bool await_suspend(std::coroutine_handle<> h) {
    for (auto& r : requests_) {
      // An empty handle fails at once; a success cannot come without a reply, so suspend anyway
      // unless every request failed at once.
      r.start(h, true);
    }
    for (auto& r : requests_) {
      if (!r.has_result()) return true;
    }
    return false;
  }
  Result<R> await_resume() {
    std::vector<const Error*> errors;
    for (auto& r : requests_) {
      if (!r.has_result()) continue;  // abandoned when another succeeded
      if (r.result().ok()) return r.await_resume();
      errors.push_back(&r.result().error());
    }
    if (errors.empty()) return Result<R>(Errc::dead_actor, "no requests");
    Error all_failed = *errors.front();
    all_failed.what = detail::describe_all_failed(errors);
    return Result<R>(std::move(all_failed));
  }

 private:
  std::vector<RequestAwaitable<R>> requests_;  // never resized once sent: their addresses are registered
};

template <class R>
FirstSuccessAwaitable<R> first_success(std::vector<RequestAwaitable<R>> requests) {
  return FirstSuccessAwaitable<R>(std::move(requests));
}

}  // namespace troupe
