#include "proxies.hpp"

#include "node_core.hpp"
#include "remote_actor.hpp"

#include <algorithm>

namespace troupe::transport::detail {

RemoteActor* Proxies::proxy(Peer& peer, std::uint64_t remote_id) {
  auto& handle = proxies_[{&peer, remote_id}];
  if (!handle) {
    handle = DynamicHandle::adopt(new RemoteActor(node_.shared_from_this(), peer, remote_id));
    counted();
  }
  return static_cast<RemoteActor*>(handle.core());
}

bool Proxies::unused(const DynamicHandle& proxy) noexcept {
  // Only this table's reference: no handle, no request's reply_to, not on the node's ready list
  // (which holds one while the proxy has messages to send). Nothing can take a new one meanwhile:
  // references are copied from existing ones, or taken from this table on this thread.
  return proxy.core()->refs_now() == 1;
}

void Proxies::sweep_if_grown() {
  if (proxies_.size() < sweep_at_) return;
  std::erase_if(proxies_, [](const auto& entry) { return unused(entry.second); });
  sweep_at_ = std::max(kFirstSweep, 2 * proxies_.size());
  counted();
}

DynamicHandle Proxies::find(const Peer& peer, std::uint64_t remote_id) const {
  auto it = proxies_.find({&peer, remote_id});
  return it == proxies_.end() ? DynamicHandle{} : it->second;
}

bool Proxies::drop_unused(const Peer& peer) {
  bool used = false;
  for (auto it = proxies_.lower_bound({&peer, 0}); it != proxies_.end() && it->first.first == &peer;) {
    if (unused(it->second)) {
      it = proxies_.erase(it);
    } else {
      used = true;
      ++it;
    }
  }
  counted();
  return used;
}

void Proxies::kill(const Peer& peer) {
  for (auto it = proxies_.lower_bound({&peer, 0}); it != proxies_.end() && it->first.first == &peer;) {
    static_cast<RemoteActor*>(it->second.core())->mark_dead();
    it = proxies_.erase(it);
  }
  counted();
}

}  // namespace troupe::transport::detail
