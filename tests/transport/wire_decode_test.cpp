// Decoding payloads from the wire: untrusted bytes never become an invalid value.
#include <troupe/transport/wire_type.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

using troupe::transport::WireCodec;
using troupe::transport::WireError;
using troupe::transport::WireReader;

TEST_CASE("a bool decodes from 0 or 1 only; another byte is a WireError, not an invalid bool") {
  // Found by the frame decoder's fuzz target: a byte of 41 was copied into a bool.
  const std::uint8_t bytes[] = {0, 1, 41};
  WireReader r(bytes, sizeof bytes);
  bool v = true;
  WireCodec<bool>::decode(r, v);
  CHECK_FALSE(v);
  WireCodec<bool>::decode(r, v);
  CHECK(v);
  CHECK_THROWS_AS(WireCodec<bool>::decode(r, v), WireError);
}

namespace {

enum class Colour : std::uint8_t { red, green, blue };
enum Legacy : std::int16_t { legacy_a = 1 };

}  // namespace

TEST_CASE("Errc and ExitReason::Kind decode only within their ranges") {
  const std::uint8_t bytes[] = {static_cast<std::uint8_t>(troupe::Errc::node_down), 0, 200,
                                static_cast<std::uint8_t>(troupe::ExitReason::Kind::node_down), 6};
  WireReader r(bytes, sizeof bytes);
  troupe::Errc code{};
  WireCodec<troupe::Errc>::decode(r, code);
  CHECK(code == troupe::Errc::node_down);
  CHECK_THROWS_AS(WireCodec<troupe::Errc>::decode(r, code), WireError);  // 0 is no code
  CHECK_THROWS_AS(WireCodec<troupe::Errc>::decode(r, code), WireError);  // beyond the last
  troupe::ExitReason::Kind kind{};
  WireCodec<troupe::ExitReason::Kind>::decode(r, kind);
  CHECK(kind == troupe::ExitReason::Kind::node_down);
  CHECK_THROWS_AS(WireCodec<troupe::ExitReason::Kind>::decode(r, kind), WireError);
}

TEST_CASE("an Error with an out-of-range code is a WireError") {
  std::string encoded;
  troupe::transport::WireWriter w(encoded);
  WireCodec<troupe::Error>::encode(w, troupe::Error{troupe::Errc::timeout, "late"});
  encoded[0] = static_cast<char>(99);
  WireReader r(reinterpret_cast<const std::uint8_t*>(encoded.data()), encoded.size());
  troupe::Error e{};
  CHECK_THROWS_AS(WireCodec<troupe::Error>::decode(r, e), WireError);
}

TEST_CASE("enums with a fixed underlying type round-trip; only they are accepted") {
  static_assert(troupe::transport::FixedEnum<Colour>);
  static_assert(troupe::transport::FixedEnum<Legacy>);
  enum Unfixed { unfixed_a };
  static_assert(!troupe::transport::FixedEnum<Unfixed>);
  std::string encoded;
  troupe::transport::WireWriter w(encoded);
  WireCodec<Colour>::encode(w, Colour::blue);
  WireCodec<Legacy>::encode(w, legacy_a);
  CHECK(encoded.size() == 3);
  WireReader r(reinterpret_cast<const std::uint8_t*>(encoded.data()), encoded.size());
  Colour c{};
  Legacy l{};
  WireCodec<Colour>::decode(r, c);
  WireCodec<Legacy>::decode(r, l);
  CHECK(c == Colour::blue);
  CHECK(l == legacy_a);
}

TEST_CASE("std::vector<bool> round-trips, one byte per element, 0 or 1") {
  const std::vector<bool> bits{true, false, true, true};
  std::string encoded;
  troupe::transport::WireWriter w(encoded);
  WireCodec<std::vector<bool>>::encode(w, bits);
  CHECK(encoded.size() == 4 + bits.size());
  WireReader r(reinterpret_cast<const std::uint8_t*>(encoded.data()), encoded.size());
  std::vector<bool> back;
  WireCodec<std::vector<bool>>::decode(r, back);
  CHECK(back == bits);

  encoded[5] = 2;  // the second element: neither 0 nor 1
  WireReader bad(reinterpret_cast<const std::uint8_t*>(encoded.data()), encoded.size());
  CHECK_THROWS_AS(WireCodec<std::vector<bool>>::decode(bad, back), WireError);
}
