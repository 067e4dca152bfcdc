// The messages of the seed membership protocol (membership.hpp), between the membership actors of
// the nodes (on the wire), and from the node's own API to its membership actor (local only).
#pragma once

#include <troupe/error.hpp>
#include <troupe/handle.hpp>
#include <troupe/transport/cluster.hpp>
#include <troupe/transport/wire_type.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace troupe::transport::detail {

// The membership actor's export id on every node (after the spawner's): a seed's is reachable
// once its name is known, without a lookup.
inline constexpr std::uint64_t kMembershipId = 2;

// A member as the protocol passes it on: with its membership actor, whose handle also tells the
// receiver where the member listens (a handle to a third node's actor carries its address).
struct WireMember {
  std::string name;
  std::string host;
  std::uint16_t port = 0;
  std::uint64_t incarnation = 0;
  DynamicHandle membership;
};
inline constexpr auto troupe_wire_fields(const WireMember*) {
  return std::make_tuple(&WireMember::name, &WireMember::host, &WireMember::port, &WireMember::incarnation,
                         &WireMember::membership);
}

// The members a member knows (up or leaving), itself included: the answer to a join. With
// `declared_down` set (the joiner's incarnation), the answerer had declared that run of the
// joiner down and did not admit it: the joiner (or, if the joiner declared the answerer down too
// and the answerer is the one to yield, the answerer) rejoins as a new incarnation
// (membership_rejoin.cpp).
struct MemberList {
  std::vector<WireMember> members;
  std::uint64_t declared_down = 0;
};
inline constexpr auto troupe_wire_fields(const MemberList*) {
  return std::make_tuple(&MemberList::members, &MemberList::declared_down);
}

// "Let me in": to a seed, then to every member the joiner learns of. Answered with the members the
// receiver knows, or Errc::name_taken if a live member has the joiner's name.
struct JoinCluster {
  using reply_type = MemberList;
  WireMember joiner;
};
inline constexpr auto troupe_wire_fields(const JoinCluster*) { return std::make_tuple(&JoinCluster::joiner); }

// A graceful leave, in two steps: "I am leaving" (answered, so the leaver knows it was heard),
// then "I left" (after which its connection closing is no node-down).
struct LeavingCluster {
  using reply_type = Unit;
  std::string name;
  std::uint64_t incarnation = 0;
};
inline constexpr auto troupe_wire_fields(const LeavingCluster*) {
  return std::make_tuple(&LeavingCluster::name, &LeavingCluster::incarnation);
}
struct LeftCluster {
  using reply_type = Unit;  // once the receiver's transport knows (so the leaver closes only then)
  std::string name;
  std::uint64_t incarnation = 0;
};
inline constexpr auto troupe_wire_fields(const LeftCluster*) {
  return std::make_tuple(&LeftCluster::name, &LeftCluster::incarnation);
}

// "This node declared your run `incarnation` down": to a member that meets it again as that run
// (it answered a join, or is listed by a member that still has it). It rejoins as a new
// incarnation, through `by` among its seeds.
struct DeclaredDown {
  WireMember by;
  std::uint64_t incarnation = 0;
};
inline constexpr auto troupe_wire_fields(const DeclaredDown*) {
  return std::make_tuple(&DeclaredDown::by, &DeclaredDown::incarnation);
}

inline const bool troupe_wire_declared_WireMember = declare_wire_type<WireMember>("troupe.cluster.Member");
inline const bool troupe_wire_declared_MemberList = declare_wire_type<MemberList>("troupe.cluster.MemberList");
inline const bool troupe_wire_declared_JoinCluster = declare_wire_type<JoinCluster>("troupe.cluster.Join");
inline const bool troupe_wire_declared_LeavingCluster = declare_wire_type<LeavingCluster>("troupe.cluster.Leaving");
inline const bool troupe_wire_declared_LeftCluster = declare_wire_type<LeftCluster>("troupe.cluster.Left");
inline const bool troupe_wire_declared_DeclaredDown = declare_wire_type<DeclaredDown>("troupe.cluster.DeclaredDown");

// Cluster-wide names (cluster_names.hpp), between the membership actors.
// A name as every member keeps it: the actor, and the node that registered it (its owner).
struct NameEntry {
  std::string name;
  std::string owner;
  std::uint64_t owner_incarnation = 0;
  DynamicHandle actor;
};
inline constexpr auto troupe_wire_fields(const NameEntry*) {
  return std::make_tuple(&NameEntry::name, &NameEntry::owner, &NameEntry::owner_incarnation, &NameEntry::actor);
}
// To the name's home member: "give this name to this actor" (Errc::name_taken if it is held).
struct ClaimName {
  using reply_type = Unit;
  NameEntry entry;
};
inline constexpr auto troupe_wire_fields(const ClaimName*) { return std::make_tuple(&ClaimName::entry); }
// To every member: names registered (by the home, as it grants them; by an owner, to a member
// that just came up: its own names).
struct NamesAdded {
  std::vector<NameEntry> entries;
};
inline constexpr auto troupe_wire_fields(const NamesAdded*) { return std::make_tuple(&NamesAdded::entries); }
// To every member, from the owner: the name's actor stopped, or the name was unregistered.
struct NameRemoved {
  std::string name;
  std::string owner;
  std::uint64_t owner_incarnation = 0;
};
inline constexpr auto troupe_wire_fields(const NameRemoved*) {
  return std::make_tuple(&NameRemoved::name, &NameRemoved::owner, &NameRemoved::owner_incarnation);
}
// To the name's home: its entry, for a member that has not heard of it yet (Errc::no_such_name).
struct AskName {
  using reply_type = NameEntry;
  std::string name;
};
inline constexpr auto troupe_wire_fields(const AskName*) { return std::make_tuple(&AskName::name); }

