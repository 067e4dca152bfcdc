// Dialling peers on demand: when something is queued for a peer that has no connection, through
// TLS when configured, with a backoff after a failure or a node-down (100 ms doubling to 2 s).
#pragma once

#include <kj/async-io.h>
#include <kj/time.h>

namespace troupe::transport::detail {

class NodeCore;
struct Peer;

// A peer's dialling, as the Dialler keeps it (Peer::dial). Transport thread only.
struct DialState {
  bool dialing = false;                    // this node's own dial is in flight (connect, TLS, handshake)
  bool scheduled = false;                  // a dial waits for the backoff to pass
  kj::Duration backoff = 0 * kj::SECONDS;  // before the next dial, after a failure or a node-down
  kj::TimePoint next_dial = kj::origin<kj::TimePoint>();
};

// Transport thread only. Uses the node's loop, TLS, log, connections and dead letters.
class Dialler {
 public:
  explicit Dialler(NodeCore& node) noexcept : node_(node) {}

  // Sends what is queued for `peer`: on its connection, or by dialling it (after the backoff)
  // when it has none and no dial is under way.
  void flush(Peer& peer);
  // A dial of `peer` is in flight (connect, TLS or handshake).
  bool dialing(const Peer& peer) const noexcept;
  // This node's dial of `peer` is over: it connected, it was refused, or the peer went down.
  void dial_ended(Peer& peer) noexcept;
  // The next dial of `peer` waits longer.
  void back_off(Peer& peer);
  // `peer` connected: a dial after its next node-down waits only the first backoff.
  void reset_backoff(Peer& peer) noexcept;
  // `peer` has a new address: worth trying at once.
  void retry_at_once(Peer& peer) noexcept;

 private:
  void dial_after_backoff(Peer& peer);
  void dial(Peer& peer);

  NodeCore& node_;
};

}  // namespace troupe::transport::detail
