#include "frame_reader.hpp"

#include <kj/debug.h>

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

}  // namespace

kj::Promise<ReadFrame> read_frame(kj::AsyncInputStream& in, FrameLimits limits) {
  // The stream framing: u32 (segment count - 1), u32 size of each segment in words, padding to
  // a word, then the segments. Little-endian, as the hosts troupe builds on.
  auto first = kj::heapArray<std::uint32_t>(2);
  auto* head = first.begin();
  return in.tryRead(head, 8, 8)
      .then([&in, limits, first = kj::mv(first)](std::size_t got) mutable -> kj::Promise<ReadFrame> {
        if (got == 0) return ReadFrame{};
        KJ_REQUIRE(got == 8, "frame truncated in its header");
        // TLS record: content type 22 (handshake), then version major 3. As a frame header that
        // would claim some 200000 segments: no frame starts so.
        if (limits.detect_tls && (first[0] & 0xffff) == 0x0316) return ReadFrame{{}, true};
        const std::uint64_t count = std::uint64_t{first[0]} + 1;
        KJ_REQUIRE(count <= limits.max_segments, "frame has too many segments", count, limits.max_segments);
        // The rest of the table: count - 1 sizes, plus padding when count is even.
        const std::size_t rest_words = count - 1 + (count % 2 == 0 ? 1 : 0);
        auto sizes = kj::heapArray<std::uint32_t>(count);
        sizes[0] = first[1];
        auto table = kj::heapArray<std::uint32_t>(rest_words);
        auto* table_ptr = table.begin();
        // No read of zero bytes (a one-segment frame has no more table): on a TLS stream it is an
        // SSL_read of 0 bytes, which kj takes for the end of the stream.
        kj::Promise<void> table_read =
            rest_words == 0 ? kj::Promise<void>(kj::READY_NOW) : in.read(table_ptr, rest_words * 4);
        return kj::mv(table_read)
            .then([&in, limits, sizes = kj::mv(sizes), table = kj::mv(table)]() mutable -> kj::Promise<ReadFrame> {
              std::uint64_t total_words = 0;
              for (std::size_t i = 1; i < sizes.size(); ++i) sizes[i] = table[i - 1];
              for (std::uint32_t s : sizes) total_words += s;
              KJ_REQUIRE(total_words * sizeof(capnp::word) <= limits.max_bytes, "frame too large", total_words * 8,
                         limits.max_bytes);
              KJ_REQUIRE(total_words > 0, "empty frame");
              auto words = kj::heapArray<capnp::word>(total_words);
              auto* data = words.begin();
              return in.read(data, total_words * sizeof(capnp::word))
                  .then([words = kj::mv(words), sizes = kj::mv(sizes), total_words]() mutable {
                    capnp::ReaderOptions options;
                    options.traversalLimitInWords = total_words * 8 + 64;  // getters may read a field more than once
                    options.nestingLimit = 16;
                    return ReadFrame{kj::heap<OwnedFrame>(kj::mv(words), kj::mv(sizes), options)};
                  });
            });
      });
}

}  // namespace troupe::transport::detail
