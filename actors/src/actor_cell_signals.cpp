// The actor cell and system signals: links, monitors, exit signals, and how they overtake the user
// messages queued ahead of them. (The turn loop is in actor_cell.cpp; the book that the signals
// keep is link_book.hpp.)
#include <troupe/actor_cell.hpp>
#include <troupe/runtime/link_chain.hpp>
#include <troupe/system.hpp>

#include "actor_extras.hpp"
#include "describe.hpp"

#include <algorithm>
#include <exception>
#include <string>

namespace troupe {

// At the start of a turn whose flag is set: takes everything queued now out of the mailbox, user
// messages set aside (behind what is there, in order), and the rest (signals, urgent messages,
// and responses and timeouts that an awaiting coroutine needs) to a list chained through their
// own mailbox links (no allocation), then handles that list in order.
void detail::ActorCell::take_signals() noexcept {
  take_signal_flag();
  runtime::LinkChain<runtime::MailboxLink> rest;
  while (auto* env = static_cast<Envelope*>(mailbox_.pop())) {
    const EnvelopeKind kind = env->kind();
    if (env->urgent()) {
      rest.append(env);
      continue;
    }
    // A response that answers no pending request is a marker (a transport's credit token, a late
    // reply): it keeps its place behind the messages set aside, whose handling it may stand for.
    // A receive timeout's check keeps its place too: the messages ahead of it came before it.
    if (kind == EnvelopeKind::message || kind == EnvelopeKind::request || kind == EnvelopeKind::idle ||
        (kind == EnvelopeKind::response && !answers_pending(*env))) {
      try {
        extras().set_aside.push(env);
      } catch (...) {  // no memory to keep it: it becomes a dead letter
        // Markers and checks were never counted.
        if (kind == EnvelopeKind::message || kind == EnvelopeKind::request) message_taken(*env);
        if (kind == EnvelopeKind::idle) {
          check_receive_timeout(env, 0);  // handled here instead: a check lost would end the timeouts
        } else {
          dead_letter(env);
        }
      }
      continue;
    }
    rest.append(env);
  }
  unsigned handled = 0;  // for the metrics, as the turn counts its messages
  for (runtime::MailboxLink* at = rest.head; at != nullptr;) {
    auto* env = static_cast<Envelope*>(at);
    at = at->next.load(std::memory_order_relaxed);  // this thread's chain; before env is handled
    if (env->kind() == EnvelopeKind::signal) {
      handle_signal(env);  // once stopping, bookkeeping only: links and monitors still count
      ++handled;
    } else if ((layer_flags_ & kExiting) == 0) {
      handle(env);
      ++handled;
    } else {
      if (env->urgent()) message_taken(*env);  // a user's: counted (the others never are)
      dead_letter(env);  // as if it were left in the mailbox
    }
  }
  for (; handled > 0xFFFF; handled -= 0xFFFF) count_handled(0xFFFF);  // 16 bits at a time
  count_handled(static_cast<std::uint16_t>(handled));
  // What it handled is activity for a receive timeout, as the turn's messages are
  // (receive_timeout_after_turn): a ReceiveTimeout comes only after its time of silence.
  if (handled > 0 && (layer_flags_ & kReceiveTimeout) != 0) [[unlikely]]
    extras_->receive_timeout->last_activity = system_->now();
}

// Owner only. Bookkeeping signals change links and monitors; an exit signal may stop the actor
// or, trapped, become an Exit message; a Down of a live monitor becomes a Down message.
void detail::ActorCell::handle_signal(Envelope* env) noexcept {
  auto& s = payload<detail::Signal>(*env);
  try {
    switch (s.kind) {
      case detail::Signal::Kind::link:
        if (s.from.valid() && s.from.core() != this) extras().links.linked_by(std::move(s.from));
        break;
      case detail::Signal::Kind::unlink:
        if (extras_ != nullptr) extras_->links.unlinked_by(s.from);
        break;
      case detail::Signal::Kind::monitor:
        if (s.from.valid()) extras().links.watched_by(std::move(s.from), s.ref);  // none: no one to tell
        break;
      case detail::Signal::Kind::demonitor:
        if (extras_ != nullptr) extras_->links.unwatched_by(s.watcher, s.ref);
        break;
      case detail::Signal::Kind::exit:
        // A link's exit after unlink (or after the link already fired) means nothing.
        if (s.exit_flags.linked && (extras_ == nullptr || !extras_->links.take_link(s.from))) break;
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
        const bool live = extras_ != nullptr && extras_->links.take_watch(s.ref);
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

ExitReason detail::ActorCell::exit_reason() const {
  if (extras_ != nullptr && extras_->exit_reason) return *extras_->exit_reason;
  return ExitReason::normal();
}

// A signal for a stopped actor, on the pusher's thread (or the actor's, as it closes). It only
// sends: a monitor gets its Down at once (with the kept exit reason), a link its exit signal
// (reason noproc, as Erlang's link to a dead process). The rest means nothing now.
void detail::ActorCell::dead_signal(Envelope* env) noexcept {
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

// A signal goes into the target's mailbox like any message, and is flagged so that it overtakes
// the user messages queued ahead of it (the target handles it on its own turn).

void detail::send_signal(runtime::ActorCore* target, Envelope* signal) noexcept {
  target->enqueue(signal);
  target->flag_signal();  // after the push: see flag_signal()
}

void detail::send_signal(runtime::ActorCore* target, Signal signal) {
  send_signal(target, make_envelope<Signal>(EnvelopeKind::signal, std::move(signal)));
}

void detail::ActorCell::link_unstarted(ActorCell& child) {
  LinkBook::link_unstarted(extras().links, self(), child.extras().links, child.self());
}

}  // namespace troupe
