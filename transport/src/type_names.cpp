#include "type_names.hpp"

#include "plain_failure.hpp"

namespace troupe::transport::detail {

OutgoingTypeNames::Use OutgoingTypeNames::use(std::string_view name) {
  const auto next = static_cast<std::uint32_t>(ids_.size() + 1);
  // (A program declares far fewer types than a peer lets a connection number.)
  auto [it, inserted] = ids_.try_emplace(name, next);
  return Use{it->second, inserted};
}

const IncomingTypeNames::Type& IncomingTypeNames::resolve(wire::Envelope::Reader in) {
  const std::uint32_t id = in.getTypeId();
  if (id == 0) fail_plainly(kj::str("an envelope without a type number"));
  if (in.hasMessageType()) {
    if (id != types_.size() + 1)
      fail_plainly(kj::str("type number ", id, " named out of turn (", types_.size(), " named so far)"));
    if (id > kMaxTypesPerConnection)
      fail_plainly(kj::str("more than ", kMaxTypesPerConnection, " types named on one connection"));
    const auto name = in.getMessageType();
    if (name.size() > kMaxTypeNameBytes)
      fail_plainly(
          kj::str("a type name of ", name.size(), " bytes (a declaration's has at most ", kMaxTypeNameBytes, ")"));
    if (name_bytes_ + name.size() > kMaxTypeNameBytesPerConnection)
      fail_plainly(kj::str("more than ", kMaxTypeNameBytesPerConnection, " bytes of type names on one connection"));
    name_bytes_ += name.size();
    const std::string_view view(name.cStr(), name.size());
    types_.push_back(Type{std::string(view), find_wire_type(view)});
    return types_.back();
  }
  if (id > types_.size()) fail_plainly(kj::str("type number ", id, ", never named on this connection"));
  return types_[id - 1];
}

}  // namespace troupe::transport::detail
