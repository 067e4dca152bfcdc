// The requests local actors sent to remote ones that await a response, per peer: a node-down
// fails them (Errc::node_down). An entry goes when its response comes, when its requester's export
// goes (a response would be a dead letter), or a while after its requester stopped waiting (its
// timeout answered it). Transport thread only, but for count().
#pragma once

#include <kj/async.h>
#include <kj/timer.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <utility>

namespace troupe::transport::detail {

struct Peer;

class PendingRequests {
 public:
  // (local requester's export id, request id) -> when the requester stops waiting (its timeout;
  // max: never).
  using Entries = std::map<std::pair<std::uint64_t, std::uint64_t>, std::chrono::steady_clock::time_point>;

  void track(const Peer& peer, std::uint64_t requester, std::uint64_t request_id,
             std::chrono::steady_clock::time_point deadline);
  // Its response came: true if the request was tracked (a response to anything else is no one's).
  bool untrack(const Peer& peer, std::uint64_t requester, std::uint64_t request_id);
  // Every peer's requests of `requester`, whose export went: they are no one's now.
  void forget_requester(std::uint64_t requester);
  // The peer's requests, taken (a node-down fails them), or put back.
  Entries take(const Peer& peer);
  void put(const Peer& peer, Entries entries);
  // Whether any request to the peer awaits its response (IdlePeers keeps such a peer).
  bool awaiting(const Peer& peer) const;
  // The peer is forgotten: its (empty) place goes too, before another peer can have its address.
  void forget_peer(const Peer& peer) { by_peer_.erase(&peer); }
  // Every kRequestSweepInterval: forgets the requests whose requesters stopped waiting a while
  // ago: a requester that lives on would otherwise leave an entry behind for each request its
  // peer never answered.
  kj::Promise<void> sweep(kj::Timer& timer);

  // Any thread: NodeStats::pending_requests.
  std::uint64_t count() const noexcept { return count_.load(std::memory_order_relaxed); }  // relaxed: a statistic

 private:
  void added(std::uint64_t n) noexcept;
  void removed(std::uint64_t n) noexcept;

  std::map<const Peer*, Entries> by_peer_;
  std::atomic<std::uint64_t> count_{0};  // over all peers; written by the transport thread only
};

}  // namespace troupe::transport::detail
