// The name registry: names sharded by hash, each shard a map under a shared mutex (lookups take
// it shared), plus the reverse direction (actor → its names) sharded by actor address, so an
// exiting actor finds its names without a scan.
//
// Locking. Lock order: owner shard (by actor) → name shard (by name); an owner shard → the live
// set's shard (the liveness check). Nothing else is taken under them, and no user code runs
// under them.
//  - Every change to the entries of actor A holds A's owner shard, so the two directions agree
//    whenever that lock is free.
//  - add(name, A) checks that A is live and inserts, both under A's owner shard.
//    System::actor_exited erases A from the live set, then drop_all(A) takes A's owner shard. So
//    either the check sees A stopped (add fails), or the insertion completes before drop_all
//    looks and drop_all removes it: no name outlives its actor.
//  - remove(name) learns the owner under the name shard, lets go, then takes owner → name and
//    checks the entry again (the lock order forbids taking the owner shard while holding the name
//    shard).
//
// Each owner shard counts the names its actors hold, so drop_all skips all locking for an actor
// whose shard holds none (the common case: most actors never have a name, and an exit then pays
// one relaxed load).
#include <troupe/registry.hpp>
#include <troupe/system.hpp>

#include "live_set.hpp"
#include "system_internals.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <shared_mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace troupe {

namespace {

struct NameHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view name) const noexcept { return std::hash<std::string_view>{}(name); }
};

constexpr std::size_t kShards = 16;

}  // namespace

struct Registry::Tables {
  struct alignas(64) NameShard {
    mutable std::shared_mutex mutex;
    // Each entry holds one reference to its actor.
    std::unordered_map<std::string, runtime::ActorCore*, NameHash, std::equal_to<>> names;
  };
  struct alignas(64) OwnerShard {
    std::mutex mutex;
    std::unordered_map<runtime::ActorCore*, std::vector<std::string>> owned;  // no empty vectors
    // Names held by this shard's actors, plus registrations for them in progress. Only a hint
    // for drop_all's fast path; the comments at its uses say why relaxed operations suffice.
    std::atomic<std::size_t> names{0};
  };

  explicit Tables(detail::LiveSet& l) : live(l) {}

  NameShard& name_shard(std::string_view name) noexcept {
    const std::size_t h = NameHash{}(name);
    return name_shards[(h ^ (h >> 29)) % kShards];
  }
  OwnerShard& owner_shard(const runtime::ActorCore* actor) noexcept {
    return owner_shards[(reinterpret_cast<std::uintptr_t>(actor) >> 6) % kShards];
  }

  detail::LiveSet& live;
  std::array<NameShard, kShards> name_shards;
  std::array<OwnerShard, kShards> owner_shards;
};

Registry::Registry(detail::LiveSet& live) : tables_(std::make_unique<Tables>(live)) {}

Registry::~Registry() {
  for (auto& shard : tables_->name_shards) {
    for (auto& [name, actor] : shard.names) actor->release();
  }
}

Result<void> Registry::add(std::string name, detail::ActorCell& actor) {
  Tables& t = *tables_;
  runtime::ActorCore* core = &actor;
  Tables::OwnerShard& os = t.owner_shard(core);
  // Relaxed: counted before the liveness check below, which takes (and releases) the live
  // set's shard lock. If the check finds `actor` live, System::actor_exited's erase takes that
  // lock later, so this increment happens-before drop_all's load, which therefore cannot read a
  // count without it (and so cannot skip our name). Undone below on failure, or when the name
  // is dropped.
  os.names.fetch_add(1, std::memory_order_relaxed);
  bool added = false;
  struct Uncount {
    Tables::OwnerShard& os;
    const bool& added;
    ~Uncount() {
      // Relaxed: see the increment above; a failed registration leaves nothing to find.
      if (!added) os.names.fetch_sub(1, std::memory_order_relaxed);
    }
  } uncount{os, added};

  std::lock_guard owner_lock(os.mutex);
  if (!t.live.contains(&actor)) return Error{Errc::dead_actor, "the actor has stopped"};
  Tables::NameShard& ns = t.name_shard(name);
  std::unique_lock name_lock(ns.mutex);
  if (ns.names.contains(name)) return Error{Errc::name_taken, std::move(name)};
  std::vector<std::string>& owned = os.owned[core];
  bool listed = false;
  try {
    owned.push_back(name);
    listed = true;
    ns.names.emplace(std::move(name), core);
  } catch (...) {  // no memory: leave both directions as they were
    if (listed) owned.pop_back();
    if (owned.empty()) os.owned.erase(core);
    throw;
  }
  core->add_ref();  // the entry's reference
  added = true;
  return {};
}

