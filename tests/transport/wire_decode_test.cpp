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

namespace {

// An Error as its encoder writes it, with the code byte replaced by `raw`.
std::string error_with_raw_code(std::uint8_t raw, const std::string& what) {
  std::string encoded;
  troupe::transport::WireWriter w(encoded);
  WireCodec<troupe::Error>::encode(w, troupe::Error{troupe::Errc::timeout, what});
  encoded[0] = static_cast<char>(raw);
  return encoded;
}

troupe::Error decode_error(const std::string& encoded) {
  WireReader r(reinterpret_cast<const std::uint8_t*>(encoded.data()), encoded.size());
  troupe::Error e{};
  WireCodec<troupe::Error>::decode(r, e);
  CHECK(r.remaining() == 0);
  return e;
}

}  // namespace

TEST_CASE("an Error with a code this node does not know decodes as unknown_code, naming the number") {
  const auto past_last = static_cast<std::uint8_t>(static_cast<std::uint8_t>(troupe::kLastErrc) + 1);
  const troupe::Error newer = decode_error(error_with_raw_code(past_last, "the sender's detail"));
  CHECK(newer.code == troupe::Errc::unknown_code);
  CHECK(newer.what.find(std::to_string(past_last)) != std::string::npos);
  CHECK(newer.what.find("the sender's detail") != std::string::npos);
  CHECK(newer.message().rfind("unknown_code: ", 0) == 0);

  const troupe::Error garbage = decode_error(error_with_raw_code(255, ""));
  CHECK(garbage.code == troupe::Errc::unknown_code);
  CHECK(garbage.what.find("255") != std::string::npos);

  const troupe::Error zero = decode_error(error_with_raw_code(0, "x"));
  CHECK(zero.code == troupe::Errc::unknown_code);
  CHECK(zero.what.find("code 0 ") != std::string::npos);

  // Every code this node knows still decodes as itself.
  const troupe::Error known = decode_error(error_with_raw_code(static_cast<std::uint8_t>(troupe::kLastErrc), "d"));
  CHECK(known.code == troupe::kLastErrc);
  CHECK(known.what == "d");
  CHECK(troupe::to_string(troupe::Errc::unknown_code) == "unknown_code");
}

namespace fault {

enum class Fault : std::int16_t { bent = 1, broken = -40000 / 2 };
TROUPE_ERROR_CATEGORY(Fault, "fault", bent, broken);

struct WithError {
  troupe::Error error;
  std::int32_t after = 0;
};
TROUPE_WIRE_MESSAGE(WithError, error, after);

}  // namespace fault

namespace {

std::string encode_error(const troupe::Error& e) {
  std::string encoded;
  troupe::transport::WireWriter w(encoded);
  WireCodec<troupe::Error>::encode(w, e);
  CHECK(encoded.size() == WireCodec<troupe::Error>::size(e));
  return encoded;
}

// An application error's bytes with `text` as its category, number and detail.
std::string application_error_bytes(const std::string& text) {
  return error_with_raw_code(static_cast<std::uint8_t>(troupe::Errc::application), text);
}

}  // namespace

TEST_CASE("an application error decodes into its category by name, or as unknown_category naming it") {
  const troupe::Error bent = decode_error(encode_error(troupe::Error(fault::Fault::bent, "the detail")));
  CHECK(bent == fault::Fault::bent);
  CHECK(bent.what == "the detail");
  const troupe::Error broken = decode_error(encode_error(troupe::Error(fault::Fault::broken)));
  CHECK(broken == fault::Fault::broken);
  CHECK(broken.what.empty());
  CHECK(broken.message() == "fault.broken");

  const troupe::Error stranger = decode_error(application_error_bytes("elsewhere:5: their detail"));
  CHECK(stranger.code == troupe::Errc::unknown_category);
  CHECK(stranger.what == "category 'elsewhere' (not registered on this node), code 5: their detail");
  CHECK(decode_error(application_error_bytes("elsewhere:-5")).what ==
        "category 'elsewhere' (not registered on this node), code -5");

  // Text that does not say its category and number is kept whole; the connection stays up.
  for (const std::string text : {"", "fault", "fault:", "fault:x", "fault:1junk", "fault:1:x", "bad name:1", ":1"}) {
    CAPTURE(text);
    const troupe::Error e = decode_error(application_error_bytes(text));
    CHECK(e.code == troupe::Errc::unknown_category);
    CHECK(e.what == "an application error that does not say its category: " + text);
  }
}

TEST_CASE("an Error field keeps its layout: the field after an application error decodes") {
  std::string encoded;
  troupe::transport::WireWriter w(encoded);
  WireCodec<fault::WithError>::encode(w, fault::WithError{troupe::Error(fault::Fault::bent, "d"), 42});
  CHECK(encoded.size() ==
        WireCodec<fault::WithError>::size(fault::WithError{troupe::Error(fault::Fault::bent, "d"), 42}));
  WireReader r(reinterpret_cast<const std::uint8_t*>(encoded.data()), encoded.size());
  fault::WithError out;
  WireCodec<fault::WithError>::decode(r, out);
  CHECK(out.error == fault::Fault::bent);
  CHECK(out.after == 42);
}

TEST_CASE("an ExitReason with a kind this node does not know decodes as error, naming the number") {
  std::string encoded;
  troupe::transport::WireWriter w(encoded);
  WireCodec<troupe::ExitReason>::encode(w, troupe::ExitReason::node_down("far"));
  const std::size_t second = encoded.size();
  WireCodec<troupe::ExitReason>::encode(w, troupe::ExitReason::error("boom"));
  encoded[second] = static_cast<char>(200);  // the second reason's kind byte: a newer node's kind
  WireReader r(reinterpret_cast<const std::uint8_t*>(encoded.data()), encoded.size());
  troupe::ExitReason known, newer;
  WireCodec<troupe::ExitReason>::decode(r, known);
  WireCodec<troupe::ExitReason>::decode(r, newer);
  CHECK(r.remaining() == 0);
  CHECK(known.kind == troupe::ExitReason::Kind::node_down);
  CHECK(known.message == "far");
  CHECK(newer.kind == troupe::ExitReason::Kind::error);
  CHECK(newer.message.find("200") != std::string::npos);
  CHECK(newer.message.find("boom") != std::string::npos);
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
