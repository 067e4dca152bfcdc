// Message types that cross processes, declared once by listing their fields:
//
//   struct Ping { std::int32_t n; std::string text; };
//   TROUPE_WIRE_MESSAGE(Ping, n, text)        // at namespace scope, in Ping's own namespace
//   struct Tick {};
//   TROUPE_WIRE_EMPTY_MESSAGE(Tick)
//
// The declaration names the type on the wire (its spelling in the macro, so both nodes must
// declare it under the same name) and registers it, so a node can decode it by that name. A field
// may be an arithmetic type, bool, an enum with a fixed underlying type (enum class, or
// `enum E : std::uint8_t`; see WireEnumRange to have a decoder refuse values outside its
// enumerators), std::string, std::vector of a field type (std::vector<bool> included), or another
// declared type. Built in: troupe::Unit and troupe::Error (replies), std::string and the fixed-size
// integer, bool and floating-point types (as message or reply types of their own). troupe::Error and
// troupe::ExitReason may also be fields; a code or kind from a newer node that this one does not
// know decodes as Errc::unknown_code or ExitReason::Kind::error, saying which number it was.
//
// Fields are encoded in order, little-endian whatever the host, strings and vectors with a 32-bit
// length (docs/wire.md specifies every byte); a newer
// node may append fields (a decoder stops at the end of what it knows; missing trailing fields keep
// their default value), so a message type can grow at its end without breaking older peers.
//
// Handles travel too: a field of type troupe::DynamicHandle or troupe::Handle<Sigs...> (and the
// built-in reply type "troupe.Handle", a DynamicHandle) encodes as a reference the receiving node
// can use. A local actor's handle exports the actor (the sending node keeps it reachable by id for
// as long as the node runs); a handle to an actor on a third node carries that node's name and
// listen address, so the receiver dials it on first use; an empty handle stays empty. Decoding
// gives a proxy on the receiving node, or the actor itself where it is local there; a typed handle
// keeps its type. Handles encode and decode only as a node sends or receives them: the node hands
// the codec what it needs (WireWriter's and WireReader's HandleCodec); without it, the handle's
// codec throws WireError.
//
// Cap'n Proto structs cross as they are: CapnpMessage<Schema> (capnp_message.hpp) holds one
// message, declared with TROUPE_WIRE_CAPNP_MESSAGE, and evolves by Cap'n Proto's rules instead of
// the appended-fields rule above: a newer schema may add fields with new ordinals; an older reader
// ignores them, and a newer reader of an older message reads each missing field's default.
#pragma once

#include <troupe/error.hpp>
#include <troupe/exit_reason.hpp>
#include <troupe/handle.hpp>
#include <troupe/message.hpp>
#include <troupe/transport/wire_stream.hpp>

#include <bit>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

