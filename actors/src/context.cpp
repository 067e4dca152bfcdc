#include <troupe/context.hpp>
#include <troupe/system.hpp>

#include "actor_extras.hpp"

#include <algorithm>
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
  // Overtaking: one relaxed load per turn. Set, the signals queued now go before the user
  // messages queued ahead of them (a turn already under way ends first).
  if (signal_flagged() && (layer_flags_ & kExiting) == 0) take_signals();
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
    if (extras_->urgent_in_stash > 0) --extras_->urgent_in_stash;
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
    case EnvelopeKind::signal:
      handle_signal(env);
      return;
    case EnvelopeKind::message:
    case EnvelopeKind::request:
      handle_message(env, false);
      return;
  }
  dispose(env);
}

// A user message, or (urgent) a Down / Exit made from a signal: runs its handler, or, while a
// coroutine awaits, stashes it (an urgent one after the urgent ones already there, before the rest).
void Context::handle_message(Envelope* env, bool urgent) noexcept {
  if (awaiting()) {
    try {
      auto& x = *extras_;
      if (urgent) {
        x.stash.insert(x.stash.begin() + static_cast<std::ptrdiff_t>(x.urgent_in_stash), env);
        ++x.urgent_in_stash;
      } else {
        x.stash.push_back(env);
      }
    } catch (...) {  // no memory to keep it: it becomes a dead letter
      dead_letter(env);
    }
    return;
  }
  run_handler(*env);
  if ((layer_flags_ & kEnvelopeAdopted) != 0) {
    layer_flags_ &= static_cast<std::uint8_t>(~kEnvelopeAdopted);  // the task disposes of it
  } else {
    dispose(env);
  }
}

// At the start of a turn whose flag is set: takes everything queued now out of the mailbox, user
// messages to the stash (behind what is there, in order), and the rest (signals, and responses
// and timeouts that an awaiting coroutine needs) to a list chained through their own mailbox
// links (no allocation), then handles that list in order.
void Context::take_signals() noexcept {
  take_signal_flag();
  Envelope* first = nullptr;
  Envelope* last = nullptr;
  while (auto* env = static_cast<Envelope*>(mailbox_.pop())) {
    const EnvelopeKind kind = env->kind();
    if (kind == EnvelopeKind::message || kind == EnvelopeKind::request) {
      try {
        extras().stash.push_back(env);
      } catch (...) {  // no memory to keep it: it becomes a dead letter
        dead_letter(env);
      }
      continue;
    }
    // Relaxed: the list is private to this thread now.
    env->next.store(nullptr, std::memory_order_relaxed);
    if (last == nullptr) {
      first = env;
    } else {
      last->next.store(env, std::memory_order_relaxed);
    }
    last = env;
  }
  while (first != nullptr) {
    Envelope* env = first;
    first = static_cast<Envelope*>(env->next.load(std::memory_order_relaxed));
    if (env->kind() == EnvelopeKind::signal) {
      handle_signal(env);  // once stopping, bookkeeping only: links and monitors still count
    } else if ((layer_flags_ & kExiting) == 0) {
      handle(env);
    } else {
      dead_letter(env);  // as if it were left in the mailbox
    }
  }
}

