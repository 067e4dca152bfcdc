// A small number for each actor type of the process (its readable name, type_name.hpp), so that
// the per-type metrics (<troupe/metrics.hpp>) are an index into per-thread arrays, not a lookup by
// name on every turn. Given out once per type, when its first actor is made; the same in every
// System of the process.
#pragma once

#include <troupe/type_name.hpp>

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace troupe::detail {

using ActorTypeId = std::uint16_t;
// Types past this many share the last id, named "(other types)"; id 0 is an actor of no type.
inline constexpr std::size_t kMaxActorTypes = 1024;

// Any thread; takes a lock: once per type and call site (actor_type_of), or on rare paths.
ActorTypeId intern_actor_type(std::string_view name) noexcept;
std::string_view actor_type_name(ActorTypeId id) noexcept;
std::size_t interned_actor_types() noexcept;  // ids in use: 0 .. this - 1

template <class Named>
ActorTypeId actor_type_of() noexcept {
  static const ActorTypeId id = intern_actor_type(type_name<Named>());
  return id;
}

}  // namespace troupe::detail
