// The book of one actor's links and monitors: whom it is linked to, who watches it, and whom it
// watches. Owner only (the actor's turns); a few entries at most, usually, so vectors.
//
// The book only keeps the entries and sends the signals that keep the other side's book in step.
// What a signal does to the actor itself (stopping it, or an Exit or Down message) is the cell's
// business (actor_cell_signals.cpp).
#pragma once

#include <troupe/handle.hpp>
#include <troupe/signals.hpp>

#include <cstdint>
#include <vector>

namespace troupe::detail {

class LinkBook {
 public:
  // --- This actor's own verbs (Context). `me` is this actor's handle. Each sends one signal, and
  // changes nothing if it throws (no memory).

  // Links to `target` (valid, not this actor); does nothing if linked already.
  void link(const DynamicHandle& me, const DynamicHandle& target);
  // Unlinks from `target`; false (and no signal) if they were not linked.
  bool unlink(const DynamicHandle& me, const DynamicHandle& target);
  // Watches `target`; an empty one gets a Down with reason noproc, sent to this actor itself.
  MonitorRef monitor(const DynamicHandle& me, const DynamicHandle& target);
  // Stops watching; false when no live monitor has `ref` (its Down may be on its way, or set
  // aside by the cell).
  bool demonitor(runtime::ActorCore* me, MonitorRef ref);
  // Links `parent` and `child` (not started yet, so its book is ours alone) on both sides, at once.
  static void link_unstarted(LinkBook& parent, const DynamicHandle& parent_handle, LinkBook& child,
                             const DynamicHandle& child_handle);

  // --- Other actors' signals, as the cell handles them.
  void linked_by(DynamicHandle peer);
  void unlinked_by(const DynamicHandle& peer) noexcept;
  // A link's exit signal: true if the link was live (it is gone now). Once a link fired, or after
  // unlink, its exit means nothing.
  bool take_link(const DynamicHandle& peer) noexcept;
  void watched_by(DynamicHandle watcher, MonitorRef ref);
  void unwatched_by(const runtime::ActorCore* watcher, MonitorRef ref) noexcept;
  // A Down: true if this actor still watched with `ref` (the monitor is gone now).
  bool take_watch(MonitorRef ref) noexcept;

  // Whether nobody is linked, watching or watched (then stopping tells no one).
  bool empty() const noexcept { return links_.empty() && watchers_.empty() && watching_.empty(); }

  // --- Stopping: links get an exit signal, watchers a Down, watched actors a demonitor (their
  // books shrink); then this book is empty. A signal that cannot be allocated is not sent.
  void tell_exit(const DynamicHandle& me, const ExitReason& reason) noexcept;

 private:
  struct Watcher {  // another actor watches this one
    DynamicHandle watcher;
    MonitorRef ref;
  };
  struct Watch {  // this actor watches another
    MonitorRef ref;
    DynamicHandle target;  // empty when the monitor was of an empty handle
  };
  std::vector<DynamicHandle> links_;
  std::vector<Watcher> watchers_;
  std::vector<Watch> watching_;
  std::uint64_t last_monitor_id_ = 0;
};

}  // namespace troupe::detail
