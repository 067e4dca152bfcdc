#include "lookups.hpp"

#include "node_core.hpp"
#include "remote_actor.hpp"

#include <algorithm>

namespace troupe::transport::detail {

Result<DynamicHandle> Lookups::whereis(std::string_view peer_name, std::string_view name, Duration timeout) {
  auto waiting = std::make_shared<std::promise<Result<DynamicHandle>>>();
  auto answer = waiting->get_future();
  const std::uint64_t id = next_id_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a counter
  node_.loop().post([this, waiting, id, peer_name = std::string(peer_name), name = std::string(name)]() {
    Peer& p = node_.peers().peer(peer_name);
    pending_.emplace(id, Pending{waiting, &p, name});
    p.outbox.push(Lookup{id, name});
    node_.dialler().flush(p);
  });
  if (answer.wait_for(timeout) != std::future_status::ready) {
    // The caller gave up: forget the lookup (a late reply then finds nothing to answer).
    node_.loop().post([this, id]() { pending_.erase(id); });
    return Error{Errc::timeout, "no answer from node '" + std::string(peer_name) + "'"};
  }
  return answer.get();
}

void Lookups::answered(std::uint64_t id, Peer& p, bool found, std::uint64_t actor_id) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;  // the caller gave up (timeout)
  if (found) {
    it->second.answer->set_value(DynamicHandle::share(node_.proxies().proxy(p, actor_id)));
  } else {
    it->second.answer->set_value(Error{Errc::no_such_name, "no actor named so on node '" + p.name + "'"});
  }
  pending_.erase(it);
}

void Lookups::fail(const Peer& p, const std::string& why) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.peer != &p) {
      ++it;
      continue;
    }
    it->second.answer->set_value(Error{Errc::node_unreachable, why});
    it = pending_.erase(it);
  }
}

Lookups::Waiting Lookups::take(const Peer& p) {
  Waiting taken;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.peer == &p) {
      taken.insert(pending_.extract(it++));
    } else {
      ++it;
    }
  }
  return taken;
}

bool Lookups::awaiting(const Peer& peer) const {
  return std::any_of(pending_.begin(), pending_.end(),
                     [&peer](const auto& entry) { return entry.second.peer == &peer; });
}

void Lookups::ask_again(Peer& p, Waiting lookups) {
  for (auto& [id, lookup] : lookups) p.outbox.push(Lookup{id, lookup.name});
  pending_.merge(lookups);
}

void Lookups::stop() {
  for (auto& [id, lookup] : pending_) lookup.answer->set_value(Error{Errc::node_unreachable, "node stopped"});
  pending_.clear();
}

}  // namespace troupe::transport::detail
