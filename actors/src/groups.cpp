// Process groups (groups.hpp): one table under one mutex, and the events it owes its watchers.
//
// The table. Groups by name, each with its members (in join order, one entry per join; an
// entry's origin is empty for this system's actors, a node's name for members added through
// GroupOrigins) and its watchers (one entry per monitor). For this system's actors, the reverse
// direction (actor → the groups it joined and watches) lets an exiting actor find its entries
// without a scan. A mutex is enough: joins, leaves and monitors are rare next to sends, and
// nothing slow runs under it (no send, no user code, no release of a last reference).
//
// Removal when an actor stops: the registry's mechanism (registry.cpp), reused as it stands.
// System::actor_exited erases the actor from the live set, then calls drop_all. join and monitor
// check liveness and insert under the mutex, which drop_all takes after that erase: either the
// check sees the actor stopped (refused), or drop_all finds the entry. A ScopedActor may watch
// (not join): its end marks it closed under its own lock, then calls drop_all, and monitor checks
// that mark under the same lock (scoped_open.hpp), so the argument is the same. Each owner shard (by actor
// address) counts its actors' entries, so an actor that never used a group pays one relaxed load
// at its exit and no lock. (The registry itself cannot hold groups: a name has one actor.)
//
// Ordering of events. A change is made, and its events queued (the outbox), under the mutex, so the
// queue holds every group's changes in the order they happened. The sends happen outside the
// mutex, by one thread at a time: whoever finds no one delivering becomes the deliverer and sends
// the queue's events in order until it is empty (the others leave theirs to it). One deliverer
// hands over to the next through the mutex (the `delivering` flag), so every send to a watcher
// happens-before the next one to it: its mailbox receives them in queue order, as one sender's
// would. Sending under the mutex would give the same order, but a send may wait for room in a
// bounded mailbox (a plain thread with the backpressure policy) and may run the dead-letter hook,
// and a watcher that joins a group from its handler would then wait for a thread that waits for it.
#include "groups_state.hpp"
#include "scoped_open.hpp"

#include "system_internals.hpp"

namespace troupe {

using namespace detail::group_table;

Groups::Groups(System& system, detail::LiveSet& live) : state_(std::make_unique<State>(system, live)) {}

Groups::~Groups() = default;

namespace {

// Counts an entry of `actor` before its liveness check; undone at scope exit unless kept.
class Counted {
 public:
  explicit Counted(std::atomic<std::size_t>& n) : n_(n) {
    // Relaxed: the liveness check that follows takes (and releases) the live set's shard lock.
    // If it finds the actor live, System::actor_exited's erase takes that lock later, so this
    // increment happens-before drop_all's load, which cannot skip the entry (as registry.cpp).
    n_.fetch_add(1, std::memory_order_relaxed);
  }
  ~Counted() {
    // Relaxed: see the increment; an entry never made leaves nothing to find.
    if (!kept_) n_.fetch_sub(1, std::memory_order_relaxed);
  }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
  void keep() noexcept { kept_ = true; }

