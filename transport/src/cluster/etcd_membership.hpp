// The etcd discovery provider (EtcdDiscovery in cluster.hpp), on the transport thread: this
// node's key under PREFIX "members/", kept alive by its lease, and a watch of the prefix, told to
// the membership actor as EtcdSeen / EtcdGone (the actor connects to each member it sees, as to a
// named seed, and reports MemberDown for one whose key went).
//
// The loop: grant a lease; create this node's key (a compare-and-create: while another live node
// of this name holds the key, EtcdTrouble(name_taken) and try again after retry_interval, as its
// lease may be about to expire); read the prefix; watch it from the next revision, while renewing
// the lease every third of its TTL. Any failure (etcd unreachable, the watch ended) starts the
// loop over after retry_interval, with the same lease while it lives (so the keys under it, the
// node's and its names', stay); members are not dropped for etcd's own failure, only for their
// keys going.
//
// This node's own key going (its lease expired: etcd unreachable, or the node frozen, for a whole
// TTL; or the key deleted) is its run going for every member: the loop stops and tells the
// membership actor (EtcdDeclaredDown), which rejoins as a new incarnation (membership.hpp); the
// node then calls rejoin(), and the loop starts over with a new lease and key.
#pragma once

#include "etcd_client.hpp"

#include <troupe/error.hpp>
#include <troupe/handle.hpp>
#include <troupe/transport/cluster.hpp>

#include <kj/async.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace troupe::transport::detail {

class NodeCore;

class EtcdMembership {
 public:
  EtcdMembership(NodeCore& node, EtcdDiscovery config, Member self, DynamicHandle membership);
  ~EtcdMembership();

  // Starts the loop (on the node's task set).
  void start();
  // A graceful leave: this node's key is deleted (its lease revoked), then `done` runs; the loop
  // stops. `done` also runs if etcd cannot be reached.
  void leave(std::function<void()> done);
  // This node is run `incarnation` now (NodeCore::renew_incarnation): the old run's lease is
  // revoked (its keys go, for every member at once, if they had not), and the loop starts over.
  void rejoin(std::uint64_t incarnation);

  // Cluster-wide names (cluster_names.hpp): PREFIX "names/NAME" is created for this node, under
  // its lease (so it goes with the node), unless it exists: one compare-and-create, so a name
  // never has two owners. `done` gets whether it was created, or why etcd could not say.
  void claim_name(const std::string& name, std::function<void(Result<bool>)> done);
  // Deletes the name's key if it is this node's.
  void release_name(const std::string& name);

 private:
  kj::Promise<void> run();
  // The lease to register under: this run's while it lives (once registered: one that expired
  // means the run was declared down), or a new one until it is registered.
  kj::Promise<std::int64_t> lease();
  kj::Promise<void> register_self();
  // This run's key went: tells the membership actor (once), and fails the loop for good.
  kj::Exception declared_down(const std::string& why);
  kj::Promise<void> renew();
  void seen(const EtcdKeyValue& kv);
  kj::Promise<void> retry_later();
  std::string member_key(const std::string& name) const { return config_.prefix + "members/" + name; }
  std::string name_key(const std::string& name) const { return config_.prefix + "names/" + name; }
  std::string owner_value() const;  // a name key's value: this node and its run

  NodeCore& node_;
  const EtcdDiscovery config_;
  Member self_;  // its incarnation changes at rejoin()
  const DynamicHandle membership_;
  std::unique_ptr<EtcdClient> client_;
  std::int64_t lease_ = 0;
  bool registered_ = false;     // this run's key was registered (under lease_)
  bool declared_down_ = false;  // ... and went: the loop waits for rejoin()
  kj::Canceler canceler_;       // the loop, stopped by leave() and rejoin()
};

}  // namespace troupe::transport::detail
