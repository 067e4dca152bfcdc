#include "idle_peers.hpp"

#include "kj_duration.hpp"
#include "node_core.hpp"

namespace troupe::transport::detail {

kj::Promise<void> IdlePeers::sweep(kj::Timer& timer) {
  const kj::Duration interval =
      kj::min(kj::max(to_kj(node_.config().forget_idle_peers_after) / 4, 10 * kj::MILLISECONDS), 60 * kj::SECONDS);
  return timer.afterDelay(interval).then([this, &timer]() {
    forget_idle(timer.now());
    return sweep(timer);
  });
}

bool IdlePeers::in_use(Peer& p) const {
  const Ties& ties = p.ties;
  if (p.configured || p.connection != nullptr || p.dial.dialing || p.dial.scheduled) return true;
  if (!p.outbox.envelopes().empty() || p.outbox.controls_and_signals() != 0) return true;
  if (!ties.links().empty() || !ties.monitors().empty() || !ties.watchers().empty()) return true;
  if (node_.connections().refer_to(p) || node_.requests().awaiting(p) || node_.lookups().awaiting(p) ||
      node_.seeds().awaiting(p)) {
    return true;
  }
  return node_.proxies().drop_unused(p);  // last: it drops the proxies nothing uses
}

void IdlePeers::forget_idle(kj::TimePoint now) {
  const kj::Duration after = to_kj(node_.config().forget_idle_peers_after);
  node_.peers().forget_if([&](Peer& p) {
    if (in_use(p)) {
      p.idle_since.reset();
      return false;
    }
    if (!p.idle_since) p.idle_since = now;
    if (now - *p.idle_since < after) return false;
    node_.requests().forget_peer(p);
    // Its remote actors are dead (a node-down) or gone: nothing should wait on its bound, and
    // nothing will ever drain it. A sender to one of those dead actors is answered at once.
    p.outbox.limit().close();
    return true;
  });
}

}  // namespace troupe::transport::detail
