#include <troupe/groups.hpp>
#include <troupe/runtime/idle_spin.hpp>
#include <troupe/scoped_actor.hpp>

#include "describe.hpp"
#include "scoped_open.hpp"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>

namespace troupe::detail {

// The scoped actor's core: an actor cell no worker runs. Its executor is itself: a push that finds
// the mailbox empty wakes the owning thread, which consumes the mailbox directly.
class ScopedCore final : public ActorCell, public runtime::Executor {
 public:
  explicit ScopedCore(System& system) : ActorCell(system, nullptr), spin_(system.idle_spin(), system.adaptive_spin()) {
    static const detail::ActorTypeId type = detail::intern_actor_type("troupe::ScopedActor");
    type_id_ = type;
    set_executor(this);
    layer_flags_ |= kConstructed;
  }

  static void* operator new(std::size_t bytes) { return runtime::pool_allocate(bytes); }
  static void operator delete(void* p, std::size_t bytes) noexcept { runtime::pool_free(p, bytes); }

  std::string_view name() const noexcept override { return "troupe::ScopedActor"; }

  void schedule(runtime::ActorCore*) noexcept override {
    {
      std::lock_guard lock(mutex_);
      if (!closed_) {
        woken_ = true;
        cv_.notify_one();
        return;
      }
    }
    close_mailbox();  // the owner has gone; this pusher took the mark, so it may close
  }

  // Owner thread only.
  Envelope* wait_for(ReceiveFilter filter, std::uint64_t request_id, Duration timeout) {
    // The system's clock: steady_clock, or in deterministic mode the virtual one.
    const auto now = system().now();
    const auto deadline =
        timeout >= std::chrono::hours(24 * 365) ? std::chrono::steady_clock::time_point::max() : now + timeout;
    const bool deterministic = system().deterministic_seed().has_value();
    for (auto it = stash_.begin(); it != stash_.end(); ++it) {
      if (matches(**it, filter, request_id)) {
        Envelope* env = *it;
        stash_.erase(it);
        if (is_message(*env)) {
          --kept_messages_;
          drop_released_markers();
        }
        return env;
      }
    }
    for (;;) {
      auto* env = static_cast<Envelope*>(mailbox_.pop());
      // Before marking the mailbox empty (after which a push wakes us through the mutex and
      // condition variable): look a while longer, a reply is often moments away.
      if (env == nullptr && !marked_) {
        spin_.until([&] { return (env = static_cast<Envelope*>(mailbox_.pop())) != nullptr; });
      }
      if (env != nullptr) {
        if (matches(*env, filter, request_id)) return env;
        keep(env);
        continue;
      }
      if (!marked_) {
        // Nothing visible: mark the mailbox empty so the next push wakes us. If that fails a
        // message is arriving (a producer between exchange and link): look again.
        marked_ = mailbox_.try_mark_empty();
        continue;
      }
      if (deterministic) {
        // No other thread runs the actors: run them here until our message comes.
        const bool woken = system().run_until(
            [this] {
              std::lock_guard lock(mutex_);
              return woken_;
            },
            deadline);
        if (!woken) return nullptr;
      }
      std::unique_lock lock(mutex_);
      if (!cv_.wait_until(lock, deadline, [this] { return woken_; })) return nullptr;
      woken_ = false;
      marked_ = false;  // the pusher that woke us took the mark
    }
  }

  std::size_t queued() const noexcept { return stash_.size() - markers_; }

  // Owner thread, once. If the mailbox is still marked empty, the next pusher closes it (it
  // takes the mark and calls schedule()); otherwise the owner is its consumer and closes it now.
  // Its group watches, if it had any, go once it is marked closed (scoped_open.hpp says why).
  void close() noexcept {
    for (Envelope* env : stash_) {
      if (env->kind() == EnvelopeKind::response) {
        dispose(env);  // a marker kept (see keep): no message of anyone's
      } else {
        dead_letter(env);
      }
    }
    stash_.clear();
    markers_ = 0;
    kept_messages_ = 0;
    bool consumer;
    bool watched;
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
      consumer = !marked_ || woken_;
      watched = watches_groups_;
    }
    if (watched) system().groups().drop_all(*this);
    if (consumer) close_mailbox();
    release();
  }

  bool admit_watch() noexcept {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    watches_groups_ = true;
    return true;
  }

 private:
  static bool matches(const Envelope& env, const ReceiveFilter& filter, std::uint64_t request_id) noexcept {
    const EnvelopeKind kind = env.kind();
    if (request_id != 0) {
      return kind == EnvelopeKind::response && const_cast<Envelope&>(env).reply().request_id == request_id;
    }
    if (kind == EnvelopeKind::signal) {  // a Down travels as a signal (signals.hpp)
      return payload<Signal>(const_cast<Envelope&>(env)).kind == Signal::Kind::down &&
             filter.takes(&message_type<Down>);
    }
    return (kind == EnvelopeKind::message || kind == EnvelopeKind::request) && filter.takes(env.type());
  }

  // What receive() reads: a matched Down signal becomes the Down message it carries (throws
  // std::bad_alloc).
  static Envelope* as_message(Envelope* env) {
    if (env->kind() != EnvelopeKind::signal) return env;
    Signal& s = payload<Signal>(*env);
    Envelope* message = make_envelope<Down>(EnvelopeKind::message, Down{std::move(s.from), std::move(s.reason), s.ref});
    dispose(env);
    return message;
  }

  static bool is_message(const Envelope& env) noexcept {
    return env.kind() == EnvelopeKind::message || env.kind() == EnvelopeKind::request;
  }

