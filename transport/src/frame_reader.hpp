// Reads frames (Cap'n Proto messages in the standard stream framing) from an untrusted stream,
// checking the segment count and the total size before it allocates or parses anything.
#pragma once

#include <capnp/message.h>
#include <kj/async-io.h>

#include <cstddef>
#include <cstdint>

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
  std::uint64_t bytes = 0;                 // the frame on the stream: its segment table and segments
};

// Cuts frames from one stream. It reads as much as the stream has ready, up to its buffer, so a
// small frame (a request, a reply) costs one read instead of one for its header and one for its
// body, and a burst of frames one read for many. What it read past a frame stays for the next.
class FrameReader {
 public:
  explicit FrameReader(kj::AsyncInputStream& in);

  // The next frame, or none at a clean end of stream (EOF before a frame's first byte). Rejects
  // with a kj::Exception for a frame beyond the limits, a truncated one, or a broken stream. The
  // reader's traversal limit is a small multiple of the frame's own size: no pointer trick (a
  // list pointing into itself) makes it read much more than was sent. One call at a time.
  kj::Promise<ReadFrame> next(FrameLimits limits);

 private:
  static constexpr std::size_t kBufferBytes = 64 * 1024;

  std::size_t buffered() const noexcept { return end_ - begin_; }
  // Reads until at least `bytes` are buffered (bytes <= kBufferBytes); resolves to false if the
  // stream ended first.
  kj::Promise<bool> fill(std::size_t bytes);
  kj::Promise<ReadFrame> parse(FrameLimits limits);  // once the 8-byte header is buffered

  kj::AsyncInputStream& in_;
  kj::Array<capnp::word> buffer_;  // words: a frame's header is read in place, aligned
  std::size_t begin_ = 0;          // bytes of buffer_ not consumed yet: [begin_, end_)
  std::size_t end_ = 0;
};

}  // namespace troupe::transport::detail
