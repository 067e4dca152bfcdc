// FrameReader: frames cut correctly however the bytes arrive (a byte at a time, many frames in
// one read, a frame larger than its buffer), and every way a stream can end mid-frame refused.
#include "frame_reader.hpp"
#include "memory_input.hpp"

#include <capnp/serialize.h>
#include <doctest/doctest.h>
#include <kj/async.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

using troupe::transport::detail::FrameLimits;
using troupe::transport::detail::FrameReader;
using troupe::transport::detail::ReadFrame;

constexpr FrameLimits kLimits{64, 16u << 20};

// A frame in the stream framing whose root is a Text of `text` (enough to check it came whole).
std::vector<std::uint8_t> frame_of(const std::string& text) {
  capnp::MallocMessageBuilder builder;
  builder.setRoot(capnp::Text::Reader(text.c_str()));
  auto words = capnp::messageToFlatArray(builder);
  auto bytes = words.asBytes();
  return {bytes.begin(), bytes.end()};
}

std::string text_of(ReadFrame& read) {
  REQUIRE(read.message.get() != nullptr);
  return read.message->getRoot<capnp::Text>().cStr();
}

// Every frame in `stream`, read through `chunk`-byte reads, until the clean end.
std::vector<std::string> read_all(const std::vector<std::uint8_t>& stream, std::size_t chunk) {
  kj::EventLoop loop;
  kj::WaitScope wait(loop);
  MemoryInput in(stream.data(), stream.size(), chunk);
  FrameReader reader(in);
  std::vector<std::string> texts;
  for (;;) {
    ReadFrame read = reader.next(kLimits).wait(wait);
    if (read.message.get() == nullptr) return texts;
    texts.push_back(text_of(read));
  }
}

// The description of the exception reading `stream` ends with, or "" if it ends cleanly.
std::string failure_of(const std::vector<std::uint8_t>& stream) {
  kj::EventLoop loop;
  kj::WaitScope wait(loop);
  MemoryInput in(stream.data(), stream.size(), 7);
  FrameReader reader(in);
  try {
    while (reader.next(kLimits).wait(wait).message.get() != nullptr) {
    }
    return "";
  } catch (const kj::Exception& e) {
    return e.getDescription().cStr();
  }
}

}  // namespace

TEST_CASE("FrameReader: frames come whole and in order however the stream splits them") {
  std::vector<std::uint8_t> stream;
  std::vector<std::string> sent;
  for (int i = 0; i < 50; ++i) {
    sent.push_back("frame " + std::to_string(i) + std::string(static_cast<std::size_t>(i * 37), 'x'));
    auto bytes = frame_of(sent.back());
    stream.insert(stream.end(), bytes.begin(), bytes.end());
  }
  for (std::size_t chunk : {std::size_t{1}, std::size_t{5}, std::size_t{8}, std::size_t{100}, std::size_t{1} << 20}) {
    CAPTURE(chunk);
    CHECK(read_all(stream, chunk) == sent);
  }
}

TEST_CASE("FrameReader: a frame larger than its buffer, between small ones") {
  const std::string big(300 * 1024, 'b');  // several times the reader's buffer
  std::vector<std::uint8_t> stream;
  for (const std::string& text : {std::string("before"), big, std::string("after")}) {
    auto bytes = frame_of(text);
    stream.insert(stream.end(), bytes.begin(), bytes.end());
  }
  for (std::size_t chunk : {std::size_t{4096}, std::size_t{1} << 20}) {
    CAPTURE(chunk);
    const auto texts = read_all(stream, chunk);
    REQUIRE(texts.size() == 3);
    CHECK(texts[0] == "before");
    CHECK(texts[1] == big);
    CHECK(texts[2] == "after");
  }
}

TEST_CASE("FrameReader: an empty stream ends cleanly; a stream that ends inside a frame is refused") {
  CHECK(failure_of({}).empty());
  auto whole = frame_of("two segments would do too");
  CHECK(failure_of(whole).empty());
  // Cut inside the header, inside the body, and one byte short.
  for (std::size_t keep : {std::size_t{3}, std::size_t{12}, whole.size() - 1}) {
    CAPTURE(keep);
    std::vector<std::uint8_t> cut(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(keep));
    CHECK(failure_of(cut).find("truncated") != std::string::npos);
  }
  // A header claiming more segments, or more bytes, than the limits allow.
  std::vector<std::uint8_t> many = whole;
  many[0] = 200;  // 201 segments
  CHECK(failure_of(many).find("too many segments") != std::string::npos);
  std::vector<std::uint8_t> huge = whole;
  huge[4] = 0xff, huge[5] = 0xff, huge[6] = 0xff, huge[7] = 0x0f;  // about 2 GiB of words
  CHECK(failure_of(huge).find("too large") != std::string::npos);
}
