// The local actors a node's peers can name (exports), each monitored by the export watcher and
// forgotten when it stops, and the requests to remote actors that await a response.
#include "export_watcher.hpp"
#include "node_core.hpp"
#include "remote_actor.hpp"

#include <troupe/message.hpp>
#include <troupe/signals.hpp>

namespace troupe::transport::detail {

namespace {

// A stopped export's id stays known this long (and at most this many), so the stopping actor's own
// Down or exit signal still names it by the id its peers know.
constexpr kj::Duration kStoppedExportGrace = 1 * kj::SECONDS;
constexpr std::size_t kMaxStoppedExports = 4096;
// How often the requests awaiting a response are swept, and how long past its deadline an entry
// stays (its requester's timeout answers it; the grace covers a timer that fires a little late).
constexpr kj::Duration kRequestSweepInterval = 1 * kj::SECONDS;
constexpr auto kRequestGrace = std::chrono::seconds(1);

}  // namespace

std::uint64_t NodeCore::export_actor(runtime::ActorCore* actor) {
  auto [it, inserted] = export_ids_.try_emplace(actor, next_export_);
  if (!inserted) return it->second;
  // A new actor may have the address of one that stopped: that one's id is not its.
  std::erase_if(stopped_exports_, [actor](const StoppedExport& s) { return s.actor == actor; });
  const std::uint64_t id = next_export_++;
  exports_.emplace(id, DynamicHandle::share(actor));
  exported_count.store(exports_.size(), std::memory_order_relaxed);  // relaxed: a statistic
  // The monitor's ref is the export id, so the Down names what to drop. An actor that has
  // stopped already answers at once (with its Down). The watcher itself needs no watching.
  if (actor != export_watcher_.core()) {
    troupe::detail::send_signal(
        actor, make_envelope<troupe::detail::MonitorSignal>(
                   EnvelopeKind::signal, troupe::detail::MonitorSignal{export_watcher_, MonitorRef{id}}));
  }
  return id;
}

void NodeCore::unexport(std::uint64_t id, runtime::ActorCore* actor) {
  auto it = exports_.find(id);
  if (it == exports_.end() || it->second.core() != actor) return;
  export_ids_.erase(actor);
  DynamicHandle last = std::move(it->second);  // may be the last reference: released after the erase
  exports_.erase(it);
  exported_count.store(exports_.size(), std::memory_order_relaxed);  // relaxed: a statistic
  // Its requests are no one's now: a response would be a dead letter, a node-down tells no one.
  for (auto& [name, p] : peers_) {
    auto first = p->requests.lower_bound({id, 0});
    auto last = p->requests.lower_bound({id + 1, 0});
    const auto forgotten = static_cast<std::uint64_t>(std::distance(first, last));
    pending_count.fetch_sub(forgotten, std::memory_order_relaxed);  // relaxed: a statistic
    p->requests.erase(first, last);
  }
  const kj::TimePoint now = timer().now();
  while (!stopped_exports_.empty() &&
         (stopped_exports_.size() >= kMaxStoppedExports || now - stopped_exports_.front().when > kStoppedExportGrace)) {
    stopped_exports_.pop_front();
  }
  stopped_exports_.push_back({now, actor, id});
}

std::uint64_t NodeCore::id_of_stopping(runtime::ActorCore* actor) {
  if (auto it = export_ids_.find(actor); it != export_ids_.end()) return it->second;
  for (auto it = stopped_exports_.rbegin(); it != stopped_exports_.rend(); ++it) {
    if (it->actor == actor) return it->id;
  }
  return export_actor(actor);
}

void NodeCore::track_request(Peer& p, std::uint64_t requester, std::uint64_t request_id,
                             std::chrono::steady_clock::time_point deadline) {
  if (p.requests.emplace(std::make_pair(requester, request_id), deadline).second)
    pending_count.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
}

kj::Promise<void> NodeCore::sweep_requests() {
  return timer().afterDelay(kRequestSweepInterval).then([this]() {
    // Past the deadline and a grace period: the requester's own timer has answered it by now (a
    // late response is then dropped by the requester, and a node-down need not fail it).
    const auto expired_before = std::chrono::steady_clock::now() - kRequestGrace;
    for (auto& [name, p] : peers_) {
      const auto forgotten = std::erase_if(p->requests, [&](const auto& entry) { return entry.second < expired_before; });
      pending_count.fetch_sub(forgotten, std::memory_order_relaxed);  // relaxed: a statistic
    }
    return sweep_requests();
  });
}

void NodeCore::untrack_request(Peer& p, std::uint64_t requester, std::uint64_t request_id) {
  if (p.requests.erase({requester, request_id}) != 0)
    pending_count.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a statistic
}

runtime::ActorCore* NodeCore::exported(std::uint64_t id) const {
  auto it = exports_.find(id);
  return it == exports_.end() ? nullptr : it->second.core();
}

}  // namespace troupe::transport::detail
