// Process groups, with the semantics of Erlang's `pg`: named sets of actors, reached together.
//
//   troupe::Groups& groups = system.groups();
//   groups.join("room:42", subscriber);            // any thread; a member may join several times
//   groups.broadcast("room:42", Chat{"hello"});    // a copy to each member
//   groups.monitor("room:42", watcher);            // GroupMembers now, then GroupJoined / GroupLeft
//
// - A group has no owner: it exists while it has members. An actor may join a group several
//   times; members() lists it once per join, and leave() takes one of those joins back.
// - A member is removed when its actor stops, for any reason (quit, failure, shutdown); watchers
//   of its groups get a GroupLeft. A watcher that stops is forgotten.
// - Only actors spawned by this system may join (as in pg, a process joins on its own node): an
//   empty handle, a stopped actor, a ScopedActor or another system's actor gives
//   Errc::dead_actor, since the groups can only drop actors whose exit they see. The same holds
//   for watching, but a ScopedActor of this system may watch too (its events wait in its mailbox
//   for receive()); its watches end when it is destroyed, which must then be before its System is.
// - Groups are per System. The cluster layer (issue 13) adds members of other nodes through
//   <troupe/group_origins.hpp>; members() and broadcast() include them, local_members() does not.
// - Every call is thread-safe from any thread (actors, ScopedActor owners, plain threads). An
//   actor that never joins or watches a group pays nothing, at its exit one relaxed load.
#pragma once

#include <troupe/error.hpp>
#include <troupe/handle.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace troupe {

// What a group's watcher receives, in order: first the snapshot, then every change.
// `members` lists a member once per join (a GroupLeft for an actor that stopped while it had
// joined twice lists it twice).
struct GroupMembers {
  std::string group;
  std::vector<DynamicHandle> members;  // every member when the watch began, in members() order
};
struct GroupJoined {
  std::string group;
  std::vector<DynamicHandle> members;  // who joined
};
struct GroupLeft {
  std::string group;
  std::vector<DynamicHandle> members;  // who left (or stopped, or went with their node)
};

class System;

namespace detail {
class LiveSet;
class ActorCell;
class GroupObserver;
struct GroupOrigins;
}  // namespace detail

class Groups {
 public:
  // Internal: System owns its Groups (System::groups()). `live` is the system's set of actors
  // that have not stopped (the liveness check, as the registry's).
  Groups(System& system, detail::LiveSet& live);
  ~Groups();
  Groups(const Groups&) = delete;
  Groups& operator=(const Groups&) = delete;

  // Adds one membership of `member` to `group` (watchers get GroupJoined). Errc::dead_actor for a
  // handle that is not a live actor of this system.
  Result<void> join(std::string_view group, const DynamicHandle& member);
  // Takes back one membership (watchers get GroupLeft). Errc::no_such_name when `member` is not a
  // member of `group` (through this system: a member added by another node cannot be left here).
  Result<void> leave(std::string_view group, const DynamicHandle& member);

  // Every member, once per join, in the order they joined (members of other nodes included).
  std::vector<DynamicHandle> members(std::string_view group) const;
  // This system's actors only, in the same order.
  std::vector<DynamicHandle> local_members(std::string_view group) const;
  // The groups that have members, sorted.
  std::vector<std::string> groups() const;

  // A copy of `message` to each member, in members() order (one sender, so each member gets a
  // sender's broadcasts in the order they were made). Returns how many sends succeeded (a
  // bounded mailbox with policy drop or fail may refuse one).
  template <class M>
  std::size_t broadcast(std::string_view group, const M& message) const {
    std::size_t sent = 0;
    for (const DynamicHandle& member : members(group)) {
      if (member.send(message)) ++sent;
    }
    return sent;
  }

  // `watcher` gets GroupMembers now, then a GroupJoined or GroupLeft for every change of `group`,
  // in the order they happened, until demonitor or until it stops. Errc::dead_actor as for join,
  // but a ScopedActor's handle may watch: `groups.monitor("g", me.handle())`, then
  // `me.receive<GroupJoined>()`. Watching a group twice (as pg's monitor) gets two snapshots and
  // every event twice.
  Result<void> monitor(std::string_view group, const DynamicHandle& watcher);
  // Takes back one monitor; whether `watcher` watched `group`. Events already on their way may
  // still arrive.
  bool demonitor(std::string_view group, const DynamicHandle& watcher);

  // Internal: called by System::actor_exited for every actor, after it left the live set, and by
  // a ScopedActor's end, once it is marked ended.
  void drop_all(detail::ActorCell& actor) noexcept;

 private:
  friend struct detail::GroupOrigins;
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace troupe