 private:
  std::atomic<std::size_t>& n_;
  bool kept_ = false;
};

}  // namespace

Result<void> Groups::join(std::string_view group, const DynamicHandle& member) {
  State& s = *state_;
  detail::ActorCell* cell = s.cell_of(member);
  if (cell == nullptr) return Error{Errc::dead_actor, "not an actor spawned by this system"};
  Counted counted(s.count(cell));
  std::string name(group);
  std::unique_lock lock(s.mutex);
  if (!s.live.contains(cell)) return Error{Errc::dead_actor, "the actor has stopped"};
  auto it = s.table.try_emplace(name).first;
  s.reserve_entry(it, cell, [&](Group& g, Owned& owned) {
    s.outbox.reserve(s.outbox.size() + 1);
    owned.joined.reserve(owned.joined.size() + 1);
    g.members.reserve(g.members.size() + 1);
    return Event{Event::Kind::joined, true, name, {member}, g.watchers};
  });
  // Nothing below throws.
  it->second.members.push_back(Member{member, {}});
  s.owned[cell].joined.push_back(std::move(name));
  counted.keep();
  s.deliver(lock);
  return {};
}

Result<void> Groups::leave(std::string_view group, const DynamicHandle& member) {
  State& s = *state_;
  if (!member.valid()) return Error{Errc::dead_actor, "empty handle"};
  std::unique_lock lock(s.mutex);
  auto it = s.table.find(group);
  auto owned = s.owned.find(member.core());
  if (it == s.table.end() || owned == s.owned.end()) {
    return Error{Errc::no_such_name, std::string("not a member of group '") += std::string(group) += "'"};
  }
  auto& members = it->second.members;
  auto m = std::find_if(members.begin(), members.end(),
                        [&](const Member& e) { return e.origin.empty() && e.handle == member; });
  if (m == members.end()) {
    return Error{Errc::no_such_name, std::string("not a member of group '") += std::string(group) += "'"};
  }
  // May throw (no memory): nothing has changed yet.
  s.outbox.push_back(Event{Event::Kind::left, true, std::string(group), {member}, it->second.watchers});
  members.erase(m);
  erase_one(owned->second.joined, group);
  if (owned->second.joined.empty() && owned->second.watched.empty()) s.owned.erase(owned);
  s.forget_if_empty(it);
  // Relaxed: the count only has to cover the entries that exist (see Counted); one went.
  s.count(member.core()).fetch_sub(1, std::memory_order_relaxed);
  s.deliver(lock);
  return {};
}

std::vector<DynamicHandle> Groups::members(std::string_view group) const {
  State& s = *state_;
  std::vector<DynamicHandle> out;
  std::lock_guard lock(s.mutex);
  auto it = s.table.find(group);
  if (it == s.table.end()) return out;
  out.reserve(it->second.members.size());
  for (const Member& m : it->second.members) out.push_back(m.handle);
  return out;
}

std::vector<DynamicHandle> Groups::local_members(std::string_view group) const {
  State& s = *state_;
  std::vector<DynamicHandle> out;
  std::lock_guard lock(s.mutex);
  auto it = s.table.find(group);
  if (it == s.table.end()) return out;
  for (const Member& m : it->second.members) {
    if (m.origin.empty()) out.push_back(m.handle);
  }
  return out;
}

std::vector<std::string> Groups::groups() const {
  State& s = *state_;
  std::vector<std::string> out;
  {
    std::lock_guard lock(s.mutex);
    for (const auto& [name, g] : s.table) {
      if (!g.members.empty()) out.push_back(name);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<void> Groups::monitor(std::string_view group, const DynamicHandle& watcher) {
  State& s = *state_;
  detail::ActorCell* cell = s.cell_of(watcher);
  if (cell == nullptr) return Error{Errc::dead_actor, "not an actor spawned by this system"};
  Counted counted(s.count(cell));
  std::string name(group);
  std::unique_lock lock(s.mutex);
  // A ScopedActor is in no live set: its own lock says whether it has ended (scoped_open.hpp),
  // and its end drops its watches as an actor's exit does.
  if (!s.live.contains(cell) && !detail::scoped_actor_admits_watch(*cell)) {
    return Error{Errc::dead_actor, "the actor (or ScopedActor) has stopped"};
  }
  auto it = s.table.try_emplace(name).first;
  s.reserve_entry(it, cell, [&](Group& g, Owned& owned) {
    s.outbox.reserve(s.outbox.size() + 1);
    owned.watched.reserve(owned.watched.size() + 1);
    g.watchers.reserve(g.watchers.size() + 1);
    std::vector<DynamicHandle> snapshot;
    snapshot.reserve(g.members.size());
    for (const Member& m : g.members) snapshot.push_back(m.handle);
    return Event{Event::Kind::snapshot, false, name, std::move(snapshot), {watcher}};
  });
  // Nothing below throws.
  it->second.watchers.push_back(watcher);
  s.owned[cell].watched.push_back(std::move(name));
  counted.keep();
  s.deliver(lock);
  return {};
}

bool Groups::demonitor(std::string_view group, const DynamicHandle& watcher) {
  State& s = *state_;
  if (!watcher.valid()) return false;
  std::unique_lock lock(s.mutex);
  auto it = s.table.find(group);
  auto owned = s.owned.find(watcher.core());
  if (it == s.table.end() || owned == s.owned.end() || !erase_one(it->second.watchers, watcher)) return false;
  erase_one(owned->second.watched, group);
  if (owned->second.joined.empty() && owned->second.watched.empty()) s.owned.erase(owned);
  s.forget_if_empty(it);
  // Relaxed: as in leave.
  s.count(watcher.core()).fetch_sub(1, std::memory_order_relaxed);
  return true;
}

void Groups::drop_all(detail::ActorCell& actor) noexcept {
  State& s = *state_;
  runtime::ActorCore* core = &actor;
  // Relaxed: pairs with Counted's increment through the live set's shard lock (see Counted).
  // Every join or monitor of this actor that passed its liveness check is counted here; one that
  // had not yet checked will find the actor stopped.
  if (s.count(core).load(std::memory_order_relaxed) == 0) return;
  std::unique_lock lock(s.mutex);
  auto o = s.owned.find(core);
  if (o == s.owned.end()) return;
  const Owned owned = std::move(o->second);
  s.owned.erase(o);
  // Its monitors first: a stopped watcher is told nothing more. The references released here
  // under the mutex are never the actor's last: it holds its own until it has stopped.
  for (const std::string& name : owned.watched) {
    auto it = s.table.find(name);
    if (it == s.table.end()) continue;
    std::erase_if(it->second.watchers, [&](const DynamicHandle& w) { return w.core() == core; });
    s.forget_if_empty(it);
  }
  // Then its memberships: one GroupLeft per group, naming it once per join.
  for (auto name = owned.joined.begin(); name != owned.joined.end(); ++name) {
    if (std::find(owned.joined.begin(), name, *name) != name) continue;  // that group is done
    auto it = s.table.find(*name);
    if (it == s.table.end()) continue;
    auto local = [&](const Member& m) { return m.origin.empty() && m.handle.core() == core; };
    const auto joins =
        static_cast<std::size_t>(std::count_if(it->second.members.begin(), it->second.members.end(), local));
    try {
      s.outbox.push_back(Event{Event::Kind::left, true, *name,
                               std::vector<DynamicHandle>(joins, DynamicHandle::share(core)), it->second.watchers});
    } catch (...) {  // no memory for the event: the member goes all the same, its watchers miss it
    }
    std::erase_if(it->second.members, local);
    s.forget_if_empty(it);
  }
  // Relaxed: as in leave; these entries are gone.
  s.count(core).fetch_sub(owned.joined.size() + owned.watched.size(), std::memory_order_relaxed);
  s.deliver(lock);
}

Groups& System::groups() noexcept { return internals_->groups; }

}  // namespace troupe
