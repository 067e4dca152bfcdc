// The actor cell's requests (awaited by handler coroutines, or continued with then), their
// responses, and the coroutines' lifecycle. (The turn loop is in actor_cell.cpp.)
#include <troupe/actor_cell.hpp>
#include <troupe/system.hpp>

#include "actor_extras.hpp"
#include "describe.hpp"

#include <exception>
#include <memory>
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

// Calls take(response, nullptr) for a response, or take(nullptr, &timeout_error) for a timeout:
// how an awaited request and a continuation both receive their outcome.
template <class F>
auto with_reply(Envelope* env, F&& take) {
  if (env->kind() == EnvelopeKind::response) return take(env, nullptr);
  Error timeout{Errc::timeout, {}};
  return take(nullptr, &timeout);
}

}  // namespace

// A response or a timeout, in a turn: delivered to the coroutine that awaits it, or run as the
// continuation of a continued request. Late ones (the request was answered, or abandoned by
// first_success, or its actor's coroutine is gone) are dropped.
// Whether `response` answers a request this actor awaits (or continues) now.
bool detail::ActorCell::answers_pending(Envelope& response) noexcept {
  return extras_ != nullptr && extras_->pending.find(response.reply().request_id) != nullptr;
}

void detail::ActorCell::handle_response(Envelope* env) noexcept {
  auto* x = extras_;
  if (x == nullptr) {
    dispose(env);
    return;
  }
  detail::PendingRequest* entry = x->pending.find(env->reply().request_id);
  if (entry == nullptr) {
    // A marker (see take_signals): while a coroutine awaits, it waits behind the messages set
    // aside before it, so that its disposal follows their handling; behind messages the user
    // stashed, it waits in the stash with them.
    if (awaiting()) {
      try {
        x->set_aside.push(env);
        return;
      } catch (...) {  // no memory to keep it: disposed now
      }
    }
    if (keep_marker_with_stash(env)) return;
    dispose(env);
    return;
  }
  if (entry->continuation != nullptr) {
    if (awaiting()) {
      // A continuation is a turn: it waits, with the other messages, until the coroutine ends.
      try {
        x->set_aside.push(env);
        return;
      } catch (...) {  // no memory to keep it: the continuation runs now
      }
    }
    detail::PendingRequest continued = x->pending.take(*entry);
    continued.timeout.cancel();
    run_continuation(*continued.continuation, env);
    dispose(env);
    return;
  }
  detail::PendingRequest answered = x->pending.take(*entry);
  --x->awaited;
  answered.timeout.cancel();
  bool resume_now = false;
  try {
    resume_now = with_reply(
        env, [&](Envelope* response, Error* error) { return answered.deliver(answered.awaitable, response, error); });
  } catch (...) {
    Error failed{Errc::unexpected_reply, detail::describe(std::current_exception())};
    answered.deliver(answered.awaitable, nullptr, &failed);
  }
  dispose(env);
  if (x->awaited > 0) {
    if (!resume_now) return;  // troupe::all: more to come
    abandon_awaited();        // first_success: the others' replies are dropped when they come
  }
  std::exchange(x->resume_point, {}).resume();  // exceptions inside are kept by the task's promise
  after_task_step();
}

// Forgets the requests the coroutine still awaits (their late replies find no entry).
void detail::ActorCell::abandon_awaited() noexcept {
  auto& x = *extras_;
  x.pending.remove_if([](detail::PendingRequest& p) {
    if (p.continuation != nullptr) return false;
    p.timeout.cancel();
    return true;
  });
  x.awaited = 0;
}

void detail::ActorCell::run_continuation(detail::Continuation& continuation, Envelope* env) noexcept {
  try {
    with_reply(env, [&](Envelope* response, Error* error) { continuation.run(response, error); });
  } catch (...) {
    fail(detail::describe(std::current_exception()));
  }
}

