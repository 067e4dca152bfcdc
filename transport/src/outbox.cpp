#include "outbox.hpp"

#include <utility>

namespace troupe::transport::detail {

Outbox::Outbox(const NodeConfig& config)
    // Until a connection says otherwise, the peer is taken to accept what this node accepts.
    : response_bound_(config.max_outbound_response_bytes),
      max_frame_bytes_(config.max_frame_bytes),
      limit_(config.max_outbound_queue, config.outbound_overflow, config.max_outbound_bytes) {}

std::optional<Control> Outbox::take_control() {
  if (controls_.empty()) return std::nullopt;
  Control first = std::move(controls_.front());
  controls_.pop_front();
  return first;
}

void Outbox::push(OutEnvelope envelope) {
  if (envelope.kind == wire::Kind::RESPONSE) response_bytes_ += envelope.charged;
  envelopes_.push_back(std::move(envelope));
}

void Outbox::release(const OutEnvelope& envelope) noexcept {
  if (envelope.counted) {
    limit_.consumed(envelope.charged);
  } else if (envelope.kind == wire::Kind::RESPONSE) {
    response_bytes_ -= envelope.charged;
    if (response_bytes_ <= response_bound_ / 2) refusing_ = false;
  }
}

std::optional<WireSignal> Outbox::take_signal() {
  if (signals_.empty()) return std::nullopt;
  WireSignal first = std::move(signals_.front());
  signals_.pop_front();
  return first;
}

std::deque<OutEnvelope> Outbox::clear() {
  controls_.clear();
  signals_.clear();
  return std::exchange(envelopes_, {});
}

void Outbox::granted(std::uint32_t envelopes, std::uint64_t bytes) noexcept {
  credit_ += envelopes;
  credit_bytes_ += bytes;
}

void Outbox::written(std::size_t n, std::uint64_t bytes) noexcept {
  credit_ -= n;
  credit_bytes_ -= bytes;
  for (std::size_t i = 0; i < n; ++i) release(envelopes_[i]);
  envelopes_.erase(envelopes_.begin(), envelopes_.begin() + static_cast<std::ptrdiff_t>(n));
}

void Outbox::forget_credit() noexcept {
  credit_ = 0;
  credit_bytes_ = 0;
}

}  // namespace troupe::transport::detail
