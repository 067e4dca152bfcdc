#include "type_names.hpp"

#include <kj/debug.h>

namespace troupe::transport::detail {

OutgoingTypeNames::Use OutgoingTypeNames::use(std::string_view name) {
  const auto next = static_cast<std::uint32_t>(ids_.size() + 1);
  // (A program declares far fewer types than a peer lets a connection number.)
  auto [it, inserted] = ids_.try_emplace(name, next);
  return Use{it->second, inserted};
}

const IncomingTypeNames::Type& IncomingTypeNames::resolve(wire::Envelope::Reader in) {
  const std::uint32_t id = in.getTypeId();
  KJ_REQUIRE(id != 0, "an envelope without a type number");
  if (in.hasMessageType()) {
    KJ_REQUIRE(id == types_.size() + 1, "a type named out of turn", id, types_.size());
    KJ_REQUIRE(id <= kMaxTypesPerConnection, "more types than a connection numbers");
    const auto name = in.getMessageType();
    const std::string_view view(name.cStr(), name.size());
    types_.push_back(Type{std::string(view), find_wire_type(view)});
    return types_.back();
  }
  KJ_REQUIRE(id <= types_.size(), "a type number never named on this connection", id);
  return types_[id - 1];
}

}  // namespace troupe::transport::detail
