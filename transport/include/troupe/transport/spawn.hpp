// The messages a node's spawner answers (Node::spawner): every node runs one built-in actor that
// starts actors of the types registered with Node::register_spawnable, and looks up its registry,
// for requests from any node. Inside an actor, without blocking its worker:
//
//   troupe::Result<troupe::DynamicHandle> counter =
//       co_await self.request(spawner, SpawnRequest::of("word-counter", CounterArgs{...}));
//   troupe::Result<troupe::DynamicHandle> echo = co_await self.request(spawner, WhereisRequest{"echo"});
//
// (Build the request in its own statement where its type has no constructor; see README.)
//
// Typed: a request made with `expecting<H>` (H a Handle<Sigs...>) carries the wire names of the
// message types H names; the spawner answers Errc::interface_mismatch, naming the types its actor
// has no handler for, instead of the handle (a spawned actor that does not match is stopped). The
// reply still crosses as a DynamicHandle: transport::whereis<H> and transport::spawn<H> below await
// such a request from a Task handler and give a Result<H>. (An older node ignores the names and
// answers unchecked.)
#pragma once

#include <troupe/context.hpp>
#include <troupe/handle.hpp>
#include <troupe/message.hpp>
#include <troupe/task.hpp>
#include <troupe/transport/wire_type.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

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

// The wire name of message type M (a declared type), as a typed request names it.
template <class M>
std::string wire_name_of() {
  static_assert(WireEncodable<M>,
                "troupe: a typed handle to a remote actor names a message type not declared for the wire");
  const WireTypeInfo* info = find_wire_type(&message_type<M>);
  return std::string(info != nullptr ? info->name : message_type<M>.name);
}
// The wire names of the message types typed handle H names.
template <class H>
struct handle_wire_names;
template <class... Sigs>
struct handle_wire_names<Handle<Sigs...>> {
  static std::vector<std::string> get() {
    return {wire_name_of<typename troupe::detail::signature<Sigs>::message>()...};
  }
};
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
  // Wire names of message types the new actor must handle (expecting<H>); empty: unchecked.
  std::vector<std::string> handles;

  template <class Args>
  static SpawnRequest of(std::string type, Args args) {
    static_assert(WireEncodable<Args>, "troupe: spawn arguments must be a declared wire type");
    return SpawnRequest{
        std::move(type), {detail::share_envelope(make_envelope<Args>(EnvelopeKind::message, std::move(args))), {}}, {}};
  }
  // The same, checked: the spawner answers Errc::interface_mismatch (and stops the new actor) if
  // it lacks a handler for a message type typed handle H names.
  template <TypedHandle H, class Args>
  static SpawnRequest expecting(std::string type, Args args) {
    SpawnRequest request = of(std::move(type), std::move(args));
    request.handles = detail::handle_wire_names<decltype(troupe::detail::typed_base(std::declval<const H&>()))>::get();
    return request;
  }
};
// Declared by hand: the wire names carry troupe's prefix, so no user type can take them.
[[maybe_unused]] inline constexpr auto troupe_wire_fields(const SpawnRequest*) {
  return std::make_tuple(&SpawnRequest::type, &SpawnRequest::args, &SpawnRequest::handles);
}
inline const bool troupe_wire_declared_SpawnRequest = detail::declare_wire_type<SpawnRequest>("troupe.SpawnRequest");

// The actor registered as `name` on the spawner's node (error: no_such_name).
struct WhereisRequest {
  using reply_type = DynamicHandle;
  WhereisRequest() = default;
  WhereisRequest(std::string name, std::vector<std::string> handles = {})  // NOLINT: implicit by design
      : name(std::move(name)), handles(std::move(handles)) {}

  std::string name;
  // Wire names of message types the actor must handle (expecting<H>); empty: unchecked.
  std::vector<std::string> handles;

  // Checked: the spawner answers Errc::interface_mismatch if the actor lacks a handler for a
  // message type typed handle H names.
  template <TypedHandle H>
  static WhereisRequest expecting(std::string name) {
    return WhereisRequest(
        std::move(name),
        detail::handle_wire_names<decltype(troupe::detail::typed_base(std::declval<const H&>()))>::get());
  }
};
[[maybe_unused]] inline constexpr auto troupe_wire_fields(const WhereisRequest*) {
  return std::make_tuple(&WhereisRequest::name, &WhereisRequest::handles);
}
inline const bool troupe_wire_declared_WhereisRequest =
    detail::declare_wire_type<WhereisRequest>("troupe.WhereisRequest");

// Inside a Task handler: the actor registered as `name` on the node of `spawner` (Node::spawner),
// as typed handle H, checked there (Errc::interface_mismatch, or the errors of WhereisRequest).
//   troupe::Result<Counter> c = co_await troupe::transport::whereis<Counter>(self, node.spawner("b"), "counter");
template <TypedHandle H>
Task<Result<H>> whereis(Context& self, DynamicHandle spawner, std::string name,
                        Duration timeout = default_request_timeout) {
  WhereisRequest request = WhereisRequest::expecting<H>(std::move(name));
  Result<DynamicHandle> found = co_await self.request(spawner, std::move(request), timeout);
  if (!found) co_return found.error();
  co_return troupe::detail::assume_typed<H>(std::move(*found));
}

// Inside a Task handler: a new actor of registered type `type` on the node of `spawner`, as typed
// handle H, checked there (Errc::interface_mismatch, or the errors of SpawnRequest).
template <TypedHandle H, class Args>
Task<Result<H>> spawn(Context& self, DynamicHandle spawner, std::string type, Args args,
                      Duration timeout = default_request_timeout) {
  SpawnRequest request = SpawnRequest::expecting<H>(std::move(type), std::move(args));
  Result<DynamicHandle> spawned = co_await self.request(spawner, std::move(request), timeout);
  if (!spawned) co_return spawned.error();
  co_return troupe::detail::assume_typed<H>(std::move(*spawned));
}

}  // namespace troupe::transport