namespace troupe::transport {

// How one field type is encoded; specialised below for each supported kind of type. Each codec
// also says what a value's encoding weighs (`size`): exactly its bytes, except that a handle
// counts kMaxHandleRefBytes. A node weighs every message a sender hands it by this, before it is
// encoded, to bound what it queues in bytes and to refuse what its peer would not accept.
template <class T, class = void>
struct WireCodec;

// The fields a declaration lists (found by argument-dependent lookup; see TROUPE_WIRE_MESSAGE).
template <class T>
concept DeclaredAggregate = requires {
  troupe_wire_fields(static_cast<const T*>(nullptr));
};

template <class T>
concept WireEncodable = requires(WireWriter& w, const T& v) {
  WireCodec<T>::encode(w, v);
  { WireCodec<T>::size(v) } -> std::convertible_to<std::size_t>;
};

// The longest name a type may be declared under for the wire (the macro below refuses longer ones
// at compile time); a peer that names a type with a longer one is refused (its connection closes).
inline constexpr std::size_t kMaxTypeNameBytes = 256;

// The longest node name and host name a handle's reference may carry, and the most bytes a
// reference takes (handle_codec.hpp: a tag, the node name and host name with their length
// prefixes, a port and an id).
inline constexpr std::size_t kMaxRefNodeNameBytes = 128;
inline constexpr std::size_t kMaxRefHostBytes = 255;
inline constexpr std::size_t kMaxHandleRefBytes = 1 + (4 + kMaxRefNodeNameBytes) + (4 + kMaxRefHostBytes) + 2 + 8;

// Integers little-endian, two's complement; floating-point values as their IEEE 754 bits, as
// integers of their size.
template <class T>
struct WireCodec<T, std::enable_if_t<std::is_arithmetic_v<T> && !std::is_same_v<T, bool>>> {
  static void encode(WireWriter& w, const T& v) {
    if constexpr (std::is_integral_v<T>) {
      w.integer(v);
    } else {
      static_assert(std::numeric_limits<T>::is_iec559 && (sizeof(T) == 4 || sizeof(T) == 8),
                    "troupe: only IEEE 754 float and double travel");
      w.integer(std::bit_cast<detail::FloatBits<T>>(v));
    }
  }
  static void decode(WireReader& r, T& v) {
    if constexpr (std::is_integral_v<T>) {
      v = r.integer<T>();
    } else {
      v = std::bit_cast<T>(r.integer<detail::FloatBits<T>>());
    }
  }
  static constexpr std::size_t size(const T&) noexcept { return sizeof(T); }
};

// An enum with a fixed underlying type (every enum class, or `enum E : std::uint8_t`): every value
// of that type is a valid value of the enum. (Only such an enum can be list-initialised from it.)
template <class E>
concept FixedEnum = std::is_enum_v<E> && requires {
  E{std::underlying_type_t<E>{}};
};

// The values of enum E a decoder accepts, [first, last]; specialise it for an enum of your own to
// have out-of-range values refused (a WireError) instead of decoded. Unspecialised: any value.
template <class E>
struct WireEnumRange {
  static constexpr bool bounded = false;
};

template <>
struct WireEnumRange<Errc> {
  static constexpr bool bounded = true;
  static constexpr Errc first = Errc::timeout;
  static constexpr Errc last = kLastErrc;
};

template <>
struct WireEnumRange<ExitReason::Kind> {
  static constexpr bool bounded = true;
  static constexpr ExitReason::Kind first = ExitReason::Kind::normal;
  static constexpr ExitReason::Kind last = ExitReason::Kind::node_down;  // keep at Kind's last value
};

// Enums travel as their underlying type. One without a fixed underlying type is refused at
// compile time: a value outside its enumerators' range (any byte a peer may send) would be
// undefined behaviour.
template <class E>
struct WireCodec<E, std::enable_if_t<std::is_enum_v<E>>> {
  static_assert(FixedEnum<E>,
                "troupe: an enum in a wire message needs a fixed underlying type (enum class E, or enum E : "
                "std::uint8_t), so that any value a peer sends is a valid value");
  using Underlying = std::underlying_type_t<E>;
  static constexpr std::size_t size(const E&) noexcept { return sizeof(Underlying); }
  static void encode(WireWriter& w, const E& v) {
    const auto raw = static_cast<Underlying>(v);
    WireCodec<Underlying>::encode(w, raw);
  }
  static void decode(WireReader& r, E& v) {
    Underlying raw{};
    WireCodec<Underlying>::decode(r, raw);
    if constexpr (WireEnumRange<E>::bounded) {
      if (raw < static_cast<Underlying>(WireEnumRange<E>::first) ||
          raw > static_cast<Underlying>(WireEnumRange<E>::last))
        throw WireError("troupe: an enum value out of its range");
    }
    v = static_cast<E>(raw);
  }
};

// One byte, 0 or 1: any other byte copied into a bool would be undefined behaviour.
template <>
struct WireCodec<bool> {
  static constexpr std::size_t size(const bool&) noexcept { return 1; }
  static void encode(WireWriter& w, const bool& v) {
    const std::uint8_t byte = v ? 1 : 0;
    w.bytes(&byte, 1);
  }
  static void decode(WireReader& r, bool& v) {
    std::uint8_t byte = 0;
    r.bytes(&byte, 1);
    if (byte > 1) throw WireError("troupe: a bool that is neither 0 nor 1");
    v = byte == 1;
  }
};

template <>
struct WireCodec<std::string> {
  static std::size_t size(const std::string& v) noexcept { return 4 + v.size(); }
  static void encode(WireWriter& w, const std::string& v) {
    w.length(v.size());
    w.bytes(v.data(), v.size());
  }
  static void decode(WireReader& r, std::string& v) {
    v.resize(r.length(1));
    r.bytes(v.data(), v.size());
  }
};

// Packed bits cannot be decoded into in place: one byte per element, 0 or 1, as a bool field.
template <>
struct WireCodec<std::vector<bool>> {
  static std::size_t size(const std::vector<bool>& v) noexcept { return 4 + v.size(); }
  static void encode(WireWriter& w, const std::vector<bool>& v) {
    w.length(v.size());
    for (const bool b : v) WireCodec<bool>::encode(w, b);
  }
  static void decode(WireReader& r, std::vector<bool>& v) {
    const std::size_t n = r.length(1);
    v.assign(n, false);
    for (std::size_t i = 0; i < n; ++i) {
      bool b = false;
      WireCodec<bool>::decode(r, b);
      v[i] = b;
    }
  }
};

template <class E>
struct WireCodec<std::vector<E>> {
  static std::size_t size(const std::vector<E>& v) noexcept {
    if constexpr (std::is_arithmetic_v<E> || std::is_enum_v<E>) {
      return 4 + v.size() * WireCodec<E>::size(E{});
    } else {
      std::size_t n = 4;
      for (const E& e : v) n += WireCodec<E>::size(e);
      return n;
    }
  }
  static void encode(WireWriter& w, const std::vector<E>& v) {
    w.length(v.size());
    for (const E& e : v) WireCodec<E>::encode(w, e);
  }
  static void decode(WireReader& r, std::vector<E>& v) {
    // Every element takes at least one byte, except empty aggregates: bound those by the frame too.
    const std::size_t n = r.length(1);
    v.clear();
    v.reserve(n);
    for (std::size_t i = 0; i < n; ++i) WireCodec<E>::decode(r, v.emplace_back());
  }
};

template <class T>
struct WireCodec<T, std::enable_if_t<DeclaredAggregate<T>>> {
  static std::size_t size(const T& v) noexcept {
    return std::apply(
        [&](auto... field) {
          return (std::size_t{0} + ... + WireCodec<std::remove_cvref_t<decltype(v.*field)>>::size(v.*field));
        },
        troupe_wire_fields(static_cast<const T*>(nullptr)));
  }
  static void encode(WireWriter& w, const T& v) {
    std::apply([&](auto... field) { (WireCodec<std::remove_cvref_t<decltype(v.*field)>>::encode(w, v.*field), ...); },
               troupe_wire_fields(static_cast<const T*>(nullptr)));
  }
  // Trailing fields the sender did not have (an older version) keep their defaults.
  static void decode(WireReader& r, T& v) {
    std::apply(
        [&](auto... field) {
          ((r.remaining() > 0 ? WireCodec<std::remove_cvref_t<decltype(v.*field)>>::decode(r, v.*field) : void()), ...);
        },
        troupe_wire_fields(static_cast<const T*>(nullptr)));
  }
};

template <>
struct WireCodec<Unit> {
  static constexpr std::size_t size(const Unit&) noexcept { return 0; }
  static void encode(WireWriter&, const Unit&) {}
  static void decode(WireReader&, Unit&) {}
};

}  // namespace troupe::transport
// WireCodec<Error>, built on the codecs above: included here, between them and the ones after.
#include <troupe/transport/wire_error.hpp>
namespace troupe::transport {


// An exit reason from the wire (a Signal's, or one inside a message). A kind this node does not
// know (a newer node's) becomes Kind::error, its message naming the number and keeping the
// sender's message: monitors and links see an abnormal stop, and the connection stays up.
inline ExitReason exit_reason_from_wire(std::uint8_t kind, std::string message) {
  static_assert(std::is_same_v<std::underlying_type_t<ExitReason::Kind>, std::uint8_t>);
  if (kind <= static_cast<std::uint8_t>(WireEnumRange<ExitReason::Kind>::last)) {
    return ExitReason{static_cast<ExitReason::Kind>(kind), std::move(message)};
  }
  return ExitReason::error("exit reason kind " + std::to_string(kind) + " from a newer node" +
                           (message.empty() ? "" : ": " + message));
}

template <>
struct WireCodec<ExitReason> {
  static std::size_t size(const ExitReason& reason) noexcept { return 1 + 4 + reason.message.size(); }
  static void encode(WireWriter& w, const ExitReason& reason) {
    const auto kind = static_cast<std::uint8_t>(reason.kind);
    WireCodec<std::uint8_t>::encode(w, kind);
    WireCodec<std::string>::encode(w, reason.message);
  }
  static void decode(WireReader& r, ExitReason& reason) {
    std::uint8_t kind = 0;
    WireCodec<std::uint8_t>::decode(r, kind);
    std::string message;
    WireCodec<std::string>::decode(r, message);
    reason = exit_reason_from_wire(kind, std::move(message));
  }
};

namespace detail {
// A handle's reference, written and read by the HandleCodec the node handed the writer or reader;
// without one (outside a node's send or receive) they throw WireError, as a codec that cannot
// resolve a reference does.
inline HandleCodec& handle_codec_of(HandleCodec* codec) {
  if (codec == nullptr) throw WireError("troupe: handles encode and decode only as a node sends or receives them");
  return *codec;
}
}  // namespace detail

template <>
struct WireCodec<DynamicHandle> {
  static constexpr std::size_t size(const DynamicHandle&) noexcept { return kMaxHandleRefBytes; }
  static void encode(WireWriter& w, const DynamicHandle& h) {
    detail::handle_codec_of(w.handles()).encode(w, h.core());
  }
  static void decode(WireReader& r, DynamicHandle& h) {
    h = DynamicHandle::adopt(detail::handle_codec_of(r.handles()).decode(r));
  }
};

template <class... Sigs>
struct WireCodec<Handle<Sigs...>> {
  static constexpr std::size_t size(const Handle<Sigs...>&) noexcept { return kMaxHandleRefBytes; }
  static void encode(WireWriter& w, const Handle<Sigs...>& h) {
    detail::handle_codec_of(w.handles()).encode(w, h.core());
  }
  static void decode(WireReader& r, Handle<Sigs...>& h) {
    h = Handle<Sigs...>::adopt(detail::handle_codec_of(r.handles()).decode(r));
  }
};

namespace detail {

// What a node knows of one declared type.
struct WireTypeInfo {
  std::string_view name;
  const MessageType* type;
  // Appends the payload's encoding to `out`; `handles` encodes the handles in it (null: none may).
  void (*encode)(Envelope& env, std::string& out, HandleCodec* handles);
  // What encode() would write, at most (WireCodec's `size`); cheap: nothing is encoded.
  std::size_t (*encoded_size)(const Envelope& env) noexcept;
  // A new envelope of `kind` holding the decoded value; throws WireError.
  Envelope* (*decode)(EnvelopeKind kind, const std::uint8_t* data, std::size_t size, HandleCodec* handles);
};

// Registers `info` (idempotent: a type declared in a header seen by several files registers once).
// Two different types under one name is a programming error: the second is refused, and its
// declaration's registration flag reads false.
bool register_wire_type(const WireTypeInfo& info) noexcept;
const WireTypeInfo* find_wire_type(const MessageType* type) noexcept;
const WireTypeInfo* find_wire_type(std::string_view name) noexcept;

template <class T>
void encode_envelope(Envelope& env, std::string& out, HandleCodec* handles) {
  WireWriter w(out, handles);
  WireCodec<T>::encode(w, payload<T>(env));
}

template <class T>
std::size_t encoded_envelope_size(const Envelope& env) noexcept {
  return WireCodec<T>::size(static_cast<const Message<T>&>(env).value);
}

template <class T>
Envelope* decode_envelope(EnvelopeKind kind, const std::uint8_t* data, std::size_t size, HandleCodec* handles) {
  T value{};
  WireReader r(data, size, handles);
  WireCodec<T>::decode(r, value);
  return make_envelope<T>(kind, std::move(value));
}

template <class T>
bool declare_wire_type(std::string_view name) noexcept {
  static_assert(WireEncodable<T>, "troupe: a field of this message type cannot be encoded for the wire");
  return register_wire_type(
      WireTypeInfo{name, &message_type<T>, &encode_envelope<T>, &encoded_envelope_size<T>, &decode_envelope<T>});
}

}  // namespace detail
}  // namespace troupe::transport

