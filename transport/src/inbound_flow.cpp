#include "inbound_flow.hpp"

namespace troupe::transport::detail {

InboundFlow::InboundFlow(std::weak_ptr<NodeCore> node, Peer& peer, std::uint32_t window) noexcept
    : node_(std::move(node)), peer_(peer), batch_(window / 4 == 0 ? 1 : window / 4) {}

void InboundFlow::returned(std::uint32_t n) noexcept {
  // Relaxed: only the count matters; the grant task that reads it is handed over under the
  // node's mutex (NodeCore::post), which orders it after this addition.
  const std::uint32_t before = returned_.fetch_add(n, std::memory_order_relaxed);
  if (before >= batch_ || before + n < batch_) return;  // not the addition that completes a batch
  if (auto node = node_.lock()) {
    // No memory for this small task is fatal here (noexcept), as for any broken runtime
    // invariant: a lost batch would stall the peer's window for good.
    NodeCore* core = node.get();  // the loop runs posted tasks only while the node lives
    node->post([self = shared_from_this(), core] { self->grant(*core); });
  }
}

void InboundFlow::grant(NodeCore& node) {
  // Relaxed: as in returned(). Resetting to 0 lets the next completed batch post again.
  const std::uint32_t n = returned_.exchange(0, std::memory_order_relaxed);
  if (!live_ || n == 0) return;
  OutControl credit;
  credit.credit = n;
  peer_.controls.push_back(std::move(credit));
  node.flush(peer_);
}

}  // namespace troupe::transport::detail
