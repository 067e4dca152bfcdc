// Which node and peer the codec works for while the transport thread encodes or decodes one
// message: handles in that message (wire_type.hpp) need them to export or find actors.
#pragma once

namespace troupe::transport::detail {

class NodeCore;
struct Peer;

struct CodecContext {
  NodeCore* node = nullptr;
  Peer* peer = nullptr;  // the node the message goes to, or came from
};

// The transport thread's current context (null node outside an encode or decode).
CodecContext& codec_context() noexcept;

// Sets the context for one encode or decode, restoring the previous one after.
class CodecScope {
 public:
  CodecScope(NodeCore& node, Peer& peer) noexcept : saved_(codec_context()) { codec_context() = {&node, &peer}; }
  ~CodecScope() { codec_context() = saved_; }
  CodecScope(const CodecScope&) = delete;
  CodecScope& operator=(const CodecScope&) = delete;

 private:
  CodecContext saved_;
};

}  // namespace troupe::transport::detail
