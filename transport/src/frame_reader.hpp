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
  // The first read of a plaintext listener: a TLS record header (a ClientHello starts 0x16 0x03)
  // is reported as ReadFrame::tls_client rather than as a frame with too many segments.
  bool detect_tls = false;
};

// One frame read from the stream. A struct, not a bare kj::Own, because a promise cannot carry a
// null Own: kj stores a promise's value in a Maybe<Own<T>>, where null means "no value", and the
// event loop fails with "Inner node returned empty value".
struct ReadFrame {
  kj::Own<capnp::MessageReader> message;  // null at a clean end of stream
  bool tls_client = false;                 // FrameLimits::detect_tls found a TLS record (no message)
};

// The frame, or none at a clean end of stream (EOF before a frame's first byte). Throws a
// kj::Exception for a frame beyond the limits, a truncated one, or a broken stream. The reader's
// traversal limit is a small multiple of the frame's own size: no pointer trick (a list pointing into itself) makes it
// read much more than was sent.
kj::Promise<ReadFrame> read_frame(kj::AsyncInputStream& in, FrameLimits limits);

}  // namespace troupe::transport::detail
