// Golden bytes: the wire format (docs/wire.md) pinned byte for byte, so that a change to it is a
// deliberate one. Every expected string below is what a peer on any host sends or must accept:
// integers little-endian whatever this host is, lengths as 32-bit prefixes, handles as references,
// and envelopes whose types are named once per connection and numbered after.
#include "envelope_frame.hpp"
#include "handle_codec.hpp"
#include "type_names.hpp"

#include <troupe/transport/wire_type.hpp>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <doctest/doctest.h>
#include <kj/exception.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

using namespace troupe::transport;
using namespace troupe::transport::detail;

namespace golden {

enum class Colour : std::uint8_t { red = 1, green = 2 };

enum class Fault { bent = 1 };
TROUPE_ERROR_CATEGORY(Fault, "golden", bent);

struct Sample {
  std::int32_t a = 0;
  std::uint16_t b = 0;
  bool c = false;
  std::string s;
  std::vector<std::uint32_t> v;
  double d = 0;
  Colour colour = Colour::red;
  std::int64_t negative = 0;
};
TROUPE_WIRE_MESSAGE(Sample, a, b, c, s, v, d, colour, negative);

struct Tick {
  std::int32_t n = 0;
};
TROUPE_WIRE_MESSAGE(Tick, n);

struct Stop {};
TROUPE_WIRE_MESSAGE(Stop);  // no fields: declared by its name alone
struct Halt {};
TROUPE_WIRE_EMPTY_MESSAGE(Halt);  // the older spelling of the same

}  // namespace golden

