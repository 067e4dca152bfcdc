// Which node answers at a seed's address. A seed is given as HOST:PORT, without its node's name,
// but every connection is to a named peer (the handshake binds both names into each proof). So a
// seed is dialled as a placeholder peer (Peer::seed): the dialer's handshake takes the name the
// listener's hello gives, goes on as a dial of that peer (ConnectionHandshake::adopt_seed_name),
// and the proofs then cover that name as for any dial. Transport thread only.
#pragma once

#include <troupe/error.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace troupe::transport::detail {

class NodeCore;
struct Peer;

class SeedResolver {
 public:
  // With the name of the node at the seed, once this node is connected to it; or why not.
  using Answer = std::function<void(Result<std::string>)>;

  explicit SeedResolver(NodeCore& node) noexcept : node_(node) {}

  // Connects to the node at host:port (its name unknown), unless a connected peer already has
  // that address, and answers. A failed dial answers at once with why (the next dial of the same
  // address waits for the dialler's backoff).
  void resolve(const std::string& host, std::uint16_t port, Answer answer);

  // From the connections: a dial of placeholder `seed` authenticated as a dial of `peer`, or failed.
  void found(Peer& seed, const Peer& peer);
  void failed(Peer& seed, const Error& why);
  // Whether answers wait for the dial of placeholder `seed` (IdlePeers keeps such a peer).
  bool awaiting(const Peer& seed) const { return waiting_.contains(&seed); }

 private:
  NodeCore& node_;
  std::map<const Peer*, std::vector<Answer>> waiting_;
};

}  // namespace troupe::transport::detail
