#include "seed_resolver.hpp"

#include "../node_core.hpp"

#include <utility>

namespace troupe::transport::detail {

void SeedResolver::resolve(const std::string& host, std::uint16_t port, Answer answer) {
  const std::pair<std::string, std::uint16_t> address{host, port};
  const Peer* known = nullptr;
  node_.peers().for_each([&](Peer& p) {
    if (!p.seed && p.connection != nullptr && p.address == address) known = &p;
  });
  if (known != nullptr) {
    answer(known->name);
    return;
  }
  Peer& seed = node_.peers().peer("seed at " + host + ":" + std::to_string(port));
  seed.seed = true;
  seed.address = address;
  waiting_[&seed].push_back(std::move(answer));
  node_.dialler().flush(seed);  // dials now, or after the backoff of a failed dial
}

void SeedResolver::found(Peer& seed, const Peer& peer) {
  auto it = waiting_.find(&seed);
  if (it == waiting_.end()) return;
  std::vector<Answer> answers = std::move(it->second);
  waiting_.erase(it);
  for (Answer& a : answers) a(peer.name);
}

void SeedResolver::failed(Peer& seed, const Error& why) {
  auto it = waiting_.find(&seed);
  if (it == waiting_.end()) return;
  std::vector<Answer> answers = std::move(it->second);
  waiting_.erase(it);
  for (Answer& a : answers) a(why);
}

}  // namespace troupe::transport::detail
