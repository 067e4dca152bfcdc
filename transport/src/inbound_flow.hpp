// Credits, the receiving half (NodeConfig::receive_window, receive_window_bytes). A node lets the
// peer of each connection have at most a window of envelopes, and of bytes, in flight to it,
// counted from the moment they leave the peer until this node's actors have handled them. Once
// authenticated it grants the whole window; afterwards it grants back what its actors have
// handled, once a quarter window of either has gathered. A slow node, whose actors do not keep up, thereby stops
// granting, and its peers queue (and then slow down or refuse their senders, NodeConfig::max_outbound_queue) instead of
// flooding its memory.
//
// "Handled" is observed without touching the actors: behind the envelopes a frame delivers to one
// actor goes a CreditToken, an envelope of kind response that answers no request. The actor takes
// it in mailbox order, after those envelopes, and disposes of it as a late response; disposing
// it (or dropping it with the mailbox of an actor that stopped) returns its count. Responses and
// dead letters are returned at once: a response answers a request this node made, so the node
// has bounded those itself.
#pragma once

#include "node_core.hpp"

#include <atomic>
#include <cstdint>
#include <memory>

namespace troupe::transport::detail {

class InboundFlow final : public std::enable_shared_from_this<InboundFlow> {
 public:
  InboundFlow(std::weak_ptr<NodeCore> node, Peer& peer, std::uint32_t window, std::uint64_t window_bytes) noexcept;

  // Any thread: `n` envelopes of this connection, weighing `bytes` on the wire, have been
  // handled. Once a batch of either has gathered, asks the transport thread to grant them back.
  void returned(std::uint32_t n, std::uint64_t bytes) noexcept;
  // Transport thread: the connection closed; what is returned later is granted to nobody.
  void close() noexcept { live_ = false; }

 private:
  void grant(NodeCore& node);  // transport thread

  std::weak_ptr<NodeCore> node_;
  Peer& peer_;  // used only while live_: its connection keeps the peer in use (idle_peers.hpp)
  const std::uint32_t batch_;
  const std::uint64_t batch_bytes_;
  bool live_ = true;                        // transport thread only
  std::atomic<std::uint32_t> returned_{0};  // handled and not yet granted
  std::atomic<std::uint64_t> returned_bytes_{0};
};

// The marker behind a frame's envelopes to one actor (see the top of this file).
class CreditToken {
 public:
  CreditToken(std::shared_ptr<InboundFlow> flow, std::uint32_t count, std::uint64_t bytes) noexcept
      : flow_(std::move(flow)), count_(count), bytes_(bytes) {}
  CreditToken(CreditToken&& other) noexcept = default;  // the moved-from token returns nothing
  CreditToken& operator=(CreditToken&&) = delete;
  ~CreditToken() {
    if (flow_) flow_->returned(count_, bytes_);
  }

 private:
  std::shared_ptr<InboundFlow> flow_;
  std::uint32_t count_;
  std::uint64_t bytes_;
};

}  // namespace troupe::transport::detail