// Owner only. Bookkeeping signals change links and monitors; an exit signal may stop the actor
// or, trapped, become an Exit message; a Down of a live monitor becomes a Down message.
void Context::handle_signal(Envelope* env) noexcept {
  const MessageType* type = env->type();
  try {
    if (type == &message_type<detail::LinkSignal>) {
      DynamicHandle& from = payload<detail::LinkSignal>(*env).from;
      if (from.valid() && from.core() != this) {
        auto& links = extras().links;
        if (std::find(links.begin(), links.end(), from) == links.end()) links.push_back(std::move(from));
      }
    } else if (type == &message_type<detail::UnlinkSignal>) {
      if (extras_ != nullptr) std::erase(extras_->links, payload<detail::UnlinkSignal>(*env).from);
    } else if (type == &message_type<detail::MonitorSignal>) {
      auto& m = payload<detail::MonitorSignal>(*env);
      extras().monitors.push_back({std::move(m.watcher), m.ref});
    } else if (type == &message_type<detail::DemonitorSignal>) {
      auto& d = payload<detail::DemonitorSignal>(*env);
      if (extras_ != nullptr) {
        std::erase_if(extras_->monitors,
                      [&](const auto& m) { return m.watcher.core() == d.watcher && m.ref == d.ref; });
      }
    } else if (type == &message_type<detail::ExitSignal>) {
      auto& e = payload<detail::ExitSignal>(*env);
      // A link's exit after unlink (or after the link already fired) means nothing.
      if (e.linked && (extras_ == nullptr || std::erase(extras_->links, e.exit.from) == 0)) {
        dispose(env);
        return;
      }
      if (e.untrappable) {
        stop_with(ExitReason::kill());
      } else if (trapping_exits()) {
        if ((layer_flags_ & kExiting) == 0) {
          Envelope* message = make_envelope<Exit>(EnvelopeKind::message, std::move(e.exit));
          dispose(env);
          handle_message(message, true);
          return;
        }
      } else if (!e.exit.reason.is_normal()) {
        stop_with(std::move(e.exit.reason));
      }
    } else if (type == &message_type<Down>) {
      auto& d = payload<Down>(*env);
      const bool live =
          extras_ != nullptr && std::erase_if(extras_->watching, [&](const auto& w) { return w.ref == d.ref; }) != 0;
      if (live && (layer_flags_ & kExiting) == 0) {
        // The same block, now a one-way message (neither kind has a reply header).
        env->type_and_kind =
            (env->type_and_kind & ~std::uintptr_t{7}) | static_cast<std::uintptr_t>(EnvelopeKind::message);
        handle_message(env, true);
        return;
      }
    }
  } catch (...) {  // no memory for the bookkeeping: fail rather than lose a link or monitor
    stop_with(ExitReason::error("out of memory handling a signal: " + describe(std::current_exception())));
  }
  dispose(env);
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
    x.urgent_in_stash = 0;
    // Kept (not moved): the dead-letter path reads it after the state is gone.
    if (x.exit_reason) reason = *x.exit_reason;
  }
  if ((layer_flags_ & kConstructed) != 0) destruct();
  system_->actor_exited(*this, reason);
  if (extras_ != nullptr) propagate_exit(reason);
  close_mailbox();
  release();
}

// Each exit is its own turn: this only sends signals, so a chain of links unwinds one actor per
// turn, never through the stack. Links get an exit signal, watchers a Down, watched actors a
// demonitor (their lists shrink).
void Context::propagate_exit(const ExitReason& reason) noexcept {
  auto& x = *extras_;
  for (DynamicHandle& peer : x.links) {
    try {
      detail::send_signal(peer.core(),
                          make_envelope<detail::ExitSignal>(EnvelopeKind::signal,
                                                            detail::ExitSignal{Exit{self(), reason}, true, false}));
    } catch (...) {  // no memory for the signal: that peer is not told
    }
  }
  for (auto& m : x.monitors) {
    try {
      detail::send_signal(m.watcher.core(), make_envelope<Down>(EnvelopeKind::signal, Down{self(), reason, m.ref}));
    } catch (...) {
    }
  }
  for (auto& w : x.watching) {
    if (!w.target.valid()) continue;
    try {
      detail::send_signal(w.target.core(), make_envelope<detail::DemonitorSignal>(
                                               EnvelopeKind::signal, detail::DemonitorSignal{this, w.ref}));
    } catch (...) {
    }
  }
  x.links.clear();
  x.links.shrink_to_fit();
  x.monitors.clear();
  x.monitors.shrink_to_fit();
  x.watching.clear();
  x.watching.shrink_to_fit();
}

ExitReason Context::exit_reason() const {
  if (extras_ != nullptr && extras_->exit_reason) return *extras_->exit_reason;
  return ExitReason::normal();
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
    case EnvelopeKind::signal:
      dead_signal(env);
      break;
    default:  // a stop or a timeout for a stopped actor means nothing
      break;
  }
  dispose(env);
}

