// Context, part 3: system signals — links, monitors, exit signals, and how they overtake the
// user messages queued ahead of them. (The turn loop is in context.cpp.)
#include <troupe/context.hpp>
#include <troupe/system.hpp>

#include "actor_extras.hpp"
#include "describe.hpp"

#include <algorithm>
#include <exception>
#include <string>

namespace troupe {

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
        message_taken();
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
  auto& s = payload<detail::Signal>(*env);
  try {
    switch (s.kind) {
      case detail::Signal::Kind::link:
        if (s.from.valid() && s.from.core() != this) {
          auto& links = extras().links;
          if (std::find(links.begin(), links.end(), s.from) == links.end()) links.push_back(std::move(s.from));
        }
        break;
      case detail::Signal::Kind::unlink:
        if (extras_ != nullptr) std::erase(extras_->links, s.from);
        break;
      case detail::Signal::Kind::monitor:
        if (s.from.valid()) extras().monitors.push_back({std::move(s.from), s.ref});  // none: no one to tell
        break;
      case detail::Signal::Kind::demonitor:
        if (extras_ != nullptr) {
          std::erase_if(extras_->monitors,
                        [&](const auto& m) { return m.watcher.core() == s.watcher && m.ref == s.ref; });
        }
        break;
      case detail::Signal::Kind::exit:
        // A link's exit after unlink (or after the link already fired) means nothing.
        if (s.exit_flags.linked && (extras_ == nullptr || std::erase(extras_->links, s.from) == 0)) break;
        if (s.exit_flags.untrappable) {
          stop_with(ExitReason::kill());
        } else if (trapping_exits()) {
          if ((layer_flags_ & kExiting) == 0) {
            Envelope* message =
                make_envelope<Exit>(EnvelopeKind::message, Exit{std::move(s.from), std::move(s.reason)});
            dispose(env);
            handle_message(message, true);
            return;
          }
        } else if (!s.reason.is_normal()) {
          stop_with(std::move(s.reason));
        }
        break;
      case detail::Signal::Kind::down: {
        const bool live =
            extras_ != nullptr && std::erase_if(extras_->watching, [&](const auto& w) { return w.ref == s.ref; }) != 0;
        if (live && (layer_flags_ & kExiting) == 0) {
          Envelope* message =
              make_envelope<Down>(EnvelopeKind::message, Down{std::move(s.from), std::move(s.reason), s.ref});
          dispose(env);
          handle_message(message, true);
          return;
        }
        break;
      }
    }
  } catch (...) {  // no memory for the bookkeeping: fail rather than lose a link or monitor
    stop_with(ExitReason::error("out of memory handling a signal: " + detail::describe(std::current_exception())));
  }
  dispose(env);
}

