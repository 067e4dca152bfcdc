#include <troupe/context.hpp>
#include <troupe/system.hpp>

#include "actor_extras.hpp"

#include <exception>
#include <string>
#include <thread>

namespace troupe {
namespace {

// The executor of a stopped actor. The pusher that finds the mailbox empty drains it at once,
// on its own thread, as dead letters: a stopped actor is never scheduled again, so nothing can
// touch it after its last handle is gone.
class DeadLetterExecutor final : public runtime::Executor {
 public:
  void schedule(runtime::ActorCore* actor) noexcept override { static_cast<Context*>(actor)->drain_dead_letters(); }
};
DeadLetterExecutor dead_letter_executor;

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

// The message being handled on this thread, for Context::promise. Thread-local rather than a
// member: it costs no memory per actor.
thread_local Envelope* tls_current_message = nullptr;

std::string describe(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown exception";
  }
}

}  // namespace

Context::Context(System& system, runtime::Executor* executor) noexcept
    : runtime::ActorCore(executor), system_(&system) {}

Context::~Context() { delete extras_; }

detail::ActorExtras& Context::extras() {
  if (extras_ == nullptr) extras_ = new detail::ActorExtras();
  return *extras_;
}

bool Context::awaiting() const noexcept { return extras_ != nullptr && !extras_->pending.empty(); }

void Context::quit(ExitReason reason) {
  if ((layer_flags_ & kExiting) == 0) extras().exit_reason = std::move(reason);
  layer_flags_ |= kExiting;
}

void Context::fail(std::string why) noexcept { stop_with(ExitReason::error(std::move(why))); }

void Context::stop_with(ExitReason reason) noexcept {
  try {
    quit(std::move(reason));
  } catch (...) {  // no memory to keep the reason: stop anyway
    layer_flags_ |= kExiting;
  }
}

// One turn: up to `budget` messages, then idle (mailbox marked empty) or more (re-queue).
// The first turn starts by constructing the actor's state. Once the system is stopping, a turn
// stops the actor before anything else.
runtime::TurnResult Context::resume() noexcept {
  if (system_->stopping() && (layer_flags_ & kExiting) == 0) stop_with(ExitReason::shutdown());
  if ((layer_flags_ & (kConstructed | kExiting)) == 0) {
    try {
      construct();
      layer_flags_ |= kConstructed;
    } catch (...) {
      fail(describe(std::current_exception()));
    }
  }
  for (unsigned n = budget(); n > 0 && (layer_flags_ & kExiting) == 0; --n) {
    Envelope* env = next_envelope();
    if (env == nullptr) break;
    handle(env);
  }
  if ((layer_flags_ & kExiting) != 0) {
    terminate();
    return runtime::TurnResult::terminated;
  }
  if (extras_ != nullptr && !awaiting() && !extras_->stash.empty()) return runtime::TurnResult::more;
  return mailbox_.try_mark_empty() ? runtime::TurnResult::idle : runtime::TurnResult::more;
}

Envelope* Context::next_envelope() noexcept {
  if (extras_ != nullptr && !awaiting() && !extras_->stash.empty()) {
    Envelope* env = extras_->stash.front();
    extras_->stash.pop_front();
    return env;
  }
  return static_cast<Envelope*>(mailbox_.pop());
}

void Context::handle(Envelope* env) noexcept {
  switch (env->kind()) {
    case EnvelopeKind::stop:
      stop_with(ExitReason::shutdown());
      dispose(env);
      return;
    case EnvelopeKind::response:
    case EnvelopeKind::timeout:
      handle_response(env);
      return;
    case EnvelopeKind::message:
    case EnvelopeKind::request:
      if (awaiting()) {
        try {
          extras_->stash.push_back(env);
          return;
        } catch (...) {  // no memory to keep it: it becomes a dead letter
          dead_letter(env);
          return;
        }
      }
      run_handler(*env);
      if ((layer_flags_ & kEnvelopeAdopted) != 0) {
        layer_flags_ &= static_cast<std::uint16_t>(~kEnvelopeAdopted);  // the task disposes of it
      } else {
        dispose(env);
      }
      return;
  }
}

