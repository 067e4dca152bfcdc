// The connections accepted and still in their handshakes, at most NodeConfig::max_handshakes: the
// listener takes a slot for each connection it accepts and refuses one it gets no slot for; the
// slot is given back when its connection authenticates or goes, whichever comes first. Without the
// bound, anyone who can reach the port could make the node hold a connection's buffers for each
// connection they open within handshake_timeout. Transport thread only.
#pragma once

#include <cstdint>
#include <memory>

namespace troupe::transport::detail {

class HandshakeSlots {
 public:
  // Given back when its last copy goes (a connection keeps it only until it authenticates).
  using Slot = std::shared_ptr<void>;

  explicit HandshakeSlots(std::uint32_t max) : state_(std::make_shared<State>(State{max, 0})) {}

  // A slot, or null when all `max` are taken.
  Slot take() {
    if (state_->taken >= state_->max) return nullptr;
    ++state_->taken;
    // The slot shares the count, so it may outlive the listener (a connection still in its
    // handshake as the node closes).
    return Slot(state_.get(), [state = state_](void*) noexcept { --state->taken; });
  }
  std::uint32_t max() const noexcept { return state_->max; }

 private:
  struct State {
    std::uint32_t max;
    std::uint32_t taken;
  };
  std::shared_ptr<State> state_;
};

}  // namespace troupe::transport::detail
