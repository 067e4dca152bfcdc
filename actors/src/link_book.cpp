// The book of links and monitors (link_book.hpp).
#include "link_book.hpp"

#include <troupe/message.hpp>

#include <algorithm>
#include <utility>

namespace troupe::detail {

void LinkBook::link(const DynamicHandle& me, const DynamicHandle& target) {
  if (std::find(links_.begin(), links_.end(), target) != links_.end()) return;
  links_.reserve(links_.size() + 1);
  Envelope* signal = make_envelope<Signal>(EnvelopeKind::signal, Signal::link(me));
  links_.push_back(target);  // cannot throw: reserved
  send_signal(target.core(), signal);
}

bool LinkBook::unlink(const DynamicHandle& me, const DynamicHandle& target) {
  Envelope* signal = make_envelope<Signal>(EnvelopeKind::signal, Signal::unlink(me));
  if (std::erase(links_, target) == 0) {
    dispose(signal);
    return false;
  }
  send_signal(target.core(), signal);
  return true;
}

MonitorRef LinkBook::monitor(const DynamicHandle& me, const DynamicHandle& target) {
  watching_.reserve(watching_.size() + 1);
  const MonitorRef ref{last_monitor_id_ + 1};
  Envelope* signal = make_envelope<Signal>(
      EnvelopeKind::signal, target.valid() ? Signal::monitor(me, ref) : Signal::down({}, ExitReason::noproc(), ref));
  ++last_monitor_id_;
  watching_.push_back({ref, target});  // cannot throw: reserved
  send_signal(target.valid() ? target.core() : me.core(), signal);
  return ref;
}

bool LinkBook::demonitor(runtime::ActorCore* me, MonitorRef ref) {
  auto it = std::find_if(watching_.begin(), watching_.end(), [&](const Watch& w) { return w.ref == ref; });
  if (it == watching_.end()) return false;
  DynamicHandle target = std::move(it->target);
  watching_.erase(it);
  if (target.valid()) send_signal(target.core(), Signal::demonitor(me, ref));
  return true;
}

void LinkBook::link_unstarted(LinkBook& parent, const DynamicHandle& parent_handle, LinkBook& child,
                              const DynamicHandle& child_handle) {
  parent.links_.reserve(parent.links_.size() + 1);
  child.links_.reserve(child.links_.size() + 1);
  parent.links_.push_back(child_handle);  // cannot throw: reserved
  child.links_.push_back(parent_handle);
}

void LinkBook::linked_by(DynamicHandle peer) {
  if (std::find(links_.begin(), links_.end(), peer) == links_.end()) links_.push_back(std::move(peer));
}

void LinkBook::unlinked_by(const DynamicHandle& peer) noexcept { std::erase(links_, peer); }

bool LinkBook::take_link(const DynamicHandle& peer) noexcept { return std::erase(links_, peer) != 0; }

void LinkBook::watched_by(DynamicHandle watcher, MonitorRef ref) { watchers_.push_back({std::move(watcher), ref}); }

void LinkBook::unwatched_by(const runtime::ActorCore* watcher, MonitorRef ref) noexcept {
  std::erase_if(watchers_, [&](const Watcher& m) { return m.watcher.core() == watcher && m.ref == ref; });
}

bool LinkBook::take_watch(MonitorRef ref) noexcept {
  return std::erase_if(watching_, [&](const Watch& w) { return w.ref == ref; }) != 0;
}

// Each exit is its own turn: this only sends signals, so a chain of links unwinds one actor per
// turn, never through the stack.
void LinkBook::tell_exit(const DynamicHandle& me, const ExitReason& reason) noexcept {
  for (DynamicHandle& peer : links_) {
    try {
      send_signal(peer.core(), Signal::link_exit(me, reason));
    } catch (...) {  // no memory for the signal: that peer is not told
    }
  }
  for (Watcher& m : watchers_) {
    try {
      send_signal(m.watcher.core(), Signal::down(me, reason, m.ref));
    } catch (...) {
    }
  }
  for (Watch& w : watching_) {
    if (!w.target.valid()) continue;
    try {
      send_signal(w.target.core(), Signal::demonitor(me.core(), w.ref));
    } catch (...) {
    }
  }
  // Freed, not only cleared: the book outlives the state until the actor's block is freed.
  links_ = {};
  watchers_ = {};
  watching_ = {};
}

}  // namespace troupe::detail
