#include "spawner.hpp"

#include <troupe/transport/spawn.hpp>
#include <troupe/troupe.hpp>

#include <optional>
#include <string>
#include <vector>

namespace troupe::transport {

std::shared_ptr<Envelope> detail::share_envelope(Envelope* env) {
  return std::shared_ptr<Envelope>(env, [](Envelope* e) { troupe::dispose(e); });
}

// The type's name and the value's encoding, each as a string.
std::size_t WireCodec<detail::SpawnArgs>::size(const detail::SpawnArgs& a) noexcept {
  const detail::WireTypeInfo* info = a.value ? detail::find_wire_type(a.value->type()) : nullptr;
  if (info == nullptr) return 8;  // encode() throws: the send fails as not serializable there
  return 4 + info->name.size() + 4 + info->encoded_size(*a.value);
}

void WireCodec<detail::SpawnArgs>::encode(WireWriter& w, const detail::SpawnArgs& a) {
  if (!a.value) throw WireError("troupe: a spawn request without arguments");
  const detail::WireTypeInfo* info = detail::find_wire_type(a.value->type());
  if (info == nullptr) throw WireError("troupe: spawn arguments of a type not declared for the wire");
  std::string bytes;
  info->encode(*a.value, bytes, w.handles());  // handles among the arguments, for the same peer
  WireCodec<std::string>::encode(w, std::string(info->name));
  WireCodec<std::string>::encode(w, bytes);
}

void WireCodec<detail::SpawnArgs>::decode(WireReader& r, detail::SpawnArgs& a) {
  std::string type;
  std::string bytes;
  WireCodec<std::string>::decode(r, type);
  WireCodec<std::string>::decode(r, bytes);
  const detail::WireTypeInfo* info = detail::find_wire_type(type);
  if (info == nullptr) {
    a.undeclared = std::move(type);  // the spawner answers bad_arguments
    return;
  }
  // Decoded here, on the transport thread, so handles among the arguments resolve.
  a.value = detail::share_envelope(info->decode(
      EnvelopeKind::message, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size(), r.handles()));
}

namespace detail {
namespace {

// The names among `wanted` (wire names) of message types `actor` has no handler for, or that this
// node does not know. An actor this node cannot inspect (not one of its system's: a proxy a
// factory returned) passes.
std::vector<std::string> missing_handlers(const DynamicHandle& actor, const std::vector<std::string>& wanted) {
  std::vector<std::string> missing;
  const auto* cell = dynamic_cast<const troupe::detail::ActorCell*>(actor.core());
  for (const std::string& name : wanted) {
    const WireTypeInfo* info = find_wire_type(name);
    if (info == nullptr) {
      missing.push_back(name + " (not declared on this node)");
    } else if (cell != nullptr && !cell->handles(info->type)) {
      missing.push_back(name);
    }
  }
  return missing;
}

Error mismatch(std::string what, const std::vector<std::string>& missing) {
  what += " has no handler for ";
  for (std::size_t i = 0; i < missing.size(); ++i) {
    if (i > 0) what += ", ";
    what += missing[i];
  }
  return Error{Errc::interface_mismatch, std::move(what)};
}

Result<DynamicHandle> spawn_registered(System& system, Spawnables& spawnables, const SpawnRequest& request) {
  std::function<DynamicHandle(System&, Envelope&)> make;
  {
    std::lock_guard lock(spawnables.mutex);
    auto it = spawnables.entries.find(request.type);
    if (it == spawnables.entries.end()) {
      return Error{Errc::no_such_type, "no spawnable type '" + request.type + "'"};
    }
    if (!request.args.value) {
      return Error{Errc::bad_arguments, "arguments of type '" + request.args.undeclared + "' are not declared here"};
    }
    if (!request.args.value->is(*it->second.args_type)) {
      return Error{Errc::bad_arguments, "'" + request.type + "' takes " + std::string(it->second.args_type->name) +
                                            ", not " + std::string(request.args.value->type()->name)};
    }
    make = it->second.make;  // called outside the lock: a factory may take its time
  }
  try {
    DynamicHandle spawned = make(system, *request.args.value);
    if (!spawned) return Error{Errc::actor_failed, "the factory of '" + request.type + "' gave no actor"};
    return spawned;
  } catch (const std::exception& e) {
    return Error{Errc::actor_failed, e.what()};
  }
}

}  // namespace

DynamicHandle spawn_spawner(System& system, std::shared_ptr<Spawnables> spawnables) {
  return system.spawn([spawnables = std::move(spawnables)](Context& self) {
    return behavior(
        [&self, spawnables](const SpawnRequest& r) -> Result<DynamicHandle> {
          Result<DynamicHandle> spawned = spawn_registered(self.system(), *spawnables, r);
          if (!spawned || r.handles.empty()) return spawned;
          const std::vector<std::string> missing = missing_handlers(*spawned, r.handles);
          if (missing.empty()) return spawned;
          self.exit(*spawned, ExitReason::kill());  // no one holds it but us: it must not linger
          return mismatch("a new '" + r.type + "'", missing);
        },
        [&self](const WhereisRequest& r) -> Result<DynamicHandle> {
          std::optional<DynamicHandle> found = self.system().whereis(r.name);
          if (!found) return Error{Errc::no_such_name, "no actor named '" + r.name + "'"};
          const std::vector<std::string> missing = missing_handlers(*found, r.handles);
          if (!missing.empty()) return mismatch("the actor named '" + r.name + "'", missing);
          return *found;
        });
  });
}

}  // namespace detail
}  // namespace troupe::transport
