// A cluster: which nodes are members and what happens to them, names every member can look up,
// and process groups across the members (<troupe/groups.hpp>).
//
//   troupe::transport::NodeConfig config{.name = "c", .secret = *secret};
//   config.discovery = troupe::transport::SeedDiscovery{{"127.0.0.1:7001"}};   // any member
//   troupe::transport::Node node(system, config);
//   node.cluster().wait_up();                          // joined, or why not (a duplicate name, ...)
//   node.cluster().subscribe(watcher);                 // ClusterMembers, then MemberUp, ...
//   node.cluster().leave();                            // graceful: peers see leaving, then left
//
// With seeds, a node joins by asking any member it is given (a seed) for the members it knows;
// it then connects to each of them and asks each in turn, so every member learns the newcomer
// and the newcomer learns every member, also those that joined through another seed at the same
// moment (each member answers joins one at a time: of two concurrent joiners, the later one to
// reach a member it shares with the other learns of the other there). The result is a full mesh:
// every member connected to every other, as Erlang's nodes are.
//
// Member states and their events (each watcher gets them in order, after a snapshot):
//   joining  this node, until a seed accepted it (or all seeds are unreachable)
//   up       MemberUp: it joined and this node is connected to it
//   leaving  MemberLeaving: it announced a graceful leave (Cluster::leave, troupe-node on SIGTERM)
//   removed  MemberLeft: it left gracefully; no node-down is reported for it
//   down     MemberDown: its connection was lost (a crash, kill -9, a partition), detected
//            within NodeConfig::heartbeat_timeout, or its node stopped without leaving; with
//            etcd, also when its key in etcd went (its lease expired), for every member at once
// A member that is down or left is forgotten; if it comes back (a restart, or the end of a
// partition, when it reaches a seed again or a member dials it again) it is up again, as a new
// incarnation (Member::incarnation): a restarted node is one, and so is a node that was declared
// down and whose process ran on. Once a member has declared a run down, that run does not come
// back as itself: what the others held of it went with its MemberDown, and nothing of its old life
// is taken for the node that returns. (A member remembers the runs it declared down for
// SeedDiscovery::remember_down_for, a day by default, and no longer, so that a cluster whose nodes
// come and go under new names does not grow without end.) A node learns that it was declared down
// when a member it meets again refuses its old run (or, with etcd, when it finds its own key gone:
// its lease expired), and rejoins as a new incarnation, though its actors keep running. What a
// user sees:
//   - on every member: MemberDown for the old run (at the partition or expiry, or, on a member
//     that never lost it, when it rejoins), then MemberUp for the new one;
//   - on the node itself: MemberDown for its own old run, and for every member it had (its
//     connections all close), then MemberUp for its new run and for each member as it rejoins;
//   - handles to the old run's actors are dead everywhere (a request fails with node_down, a
//     monitor got Down node_down, a link the exit signal), as are the node's own handles to the
//     others' actors; new handles (from whereis, a spawn, a message) reach the same actors;
//   - the old run's names and group members were dropped with its MemberDown; the new run tells
//     the others its actors' names and group memberships again, as its own: a name another node
//     registered meanwhile is settled as below (with etcd, the node that holds the key keeps it).
// After a partition both sides have declared each other down; when they meet again, the side that
// sees fewer members up rejoins (at a tie, the one whose name sorts last), so a majority keeps its
// runs.
//
// What every node sees, with seeds: each member's view is its own, built from the joins and
// leaves it was told and from its own connections. Views agree once the joins have spread (one
// round trip to each member), except during a partition, when each side sees the other down. A
// node that finds a seed not up (at start, after a partition, after the seed restarted) asks it
// again every SeedDiscovery::retry_interval, and it dials a member it declared down again as often,
// for SeedDiscovery::redial_lost_for: so a healed partition rejoins within about that long (plus
// the dial backoff, at most 2 s), also between two members that are not each other's seed and
// whose seed is gone. A member that left gracefully is never dialled again.
// With etcd: etcd's list of keys is the one view every node converges to; a join is seen by all
// as soon as its key's put reaches their watches, a crash once its lease expires
// (EtcdDiscovery::lease_ttl) or its connections close, whichever comes first. A node cut off from
// etcd keeps its members, and is down for the others once its lease expires; when it reaches etcd
// again it finds its key gone and rejoins as a new incarnation (a new lease and key).
//
// One name, one node: a node that joins under a name a live member already has is refused, with
// the reason in wait_up()'s error (Errc::name_taken) and in the log.
//
// Names: Cluster::register_name makes a local actor findable by name from every member
// (whereis, await_name, or WhereisName to registry() from an actor). A name is dropped when its
// actor stops, or its node leaves or goes down. Two registrations of one name: with seeds, the
// name's home member (the same one in every view that agrees) grants them one at a time, so one
// wins and the other gets Errc::name_taken; after a partition during which each side granted it,
// the registration whose owner node's name sorts first is kept everywhere (the other owner logs
// it; its actor keeps running). With etcd, a registration is a compare-and-create in etcd: there
// is never a moment with two owners.
//
// Process groups (system.groups(): join, members, broadcast, monitor) span the cluster: each
// node tells every member its own actors' memberships, so members() lists the members on every
// node, a broadcast reaches each of them, and a monitor sees remote joins and leaves. A node's
// members leave every group when it goes down or leaves.
#pragma once

