// Cluster-wide names (Cluster::register_name), kept by each node's membership actor, which owns
// this table and hands it the name messages (membership_messages.hpp).
//
// Every member keeps every name. A name has a home: of the members up in this node's view (itself
// included), the one that ranks highest for it (rendezvous hashing of member and name, FNV-1a,
// the same on every node). A registration goes to the name's home, which serves them one at a
// time: of two nodes claiming a name at once, the later claim finds it taken (Errc::name_taken).
// The home tells every member (NamesAdded), and the claimant only then answers its caller. The
// owner (the node whose actor it is) monitors its actor: when it stops, or the name is
// unregistered, the owner tells every member (NameRemoved). A member that goes down or leaves
// takes its names with it, on every node. A member that comes up is sent each node's own names.
//
// With etcd (EtcdDiscovery), etcd decides instead of a home: a registration creates the name's
// key in etcd (a compare-and-create, under the owner's lease), so there is never a moment with
// two owners; the owner then tells every member as above, and deletes the key when the name goes.
//
// Conflicts: while views agree, the home decides, so a name has one owner. Two views that
// disagree (a partition, or a join not yet known everywhere) may each grant one name; when the
// two meet (NamesAdded from the other side), every node keeps the same one: the entry whose owner
// node's name sorts first (then the lower incarnation). The other owner drops its registration
// and logs it; its actor keeps running.
//
// Lookups read this node's table, so they answer at once; a name not known here yet (its
// NamesAdded still on the way) is asked of its home.
//
// A node that rejoins as a new incarnation (membership.hpp) keeps its own actors' names: the other
// members dropped them with its old run, and it tells each its names again, now under the new
// incarnation, as it comes up (where the conflict rule settles a name another node took
// meanwhile). With etcd, the old run's lease took their keys: each is claimed again once the new
// run is registered, and one that another node holds by then is dropped, and logged.
#pragma once

#include "../node_log.hpp"
#include "membership_messages.hpp"

#include <troupe/troupe.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace troupe::transport::detail {

class ClusterNames {
 public:
  using Peers = std::map<std::string, DynamicHandle, std::less<>>;  // the others up: their membership actors
  // `peers`: the membership actor's, kept up to date by it (member_up / member_gone follow).
  // `log`: the node's, outliving this (the membership actor's).
  ClusterNames(Context& self, const Peers& peers, const NodeLogger& log) : self_(self), peers_(peers), log_(log) {}

  // With etcd: how a claim is put to etcd and a name given back (on the transport thread; the
  // answer comes back as EtcdNameClaimed).
  struct EtcdHooks {
    std::function<void(const std::string& name, std::uint64_t id)> claim;
    std::function<void(const std::string& name)> release;
  };
  void use_etcd(EtcdHooks hooks) { etcd_ = std::move(hooks); }
  void etcd_claimed(const EtcdNameClaimed& c);

  // This node's identity, once it is known (at start).
  void set_self(std::string name, std::uint64_t incarnation) {
    me_ = std::move(name);
    incarnation_ = incarnation;
  }

  // The membership actor's view changed: `name` is up (its membership actor), or went down or left.
  void member_up(const DynamicHandle& membership);  // it is sent this node's own names
  void member_gone(const std::string& name);
  // This node is run `incarnation` now, its members all gone (see above).
  void rejoin(std::uint64_t incarnation);
  // With etcd: this node's key is registered (again): the names it kept at rejoin are claimed.
  void etcd_registered();

  // The API's requests (through the membership actor) and the protocol's messages.
  Promise<Unit> register_name(const RegisterClusterName& r);
  bool unregister_name(const std::string& name);
  Promise<DynamicHandle> whereis(const WhereisName& w);
  void await_expired(std::uint64_t id);
  Result<Unit> claim(const NameEntry& entry);
  void added(const std::vector<NameEntry>& entries);
  void removed(const NameRemoved& r);
  Result<NameEntry> ask(const std::string& name) const;
  // A Down for one of this node's named actors: true if it was (the name is dropped).
  bool down(const Down& d);

 private:
  struct Owned {
    MonitorRef monitor;
  };
  struct Waiting {
    std::uint64_t id;
    std::string name;
    Promise<DynamicHandle> promise;
    Timer expiry;
  };

  const std::string& home(const std::string& name) const;
  // Records `entry` (a conflict with the entry held: the rule above); true if it is now held.
  bool record(const NameEntry& entry);
  void drop_owned(const std::string& name);
  void broadcast_added(const NameEntry& entry);
  void broadcast_removed(const std::string& name);
  void answer_waiters(const std::string& name);

  Context& self_;
  const Peers& peers_;
  const NodeLogger& log_;
  std::string me_;
  std::uint64_t incarnation_ = 0;
  std::map<std::string, NameEntry, std::less<>> names_;
  std::map<std::string, Owned, std::less<>> owned_;  // the names of this node's actors
  std::vector<Waiting> waiting_;                     // await_name calls
  std::uint64_t next_waiting_ = 0;
  std::optional<EtcdHooks> etcd_;
  struct Claim {
    NameEntry entry;
    std::optional<Promise<Unit>> promise;  // none: a name claimed again after a rejoin
  };
  void reclaimed(Claim claim, const Result<bool>& created);
  std::vector<NameEntry> unclaimed_;       // with etcd: this node's names kept at rejoin, to claim again
  std::map<std::uint64_t, Claim> claims_;  // put to etcd, not answered yet
  std::uint64_t next_claim_ = 0;
};

}  // namespace troupe::transport::detail
