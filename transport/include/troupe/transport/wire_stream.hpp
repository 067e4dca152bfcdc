// The bytes under troupe's wire codecs (wire_type.hpp): WireWriter and WireReader append and read
// a payload, integers little-endian whatever the host (docs/wire.md), and carry the HandleCodec
// that encodes the handles of the one message they work on.
#pragma once

#include <troupe/runtime/actor_core.hpp>

#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace troupe::transport {

// A payload that does not decode as its declared type (truncated, or a length beyond the frame).
class WireError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class WireWriter;
class WireReader;

namespace detail {

// Encodes and decodes the handles in one message as it crosses between a node and one of its
// peers (the node's transport/src/handle_codec.hpp); the fuzz target has one too. The node hands
// it to the codec with the WireWriter or WireReader, as an argument rather than ambient state.
class HandleCodec {
 public:
  virtual void encode(WireWriter& w, runtime::ActorCore* actor) = 0;  // `actor` may be null
  virtual runtime::ActorCore* decode(WireReader& r) = 0;              // a new reference, or null

 protected:
  ~HandleCodec() = default;
};

static_assert(std::endian::native == std::endian::little || std::endian::native == std::endian::big,
              "troupe: a mixed-endian host");

// An integer in the wire's byte order, little-endian, from or to the host's.
template <std::integral T>
constexpr T little_endian(T v) noexcept {
  if constexpr (std::endian::native == std::endian::little || sizeof(T) == 1) {
    return v;
  } else {
    auto u = static_cast<std::make_unsigned_t<T>>(v);
    std::make_unsigned_t<T> swapped = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i, u >>= 8)
      swapped = static_cast<decltype(swapped)>((swapped << 8) | (u & 0xff));
    return static_cast<T>(swapped);
  }
}

// The unsigned integer a floating-point value travels as (its IEEE 754 bits).
template <class F>
using FloatBits = std::conditional_t<sizeof(F) == 4, std::uint32_t, std::uint64_t>;

}  // namespace detail

class WireWriter {
 public:
  explicit WireWriter(std::string& out, detail::HandleCodec* handles = nullptr) noexcept
      : out_(out), handles_(handles) {}
  void bytes(const void* data, std::size_t n) { out_.append(static_cast<const char*>(data), n); }
  template <std::integral T>
  void integer(T v) {
    const T wire = detail::little_endian(v);
    bytes(&wire, sizeof wire);
  }
  void length(std::size_t n) {
    if (n > UINT32_MAX) throw WireError("troupe: a string or vector is too long for the wire");
    integer(static_cast<std::uint32_t>(n));
  }
  // What encodes handles for this message; null outside a node's send.
  detail::HandleCodec* handles() const noexcept { return handles_; }

 private:
  std::string& out_;
  detail::HandleCodec* handles_;
};

class WireReader {
 public:
  WireReader(const std::uint8_t* data, std::size_t n, detail::HandleCodec* handles = nullptr) noexcept
      : at_(data), end_(data + n), handles_(handles) {}
  void bytes(void* into, std::size_t n) {
    if (n > remaining()) throw WireError("troupe: payload truncated");
    std::memcpy(into, at_, n);
    at_ += n;
  }
  template <std::integral T>
  T integer() {
    T wire{};
    bytes(&wire, sizeof wire);
    return detail::little_endian(wire);
  }
  // A length prefix, checked against what is left (each element takes at least `min_element` bytes).
  std::size_t length(std::size_t min_element) {
    const auto len = integer<std::uint32_t>();
    if (min_element != 0 && len > remaining() / min_element) throw WireError("troupe: length beyond the payload");
    return len;
  }
  std::size_t remaining() const noexcept { return static_cast<std::size_t>(end_ - at_); }
  // What decodes handles for this message; null outside a node's receive.
  detail::HandleCodec* handles() const noexcept { return handles_; }

 private:
  const std::uint8_t* at_;
  const std::uint8_t* end_;
  detail::HandleCodec* handles_;
};

}  // namespace troupe::transport
