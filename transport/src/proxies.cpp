#include "proxies.hpp"

#include "node_core.hpp"
#include "remote_actor.hpp"

namespace troupe::transport::detail {

RemoteActor* Proxies::proxy(Peer& peer, std::uint64_t remote_id) {
  auto& handle = proxies_[{&peer, remote_id}];
  if (!handle) handle = DynamicHandle::adopt(new RemoteActor(node_.shared_from_this(), peer, remote_id));
  return static_cast<RemoteActor*>(handle.core());
}

DynamicHandle Proxies::find(const Peer& peer, std::uint64_t remote_id) const {
  auto it = proxies_.find({&peer, remote_id});
  return it == proxies_.end() ? DynamicHandle{} : it->second;
}

void Proxies::kill(const Peer& peer) {
  for (auto it = proxies_.lower_bound({&peer, 0}); it != proxies_.end() && it->first.first == &peer;) {
    static_cast<RemoteActor*>(it->second.core())->mark_dead();
    it = proxies_.erase(it);
  }
}

}  // namespace troupe::transport::detail