std::optional<DynamicHandle> Registry::find(std::string_view name) const {
  Tables::NameShard& ns = tables_->name_shard(name);
  std::shared_lock lock(ns.mutex);
  auto it = ns.names.find(name);
  if (it == ns.names.end()) return std::nullopt;
  return DynamicHandle::share(it->second);  // the entry's reference keeps it alive meanwhile
}

bool Registry::remove(std::string_view name) {
  Tables& t = *tables_;
  Tables::NameShard& ns = t.name_shard(name);
  for (;;) {
    DynamicHandle owner;  // keeps the actor's address ours while we relock
    {
      std::shared_lock lock(ns.mutex);
      auto it = ns.names.find(name);
      if (it == ns.names.end()) return false;
      owner = DynamicHandle::share(it->second);
    }
    runtime::ActorCore* core = owner.core();
    Tables::OwnerShard& os = t.owner_shard(core);
    {
      std::lock_guard owner_lock(os.mutex);
      std::unique_lock name_lock(ns.mutex);
      auto it = ns.names.find(name);
      if (it == ns.names.end()) return false;  // removed meanwhile (unregistered, or its actor stopped)
      if (it->second == core) {
        ns.names.erase(it);
        auto owned = os.owned.find(core);
        if (owned != os.owned.end()) {
          auto& list = owned->second;
          auto listed = std::find(list.begin(), list.end(), name);
          if (listed != list.end()) list.erase(listed);
          if (list.empty()) os.owned.erase(owned);
        }
        // Relaxed: the count only has to be nonzero while one of the shard's names is
        // registered (see add); this one no longer is.
        os.names.fetch_sub(1, std::memory_order_relaxed);
        name_lock.unlock();
        core->release();  // the entry's reference; `owner` still holds one
        return true;
      }
    }
    // Unregistered and registered again to another actor meanwhile: remove that one.
  }
}

void Registry::drop_all(detail::ActorCell& actor) noexcept {
  Tables& t = *tables_;
  runtime::ActorCore* core = &actor;
  Tables::OwnerShard& os = t.owner_shard(core);
  // Relaxed: pairs with add's increment through the live set's shard lock (see add). Every
  // registration of this actor that passed its liveness check is counted here; one that had
  // not yet checked will find the actor stopped.
  if (os.names.load(std::memory_order_relaxed) == 0) return;
  std::size_t dropped = 0;
  {
    std::lock_guard owner_lock(os.mutex);
    auto owned = os.owned.find(core);
    if (owned == os.owned.end()) return;
    for (const std::string& name : owned->second) {
      Tables::NameShard& ns = t.name_shard(name);
      std::lock_guard name_lock(ns.mutex);
      auto it = ns.names.find(name);
      if (it != ns.names.end() && it->second == core) {
        ns.names.erase(it);
        ++dropped;
      }
    }
    os.owned.erase(owned);
  }
  // Relaxed: as in remove.
  os.names.fetch_sub(dropped, std::memory_order_relaxed);
  // The entries' references. Never the last: the actor holds its own until it has stopped.
  for (std::size_t i = 0; i < dropped; ++i) core->release();
}

// The System API.

Result<void> System::register_name(std::string name, const DynamicHandle& actor) {
  if (!actor.valid()) return Error{Errc::dead_actor, "empty handle"};
  auto* cell = dynamic_cast<detail::ActorCell*>(actor.core());
  if (cell == nullptr || &cell->system() != this) {
    return Error{Errc::dead_actor, "not an actor spawned by this system"};
  }
  Result<void> added = internals_->registry.add(std::move(name), *cell);
  if (added) names_registered();  // after add() let go of the registry's locks
  return added;
}

std::optional<DynamicHandle> System::whereis(std::string_view name) const { return internals_->registry.find(name); }

bool System::unregister_name(std::string_view name) { return internals_->registry.remove(name); }

}  // namespace troupe