#include <troupe/error.hpp>
#include <troupe/handle.hpp>
#include <troupe/request.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace troupe::transport {

enum class MemberState : std::uint8_t { joining, up, leaving, removed, down };

// "joining", "up", ...
const char* to_string(MemberState state) noexcept;

struct Member {
  std::string name;
  std::string host;  // where it listens (as it advertises itself)
  std::uint16_t port = 0;
  std::uint64_t incarnation = 0;  // its run: a restarted node has a new one
  MemberState state = MemberState::joining;
};

// The events a subscriber receives, in this order: one ClusterMembers (the members up or
// leaving now, this node included), then one message per change.
struct ClusterMembers {
  std::vector<Member> members;
};
struct MemberUp {
  Member member;
};
struct MemberLeaving {
  Member member;
};
struct MemberLeft {
  Member member;
};
struct MemberDown {
  Member member;
  std::string reason;  // why, in plain words ("node 'b' is down: its connection closed", ...)
};

// A request for Cluster::registry(), from an actor: the actor registered cluster-wide as `name`
// (reply: a DynamicHandle; Errc::no_such_name). With `wait` above zero, the answer waits up to
// that long for the name to be registered (anywhere in the cluster).
//   self.request<DynamicHandle>(registry, WhereisName{"accounts", 2s})
struct WhereisName {
  using reply_type = DynamicHandle;
  std::string name;
  Duration wait{};
};

// Discovery providers (NodeConfig::discovery).
// Static: no discovery; the node talks to the peers it is given (Node::add_peer) and to nodes
// that dial it. It is a cluster of one (up at once) until nodes join it through seeds naming it.
struct StaticDiscovery {};
// Seeds: join through any of these members. Each is "HOST:PORT", or "NAME@HOST:PORT" when its
// name is known; TLS needs the name (a dialer checks that the certificate names the node it
// dials before it proves anything), so with NodeConfig::tls every seed must name its node. A seed
// that is this node's own address is skipped: the first node of a cluster may list itself.
struct SeedDiscovery {
  std::vector<std::string> seeds;
  // How often a node asks a seed again that is not up for it (unreachable, down, or refusing).
  Duration retry_interval = std::chrono::seconds(1);
  // How long a member this node declared down (its connection was lost: a crash, a partition) is
  // asked again, as a seed is: every retry_interval, with the same dial backoff. So two members
  // that are not each other's seed find each other again when a partition between them heals,
  // even with their seeds gone, and the side that sees fewer members rejoins. A member is no
  // longer asked once it is up again, or once it announced a graceful leave (one that left is
  // never asked). Five minutes covers the partitions that heal by themselves (a switch or a link
  // that comes back) at the cost of a failed dial every few seconds for a member that died for
  // good. Zero: only the seeds are asked again.
  Duration redial_lost_for = std::chrono::minutes(5);
  // How long a member remembers a run it declared down, to refuse it as itself (it rejoins as a
  // new incarnation). A run cut off for longer than this and then met again is admitted as the
  // run it was, on both sides of the partition, since each side forgot the other: its actors'
  // old handles stay dead, and its names and groups are told again as they are after a rejoin.
  // A day: far longer than a partition that heals by itself, and the record holds only the names
  // declared down in the last day. Duration::max(): for as long as the node runs. With etcd, a
  // run declared down cannot come back as itself anyway (its key went with it); the default
  // applies.
  Duration remember_down_for = std::chrono::hours(24);
};

