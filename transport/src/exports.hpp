// The local actors a node's peers can name: export ids <-> actors. The node keeps each exported
// actor (a strong handle) and monitors it (ExportWatcher) until it stops: then unexport() drops it,
// and its id names nothing. Transport thread only, but for count(), watcher() and what start()
// and clear() say.
#pragma once

#include <troupe/handle.hpp>
#include <troupe/runtime/actor_core.hpp>

#include <kj/time.h>

#include <atomic>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>

namespace troupe::transport::detail {

class ExportWatcher;
class NodeCore;

class Exports {
 public:
  explicit Exports(NodeCore& node) noexcept : node_(node) {}

  // Before the transport thread starts: `watcher` (its core is adopted) monitors every export.
  void start(ExportWatcher* watcher);
  // Once the transport thread is gone: drops every export, and the watcher's handle (the
  // watcher keeps the node alive: this breaks the cycle). watcher() stays, for identity.
  void clear();

  // The id a peer names `actor` by (the first export, before the thread starts, is kSpawnerId).
  std::uint64_t export_actor(runtime::ActorCore* actor);
  // The export `id`, if it still is `actor` (the watcher's Down for it).
  void unexport(std::uint64_t id, runtime::ActorCore* actor);
  // The id of an actor that is telling a peer it stopped (its Down, its linked exit signal): its
  // export's id even if the export was just dropped (the signals of a stopping actor and the
  // watcher's Down race), so the peer hears of the id it knows; else export_actor(actor).
  std::uint64_t id_of_stopping(runtime::ActorCore* actor);
  // The id of `actor` if it is exported now (nothing is exported for asking).
  std::optional<std::uint64_t> id_of(const runtime::ActorCore* actor) const;
  runtime::ActorCore* exported(std::uint64_t id) const;

  // Any thread: the watcher (never changes after start()).
  ExportWatcher* watcher() const noexcept { return watcher_; }
  // Any thread: NodeStats::exported_actors.
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }  // relaxed: a statistic

 private:
  void counted() noexcept;

  NodeCore& node_;
  std::unordered_map<std::uint64_t, DynamicHandle> exports_;
  std::unordered_map<const runtime::ActorCore*, std::uint64_t> export_ids_;
  DynamicHandle watcher_handle_;      // monitors every export (made in start(); dropped in clear())
  ExportWatcher* watcher_ = nullptr;  // its core; after clear() for identity and discard_all()
  // Exports dropped in the last moments, oldest first, for id_of_stopping(). A stopping actor's
  // signals to remote watchers hold a reference to it, so its address is not reused while one is
  // in flight; an entry is kept for a grace period, and only as many as kMaxStoppedExports.
  struct StoppedExport {
    kj::TimePoint when;
    const runtime::ActorCore* actor;  // identity only, never dereferenced
    std::uint64_t id;
  };
  std::deque<StoppedExport> stopped_exports_;
  std::uint64_t next_export_ = 1;
  std::atomic<std::uint64_t> count_{0};  // exports_.size(), written by the transport thread only
};

}  // namespace troupe::transport::detail