namespace detail {

// Registers request `request` under a new id, with its timeout, and sends it.
static void send_registered(ActorCell& self, ActorExtras& x, runtime::ActorCore* target, Envelope* request,
                            Duration timeout, PendingRequest entry) {
  const std::uint64_t id = x.pending.add(std::move(entry));
  try {
    x.pending.find(id)->timeout =
        self.system().timers().run_after(timeout, std::make_unique<RequestTimeout>(DynamicHandle::share(&self), id));
  } catch (...) {
    x.pending.take(*x.pending.find(id));
    throw;
  }
  request->reply().request_id = id;
  request->reply().timeout = timeout;
  self.add_ref();  // the request's reply_to holds this actor
  request->reply().reply_to = &self;
  deliver_as_marked(target, request);  // refused by a full mailbox: the error comes as the response
}

bool Requests::await(Context& context, runtime::ActorCore* target, Envelope* request, Duration timeout,
                     std::coroutine_handle<> h, DeliverFn deliver, void* awaitable) {
  ActorCell& self = static_cast<ActorCell&>(context);
  if (target == nullptr) {
    dispose(request);
    Error error{Errc::dead_actor, "request through an empty handle"};
    deliver(awaitable, nullptr, &error);
    return false;
  }
  auto& x = self.extras();
  try {
    send_registered(self, x, target, request, timeout, {0, deliver, awaitable, nullptr, {}});
  } catch (...) {
    dispose(request);
    throw;
  }
  ++x.awaited;
  x.resume_point = h;
  return true;
}

void Requests::then(Context& context, runtime::ActorCore* target, Envelope* request, Duration timeout,
                    Continuation* continuation) noexcept {
  ActorCell& self = static_cast<ActorCell&>(context);
  std::unique_ptr<Continuation> owned(continuation);
  try {
    auto& x = self.extras();
    if (target == nullptr) {
      // The error comes later, as a turn, like any reply.
      dispose(request);
      const std::uint64_t id = x.pending.add({0, nullptr, nullptr, std::move(owned), {}});
      send_response_error(&self, id, Error{Errc::dead_actor, "request through an empty handle"});
      return;
    }
    send_registered(self, x, target, request, timeout, {0, nullptr, nullptr, std::move(owned), {}});
  } catch (...) {
    // No memory for the entry or its timer: the continuation sees the failure now (and, unlike
    // other continuations, within the turn that made the request).
    dispose(request);
    if (owned == nullptr) return;  // moved into an entry that was then dropped
    Error error{Errc::system_shutdown, "no memory to send the request"};
    try {
      owned->run(nullptr, &error);
    } catch (...) {
      self.fail(detail::describe(std::current_exception()));
    }
  }
}

namespace {
// The continuation of a request nobody awaited: drops the reply, counts an error.
class DroppedReply final : public Continuation {
 public:
  explicit DroppedReply(System& system) : system_(system) {}
  void run(Envelope* response, Error*) override {
    if (response == nullptr || response->is(message_type<Error>)) system_.count_dropped_request_error();
  }

 private:
  System& system_;
};
}  // namespace

void Requests::unawaited(Context& context, runtime::ActorCore* target, Envelope* request, Duration timeout) noexcept {
  ActorCell& self = static_cast<ActorCell&>(context);
  // A request made while the actor stops (its coroutine's frame destroyed) is not sent.
  if ((self.layer_flags_ & (detail::ActorCell::kExiting | detail::ActorCell::kTerminated)) != 0) {
    dispose(request);
    return;
  }
  try {
    then(context, target, request, timeout, new DroppedReply(self.system()));
  } catch (...) {  // no memory for the continuation
    dispose(request);
    self.system().count_dropped_request_error();
  }
}

std::string describe_all_failed(const std::vector<const Error*>& errors) {
  std::string text("all ");
  text += std::to_string(errors.size());
  text += " requests failed:";
  for (std::size_t i = 0; i < errors.size(); ++i) {
    text += i == 0 ? " #" : "; #";
    text += std::to_string(i);
    text += ' ';
    text += errors[i]->message();
  }
  return text;
}

}  // namespace detail

void detail::ActorCell::start_task_erased(std::coroutine_handle<> h, detail::TaskPromiseBase& promise, Envelope& env) {
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
void detail::ActorCell::after_task_step() noexcept {
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
