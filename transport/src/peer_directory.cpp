#include "peer_directory.hpp"

namespace troupe::transport::detail {

Peer& PeerDirectory::peer(std::string_view name) {
  auto it = peers_.find(name);
  if (it == peers_.end()) {
    auto p = std::make_shared<Peer>(std::string(name), config_);
    it = peers_.emplace(p->name, std::move(p)).first;
    counted();
  }
  return *it->second;
}

}  // namespace troupe::transport::detail