Envelope* Context::current_message() noexcept { return tls_current_message; }

void Context::run_handler(Envelope& env) {
  tls_current_message = &env;
  try {
    dispatch(env);
    tls_current_message = nullptr;
  } catch (...) {
    tls_current_message = nullptr;
    std::string why = describe(std::current_exception());
    if (env.kind() == EnvelopeKind::request) {
      detail::send_response_error(env.reply().reply_to, env.reply().request_id, Error{Errc::actor_failed, why});
    }
    fail(std::move(why));
  }
}

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
    Error failed{Errc::unexpected_reply, describe(std::current_exception())};
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
  add_ref();  // the request's reply_to holds this actor
  request->reply().reply_to = this;
  x.pending.push_back({id, deliver, awaitable, {}});
  x.pending.back().timeout =
      system_->timers().run_after(timeout, std::make_unique<RequestTimeout>(DynamicHandle::share(this), id));
  x.resume_point = h;
  target->enqueue(request);
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
    std::string why = describe(promise->exception);
    detail::send_response_error(promise->reply_to, promise->request_id, Error{Errc::actor_failed, why});
    fail(std::move(why));
  } else {
    promise->send_reply(*promise);
  }
  if (promise->reply_to != nullptr) promise->reply_to->release();
  handle.destroy();
  dispose(message);
}

// Stopping, in order: abandon a suspended coroutine (its requester gets an error), turn stashed
// messages into dead letters, destroy the state, tell the system, close the mailbox (everything
// left and everything later is a dead letter), and drop the actor's own reference.
void Context::terminate() noexcept {
  layer_flags_ |= kTerminated;
  ExitReason reason = ExitReason::normal();
  if (extras_ != nullptr) {
    auto& x = *extras_;
    if (x.task.handle) {
      const bool shutting_down = x.exit_reason && x.exit_reason->kind == ExitReason::Kind::shutdown;
      detail::send_response_error(x.task.promise->reply_to, x.task.promise->request_id,
                                  Error{shutting_down ? Errc::system_shutdown : Errc::dead_actor, {}});
      if (x.task.promise->reply_to != nullptr) x.task.promise->reply_to->release();
      for (auto& p : x.pending) p.timeout.cancel();
      x.pending.clear();
      x.resume_point = {};
      x.task.handle.destroy();
      dispose(x.task.message);
      x.task = {};
    }
    while (!x.stash.empty()) {
      Envelope* env = x.stash.front();
      x.stash.pop_front();
      dead_letter(env);
    }
    if (x.exit_reason) reason = std::move(*x.exit_reason);
  }
  if ((layer_flags_ & kConstructed) != 0) destruct();
  system_->actor_exited(*this, reason);
  close_mailbox();
  release();
}

void Context::close_mailbox() noexcept {
  layer_flags_ |= kTerminated;
  // Before the mark: the pusher that takes the mark reads the executor (see Mailbox::push).
  set_executor(&dead_letter_executor);
  drain_dead_letters();
}

void Context::drain_dead_letters() noexcept {
  for (;;) {
    while (auto* env = static_cast<Envelope*>(mailbox_.pop())) dead_letter(env);
    if (mailbox_.try_mark_empty()) return;
    std::this_thread::yield();  // a producer is between its exchange and its link
  }
}

void Context::dead_letter(Envelope* env) noexcept {
  switch (env->kind()) {
    case EnvelopeKind::message:
    case EnvelopeKind::request:
    case EnvelopeKind::response:
      system_->dead_letter(*this, *env, DeadLetter::Reason::receiver_stopped);
      break;
    default:  // signals to a stopped actor mean nothing
      break;
  }
  dispose(env);
}

namespace detail {
void unexpected_message(Context& self, Envelope& env) {
  self.system().dead_letter(self, env, DeadLetter::Reason::unhandled);
}
}  // namespace detail

}  // namespace troupe
