// Decoding payloads from the wire: untrusted bytes never become an invalid value.
#include <troupe/transport/wire_type.hpp>

#include <doctest/doctest.h>

#include <cstdint>

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
