// Reads one frame (a Cap'n Proto message in the standard stream framing) from an untrusted
// stream, checking the segment count and the total size before it allocates or parses anything.
#pragma once

#include <capnp/message.h>
#include <kj/async-io.h>

#include <cstddef>

namespace troupe::transport::detail {

struct FrameLimits {
  std::size_t max_segments;
  std::size_t max_bytes;  // the frame's segments together
};

// The frame, or null at a clean end of stream (EOF before a frame's first byte). Throws a
// kj::Exception for a frame beyond the limits, a truncated one, or a broken stream. The reader's
// traversal limit is a small multiple of the frame's own size: no pointer trick (a list pointing into itself) makes it read much more than was sent.
kj::Promise<kj::Own<capnp::MessageReader>> read_frame(kj::AsyncInputStream& in, FrameLimits limits);

}  // namespace troupe::transport::detail
