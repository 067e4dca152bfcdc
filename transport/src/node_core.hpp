// The node's insides: the owner of its parts, each in its own files with its own state, wired
// together here. Every part but the loop's hand-overs and the statistics runs on the transport
// thread (the kj loop's); each header says what other threads may touch.
//
//   NodeLoop        the transport thread's event loop, and hand-overs from other threads
//   Listener        listening sockets; accepting (through TLS if configured)
//   Dialler         dialling peers on demand, with backoff
//   ConnectionSet   every Connection, and which one each peer keeps
//   PeerDirectory   the peers by name, each with its Outbox (what waits to be written), its
//                   dialling and its Ties (the links and monitors a node-down undoes)
//   IdlePeers       forgets the peers nothing uses any more
//   Exports         export ids <-> local actors (ExportWatcher drops the ones that stop)
//   Proxies         remote actors' stand-ins (RemoteActor)
//   Lookups         Node::whereis
//   PendingRequests requests to remote actors awaiting their response
//   Liveness        node-down, and the signals peers send
//   DeadLetters     what is queued for a peer and will not be sent
//   NodeLog         log lines and refusals; NodeCounters: the statistics
//   NodeMetricsSource the node's part of its System's metrics (peers, refusals)
//   SeedResolver    which node answers at a seed's address (the membership actor asks)
//   EtcdMembership  this node's key in etcd, and the members etcd lists (EtcdDiscovery only)
#pragma once

#include "cluster/cluster_groups.hpp"
#include "cluster/etcd_membership.hpp"
#include "cluster/membership.hpp"
#include "cluster/seed_resolver.hpp"
#include "connection_set.hpp"
#include "dead_letters.hpp"
#include "dialler.hpp"
#include "exports.hpp"
#include "idle_peers.hpp"
#include "listener.hpp"
#include "liveness.hpp"
#include "lookups.hpp"
#include "node_counters.hpp"
#include "node_log.hpp"
#include "node_loop.hpp"
#include "node_metrics.hpp"
#include "peer_directory.hpp"
#include "pending_requests.hpp"
#include "proxies.hpp"
#include "spawner.hpp"

#include <troupe/runtime/actor_core.hpp>
#include <troupe/transport/node.hpp>

#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

namespace troupe::transport::detail {

class NodeTls;

class NodeCore final : public runtime::Executor, public std::enable_shared_from_this<NodeCore> {
 public:
  NodeCore(System& system, NodeConfig config);
  ~NodeCore();
  void start();  // runs the loop thread; returns once listening (throws if it cannot)
  void stop();   // closes everything and joins the thread; idempotent (node.cpp: the shutdown protocol)

  // Any thread: a remote actor's (or the export watcher's) mailbox became non-empty.
  void schedule(runtime::ActorCore* actor) noexcept override;
  // Any thread: runs `task` on the transport thread (dropped once stopped).
  void post(std::function<void()> task) { loop_.post(std::move(task)); }

  // Node's API, from any thread.
  Result<DynamicHandle> whereis(std::string_view peer, std::string_view name, Duration timeout) {
    return lookups_.whereis(peer, name, timeout);
  }
  void add_peer(std::string name, std::string host, std::uint16_t port);
  DynamicHandle spawner(std::string_view peer);
  NodeStats stats() const noexcept;
  Spawnables& spawnables() noexcept { return *spawnables_; }

  const NodeConfig& config() const noexcept { return config_; }
  System& system() noexcept { return system_; }
  std::uint16_t port() const noexcept { return listener_.port(); }
  // This run of the node (transport thread once started: renew_incarnation changes it).
  std::uint64_t incarnation() const noexcept { return incarnation_; }
  // Transport thread: the cluster declared this run down (cluster/membership.hpp, "rejoin"). The
  // node becomes a new run, as a restarted one would, though its actors keep running: a new
  // incarnation; every connection closes, so each peer is down here (its proxies die, monitors
  // and links fire) and, as the next connection carries the new incarnation, this node's old run
  // is gone for each peer (node_down there too). With etcd, the old registration's lease is
  // revoked and the node registers again. Returns the new incarnation.
  std::uint64_t renew_incarnation(const std::string& why);
  NodeTls* tls() const noexcept { return tls_.get(); }  // null without NodeConfig::tls

  // The parts.
  NodeCounters& counters() noexcept { return counters_; }
  NodeLog& log() noexcept { return log_; }
  NodeLoop& loop() noexcept { return loop_; }
  PeerDirectory& peers() noexcept { return peers_; }
  Dialler& dialler() noexcept { return dialler_; }
  ConnectionSet& connections() noexcept { return connections_; }
  Exports& exports() noexcept { return exports_; }
  Proxies& proxies() noexcept { return proxies_; }
  Lookups& lookups() noexcept { return lookups_; }
  PendingRequests& requests() noexcept { return requests_; }
  Liveness& liveness() noexcept { return liveness_; }
  DeadLetters& dead_letters() noexcept { return dead_letters_; }
  SeedResolver& seeds() noexcept { return seed_resolver_; }
  // The membership actor (cluster/membership.hpp), exported as kMembershipId; empty once stopped.
  const DynamicHandle& membership() const noexcept { return membership_; }
  // The etcd provider (EtcdDiscovery), on the transport thread while it runs; else null.
  EtcdMembership* etcd() noexcept { return etcd_.get(); }

 private:
  void run(std::promise<void>& listening);  // the transport thread
  // Any thread, once stopped: a handed-over actor that will never run (NodeLoop::NeverRun).
  void never_run(runtime::ActorCore* actor) noexcept;

  System& system_;
  NodeConfig config_;
  std::uint64_t incarnation_;        // random, chosen at start: tells this run from a restarted one (or a renewed one)
  std::unique_ptr<NodeTls> tls_;     // built from config_.tls; used by the transport thread only
  std::shared_ptr<Spawnables> spawnables_ = std::make_shared<Spawnables>();
  DynamicHandle spawner_;     // exported as kSpawnerId
  std::vector<SeedAddress> seeds_;  // SeedDiscovery's, parsed
  DynamicHandle membership_;  // exported as kMembershipId
  std::unique_ptr<EtcdMembership> etcd_;  // made and dropped by the transport thread (run)
  // Tells the membership actor of the System's group changes while the node runs.
  std::unique_ptr<GroupForwarder> group_forwarder_;
  std::thread thread_;

  NodeCounters counters_;
  NodeLog log_;
  NodeLoop loop_;
  PeerDirectory peers_;
  IdlePeers idle_peers_{*this};
  Dialler dialler_;
  Listener listener_;
  ConnectionSet connections_;
  PendingRequests requests_;
  Exports exports_;
  Proxies proxies_;
  Lookups lookups_;
  Liveness liveness_;
  DeadLetters dead_letters_;
  SeedResolver seed_resolver_;
  NodeMetricsSource metrics_{*this};
};

}  // namespace troupe::transport::detail
