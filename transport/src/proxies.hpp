// The remote actors this node stands in for (RemoteActor), one per (peer, actor id), kept while
// the peer's connection lives: a node-down kills them all, since a restarted peer reuses ids.
// Transport thread only, and clear() once the thread is gone.
#pragma once

#include <troupe/handle.hpp>

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

  // The proxy of the peer's actor `remote_id`, made on first use.
  RemoteActor* proxy(Peer& peer, std::uint64_t remote_id);
  // The proxy if there is one now, else an empty handle.
  DynamicHandle find(const Peer& peer, std::uint64_t remote_id) const;
  // The peer went down: its proxies are dead (RemoteActor::mark_dead) and forgotten.
  void kill(const Peer& peer);
  // The node stopped: handles users keep stay valid; what is sent to them is dropped at once
  // (RemoteActor::discard_all).
  void clear() { proxies_.clear(); }

 private:
  NodeCore& node_;
  std::map<std::pair<const Peer*, std::uint64_t>, DynamicHandle> proxies_;
};

}  // namespace troupe::transport::detail
