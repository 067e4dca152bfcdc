// The remote actors this node stands in for (RemoteActor), one per (peer, actor id), while
// something here refers to it: a handle, a request waiting for its response, a message on its way
// out. One that only this table holds is dropped at the next sweep (a peer's short-lived
// requesters would otherwise leave one each for the connection's life), and made again if the
// peer names the actor later. A node-down kills them all, since a restarted peer reuses ids.
// Transport thread only, and clear() once the thread is gone; but for count().
#pragma once

#include <troupe/handle.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>

namespace troupe::transport::detail {

class NodeCore;
class RemoteActor;
struct Peer;

class Proxies {
 public:
  explicit Proxies(NodeCore& node) noexcept : node_(node) {}

  // The proxy of the peer's actor `remote_id`, made on first use. The caller takes its own
  // reference before the next sweep.
  RemoteActor* proxy(Peer& peer, std::uint64_t remote_id);
  // The proxy if there is one now, else an empty handle.
  DynamicHandle find(const Peer& peer, std::uint64_t remote_id) const;
  // The peer went down: its proxies are dead (RemoteActor::mark_dead) and forgotten.
  void kill(const Peer& peer);
  // Drops the peer's proxies only this table holds (as a sweep would); true if any is left, which
  // something here still refers to (IdlePeers keeps such a peer).
  bool drop_unused(const Peer& peer);
  // The node stopped: handles users keep stay valid; what is sent to them is dropped at once
  // (RemoteActor::discard_all).
  void clear() {
    proxies_.clear();
    counted();
  }
  // Drops the proxies only this table holds, once it has doubled since the last sweep (or grown
  // to kFirstSweep), so the table stays within twice what is in use, at a constant cost per
  // proxy made. Between frames: never while a caller holds a proxy() without its reference.
  void sweep_if_grown();
  // Any thread: NodeStats::remote_actors.
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }  // relaxed: a statistic

 private:
  static constexpr std::size_t kFirstSweep = 1024;
  // Whether only this table refers to `proxy` (a sweep, or drop_unused, may drop it).
  static bool unused(const DynamicHandle& proxy) noexcept;
  void counted() noexcept { count_.store(proxies_.size(), std::memory_order_relaxed); }  // relaxed: a statistic

  NodeCore& node_;
  std::map<std::pair<const Peer*, std::uint64_t>, DynamicHandle> proxies_;
  std::size_t sweep_at_ = kFirstSweep;
  std::atomic<std::uint64_t> count_{0};
};

}  // namespace troupe::transport::detail
