#include "inbound_flow.hpp"

namespace troupe::transport::detail {

InboundFlow::InboundFlow(std::weak_ptr<NodeCore> node, Peer& peer, std::uint32_t window,
                         std::uint64_t window_bytes) noexcept
    : node_(std::move(node)),
      peer_(peer),
      batch_(window / 4 == 0 ? 1 : window / 4),
      batch_bytes_(window_bytes / 4 == 0 ? 1 : window_bytes / 4) {}

void InboundFlow::returned(std::uint32_t n, std::uint64_t bytes) noexcept {
  // Relaxed: only the counts matter; the grant task that reads them is handed over under the
  // node's mutex (NodeLoop::post), which orders it after these additions. Each count on its own
  // posts exactly when an addition carries it over its batch (grant() resets it below), so
  // neither can sit at a full batch without a grant on its way.
  const std::uint32_t before = returned_.fetch_add(n, std::memory_order_relaxed);
  const std::uint64_t before_bytes = returned_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  const bool batch = before < batch_ && before + n >= batch_;
  const bool batch_bytes = before_bytes < batch_bytes_ && before_bytes + bytes >= batch_bytes_;
  if (!batch && !batch_bytes) return;
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
  const std::uint64_t bytes = returned_bytes_.exchange(0, std::memory_order_relaxed);
  if (!live_ || (n == 0 && bytes == 0)) return;
  peer_.outbox.push(Grant{n, bytes});
  node.dialler().flush(peer_);
}

}  // namespace troupe::transport::detail
