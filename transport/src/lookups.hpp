// Node::whereis: asking a peer which actor it has registered under a name. The caller's thread
// waits for the answer; the lookup itself lives on the transport thread, from the Lookup control
// queued for the peer to its reply, its failure (the peer cannot be reached), or the caller's
// timeout (a late reply then finds nothing to answer).
#pragma once

#include <troupe/transport/node.hpp>

#include <atomic>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace troupe::transport::detail {

class NodeCore;
struct Peer;

class Lookups {
 public:
  struct Pending {
    std::shared_ptr<std::promise<Result<DynamicHandle>>> answer;
    const Peer* peer;  // asked
    std::string name;
  };
  using Waiting = std::map<std::uint64_t, Pending>;  // by lookup id, in the order they were made

  explicit Lookups(NodeCore& node) noexcept : node_(node) {}

  // Any thread.
  Result<DynamicHandle> whereis(std::string_view peer, std::string_view name, Duration timeout);

  // Transport thread. `peer` answered lookup `id`.
  void answered(std::uint64_t id, Peer& peer, bool found, std::uint64_t actor_id);
  // The peer cannot be reached: its lookups fail with Errc::node_unreachable, `why`.
  void fail(const Peer& peer, const std::string& why);
  // The peer's lookups, taken while its connection is replaced, then asked again on the new one.
  Waiting take(const Peer& peer);
  void ask_again(Peer& peer, Waiting lookups);
  // Whether a lookup waits for the peer's answer (IdlePeers keeps such a peer).
  bool awaiting(const Peer& peer) const;
  // Once the transport thread is gone: every lookup fails ("node stopped").
  void stop();

 private:
  NodeCore& node_;
  Waiting pending_;                        // transport thread only
  std::atomic<std::uint64_t> next_id_{1};  // relaxed: only uniqueness matters
};

}  // namespace troupe::transport::detail
