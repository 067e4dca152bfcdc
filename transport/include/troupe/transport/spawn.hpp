// The messages a node's spawner answers (Node::spawner): every node runs one built-in actor that
// starts actors of the types registered with Node::register_spawnable, and looks up its registry,
// for requests from any node. Inside an actor, without blocking its worker:
//
//   troupe::Result<troupe::DynamicHandle> counter =
//       co_await self.request(spawner, SpawnRequest::of("word-counter", CounterArgs{...}));
//   troupe::Result<troupe::DynamicHandle> echo = co_await self.request(spawner, WhereisRequest{"echo"});
//
// (Build the request in its own statement where its type has no constructor; see README.)
#pragma once

#include <troupe/handle.hpp>
#include <troupe/message.hpp>
#include <troupe/transport/wire_type.hpp>

#include <memory>
#include <string>
#include <utility>

namespace troupe::transport {

namespace detail {
// A spawn's arguments: a value of a declared wire type, held in an envelope so that one type
// serves every Args type. On the receiving node it is decoded on the transport thread (handles in
// it resolve there); `undeclared` names an Args type that node does not know.
struct SpawnArgs {
  std::shared_ptr<Envelope> value;
  std::string undeclared;
};
std::shared_ptr<Envelope> share_envelope(Envelope* env);
}  // namespace detail

template <>
struct WireCodec<detail::SpawnArgs> {
  static std::size_t size(const detail::SpawnArgs& a) noexcept;
  static void encode(WireWriter& w, const detail::SpawnArgs& a);
  static void decode(WireReader& r, detail::SpawnArgs& a);
};

// Start an actor of registered type `type` with `args` (errors: no_such_type, bad_arguments, and
// actor_failed if the factory throws).
struct SpawnRequest {
  using reply_type = DynamicHandle;
  std::string type;
  detail::SpawnArgs args;

  template <class Args>
  static SpawnRequest of(std::string type, Args args) {
    static_assert(WireEncodable<Args>, "troupe: spawn arguments must be a declared wire type");
    return SpawnRequest{std::move(type),
                        {detail::share_envelope(make_envelope<Args>(EnvelopeKind::message, std::move(args))), {}}};
  }
};
// Declared by hand: the wire names carry troupe's prefix, so no user type can take them.
[[maybe_unused]] inline constexpr auto troupe_wire_fields(const SpawnRequest*) {
  return std::make_tuple(&SpawnRequest::type, &SpawnRequest::args);
}
inline const bool troupe_wire_declared_SpawnRequest = detail::declare_wire_type<SpawnRequest>("troupe.SpawnRequest");

// The actor registered as `name` on the spawner's node (error: no_such_name).
struct WhereisRequest {
  using reply_type = DynamicHandle;
  std::string name;
};
[[maybe_unused]] inline constexpr auto troupe_wire_fields(const WhereisRequest*) {
  return std::make_tuple(&WhereisRequest::name);
}
inline const bool troupe_wire_declared_WhereisRequest =
    detail::declare_wire_type<WhereisRequest>("troupe.WhereisRequest");

}  // namespace troupe::transport
