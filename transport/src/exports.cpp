#include "exports.hpp"

#include "export_watcher.hpp"
#include "node_core.hpp"

#include <troupe/message.hpp>
#include <troupe/signals.hpp>

namespace troupe::transport::detail {
namespace {

// A stopped export's id stays known this long (and at most this many), so the stopping actor's own
// Down or exit signal still names it by the id its peers know.
constexpr kj::Duration kStoppedExportGrace = 1 * kj::SECONDS;
constexpr std::size_t kMaxStoppedExports = 4096;

}  // namespace

void Exports::counted() noexcept {
  count_.store(exports_.size(), std::memory_order_relaxed);  // relaxed: a statistic
}

void Exports::start(ExportWatcher* watcher) {
  watcher_ = watcher;
  watcher_handle_ = DynamicHandle::adopt(watcher);
}

void Exports::clear() {
  exports_.clear();
  export_ids_.clear();
  stopped_exports_.clear();
  counted();
  watcher_handle_ = {};
}

std::uint64_t Exports::export_actor(runtime::ActorCore* actor) {
  auto [it, inserted] = export_ids_.try_emplace(actor, next_export_);
  if (!inserted) return it->second;
  // A new actor may have the address of one that stopped: that one's id is not its.
  std::erase_if(stopped_exports_, [actor](const StoppedExport& s) { return s.actor == actor; });
  const std::uint64_t id = next_export_++;
  exports_.emplace(id, DynamicHandle::share(actor));
  counted();
  // The monitor's ref is the export id, so the Down names what to drop. An actor that has
  // stopped already answers at once (with its Down). The watcher itself needs no watching.
  if (actor != watcher_handle_.core()) {
    troupe::detail::send_signal(actor, troupe::detail::Signal::monitor(watcher_handle_, MonitorRef{id}));
  }
  return id;
}

void Exports::unexport(std::uint64_t id, runtime::ActorCore* actor) {
  auto it = exports_.find(id);
  if (it == exports_.end() || it->second.core() != actor) return;
  export_ids_.erase(actor);
  DynamicHandle last = std::move(it->second);  // may be the last reference: released after the erase
  exports_.erase(it);
  counted();
  // Its requests are no one's now: a response would be a dead letter, a node-down tells no one.
  node_.requests().forget_requester(id);
  const kj::TimePoint now = node_.loop().timer().now();
  while (!stopped_exports_.empty() &&
         (stopped_exports_.size() >= kMaxStoppedExports || now - stopped_exports_.front().when > kStoppedExportGrace)) {
    stopped_exports_.pop_front();
  }
  stopped_exports_.push_back({now, actor, id});
}

std::uint64_t Exports::id_of_stopping(runtime::ActorCore* actor) {
  if (auto it = export_ids_.find(actor); it != export_ids_.end()) return it->second;
  for (auto it = stopped_exports_.rbegin(); it != stopped_exports_.rend(); ++it) {
    if (it->actor == actor) return it->id;
  }
  return export_actor(actor);
}

std::optional<std::uint64_t> Exports::id_of(const runtime::ActorCore* actor) const {
  auto it = export_ids_.find(actor);
  if (it == export_ids_.end()) return std::nullopt;
  return it->second;
}

runtime::ActorCore* Exports::exported(std::uint64_t id) const {
  auto it = exports_.find(id);
  return it == exports_.end() ? nullptr : it->second.core();
}

}  // namespace troupe::transport::detail