inline const bool troupe_wire_declared_NameEntry = declare_wire_type<NameEntry>("troupe.cluster.NameEntry");
inline const bool troupe_wire_declared_ClaimName = declare_wire_type<ClaimName>("troupe.cluster.ClaimName");
inline const bool troupe_wire_declared_NamesAdded = declare_wire_type<NamesAdded>("troupe.cluster.NamesAdded");
inline const bool troupe_wire_declared_NameRemoved = declare_wire_type<NameRemoved>("troupe.cluster.NameRemoved");
inline const bool troupe_wire_declared_AskName = declare_wire_type<AskName>("troupe.cluster.AskName");

// Process groups across the cluster (cluster_groups.hpp), between the membership actors.
// The members one node has in one group, all of them (a state, not a change: applying one twice,
// or one that changed nothing, changes nothing).
struct GroupEntry {
  std::string group;
  std::vector<DynamicHandle> members;
};
inline constexpr auto troupe_wire_fields(const GroupEntry*) {
  return std::make_tuple(&GroupEntry::group, &GroupEntry::members);
}
// Node `origin`'s members of one group, after a change there.
struct GroupChanged {
  std::string origin;
  GroupEntry entry;
};
inline constexpr auto troupe_wire_fields(const GroupChanged*) {
  return std::make_tuple(&GroupChanged::origin, &GroupChanged::entry);
}
// All of node `origin`'s groups, to a member that just came up.
struct GroupsOf {
  std::string origin;
  std::vector<GroupEntry> entries;
};
inline constexpr auto troupe_wire_fields(const GroupsOf*) {
  return std::make_tuple(&GroupsOf::origin, &GroupsOf::entries);
}
inline const bool troupe_wire_declared_GroupEntry = declare_wire_type<GroupEntry>("troupe.cluster.GroupEntry");
inline const bool troupe_wire_declared_GroupChanged = declare_wire_type<GroupChanged>("troupe.cluster.GroupChanged");
inline const bool troupe_wire_declared_GroupsOf = declare_wire_type<GroupsOf>("troupe.cluster.GroupsOf");

// Local messages: from Cluster's API and from the transport thread.
struct Subscribe {
  DynamicHandle watcher;
};
struct Unsubscribe {
  DynamicHandle watcher;
};
struct GetMembers {
  using reply_type = std::vector<Member>;
};
struct WaitUp {
  using reply_type = Unit;
  Duration timeout{};  // then the answer is why this node is not up yet
};
struct WaitUpExpired {
  std::uint64_t id = 0;
};
struct Leave {
  using reply_type = Unit;
  Duration timeout{};  // how long each member has to answer
};
// The transport thread's answer about seed `seed` (its id): the membership actor of the node that
// answers at its address, or why none could be reached.
struct SeedAnswer {
  std::uint64_t seed = 0;
  DynamicHandle membership;
  Error error;
};
struct RetrySeeds {};
// From the transport thread: this node is now run `incarnation`, its old run's connections all
// closed (NodeCore::renew_incarnation).
struct Renewed {
  std::uint64_t incarnation = 0;
};
// From the System's groups (GroupForwarder): this node's members of `group` changed.
struct LocalGroupChange {
  std::string group;
};
// From the etcd provider (etcd_membership.hpp): a member's key appeared, or went; this node's
// own key is registered; a call failed (why, for wait_up).
struct EtcdSeen {
  std::string name;
  std::string host;
  std::uint16_t port = 0;
  std::uint64_t incarnation = 0;
};
struct EtcdGone {
  std::string name;
};
struct EtcdRegistered {};
// This node's key in etcd went while it ran (its lease expired, or the key was deleted): every
// member saw run `incarnation` go, so it rejoins as a new incarnation.
struct EtcdDeclaredDown {
  std::uint64_t incarnation = 0;
  std::string why;
};
struct EtcdTrouble {
  Error error;
};
struct RegisterClusterName {
  using reply_type = Unit;
  std::string name;
  DynamicHandle actor;
};
struct UnregisterClusterName {
  using reply_type = bool;
  std::string name;
};
// From the transport thread: etcd's answer to claim `id` (EtcdMembership::claim_name).
struct EtcdNameClaimed {
  std::uint64_t id = 0;
  Result<bool> created;
};
struct AwaitNameExpired {
  std::uint64_t id = 0;
};
// From NodeCore::start, once the transport thread listens: this node's port, and start asking
// the seeds.
struct StartMembership {
  std::uint16_t port = 0;
};

}  // namespace troupe::transport::detail