// A signal for a stopped actor, on the pusher's thread (or the actor's, as it closes). It only
// sends: a monitor gets its Down at once (with the kept exit reason), a link its exit signal
// (reason noproc, as Erlang's link to a dead process). The rest means nothing now.
void Context::dead_signal(Envelope* env) noexcept {
  const MessageType* type = env->type();
  try {
    if (type == &message_type<detail::MonitorSignal>) {
      auto& m = payload<detail::MonitorSignal>(*env);
      if (m.watcher.valid()) {
        detail::send_signal(m.watcher.core(),
                            make_envelope<Down>(EnvelopeKind::signal, Down{self(), exit_reason(), m.ref}));
      }
    } else if (type == &message_type<detail::LinkSignal>) {
      auto& l = payload<detail::LinkSignal>(*env);
      if (l.from.valid()) {
        detail::send_signal(l.from.core(), make_envelope<detail::ExitSignal>(
                                               EnvelopeKind::signal,
                                               detail::ExitSignal{Exit{self(), ExitReason::noproc()}, true, false}));
      }
    }
  } catch (...) {  // no memory for the answer: the watcher is not told
  }
}

// --- Links and monitors: each call only sends a signal (the target handles it on its own turn).

void detail::send_signal(runtime::ActorCore* target, Envelope* signal) noexcept {
  target->enqueue(signal);
  target->flag_signal();  // after the push: see flag_signal()
}

MonitorRef Context::monitor(const DynamicHandle& target) {
  auto& x = extras();
  x.watching.reserve(x.watching.size() + 1);
  const MonitorRef ref{++x.last_monitor_id};
  Envelope* signal = target.valid() ? static_cast<Envelope*>(make_envelope<detail::MonitorSignal>(
                                          EnvelopeKind::signal, detail::MonitorSignal{self(), ref}))
                                    : make_envelope<Down>(EnvelopeKind::signal, Down{{}, ExitReason::noproc(), ref});
  x.watching.push_back({ref, target});  // cannot throw: reserved
  detail::send_signal(target.valid() ? target.core() : this, signal);
  return ref;
}

void Context::demonitor(MonitorRef ref) {
  if (extras_ == nullptr) return;
  auto& watching = extras_->watching;
  auto it = std::find_if(watching.begin(), watching.end(), [&](const auto& w) { return w.ref == ref; });
  if (it == watching.end()) return;
  DynamicHandle target = std::move(it->target);
  watching.erase(it);
  if (!target.valid()) return;
  detail::send_signal(target.core(),
                      make_envelope<detail::DemonitorSignal>(EnvelopeKind::signal, detail::DemonitorSignal{this, ref}));
}

void Context::link(const DynamicHandle& target) {
  if (!target.valid()) {  // an empty handle stands for no actor: noproc, at once
    detail::send_signal(
        this, make_envelope<detail::ExitSignal>(EnvelopeKind::signal,
                                                detail::ExitSignal{Exit{{}, ExitReason::noproc()}, false, false}));
    return;
  }
  if (target.core() == this) return;
  auto& links = extras().links;
  if (std::find(links.begin(), links.end(), target) != links.end()) return;
  links.reserve(links.size() + 1);
  Envelope* signal = make_envelope<detail::LinkSignal>(EnvelopeKind::signal, detail::LinkSignal{self()});
  links.push_back(target);  // cannot throw: reserved
  detail::send_signal(target.core(), signal);
}

void Context::unlink(const DynamicHandle& target) {
  if (extras_ == nullptr || !target.valid()) return;
  Envelope* signal = make_envelope<detail::UnlinkSignal>(EnvelopeKind::signal, detail::UnlinkSignal{self()});
  if (std::erase(extras_->links, target) == 0) {
    dispose(signal);
    return;
  }
  detail::send_signal(target.core(), signal);
}

void Context::trap_exits(bool on) noexcept {
  if (on) {
    layer_flags_ |= kTrapExits;
  } else {
    layer_flags_ &= static_cast<std::uint8_t>(~kTrapExits);
  }
}

void Context::exit(const DynamicHandle& target, ExitReason reason) {
  if (!target.valid()) return;
  const bool kill = reason.kind == ExitReason::Kind::kill;
  detail::send_signal(target.core(),
                      make_envelope<detail::ExitSignal>(
                          EnvelopeKind::signal, detail::ExitSignal{Exit{self(), std::move(reason)}, false, kill}));
}

namespace detail {
void unexpected_message(Context& self, Envelope& env) {
  self.system().dead_letter(self, env, DeadLetter::Reason::unhandled);
}
}  // namespace detail

}  // namespace troupe