// Field lists: TROUPE_WIRE_MESSAGE(Type, f1, ..., fN) for up to 12 fields.
#define TROUPE_WIRE_F1_(T, a) &T::a
#define TROUPE_WIRE_F2_(T, a, ...) &T::a, TROUPE_WIRE_F1_(T, __VA_ARGS__)
#define TROUPE_WIRE_F3_(T, a, ...) &T::a, TROUPE_WIRE_F2_(T, __VA_ARGS__)
#define TROUPE_WIRE_F4_(T, a, ...) &T::a, TROUPE_WIRE_F3_(T, __VA_ARGS__)
#define TROUPE_WIRE_F5_(T, a, ...) &T::a, TROUPE_WIRE_F4_(T, __VA_ARGS__)
#define TROUPE_WIRE_F6_(T, a, ...) &T::a, TROUPE_WIRE_F5_(T, __VA_ARGS__)
#define TROUPE_WIRE_F7_(T, a, ...) &T::a, TROUPE_WIRE_F6_(T, __VA_ARGS__)
#define TROUPE_WIRE_F8_(T, a, ...) &T::a, TROUPE_WIRE_F7_(T, __VA_ARGS__)
#define TROUPE_WIRE_F9_(T, a, ...) &T::a, TROUPE_WIRE_F8_(T, __VA_ARGS__)
#define TROUPE_WIRE_F10_(T, a, ...) &T::a, TROUPE_WIRE_F9_(T, __VA_ARGS__)
#define TROUPE_WIRE_F11_(T, a, ...) &T::a, TROUPE_WIRE_F10_(T, __VA_ARGS__)
#define TROUPE_WIRE_F12_(T, a, ...) &T::a, TROUPE_WIRE_F11_(T, __VA_ARGS__)
#define TROUPE_WIRE_PICK_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, NAME, ...) NAME
#define TROUPE_WIRE_FIELDS_(T, ...)                                                                      \
  TROUPE_WIRE_PICK_(__VA_ARGS__, TROUPE_WIRE_F12_, TROUPE_WIRE_F11_, TROUPE_WIRE_F10_, TROUPE_WIRE_F9_,  \
                    TROUPE_WIRE_F8_, TROUPE_WIRE_F7_, TROUPE_WIRE_F6_, TROUPE_WIRE_F5_, TROUPE_WIRE_F4_, \
                    TROUPE_WIRE_F3_, TROUPE_WIRE_F2_, TROUPE_WIRE_F1_)                                   \
  (T, __VA_ARGS__)