// Each exit is its own turn: this only sends signals, so a chain of links unwinds one actor per
// turn, never through the stack. Links get an exit signal, watchers a Down, watched actors a
// demonitor (their lists shrink).
void Context::propagate_exit(const ExitReason& reason) noexcept {
  auto& x = *extras_;
  for (DynamicHandle& peer : x.links) {
    try {
      detail::send_signal(peer.core(), detail::Signal::link_exit(self(), reason));
    } catch (...) {  // no memory for the signal: that peer is not told
    }
  }
  for (auto& m : x.monitors) {
    try {
      detail::send_signal(m.watcher.core(), detail::Signal::down(self(), reason, m.ref));
    } catch (...) {
    }
  }
  for (auto& w : x.watching) {
    if (!w.target.valid()) continue;
    try {
      detail::send_signal(w.target.core(), detail::Signal::demonitor(this, w.ref));
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

// A signal for a stopped actor, on the pusher's thread (or the actor's, as it closes). It only
// sends: a monitor gets its Down at once (with the kept exit reason), a link its exit signal
// (reason noproc, as Erlang's link to a dead process). The rest means nothing now.
void Context::dead_signal(Envelope* env) noexcept {
  try {
    detail::answer_for_gone(self(), payload<detail::Signal>(*env), exit_reason(), ExitReason::noproc());
  } catch (...) {  // no memory for the answer: the watcher is not told
  }
}

void detail::answer_for_gone(const DynamicHandle& gone, Signal& signal, const ExitReason& down_reason,
                             const ExitReason& link_reason) {
  switch (signal.kind) {
    case Signal::Kind::monitor:
      if (signal.from.valid()) send_signal(signal.from.core(), Signal::down(gone, down_reason, signal.ref));
      return;
    case Signal::Kind::link:
      if (signal.from.valid()) send_signal(signal.from.core(), Signal::link_exit(gone, link_reason));
      return;
    case Signal::Kind::unlink:
    case Signal::Kind::demonitor:
    case Signal::Kind::exit:
    case Signal::Kind::down:
      return;
  }
}

// --- Links and monitors: each call only sends a signal (the target handles it on its own turn).

void detail::send_signal(runtime::ActorCore* target, Envelope* signal) noexcept {
  target->enqueue(signal);
  target->flag_signal();  // after the push: see flag_signal()
}

void detail::send_signal(runtime::ActorCore* target, Signal signal) {
  send_signal(target, make_envelope<Signal>(EnvelopeKind::signal, std::move(signal)));
}

MonitorRef Context::monitor(const DynamicHandle& target) {
  auto& x = extras();
  x.watching.reserve(x.watching.size() + 1);
  const MonitorRef ref{++x.last_monitor_id};
  Envelope* signal = make_envelope<detail::Signal>(
      EnvelopeKind::signal,
      target.valid() ? detail::Signal::monitor(self(), ref) : detail::Signal::down({}, ExitReason::noproc(), ref));
  x.watching.push_back({ref, target});  // cannot throw: reserved
  detail::send_signal(target.valid() ? target.core() : this, signal);
  return ref;
}

void Context::demonitor(MonitorRef ref) {
  if (extras_ == nullptr) return;
  auto& watching = extras_->watching;
  auto it = std::find_if(watching.begin(), watching.end(), [&](const auto& w) { return w.ref == ref; });
  if (it == watching.end()) {
    drop_stashed_down(ref);
    return;
  }
  DynamicHandle target = std::move(it->target);
  watching.erase(it);
  if (!target.valid()) return;
  detail::send_signal(target.core(), detail::Signal::demonitor(this, ref));
}

// A Down that came while a coroutine awaited has left `watching` and waits in the stash, among
// the urgent messages at its front: demonitor drops it there, as it would drop the signal.
void Context::drop_stashed_down(MonitorRef ref) noexcept {
  auto& x = *extras_;
  const auto urgent_end = x.stash.begin() + static_cast<std::ptrdiff_t>(x.urgent_in_stash);
  const auto it = std::find_if(x.stash.begin(), urgent_end, [&](Envelope* env) {
    return env->is(message_type<Down>) && payload<Down>(*env).ref == ref;
  });
  if (it == urgent_end) return;
  Envelope* env = *it;
  x.stash.erase(it);
  --x.urgent_in_stash;
  dispose(env);  // made from a signal: never counted against a bounded mailbox
}

void Context::link(const DynamicHandle& target) {
  if (!target.valid()) {  // an empty handle stands for no actor: noproc, at once
    detail::send_signal(this, detail::Signal::exit({}, ExitReason::noproc()));
    return;
  }
  if (target.core() == this) return;
  auto& links = extras().links;
  if (std::find(links.begin(), links.end(), target) != links.end()) return;
  links.reserve(links.size() + 1);
  Envelope* signal = make_envelope<detail::Signal>(EnvelopeKind::signal, detail::Signal::link(self()));
  links.push_back(target);  // cannot throw: reserved
  detail::send_signal(target.core(), signal);
}

void Context::link_unstarted(Context& child) {
  auto& mine = extras().links;
  auto& theirs = child.extras().links;  // the child is ours alone until it starts
  mine.reserve(mine.size() + 1);
  theirs.reserve(theirs.size() + 1);
  mine.push_back(DynamicHandle::share(&child));  // cannot throw: reserved
  theirs.push_back(self());
}

void Context::unlink(const DynamicHandle& target) {
  if (extras_ == nullptr || !target.valid()) return;
  Envelope* signal = make_envelope<detail::Signal>(EnvelopeKind::signal, detail::Signal::unlink(self()));
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
  detail::send_signal(target.core(), detail::Signal::exit(self(), std::move(reason)));
}

}  // namespace troupe
