// Names for actors: a system-wide table from a name to an actor, so clients can reach a service
// by a stable name instead of a handle (a restarted service gets a new handle, the same name).
//
// Users call it through System (see system.hpp):
//   Result<void> register_name(std::string name, const DynamicHandle& actor);
//   std::optional<DynamicHandle> whereis(std::string_view name) const;
//   bool unregister_name(std::string_view name);
//
// - A name names at most one actor; an actor may have several names.
// - Registering a name that is taken gives Errc::name_taken (the table is unchanged). Registering
//   an actor that has stopped, an empty handle, or an actor this system did not spawn (a
//   ScopedActor, another system's actor) gives Errc::dead_actor: the registry can only drop the
//   names of actors whose exit it sees.
// - When an actor stops (quit, failure, shutdown), its names are dropped before the system's
//   on_actor_exit hook runs, so the hook may register the name again.
// - Every call is thread-safe from any thread: actors, main(), timer tasks, hooks. A lookup takes
//   one shard's lock shared and one reference count increment; it never blocks on other shards.
// - The table holds a reference to each named actor until the name is dropped.
#pragma once

#include <troupe/error.hpp>
#include <troupe/handle.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace troupe {

namespace detail {
class ActorCell;
class LiveSet;
}  // namespace detail

// The table itself, owned by a System. Internal: use the System members above.
class Registry {
 public:
  // `live` is the system's set of actors that have not stopped (the registry's liveness check).
  explicit Registry(detail::LiveSet& live);
  // Releases the references of names still held (none once every actor has stopped).
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Precondition: `actor` belongs to the system that owns this registry.
  Result<void> add(std::string name, detail::ActorCell& actor);
  std::optional<DynamicHandle> find(std::string_view name) const;
  bool remove(std::string_view name);
  // Drops every name of `actor`. Called once per actor, by System::actor_exited, after the
  // actor has left the live set.
  void drop_all(detail::ActorCell& actor) noexcept;

 private:
  struct Tables;
  std::unique_ptr<Tables> tables_;
};

}  // namespace troupe
