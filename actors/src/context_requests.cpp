// Context, part 2: requests awaited by handler coroutines, and the coroutines' lifecycle.
// (The turn loop is in context.cpp.)
#include <troupe/context.hpp>
#include <troupe/system.hpp>

#include "actor_extras.hpp"
#include "describe.hpp"

#include <algorithm>
#include <exception>
#include <string>

namespace troupe {
namespace {

// Sends the timeout of request `request_id` to the actor that awaits it.
class RequestTimeout final : public runtime::TimerTask {
 public:
  RequestTimeout(DynamicHandle target, std::uint64_t request_id) : target_(std::move(target)), id_(request_id) {}
  void fire() noexcept override {
    try {
      auto* env = make_envelope<Unit>(EnvelopeKind::timeout);
      env->reply().request_id = id_;
      target_.core()->enqueue(env);
    } catch (...) {  // allocation failure: the coroutine stays suspended until its actor stops
    }
  }

 private:
  DynamicHandle target_;
  std::uint64_t id_;
};

}  // namespace

void Context::handle_response(Envelope* env) noexcept {
  auto* x = extras_;
  auto it = x == nullptr ? decltype(x->pending)::iterator{} : x->pending.begin();
  if (x != nullptr) {
    while (it != x->pending.end() && it->request_id != env->reply().request_id) ++it;
  }
  if (x == nullptr || it == x->pending.end()) {
    dispose(env);  // a late response, or the timeout of a request already answered
    return;
  }
  detail::ActorExtras::Pending answered = std::move(*it);
  x->pending.erase(it);
  answered.timeout.cancel();
  try {
    if (env->kind() == EnvelopeKind::response) {
      answered.deliver(answered.awaitable, env, nullptr);
    } else {
      Error timeout{Errc::timeout, {}};
      answered.deliver(answered.awaitable, nullptr, &timeout);
    }
  } catch (...) {
    Error failed{Errc::unexpected_reply, detail::describe(std::current_exception())};
    answered.deliver(answered.awaitable, nullptr, &failed);
  }
  dispose(env);
  if (!x->pending.empty()) return;  // troupe::all: more to come
  std::exchange(x->resume_point, {}).resume();  // exceptions inside are kept by the task's promise
  after_task_step();
}

bool Context::begin_request(runtime::ActorCore* target, Envelope* request, Duration timeout,
                            std::coroutine_handle<> h, detail::DeliverFn deliver, void* awaitable) {
  if (target == nullptr) {
    dispose(request);
    Error error{Errc::dead_actor, "request through an empty handle"};
    deliver(awaitable, nullptr, &error);
    return false;
  }
  auto& x = extras();
  const std::uint64_t id = ++x.last_request_id;
  request->reply().request_id = id;
  request->reply().timeout = timeout;
  add_ref();  // the request's reply_to holds this actor
  request->reply().reply_to = this;
  x.pending.push_back({id, deliver, awaitable, {}});
  x.pending.back().timeout =
      system_->timers().run_after(timeout, std::make_unique<RequestTimeout>(DynamicHandle::share(this), id));
  x.resume_point = h;
  detail::deliver(target, request);  // refused by a full mailbox: the error comes as the response
  return true;
}

void Context::start_task_erased(std::coroutine_handle<> h, detail::TaskPromiseBase& promise, Envelope& env) {
  auto& x = extras();
  if (env.kind() == EnvelopeKind::request) {
    promise.reply_to = std::exchange(env.reply().reply_to, nullptr);
    promise.request_id = env.reply().request_id;
  }
  // The handler may hold a reference to its message across suspensions: keep the envelope.
  x.task = {h, &promise, &env};
  layer_flags_ |= kEnvelopeAdopted;
  h.resume();
  after_task_step();
}

// After the top-level task ran: if it finished, reply and free it.
void Context::after_task_step() noexcept {
  auto& task = extras_->task;
  if (!task.handle) return;
  if (!task.handle.done()) {
    if (awaiting()) return;
    // Suspended on something troupe does not resume: it could never finish.
    fail("a handler coroutine awaited something other than a troupe request or task");
    return;
  }
  detail::TaskPromiseBase* promise = task.promise;
  std::coroutine_handle<> handle = task.handle;
  Envelope* message = task.message;
  task = {};
  if (promise->exception) {
    std::string why = detail::describe(promise->exception);
    detail::send_response_error(promise->reply_to, promise->request_id, Error{Errc::actor_failed, why});
    fail(std::move(why));
  } else {
    promise->send_reply(*promise);
  }
  if (promise->reply_to != nullptr) promise->reply_to->release();
  handle.destroy();
  dispose(message);
}

}  // namespace troupe
