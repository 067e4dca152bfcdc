// What this node holds for one peer until its connection's writer takes it: controls first (credit
// grants, lookups and their replies), then signals, then envelopes as far as the peer's credit
// (inbound_flow.hpp is the other side) allows. It also bounds the messages held for the peer
// (NodeConfig::max_outbound_queue, max_outbound_bytes) and knows the largest frame the peer takes.
#pragma once

#include "out_envelope.hpp"
#include "wire_signal.hpp"

#include <troupe/runtime/mailbox_limit.hpp>
#include <troupe/transport/node.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace troupe::transport::detail {

// Credit for what the peer may send this node (a frame Grant).
struct Grant {
  std::uint32_t envelopes;
  std::uint64_t bytes;
};
// Node::whereis: which actor the peer has registered under `name`.
struct Lookup {
  std::uint64_t id;
  std::string name;
};
// The answer to the peer's Lookup `id`.
struct LookupReply {
  std::uint64_t id;
  bool found;
  std::uint64_t actor_id;  // this node's export id, when found
};
using Control = std::variant<Grant, Lookup, LookupReply>;

// The most controls and signals an outbox holds before the peer's next lookup, link or monitor
// closes its connection instead of queueing one more answer (Connection::require_room_for_answer):
// a peer that keeps asking without reading what it asked for cannot grow the queue without bound.
// A few MiB; far more than a peer that reads ever leaves queued.
inline constexpr std::size_t kMaxQueuedControls = std::size_t{1} << 16;

class Outbox {
 public:
  explicit Outbox(const NodeConfig& config);

  // Transport thread, unless marked.
  void push(Control control) { controls_.push_back(std::move(control)); }
  void push_first(Control control) { controls_.push_front(std::move(control)); }
  std::optional<Control> take_control();
  void push(WireSignal signal) { signals_.push_back(std::move(signal)); }
  std::optional<WireSignal> take_signal();
  std::size_t controls_and_signals() const noexcept { return controls_.size() + signals_.size(); }
  // A response (kind RESPONSE) counts its `charged` bytes against the response bound from here.
  void push(OutEnvelope envelope);
  // In send order; the writer plans its frames from the front (envelope_frame.hpp).
  std::deque<OutEnvelope>& envelopes() noexcept { return envelopes_; }
  const std::deque<OutEnvelope>& envelopes() const noexcept { return envelopes_; }
  // Drops the controls and signals (the peer cannot be reached; they mean nothing to a next
  // connection) and hands over the envelopes, for the caller to drop or keep.
  std::deque<OutEnvelope> clear();

  // Credit: envelopes and bytes (OutEnvelope::wire_bytes) the peer has granted and not yet been sent.
  void granted(std::uint32_t envelopes, std::uint64_t bytes) noexcept;
  std::uint64_t credit() const noexcept { return credit_; }
  std::uint64_t credit_bytes() const noexcept { return credit_bytes_; }
  // The first `n` envelopes went out in a frame, taking `bytes` of the credit: they leave the
  // queue and the outbound bound.
  void written(std::size_t n, std::uint64_t bytes) noexcept;
  // The connection is gone: the next one starts from the window its peer grants it.
  void forget_credit() noexcept;
  // An envelope leaves the queue, written or dropped: whatever bound counted it lets it go.
  void release(const OutEnvelope& envelope) noexcept;

  // Responses to the peer's requests, queued and not yet written, bounded in bytes
  // (NodeConfig::max_outbound_response_bytes). Whether a response weighing `bytes` fits: one that
  // does not is replaced by an error (RemoteActor::refuse_response), which is queued whatever the
  // bound. Past a quarter more than the bound, the peer's next request closes its connection
  // (Connection::require_room_for_response). Transport thread.
  bool room_for_response(std::uint64_t bytes) const noexcept { return response_bytes_ + bytes <= response_bound_; }
  bool responses_overflowing() const noexcept { return response_bytes_ > response_bound_ + response_bound_ / 4; }
  std::uint64_t response_bytes() const noexcept { return response_bytes_; }
  std::uint64_t response_bound() const noexcept { return response_bound_; }
  // Whether this refusal is the first since the responses last drained to half the bound: the
  // node logs that one, not each (a peer that stopped reading would otherwise fill the log).
  bool first_refusal() noexcept { return !std::exchange(refusing_, true); }

  // Bounds the messages this node holds for the peer: every remote actor of the peer counts its
  // sends here, until they are written or dropped. Shared by those actors, which borrow it
  // (RemoteActor); made with the peer, which outlives them. Any thread.
  runtime::MailboxLimit& limit() noexcept { return limit_; }
  // The largest frame the peer accepts: what its hello stated, or this node's own limit until a
  // connection tells. Written by the transport thread; read by any sender (RemoteActor::admit),
  // relaxed: a stale value only moves a refusal from the send to the transport thread.
  std::uint64_t max_frame_bytes() const noexcept { return max_frame_bytes_.load(std::memory_order_relaxed); }
  void set_max_frame_bytes(std::uint64_t bytes) noexcept { max_frame_bytes_.store(bytes, std::memory_order_relaxed); }

 private:
  std::deque<Control> controls_;
  std::deque<WireSignal> signals_;
  std::deque<OutEnvelope> envelopes_;
  std::uint64_t credit_ = 0;
  std::uint64_t credit_bytes_ = 0;
  const std::uint64_t response_bound_;
  std::uint64_t response_bytes_ = 0;
  bool refusing_ = false;
  std::atomic<std::uint64_t> max_frame_bytes_;
  runtime::MailboxLimit limit_;
};

}  // namespace troupe::transport::detail
