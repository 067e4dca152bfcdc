// The node's membership actor: its view of the cluster (cluster.hpp), kept by the seed protocol.
//
// Each node runs one, exported under kMembershipId, so a seed's is reachable once its name is
// known. It holds the members it knows (up or leaving), each with a monitor on that member's
// membership actor: a node-down (or that actor stopping) is MemberDown, unless the member had
// announced its leave. The protocol (membership_messages.hpp):
//   join:  JoinCluster to a seed's membership actor; the answer lists the members it knows (the
//          answerer first), and the joiner asks each member it did not know in turn, so it ends
//          connected to all, and all have admitted it. A member admits a joiner unless a live
//          member has its name (Errc::name_taken).
//   leave: LeavingCluster to every member (each answers), then LeftCluster; they report
//          MemberLeaving, then MemberLeft, and expect its connection to close.
//   retry: every SeedDiscovery::retry_interval, a seed whose node is not up here is asked again
//          (a seed that was unreachable, a partition that healed, a seed that restarted), and so
//          is a member declared down here, for SeedDiscovery::redial_lost_for (membership_redial.cpp).
//   rejoin: a run declared down (MemberDown) never comes back as itself: a member refuses it
//          (MemberList::declared_down) or tells it so (DeclaredDown), and it rejoins as a new
//          incarnation, its old run gone for every member (membership_rejoin.cpp).
//   etcd:  the members etcd lists are the seeds (etcd_membership.hpp); one whose key goes is
//          down (or left) for this node as for every other, and a node that finds its own key
//          gone rejoins as a new incarnation.
#pragma once

#include <troupe/system.hpp>
#include <troupe/transport/cluster.hpp>

#include "../node_log.hpp"

#include <memory>
#include <string>
#include <vector>

namespace troupe::transport::detail {

class NodeCore;

// A seed as NodeConfig gives it: "[NAME@]HOST:PORT" (HOST may be an IPv6 address in brackets).
struct SeedAddress {
  std::string name;  // empty: learnt by dialling it
  std::string host;
  std::uint16_t port = 0;
};
// The seed in `text`, or std::invalid_argument saying what is wrong with it.
SeedAddress parse_seed(const std::string& text);

struct MembershipSetup {
  Member self;                     // this node, joining
  std::vector<SeedAddress> seeds;  // empty: this node is up at once, alone until others join it
  Duration retry_interval = std::chrono::seconds(1);
  // SeedDiscovery::redial_lost_for: how long a member declared down here is asked again, as a
  // seed (zero: never; etcd's list says who the members are).
  Duration redial_lost_for{};
  // SeedDiscovery::remember_down_for: how long a run declared down here is refused as itself.
  Duration remember_down_for = SeedDiscovery{}.remember_down_for;
  // EtcdDiscovery: the seeds are the members etcd lists (EtcdSeen), and this node is up once its
  // key is registered and they answered.
  bool etcd = false;
  std::weak_ptr<NodeCore> node;  // to resolve seeds and mark peers that left (transport thread)
  NodeLogger log;                // the node's, which the actor may outlive
};

DynamicHandle spawn_membership(System& system, MembershipSetup setup);

// Stops the membership actor (as its node stops): its timer is cancelled.
struct StopMembership {};

}  // namespace troupe::transport::detail