// Declares `Type` (unqualified, at namespace scope in its own namespace) for the wire.
// A type without fields is declared with its name alone, TROUPE_WIRE_MESSAGE(Stop); one that has
// fields must list every one (a struct with fields and an empty list is refused at compile time,
// rather than sent without its contents).
#define TROUPE_WIRE_MESSAGE(Type, ...)                                                      \
  [[maybe_unused]] inline constexpr auto troupe_wire_fields(const Type*) {                  \
    static_assert(__VA_OPT__(true ||) std::is_empty_v<Type>,                                \
                  "troupe: TROUPE_WIRE_MESSAGE(" #Type ") lists no fields, but " #Type      \
                  " has fields: "                                                           \
                  "list every field, TROUPE_WIRE_MESSAGE(" #Type ", field1, field2, ...)"); \
    static_assert(sizeof(#Type) - 1 <= ::troupe::transport::kMaxTypeNameBytes,              \
                  "troupe: a wire type's name is at most kMaxTypeNameBytes long");           \
    return std::make_tuple(__VA_OPT__(TROUPE_WIRE_FIELDS_(Type, __VA_ARGS__)));             \
  }                                                                                         \
  inline const bool troupe_wire_declared_##Type = ::troupe::transport::detail::declare_wire_type<Type>(#Type)

// The same as TROUPE_WIRE_MESSAGE(Type) for a type without fields; kept for code that spells it.
#define TROUPE_WIRE_EMPTY_MESSAGE(Type) TROUPE_WIRE_MESSAGE(Type)
