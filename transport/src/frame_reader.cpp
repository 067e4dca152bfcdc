#include "frame_reader.hpp"

#include "plain_failure.hpp"

#include <cstdint>
#include <cstring>

namespace troupe::transport::detail {
namespace {

// Owns the words a SegmentArrayMessageReader points into.
class OwnedFrame final : public capnp::MessageReader {
 public:
  OwnedFrame(kj::Array<capnp::word> words, kj::Array<std::uint32_t> sizes, capnp::ReaderOptions options)
      : capnp::MessageReader(options),
        words_(kj::mv(words)),
        segments_(kj::heapArray<kj::ArrayPtr<const capnp::word>>(sizes.size())) {
    std::size_t at = 0;
    for (std::size_t i = 0; i < sizes.size(); ++i) {
      segments_[i] = words_.slice(at, at + sizes[i]).asConst();
      at += sizes[i];
    }
  }
  kj::ArrayPtr<const capnp::word> getSegment(unsigned int id) override {
    return id < segments_.size() ? segments_[id] : nullptr;
  }

 private:
  kj::Array<capnp::word> words_;
  kj::Array<kj::ArrayPtr<const capnp::word>> segments_;
};

kj::Own<capnp::MessageReader> make_frame(kj::Array<capnp::word> words, kj::Array<std::uint32_t> sizes) {
  capnp::ReaderOptions options;
  options.traversalLimitInWords = words.size() * 8 + 64;  // getters may read a field more than once
  options.nestingLimit = 16;
  return kj::heap<OwnedFrame>(kj::mv(words), kj::mv(sizes), options);
}

}  // namespace

FrameReader::FrameReader(kj::AsyncInputStream& in)
    : in_(in), buffer_(kj::heapArray<capnp::word>(kBufferBytes / sizeof(capnp::word))) {}

kj::Promise<bool> FrameReader::fill(std::size_t bytes) {
  if (buffered() >= bytes) return true;
  auto* base = reinterpret_cast<kj::byte*>(buffer_.begin());
  if (begin_ + bytes > kBufferBytes) {  // no room behind what is buffered: move it to the front
    std::memmove(base, base + begin_, buffered());
    end_ = buffered();
    begin_ = 0;
  }
  // At least one byte, as much as fits: never a read of zero bytes (on a TLS stream that is an
  // SSL_read of 0, which kj takes for the end of the stream).
  return in_.tryRead(base + end_, 1, kBufferBytes - end_).then([this, bytes](std::size_t got) -> kj::Promise<bool> {
    if (got == 0) return false;
    end_ += got;
    return fill(bytes);
  });
}

kj::Promise<ReadFrame> FrameReader::next(FrameLimits limits) {
  // The stream framing: u32 (segment count - 1), u32 size of each segment in words, padding to
  // a word, then the segments. Little-endian, as the hosts troupe builds on.
  return fill(8).then([this, limits](bool filled) -> kj::Promise<ReadFrame> {
    if (filled) return parse(limits);
    if (buffered() != 0) fail_plainly(kj::str("frame truncated in its header"));
    return ReadFrame{};
  });
}

kj::Promise<ReadFrame> FrameReader::parse(FrameLimits limits) {
  const auto* base = reinterpret_cast<const kj::byte*>(buffer_.begin());
  std::uint32_t first[2];
  std::memcpy(first, base + begin_, sizeof first);
  // TLS record: content type 22 (handshake), then version major 3. As a frame header that would
  // claim some 200000 segments: no frame starts so.
  if (limits.detect_tls && (first[0] & 0xffff) == 0x0316) return ReadFrame{{}, true};
  const std::uint64_t count = std::uint64_t{first[0]} + 1;
  if (count > limits.max_segments) {
    fail_plainly(kj::str("frame has too many segments (", count, ", at most ", limits.max_segments, ")"));
  }
  // The rest of the table: count - 1 sizes, plus padding when count is even.
  const std::size_t table_bytes = 8 + 4 * (count - 1 + (count % 2 == 0 ? 1 : 0));
  return fill(table_bytes).then([this, limits, count, table_bytes](bool filled) -> kj::Promise<ReadFrame> {
    if (!filled) fail_plainly(kj::str("frame truncated in its segment table"));
    const auto* table = reinterpret_cast<const kj::byte*>(buffer_.begin()) + begin_;
    auto sizes = kj::heapArray<std::uint32_t>(count);
    std::memcpy(sizes.begin(), table + 4, count * sizeof(std::uint32_t));
    std::uint64_t total_words = 0;
    for (std::uint32_t s : sizes) total_words += s;
    if (total_words * sizeof(capnp::word) > limits.max_bytes) {
      fail_plainly(
          kj::str("frame too large (", total_words * sizeof(capnp::word), " bytes, at most ", limits.max_bytes, ")"));
    }
    if (total_words == 0) fail_plainly(kj::str("empty frame"));
    begin_ += table_bytes;
    const std::size_t body_bytes = total_words * sizeof(capnp::word);
    auto words = kj::heapArray<capnp::word>(total_words);
    auto* body = reinterpret_cast<kj::byte*>(words.begin());
    if (body_bytes <= kBufferBytes) {
      return fill(body_bytes)
          .then([this, words = kj::mv(words), sizes = kj::mv(sizes), body, body_bytes,
                 table_bytes](bool filled) mutable -> ReadFrame {
            if (!filled) fail_plainly(kj::str("frame truncated in its segments"));
            std::memcpy(body, reinterpret_cast<const kj::byte*>(buffer_.begin()) + begin_, body_bytes);
            begin_ += body_bytes;
            return ReadFrame{make_frame(kj::mv(words), kj::mv(sizes)), false, table_bytes + body_bytes};
          });
    }
    // Larger than the buffer: what is buffered, then the rest straight into the frame's words.
    const std::size_t have = buffered();
    std::memcpy(body, reinterpret_cast<const kj::byte*>(buffer_.begin()) + begin_, have);
    begin_ = end_ = 0;
    return in_.read(body + have, body_bytes - have)
        .then([words = kj::mv(words), sizes = kj::mv(sizes), bytes = table_bytes + body_bytes]() mutable {
          return ReadFrame{make_frame(kj::mv(words), kj::mv(sizes)), false, bytes};
        });
  });
}

}  // namespace troupe::transport::detail