  // Keeps what the current receive does not take, for a later one. A response here answers no
  // request of the owner's now (a reply that came after its timeout), or is a marker: a node's
  // credit token behind the messages it delivered (actor_cell_signals.cpp). One that comes after
  // messages were kept is kept behind them, so that the node grants its peer that credit back
  // only once they are taken (drop_released_markers): a peer cannot fill the queue of a thread
  // that receives other things. Any other is disposed of at once.
  void keep(Envelope* env) {
    if (env->kind() == EnvelopeKind::response && kept_since_marker_ && kept_messages_ != 0) {
      try {
        stash_.push_back(env);
        ++markers_;
        kept_since_marker_ = false;
        return;
      } catch (...) {  // no memory to keep it: disposed of now, its credit returned early
      }
    }
    if (env->kind() == EnvelopeKind::response || env->kind() == EnvelopeKind::timeout) {
      dispose(env);
      return;
    }
    if (env->kind() == EnvelopeKind::signal) {
      const Signal::Kind kind = payload<Signal>(*env).kind;
      if (kind != Signal::Kind::down && kind != Signal::Kind::link && kind != Signal::Kind::monitor) {
        dispose(env);  // exits, unlinks, demonitors: a scoped actor has no links or watchers to change
        return;
      }
    }
    // Downs wait for receive<Down>(); links and monitors of this actor are answered when it closes.
    stash_.push_back(env);
    if (is_message(*env)) {
      ++kept_messages_;
      kept_since_marker_ = true;
    }
  }

  // Disposes of the markers no kept message is ahead of any more: their messages are all taken.
  // (Signals kept, a Down waiting for receive<Down>() or a monitor answered at close, hold none.)
  void drop_released_markers() noexcept {
    for (auto it = stash_.begin(); it != stash_.end() && !is_message(**it);) {
      if ((*it)->kind() != EnvelopeKind::response) {
        ++it;
        continue;
      }
      dispose(*it);
      it = stash_.erase(it);
      --markers_;
    }
  }

  void construct() override {}
  void dispatch(Envelope&) override {}
  void destruct() noexcept override {}
  void destroy() noexcept override { delete this; }

  std::mutex mutex_;
  std::condition_variable cv_;
  bool woken_ = false;   // guarded by mutex_
  bool closed_ = false;  // guarded by mutex_
  bool watches_groups_ = false;  // guarded by mutex_: a group watch was admitted (scoped_open.hpp)
  // Owner thread: the mailbox is marked empty (a new mailbox starts so) and we were not woken since.
  bool marked_ = true;
  std::deque<Envelope*> stash_;     // what receive() has not taken yet, and the markers kept behind it
  std::size_t markers_ = 0;         // of stash_, markers (see keep)
  std::size_t kept_messages_ = 0;   // of stash_, messages and requests
  bool kept_since_marker_ = false;  // a message was kept since the last marker came
  runtime::AdaptiveSpin spin_;  // owner thread: its looks before it sleeps, and whether they pay
  std::uint64_t last_request_id_ = 0;
  std::uint64_t last_monitor_id_ = 0;
  friend class troupe::ScopedActor;
};

bool scoped_actor_admits_watch(ActorCell& cell) noexcept {
  auto* scoped = dynamic_cast<ScopedCore*>(&cell);
  return scoped != nullptr && scoped->admit_watch();
}

}  // namespace troupe::detail

namespace troupe {

ScopedActor::ScopedActor(System& system) : core_(new detail::ScopedCore(system)) {}

ScopedActor::~ScopedActor() { core_->close(); }

DynamicHandle ScopedActor::handle() const noexcept { return DynamicHandle::share(core_); }

std::size_t ScopedActor::queued() const noexcept { return core_->queued(); }

Errc ScopedActor::send_and_wait(runtime::ActorCore* target, Envelope* request, Duration timeout, Envelope*& response) {
  if (target == nullptr) {
    dispose(request);
    return Errc::dead_actor;
  }
  const std::uint64_t id = ++core_->last_request_id_;
  request->reply().request_id = id;
  request->reply().timeout = timeout;
  core_->add_ref();  // held by the request's reply_to
  request->reply().reply_to = core_;
  detail::deliver_as_marked(target, request);  // refused by a full mailbox: the error comes as the response
  response = core_->wait_for(detail::ReceiveFilter{nullptr, nullptr, nullptr}, id, timeout);
  return Errc::timeout;
}

MonitorRef ScopedActor::monitor(const DynamicHandle& target) {
  const MonitorRef ref{++core_->last_monitor_id_};
  if (!target.valid()) {
    detail::send_signal(core_, detail::Signal::down({}, ExitReason::noproc(), ref));
  } else {
    detail::send_signal(target.core(), detail::Signal::monitor(handle(), ref));
  }
  return ref;
}

Envelope* ScopedActor::wait_for(detail::ReceiveFilter filter, std::uint64_t request_id, Duration timeout) {
  Envelope* env = core_->wait_for(filter, request_id, timeout);
  return env != nullptr ? detail::ScopedCore::as_message(env) : nullptr;
}

void ScopedActor::run_scoped(Envelope* env, void (*run)(void*, Context&, Envelope&), void* context) {
  try {
    run(context, *core_, *env);
  } catch (...) {
    if (env->reply_to() != nullptr) {
      detail::send_response_error(env->reply().reply_to, env->reply().request_id,
                                  Error{Errc::actor_failed, detail::describe(std::current_exception())});
    }
    dispose(env);
    throw;
  }
  dispose(env);
}

}  // namespace troupe
