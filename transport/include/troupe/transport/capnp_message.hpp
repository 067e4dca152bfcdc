// A Cap'n Proto struct as a troupe message: its schema evolves by Cap'n Proto's rules (a newer
// schema adds fields with new ordinals; older readers ignore them, newer readers of older
// messages read the defaults), where TROUPE_WIRE_MESSAGE types may only append fields.
//
//   // reading.capnp:  struct Reading { sensor @0 :Text; value @1 :Int64; }
//   TROUPE_WIRE_CAPNP_MESSAGE(ReadingMessage, sensors::Reading);   // at namespace scope
//
//   ReadingMessage m;
//   m.build().setSensor("t1");
//   remote.send(std::move(m));                     // to any handle, local or remote
//   troupe::behavior([](const ReadingMessage& m) { use(m.read().getValue()); });
//
// A message owns its Cap'n Proto builder; copies are deep (no two messages share one).
#pragma once

#include <troupe/transport/wire_type.hpp>

#include <capnp/message.h>
#include <capnp/serialize.h>

#include <cstring>
#include <memory>

namespace troupe::transport {

template <class Schema>
class CapnpMessage {
 public:
  CapnpMessage() : message_(std::make_unique<capnp::MallocMessageBuilder>()) { message_->initRoot<Schema>(); }
  CapnpMessage(const CapnpMessage& other) : message_(std::make_unique<capnp::MallocMessageBuilder>()) {
    message_->setRoot(other.read());
  }
  CapnpMessage(CapnpMessage&&) noexcept = default;
  CapnpMessage& operator=(CapnpMessage other) noexcept {
    std::swap(message_, other.message_);
    return *this;
  }
  ~CapnpMessage() = default;

  typename Schema::Builder build() { return message_->getRoot<Schema>(); }
  // Read through the reader path: it never rewrites the message (a builder upgrades an older,
  // smaller struct in place), so concurrent reads of one message are safe.
  typename Schema::Reader read() const { return message_->getRoot<capnp::AnyPointer>().asReader().getAs<Schema>(); }

  capnp::MallocMessageBuilder& message() { return *message_; }

 private:
  std::unique_ptr<capnp::MallocMessageBuilder> message_;
};

template <class Schema>
struct WireCodec<CapnpMessage<Schema>> {
  // Cap'n Proto's flat serialization, as one length-prefixed byte string: a segment table of one
  // segment (8 bytes), the root pointer (one word), then the struct and everything it points to.
  static std::size_t size(const CapnpMessage<Schema>& m) noexcept {
    return 4 + 8 + sizeof(capnp::word) * (1 + m.read().totalSize().wordCount);
  }
  static void encode(WireWriter& w, const CapnpMessage<Schema>& m) {
    // One segment large enough for all of it, so the encoding is exactly size() bytes.
    capnp::MallocMessageBuilder copy(static_cast<unsigned>(m.read().totalSize().wordCount + 1));
    copy.setRoot(m.read());
    kj::Array<capnp::word> words = capnp::messageToFlatArray(copy);
    kj::ArrayPtr<const kj::byte> bytes = words.asBytes();
    w.length(bytes.size());
    w.bytes(bytes.begin(), bytes.size());
  }
  static void decode(WireReader& r, CapnpMessage<Schema>& m) {
    const std::size_t size = r.length(1);
    if (size % sizeof(capnp::word) != 0) throw WireError("troupe: a Cap'n Proto message of a partial word");
    auto words = kj::heapArray<capnp::word>(size / sizeof(capnp::word));  // aligned for the reader
    r.bytes(words.begin(), size);
    try {
      capnp::FlatArrayMessageReader reader(words);
      m.message().setRoot(reader.getRoot<Schema>());
    } catch (const kj::Exception& e) {
      throw WireError(std::string("troupe: malformed Cap'n Proto message: ") + e.getDescription().cStr());
    }
  }
};

}  // namespace troupe::transport

// Declares CapnpMessage<Schema> for the wire as `Alias` (also its name on the wire; both nodes must
// use the same), at namespace scope.
#define TROUPE_WIRE_CAPNP_MESSAGE(Alias, Schema)           \
  using Alias = ::troupe::transport::CapnpMessage<Schema>; \
  inline const bool troupe_wire_declared_##Alias = ::troupe::transport::detail::declare_wire_type<Alias>(#Alias)
