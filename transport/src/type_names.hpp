// Type names, once per connection (docs/wire.md, "Type numbers"). The first envelope of a type on
// a connection carries the type's name and thereby gives it the connection's next number (1, 2,
// ...); later envelopes of the type carry only the number. Each direction of a connection numbers
// on its own, and a new connection starts afresh, so a number never outlives the stream that
// defined it. A small envelope shrinks by its name: see bench/RESULTS.md for the bytes.
#pragma once

#include "wire.capnp.h"

#include <troupe/transport/wire_type.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace troupe::transport::detail {

// What one direction of a connection may name, which bounds what a peer makes this node remember:
// at most this many types, each name at most kMaxTypeNameBytes (wire_type.hpp), and this many bytes
// of names in all (65,536 names of 16 bytes). More closes the connection.
inline constexpr std::uint32_t kMaxTypesPerConnection = 1u << 16;
inline constexpr std::size_t kMaxTypeNameBytesPerConnection = std::size_t{1} << 20;

// The sender's side: which types this connection has named to its peer.
class OutgoingTypeNames {
 public:
  struct Use {
    std::uint32_t id;
    bool first;  // the envelope names the type
  };
  // The number of `name` on this connection; `first` the first time (the envelope carries the name).
  // `name` has static storage (a declaration's).
  Use use(std::string_view name);
  // Whether the next use() of `name` would name it.
  bool named(std::string_view name) const noexcept { return ids_.contains(name); }

 private:
  std::unordered_map<std::string_view, std::uint32_t> ids_;
};

// The receiver's side: the types its peer has named on this connection.
class IncomingTypeNames {
 public:
  struct Type {
    std::string name;
    const WireTypeInfo* info;  // this node's declaration; null where the type is not declared here
  };
  // The type of `in`: the one it names (and numbers), or the one its number stands for. Throws a
  // kj::Exception for a number that is 0, out of turn, never named, or past kMaxTypesPerConnection,
  // and for a name past the bounds on names above.
  const Type& resolve(wire::Envelope::Reader in);

 private:
  std::vector<Type> types_;  // number i + 1
  std::size_t name_bytes_ = 0;  // of all the names in types_
};

}  // namespace troupe::transport::detail