// etcd: membership kept in a real etcd v3 server (or cluster) the operators already run. Each
// node registers itself under PREFIX "members/NAME" with a lease it keeps alive (lease_ttl), and
// watches the prefix: a key that appears is a member to connect to, one that goes (its node left,
// or its lease expired: a crash, a partition from etcd) is a member gone, for every node at once.
// The registration is a compare-and-create, so a second node of a name is refused while the first
// one's key lives. etcd is reached through its JSON gateway (HTTP, the client URL's host:port).
struct EtcdDiscovery {
  std::string endpoint;             // "HOST:PORT" of etcd's client URL
  std::string prefix = "/troupe/";  // this cluster's keys; several clusters may share one etcd
  Duration lease_ttl = std::chrono::seconds(5);  // a node whose lease expires is down (etcd's minimum: about 2 s)
  // How often a failed etcd call (or a refused registration) is tried again, and an unreachable
  // member asked again.
  Duration retry_interval = std::chrono::seconds(1);
};

namespace detail {
class NodeCore;
}

// A node's view of its cluster (Node::cluster()). Any thread, but the blocking calls (members,
// wait_up, leave) not inside actor handlers.
class Cluster {
 public:
  explicit Cluster(std::shared_ptr<detail::NodeCore> core) noexcept : core_(std::move(core)) {}

  // The members up or leaving now, as this node sees them, this node included (blocking).
  std::vector<Member> members(Duration timeout = std::chrono::seconds(5));
  // Waits until this node has joined: Errc::name_taken if a live member has its name,
  // Errc::timeout if no seed accepted it in time (the last reason is in the error's text).
  // Static discovery: at once.
  Result<void> wait_up(Duration timeout = std::chrono::seconds(10));
  // `watcher` gets ClusterMembers now, then every change (MemberUp, MemberLeaving, MemberLeft,
  // MemberDown), until it stops or unsubscribes. An actor, or a ScopedActor's handle().
  void subscribe(const DynamicHandle& watcher);
  void unsubscribe(const DynamicHandle& watcher);
  // A graceful leave: every member is told this node is leaving (and answers), then that it
  // left; they report MemberLeaving then MemberLeft, and no node-down. Blocks until all answered
  // or `timeout`; afterwards this node joins nothing again (destroy the Node). Idempotent.
  Result<void> leave(Duration timeout = std::chrono::seconds(5));

  // Cluster-wide names (see "Names" above). register_name: `actor` (one of this node's) is
  // `name` for every member, until it stops, this node leaves or goes down, or unregister_name;
  // Errc::name_taken if another actor holds the name anywhere in the cluster. whereis: the actor
  // registered as `name`, from any member (a proxy to it on another node); Errc::no_such_name.
  // await_name: whereis that waits up to `timeout` for the name to be registered.
  Result<void> register_name(std::string name, const DynamicHandle& actor, Duration timeout = std::chrono::seconds(5));
  bool unregister_name(std::string_view name, Duration timeout = std::chrono::seconds(5));
  Result<DynamicHandle> whereis(std::string_view name, Duration timeout = std::chrono::seconds(5));
  Result<DynamicHandle> await_name(std::string_view name, Duration timeout = std::chrono::seconds(5));
  // For actors: the member's registry, which answers WhereisName (never blocks a worker).
  DynamicHandle registry() const;

 private:
  std::shared_ptr<detail::NodeCore> core_;
};

}  // namespace troupe::transport
