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

// The request timer's task: tells its actor that the timer (of `generation`) fired, with a
// timeout envelope whose id is the generation (RequestTimer::fired_id). The actor then takes the
// timeouts that are due (ActorCell::handle_response).
class RequestTimerFired final : public runtime::TimerTask {
 public:
  RequestTimerFired(DynamicHandle target, std::uint32_t generation)
      : target_(std::move(target)), generation_(generation) {}
  void fire() noexcept override {
    try {
      auto* env = make_envelope<Unit>(EnvelopeKind::timeout);
      env->reply().request_id = generation_;
      target_.core()->enqueue(env);
    } catch (...) {
      // No memory: the due requests wait until a request due sooner arms the timer again, or
      // the actor stops.
    }
  }

 private:
  DynamicHandle target_;
  std::uint32_t generation_;
};

// The deadline `timeout` after `now`; max (never) if that is beyond the clock's range.
detail::RequestClock::time_point deadline_after(detail::RequestClock::time_point now, Duration timeout) noexcept {
  constexpr auto never = detail::RequestClock::time_point::max();
  if (timeout > Duration::zero() && timeout >= never - now) return never;
  return now + timeout;
}

// Arms the request timer for `deadline` if it is armed for later, or not at all (`now`: the
// clock, read by the caller). A timer that it replaces and that fired already sends an envelope
// of an older generation, which only takes what is due then. Throws (no memory) with nothing
// changed.
void arm_request_timer(detail::ActorCell& self, detail::ActorExtras& x, detail::RequestClock::time_point deadline,
                       detail::RequestClock::time_point now) {
  detail::RequestTimer& t = x.request_timer;
  if (deadline >= t.armed_for) return;
  std::uint32_t generation = t.generation + 1;
  if (generation == 0) generation = 1;  // 0 is no id
  Timer timer =
      self.system().timers().run_after(deadline > now ? deadline - now : Duration::zero(),
                                       std::make_unique<RequestTimerFired>(DynamicHandle::share(&self), generation));
  t.timer.cancel();
  t.timer = std::move(timer);
  t.armed_for = deadline;
  t.generation = generation;
}

// With no deadline left in the table, the timer goes: a pending one-shot timer keeps the system
// from being idle (System::wait_idle), and holds a reference to its actor.
void disarm_request_timer_if_unused(detail::ActorExtras& x) noexcept {
  detail::RequestTimer& t = x.request_timer;
  if (x.pending.timed() != 0 || t.armed_for == detail::RequestClock::time_point::max()) return;
  t.timer.cancel();
  t.timer = Timer{};
  t.armed_for = detail::RequestClock::time_point::max();
}

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
  if (env->kind() == EnvelopeKind::timeout && RequestTimer::fired_id(env->reply().request_id)) [[unlikely]] {
    // The request timer fired: each request whose deadline has come gets its timeout, as if it
    // had come on its own, earliest first, up to the actor's budget (each may run a continuation,
    // a turn's worth of work); then the timer is armed for the next deadline, at once if more
    // are due, so that other actors run between the batches.
    RequestTimer& t = x->request_timer;
    if (env->reply().request_id == t.generation) {  // the armed one (an older one only sweeps)
      t.timer = Timer{};
      t.armed_for = RequestClock::time_point::max();
    }
    dispose(env);
    const RequestClock::time_point now = system_->now();
    const std::uint32_t started_before = x->pending.last_sequence();
    for (unsigned taken = 0; taken < budget() && (layer_flags_ & kExiting) == 0; ++taken) {
      Envelope* timeout = nullptr;
      try {
        timeout = make_envelope<Unit>(EnvelopeKind::timeout);
      } catch (...) {  // no memory: the due ones stay due, for the timer armed below
        break;
      }
      const std::uint64_t id = x->pending.take_due(now, started_before);
      if (id == 0) {
        dispose(timeout);
        break;
      }
      timeout->reply().request_id = id;
      handle_response(timeout);
    }
    if ((layer_flags_ & kExiting) != 0) return;  // the requests go with the actor
    try {
      arm_request_timer(*this, *x, x->pending.earliest_deadline(), system_->now());
    } catch (...) {  // no memory: the next request arms it again
    }
    disarm_request_timer_if_unused(*x);
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
    disarm_request_timer_if_unused(*x);
    run_continuation(*continued.continuation, env);
    dispose(env);
    return;
  }
  detail::PendingRequest answered = x->pending.take(*entry);
  --x->awaited;
  disarm_request_timer_if_unused(*x);
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
  x.pending.remove_if([](detail::PendingRequest& p) { return p.continuation == nullptr; });
  x.awaited = 0;
  disarm_request_timer_if_unused(x);
}

void detail::ActorCell::run_continuation(detail::Continuation& continuation, Envelope* env) noexcept {
  try {
    with_reply(env, [&](Envelope* response, Error* error) { continuation.run(response, error); });
  } catch (...) {
    fail(detail::describe(std::current_exception()));
  }
}

namespace detail {

// Registers request `request` under a new id, with its deadline, and sends it.
static void send_registered(ActorCell& self, ActorExtras& x, runtime::ActorCore* target, Envelope* request,
                            Duration timeout, PendingRequest entry) {
  const RequestClock::time_point now = self.system().now();  // one clock read a request
  entry.deadline = deadline_after(now, timeout);
  const auto deadline = entry.deadline;
  const std::uint64_t id = x.pending.add(std::move(entry));
  try {
    arm_request_timer(self, x, deadline, now);
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
    send_registered(self, x, target, request, timeout, {0, deliver, awaitable, nullptr});
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
      const std::uint64_t id = x.pending.add({0, nullptr, nullptr, std::move(owned)});
      send_response_error(&self, id, Error{Errc::dead_actor, "request through an empty handle"});
      return;
    }
    send_registered(self, x, target, request, timeout, {0, nullptr, nullptr, std::move(owned)});
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
