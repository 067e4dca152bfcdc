#include "pending_requests.hpp"

#include <iterator>

namespace troupe::transport::detail {
namespace {

// How often the requests awaiting a response are swept, and how long past its deadline an entry
// stays (its requester's timeout answers it; the grace covers a timer that fires a little late).
constexpr kj::Duration kRequestSweepInterval = 1 * kj::SECONDS;
constexpr auto kRequestGrace = std::chrono::seconds(1);

}  // namespace

void PendingRequests::added(std::uint64_t n) noexcept {
  count_.fetch_add(n, std::memory_order_relaxed);  // relaxed: a statistic
}

void PendingRequests::removed(std::uint64_t n) noexcept {
  count_.fetch_sub(n, std::memory_order_relaxed);  // relaxed: a statistic
}

void PendingRequests::track(const Peer& peer, std::uint64_t requester, std::uint64_t request_id,
                            std::chrono::steady_clock::time_point deadline) {
  if (by_peer_[&peer].emplace(std::make_pair(requester, request_id), deadline).second) added(1);
}

bool PendingRequests::untrack(const Peer& peer, std::uint64_t requester, std::uint64_t request_id) {
  auto it = by_peer_.find(&peer);
  if (it == by_peer_.end() || it->second.erase({requester, request_id}) == 0) return false;
  removed(1);
  return true;
}

void PendingRequests::forget_requester(std::uint64_t requester) {
  for (auto& [peer, entries] : by_peer_) {
    auto first = entries.lower_bound({requester, 0});
    auto last = entries.lower_bound({requester + 1, 0});
    removed(static_cast<std::uint64_t>(std::distance(first, last)));
    entries.erase(first, last);
  }
}

PendingRequests::Entries PendingRequests::take(const Peer& peer) {
  auto it = by_peer_.find(&peer);
  if (it == by_peer_.end()) return {};
  Entries taken = std::move(it->second);
  it->second.clear();
  removed(taken.size());
  return taken;
}

void PendingRequests::put(const Peer& peer, Entries entries) {
  Entries& into = by_peer_[&peer];
  for (auto& entry : entries) {
    if (into.insert(entry).second) added(1);
  }
}

bool PendingRequests::awaiting(const Peer& peer) const {
  auto it = by_peer_.find(&peer);
  return it != by_peer_.end() && !it->second.empty();
}

kj::Promise<void> PendingRequests::sweep(kj::Timer& timer) {
  return timer.afterDelay(kRequestSweepInterval).then([this, &timer]() {
    // Past the deadline and a grace period: the requester's own timer has answered it by now (a
    // late response is then dropped by the requester, and a node-down need not fail it).
    const auto expired_before = std::chrono::steady_clock::now() - kRequestGrace;
    for (auto& [peer, entries] : by_peer_) {
      const auto forgotten = std::erase_if(entries, [&](const auto& entry) { return entry.second < expired_before; });
      removed(forgotten);
    }
    return sweep(timer);
  });
}

}  // namespace troupe::transport::detail
