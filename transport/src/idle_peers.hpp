// Forgets the peers nothing on this node uses any more (NodeConfig::forget_idle_peers_after), so
// that a node whose cluster keeps changing under new names (autoscaled members, each named afresh)
// holds, and reports in its metrics, only the peers of its last few minutes instead of every node
// it ever heard of.
//
// A peer is in use while any part of the node refers to it: its connection, or one in its
// handshake or on its way to destruction; a dial of it, under way or waiting for its backoff;
// anything queued for it; a request or lookup awaiting its answer; a seed's answers waiting for
// its dial; links or monitors across; or a remote actor of it that something here holds and that
// is not dead (a node-down kills them all, and the table drops those only it holds). A peer given
// by Node::add_peer is configuration, always in use. The sweep checks these one peer at a time,
// which costs a walk of the connections and the lookups per peer: a few hundred peers at most,
// a few times a minute.
//
// Forgetting happens between turns of the transport thread, so no part holds a reference taken
// from the directory at that moment; the parts that key tables by a peer's address (pending
// requests) drop its place first, before a new peer could have that address. Transport thread
// only.
#pragma once

#include <kj/async.h>
#include <kj/timer.h>

namespace troupe::transport::detail {

class NodeCore;
struct Peer;

class IdlePeers {
 public:
  explicit IdlePeers(NodeCore& node) noexcept : node_(node) {}

  // Sweeps every quarter of forget_idle_peers_after (between 10 ms and a minute): a peer found
  // unused by every sweep for that long is forgotten. Never resolves; the node's task set drops
  // it as the loop ends. Not started when forget_idle_peers_after is zero.
  kj::Promise<void> sweep(kj::Timer& timer);

 private:
  bool in_use(Peer& peer) const;
  void forget_idle(kj::TimePoint now);

  NodeCore& node_;
};

}  // namespace troupe::transport::detail
