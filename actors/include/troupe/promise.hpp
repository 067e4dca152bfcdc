// A reply given later: a request handler takes a Promise<T> (self.promise<T>()) and returns it;
// whoever holds it — the same actor on a later message, typically — answers with deliver() or
// fail(). The requester waits as for any reply (its timeout still applies). If the last copy of
// an unanswered promise is destroyed, the requester gets Errc::dead_actor ("reply dropped").
#pragma once

#include <troupe/error.hpp>
#include <troupe/message.hpp>

#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

namespace troupe {

template <class T>
class Promise {
 public:
  Promise() = default;

  // Sends the reply. Later calls, and calls on a promise of a one-way message, do nothing.
  template <class V = T>
    requires(!std::is_void_v<T>)
  void deliver(V&& value) {
    if (auto target = take()) detail::send_response(target->reply_to, target->request_id, std::forward<V>(value));
  }
  void deliver()
    requires std::is_void_v<T>
  {
    if (auto target = take()) detail::send_response(target->reply_to, target->request_id, Unit{});
  }
  void fail(Error error) {
    if (auto target = take()) detail::send_response_error(target->reply_to, target->request_id, std::move(error));
  }

  // True while a requester still waits for this promise.
  bool pending() const noexcept { return state_ && state_->reply_to != nullptr; }

  // Internal: adopts the requester of the message being handled (see Context::promise).
  static Promise adopt(runtime::ActorCore* reply_to, std::uint64_t request_id) {
    Promise p;
    p.state_ = std::make_shared<State>(reply_to, request_id);
    return p;
  }

 private:
  struct State {
    State(runtime::ActorCore* r, std::uint64_t id) noexcept : reply_to(r), request_id(id) {}
    State(const State&) = delete;
    ~State() {
      if (reply_to == nullptr) return;
      detail::send_response_error(reply_to, request_id, Error{Errc::dead_actor, "reply dropped"});
      reply_to->release();
    }
    runtime::ActorCore* reply_to;
    std::uint64_t request_id;
  };
  // The requester, taken out of the shared state; releases its reference when done with.
  class Target {
   public:
    Target(runtime::ActorCore* reply_to, std::uint64_t request_id) noexcept
        : reply_to(reply_to), request_id(request_id) {}
    Target(const Target&) = delete;
    Target& operator=(const Target&) = delete;
    ~Target() { reply_to->release(); }
    runtime::ActorCore* const reply_to;
    const std::uint64_t request_id;
  };
  std::unique_ptr<Target> take() {
    if (!pending()) return nullptr;
    auto target = std::make_unique<Target>(state_->reply_to, state_->request_id);
    state_->reply_to = nullptr;
    return target;
  }

  std::shared_ptr<State> state_;
};

template <class T>
struct is_promise : std::false_type {};
template <class T>
struct is_promise<Promise<T>> : std::true_type {};

}  // namespace troupe