namespace {

std::string hex(const std::string& bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out += ' ';
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

template <class T>
std::string encoded(const T& value) {
  std::string bytes;
  WireWriter w(bytes);
  WireCodec<T>::encode(w, value);
  CHECK(bytes.size() == WireCodec<T>::size(value));  // the weight a node counts is the encoding's size
  return bytes;
}

template <class T>
T decoded(const std::string& bytes) {
  WireReader r(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  T value{};
  WireCodec<T>::decode(r, value);
  CHECK(r.remaining() == 0);
  return value;
}

std::string ref_bytes(const ActorRef& ref) {
  std::string bytes;
  WireWriter w(bytes);
  write_actor_ref(w, ref);
  return bytes;
}

ActorRef read_ref(const std::string& bytes) {
  WireReader r(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  return read_actor_ref(r);
}

OutEnvelope tick(std::uint64_t receiver, std::int32_t n) {
  OutEnvelope e;
  e.receiver = receiver;
  e.type_name = "Tick";
  e.payload = encoded(golden::Tick{n});
  return e;
}

std::string flat(capnp::MessageBuilder& frame) {
  auto words = capnp::messageToFlatArray(frame);
  auto bytes = words.asBytes();
  return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
}

}  // namespace

TEST_SUITE("wire") {
  TEST_CASE("a declared message's payload: its fields in order, little-endian, lengths before strings and vectors") {
    const golden::Sample sample{0x01020304, 0xabcd, true, "hi", {1, 0x10000}, 1.5, golden::Colour::green, -2};
    const std::string bytes = encoded(sample);
    CHECK(hex(bytes) ==
          "04 03 02 01 "                          // a: i32
          "cd ab "                                // b: u16
          "01 "                                   // c: bool
          "02 00 00 00 68 69 "                    // s: length, bytes
          "02 00 00 00 01 00 00 00 00 00 01 00 "  // v: length, u32 elements
          "00 00 00 00 00 00 f8 3f "              // d: the IEEE 754 bits of 1.5
          "02 "                                   // colour: its underlying u8
          "fe ff ff ff ff ff ff ff");             // negative: two's complement
    const auto back = decoded<golden::Sample>(bytes);
    CHECK(back.a == sample.a);
    CHECK(back.b == sample.b);
    CHECK(back.c);
    CHECK(back.s == "hi");
    CHECK(back.v == sample.v);
    CHECK(back.d == 1.5);
    CHECK(back.colour == golden::Colour::green);
    CHECK(back.negative == -2);
  }

  TEST_CASE("a message without fields has an empty payload, however it was declared") {
    CHECK(encoded(golden::Stop{}).empty());
    CHECK(encoded(golden::Halt{}).empty());
    (void)decoded<golden::Stop>("");
    CHECK(find_wire_type(&troupe::message_type<golden::Stop>) != nullptr);  // declared for the wire
  }

  TEST_CASE("the built-in types: Error, ExitReason, Unit, float, strings") {
    CHECK(hex(encoded(troupe::Error{troupe::Errc::timeout, "late"})) == "01 04 00 00 00 6c 61 74 65");
    // An application error: Errc::application (20), then "CATEGORY:NUMBER: DETAIL" as the text.
    CHECK(hex(encoded(troupe::Error(golden::Fault::bent, "x"))) == "14 0b 00 00 00 67 6f 6c 64 65 6e 3a 31 3a 20 78");
    CHECK(hex(encoded(troupe::Error(golden::Fault::bent))) == "14 08 00 00 00 67 6f 6c 64 65 6e 3a 31");
    std::string exit_error(1, static_cast<char>(troupe::ExitReason::Kind::error));
    exit_error.append("\x01\x00\x00\x00x", 5);
    CHECK(encoded(troupe::ExitReason::error("x")) == exit_error);
    CHECK(encoded(troupe::Unit{}).empty());
    CHECK(hex(encoded(-1.0f)) == "00 00 80 bf");
    CHECK(hex(encoded(std::string())) == "00 00 00 00");
    CHECK(hex(encoded(std::vector<bool>{true, false})) == "02 00 00 00 01 00");
    CHECK(decoded<float>(encoded(-1.0f)) == -1.0f);
  }

  TEST_CASE("handle references: a tag, then an export id, or a node, its address and an id") {
    CHECK(hex(ref_bytes(ActorRef{})) == "00");
    CHECK(hex(ref_bytes(sender_ref(5))) == "01 05 00 00 00 00 00 00 00");
    const ActorRef on_b{RefTag::on_node, 7, "b", "127.0.0.1", 4000};
    const std::string bytes = ref_bytes(on_b);
    CHECK(hex(bytes) ==
          "02 "                                      // tag
          "01 00 00 00 62 "                          // node name
          "09 00 00 00 31 32 37 2e 30 2e 30 2e 31 "  // listen host
          "a0 0f "                                   // port 4000
          "07 00 00 00 00 00 00 00");                // export id
    const ActorRef back = read_ref(bytes);
    CHECK(back.tag == RefTag::on_node);
    CHECK(back.node == "b");
    CHECK(back.host == "127.0.0.1");
    CHECK(back.port == 4000);
    CHECK(back.id == 7);

    SUBCASE("a reference a node cannot use is refused, not resolved") {
      CHECK_THROWS_AS(read_ref(std::string("\x03", 1)), WireError);          // an unknown tag
      CHECK_THROWS_AS(read_ref(std::string("\x01\x05\x00", 3)), WireError);  // truncated id
      std::string nameless(1, '\x02');
      nameless.append(4, '\0').append(ref_bytes(on_b).substr(6));
      CHECK_THROWS_AS(read_ref(nameless), WireError);  // no node name
      ActorRef long_name = on_b;
      long_name.node.assign(kMaxRefNodeNameBytes + 1, 'n');
      CHECK_THROWS_AS(ref_bytes(long_name), WireError);  // never written
      std::string forged(1, '\x02');
      forged.append(encoded(long_name.node)).append(encoded(std::string("h"))).append(10, '\0');
      CHECK_THROWS_AS(read_ref(forged), WireError);  // nor read
    }

    SUBCASE("without a node's codec, a handle neither encodes nor decodes") {
      std::string out;
      WireWriter w(out);
      CHECK_THROWS_AS(WireCodec<troupe::DynamicHandle>::encode(w, troupe::DynamicHandle()), WireError);
      const std::uint8_t empty[] = {0};
      WireReader r(empty, sizeof empty);
      troupe::DynamicHandle h;
      CHECK_THROWS_AS(WireCodec<troupe::DynamicHandle>::decode(r, h), WireError);
    }
  }

  TEST_CASE("an envelopes frame names a type once per connection, then numbers it") {
    const std::deque<OutEnvelope> queued{tick(7, 42), tick(7, 43)};
    OutgoingTypeNames names;
    capnp::MallocMessageBuilder frame;
    const std::uint64_t credit = write_envelope_frame(frame.initRoot<wire::Frame>(), queued, 2, names);
    CHECK(hex(flat(frame)) ==
          "00 00 00 00 14 00 00 00 "                          // stream framing: one segment of 20 words
          "00 00 00 00 02 00 01 00 "                          // root: the Frame struct
          "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "  // its data: the union's tag 0, envelopes
          "01 00 00 00 67 00 00 00 "                          // a composite list of 12 words
          "08 00 00 00 04 00 02 00 "                          // its tag: 2 envelopes of 4 data words and 2 pointers
          // The first: sender 0, receiver 7, requestId 0, kind message, typeId 1; its name and payload.
          "00 00 00 00 00 00 00 00 07 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 "
          "1d 00 00 00 2a 00 00 00 1d 00 00 00 22 00 00 00 "
          // The second: the same, typeId 1, no name (a null pointer); its payload.
          "00 00 00 00 00 00 00 00 07 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 00 00 00 "
          "00 00 00 00 00 00 00 00 09 00 00 00 22 00 00 00 "
          "54 69 63 6b 00 00 00 00 "   // "Tick"
          "2a 00 00 00 00 00 00 00 "   // Tick{42}
          "2b 00 00 00 00 00 00 00");  // Tick{43}

    // Each envelope weighs what the receiver will count; the second, without the name, 8 bytes less.
    CHECK(credit == queued[0].wire_bytes(true) + queued[1].wire_bytes(false));
    CHECK(queued[0].wire_bytes(true) == 64);
    CHECK(queued[1].wire_bytes(false) == 56);

    // The receiver resolves both to the declared type and counts the same bytes.
    auto words = capnp::messageToFlatArray(frame);
    capnp::FlatArrayMessageReader reader(words);
    IncomingTypeNames received;
    std::uint64_t counted = 0;
    for (auto in : reader.getRoot<wire::Frame>().getEnvelopes()) {
      const auto& type = received.resolve(in);
      CHECK(type.name == "Tick");
      CHECK(type.info == find_wire_type("Tick"));
      counted += envelope_wire_bytes(in.hasMessageType() ? std::optional(in.getMessageType().size()) : std::nullopt,
                                     in.getPayload().size());
    }
    CHECK(counted == credit);

    SUBCASE("a later frame on the connection carries only the number") {
      const std::deque<OutEnvelope> later{tick(7, 44)};
      capnp::MallocMessageBuilder next;
      CHECK(write_envelope_frame(next.initRoot<wire::Frame>(), later, 1, names) == 56);
      auto next_words = capnp::messageToFlatArray(next);
      capnp::FlatArrayMessageReader next_reader(next_words);
      auto in = next_reader.getRoot<wire::Frame>().getEnvelopes()[0];
      CHECK_FALSE(in.hasMessageType());
      CHECK(in.getTypeId() == 1);
      CHECK(received.resolve(in).name == "Tick");
    }

    SUBCASE("an urgent envelope: bit 208 of its data (the byte after kind), and the same weight") {
      std::deque<OutEnvelope> urgent{tick(7, 44)};
      urgent[0].urgent = true;
      capnp::MallocMessageBuilder next;
      CHECK(write_envelope_frame(next.initRoot<wire::Frame>(), urgent, 1, names) == 56);
      const std::string bytes = hex(flat(next));
      // sender 0, receiver 7, requestId 0, kind message, urgent, typeId 1.
      CHECK(bytes.find("00 00 00 00 00 00 00 00 07 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
                       "00 00 01 00 01 00 00 00") != std::string::npos);
      auto next_words = capnp::messageToFlatArray(next);
      capnp::FlatArrayMessageReader next_reader(next_words);
      CHECK(next_reader.getRoot<wire::Frame>().getEnvelopes()[0].getUrgent());
    }
  }

  TEST_CASE("the frame plan counts each envelope as it will weigh, named or numbered") {
    const std::deque<OutEnvelope> queued{tick(1, 1), tick(1, 2), tick(1, 3)};
    OutgoingTypeNames names;
    CHECK(plan_envelope_frame(queued, names, 10, 64 + 56, 1 << 20) == 2);
    CHECK(plan_envelope_frame(queued, names, 10, 64 + 55, 1 << 20) == 1);
    CHECK(plan_envelope_frame(queued, names, 10, 63, 1 << 20) == 0);
    CHECK(plan_envelope_frame(queued, names, 2, 1 << 20, 1 << 20) == 2);
    CHECK(plan_envelope_frame(queued, names, 10, 1 << 20, 100) == 1);  // about the target: the first goes alone
    (void)names.use("Tick");
    CHECK(plan_envelope_frame(queued, names, 10, 3 * 56, 1 << 20) == 3);  // named already: all numbered
  }

  TEST_CASE("a type number the peer never named, out of turn, or 0 closes the connection") {
    auto envelope_with = [](std::uint32_t id, const char* name) {
      auto frame = std::make_unique<capnp::MallocMessageBuilder>();
      auto in = frame->initRoot<wire::Frame>().initEnvelopes(1)[0];
      in.setTypeId(id);
      if (name != nullptr) in.setMessageType(name);
      return frame;
    };
    auto resolve = [](IncomingTypeNames& names, capnp::MallocMessageBuilder& frame) {
      return names.resolve(frame.getRoot<wire::Frame>().asReader().getEnvelopes()[0]).name;
    };
    IncomingTypeNames names;
    CHECK_THROWS_AS(resolve(names, *envelope_with(1, nullptr)), kj::Exception);  // never named
    CHECK_THROWS_AS(resolve(names, *envelope_with(2, "Tick")), kj::Exception);   // out of turn
    CHECK_THROWS_AS(resolve(names, *envelope_with(0, "Tick")), kj::Exception);   // no number
    CHECK(resolve(names, *envelope_with(1, "Tick")) == "Tick");
    CHECK(resolve(names, *envelope_with(2, "Unknown")) == "Unknown");  // undeclared here: named all the same
    CHECK(resolve(names, *envelope_with(1, nullptr)) == "Tick");
    CHECK_THROWS_AS(resolve(names, *envelope_with(3, nullptr)), kj::Exception);
  }

  TEST_CASE("a peer's type names are bounded in bytes: one too long, or too many bytes of them, closes the connection") {
    auto resolve = [](IncomingTypeNames& names, std::uint32_t id, const std::string& name) {
      capnp::MallocMessageBuilder frame;
      auto in = frame.initRoot<wire::Frame>().initEnvelopes(1)[0];
      in.setTypeId(id);
      in.setMessageType(name);
      return names.resolve(frame.getRoot<wire::Frame>().asReader().getEnvelopes()[0]).name;
    };
    IncomingTypeNames names;
    CHECK_THROWS_AS(resolve(names, 1, std::string(kMaxTypeNameBytes + 1, 'T')), kj::Exception);
    // Names of the longest length, up to the bytes a connection keeps of them; the next is refused.
    const std::uint32_t fit = static_cast<std::uint32_t>(kMaxTypeNameBytesPerConnection / kMaxTypeNameBytes);
    const std::string longest(kMaxTypeNameBytes, 'T');
    for (std::uint32_t id = 1; id <= fit; ++id) REQUIRE(resolve(names, id, longest) == longest);
    CHECK_THROWS_AS(resolve(names, fit + 1, "Tick"), kj::Exception);
  }

}  // TEST_SUITE
