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

// The members a member knows (up or leaving), itself included: the answer to a join.
struct MemberList {
  std::vector<WireMember> members;
};
inline constexpr auto troupe_wire_fields(const MemberList*) { return std::make_tuple(&MemberList::members); }

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

inline const bool troupe_wire_declared_WireMember = declare_wire_type<WireMember>("troupe.cluster.Member");
inline const bool troupe_wire_declared_MemberList = declare_wire_type<MemberList>("troupe.cluster.MemberList");
inline const bool troupe_wire_declared_JoinCluster = declare_wire_type<JoinCluster>("troupe.cluster.Join");
inline const bool troupe_wire_declared_LeavingCluster = declare_wire_type<LeavingCluster>("troupe.cluster.Leaving");
inline const bool troupe_wire_declared_LeftCluster = declare_wire_type<LeftCluster>("troupe.cluster.Left");

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
// The transport thread's answer about seed `index`: the membership actor of the node that
// answers at its address, or why none could be reached.
struct SeedAnswer {
  std::size_t index = 0;
  DynamicHandle membership;
  Error error;
};
struct RetrySeeds {};
// From NodeCore::start, once the transport thread listens: this node's port, and start asking
// the seeds.
struct StartMembership {
  std::uint16_t port = 0;
};

}  // namespace troupe::transport::detail
