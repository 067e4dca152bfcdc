// Every connection of the node, accepted or dialled, from its handshake until it is gone, and
// which connection each peer keeps: a new one replacing an old one, two that crossed (both nodes
// dialled at once), a name that two live nodes claim. Transport thread only, but for open_count().
#pragma once

#include "liveness.hpp"

#include <kj/async-io.h>

#include <atomic>
#include <cstdint>
#include <list>
#include <string>

namespace troupe::transport::detail {

class Connection;
class NodeCore;
struct Peer;

class ConnectionSet {
 public:
  explicit ConnectionSet(NodeCore& node) noexcept;
  ~ConnectionSet();

  // Runs `connection` (accepted or dialled) until it closes; logs why if it fails after
  // authentication (a refusal before it, its handshake logs itself), unless this node closed it.
  void serve(kj::Own<Connection> connection);
  // As the transport thread ends: close() every connection, then (once the task set is gone)
  // destroy them.
  void close_all();
  void clear();
  // This node became a new run (NodeCore::renew_incarnation): every peer's connection is lost
  // (the peer is down here, `why`), and every connection closes, those still in their handshake
  // too, so that each peer's next connection carries the new incarnation.
  void drop_all(const std::string& why);

  // The listener's side of a connection from `peer`, run `incarnation`, that proved the secret:
  //   duplicate_name: a live connection to another run of a node of that name is up here: this
  //     one is refused, the live one stays (one name, one node; node.hpp says how a restart is
  //     told apart);
  //   duplicate_connection: two nodes that dial each other at once keep the connection the node
  //     whose name sorts lower dialled: that node closes the other's while its own is in flight
  //     or up (not a refusal: the pair keeps one connection);
  //   keep: otherwise.
  enum class Incoming { keep, duplicate_connection, duplicate_name };
  Incoming judge_incoming(const Peer& peer, std::uint64_t incarnation) const;
  // The dialer's side: a connection this node dialled reached run `incarnation` of `peer` while
  // another run of that name is connected here (a race of two nodes of one name): refused.
  bool name_taken(const Peer& peer, const Connection& connection, std::uint64_t incarnation) const;
  // After the handshake and the exchange of incarnations: grants the peer its receive window,
  // then writes what is queued. A new connection replaces the peer's old one, if any (the peer
  // dials only when it has none, so it saw the old one go): the old one is closed and the peer is
  // down first, except for what was queued for the node rather than for its actors (see
  // replace_connection).
  void on_authenticated(Connection& connection, Peer& peer, std::uint64_t incarnation);

  // Whether a connection, in its handshake, open or about to be destroyed, refers to `peer` (as
  // its peer or as the seed it dialled): IdlePeers keeps such a peer.
  bool refer_to(const Peer& peer) const noexcept;

  // Any thread: NodeStats::open_connections.
  std::uint64_t open_count() const noexcept { return open_.load(std::memory_order_relaxed); }  // relaxed: a statistic

 private:
  void on_closed(Connection& connection);
  void log_up(const Connection& connection, const Peer& peer) const;  // "connection_up"
  // "connection_failed": an authenticated connection closed for an error.
  void log_failure(const Connection& connection, const kj::Exception& e) const;
  void replace_connection(Peer& peer, bool restarted);
  // The peer's connection is gone (closed, or replaced): the peer is down (Liveness::node_down).
  void lost(Peer& peer, const std::string& why, Liveness::Cause cause = Liveness::Cause::lost);

  NodeCore& node_;
  std::list<kj::Own<Connection>> connections_;
  std::atomic<std::uint64_t> open_{0};  // authenticated and not closed yet; written by the transport thread only
};

}  // namespace troupe::transport::detail
