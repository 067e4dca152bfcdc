// The node: its owner (NodeCore), which builds the parts and runs the transport thread, the
// shutdown protocol, and the public Node. What each part does: node_core.hpp.
#include "cluster/membership.hpp"
#include "cluster/membership_messages.hpp"
#include "connection.hpp"
#include "export_watcher.hpp"
#include "node_core.hpp"
#include "remote_actor.hpp"
#include "tls.hpp"

#include <kj/debug.h>

#include <pthread.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

namespace troupe::transport {
namespace detail {
namespace {

std::uint64_t random_incarnation() {
  std::random_device random;
  std::uint64_t value = 0;
  while (value == 0) value = (std::uint64_t{random()} << 32) ^ random();  // 0 means "none"
  return value;
}

}  // namespace

NodeCore::NodeCore(System& system, NodeConfig config)
    : system_(system),
      config_(std::move(config)),
      incarnation_(random_incarnation()),
      log_(system.logger(), config_.name, counters_),
      loop_(config_, *this, log_, [this](runtime::ActorCore* actor) { never_run(actor); }),
      peers_(config_),
      dialler_(*this),
      listener_(*this),
      connections_(*this),
      exports_(*this),
      proxies_(*this),
      lookups_(*this),
      liveness_(*this),
      dead_letters_(*this),
      seed_resolver_(*this) {
  if (config_.secret.empty()) throw std::runtime_error("troupe: a node needs a shared secret");
  if (const double bits = secret_strength_bits(config_.secret); bits < kMinSecretBits && !config_.accept_weak_secret) {
    throw std::runtime_error("troupe: the node's secret is too weak: about " + std::to_string(std::lround(bits)) +
                             " bits, at least " + std::to_string(std::lround(kMinSecretBits)) +
                             " needed. Make one with `troupe-node --generate-secret FILE` "
                             "(generate_secret_file), or set NodeConfig::accept_weak_secret to take the risk");
  }
  if (config_.name.empty()) throw std::runtime_error("troupe: a node needs a name");
  if (config_.tls) tls_ = std::make_unique<NodeTls>(*config_.tls);
  if (config_.receive_window == 0) throw std::runtime_error("troupe: a node's receive window must not be 0");
  if (config_.max_frame_bytes <= kFrameOverheadBytes + 64 || config_.max_frame_bytes > kLargestFrameBytes)
    throw std::runtime_error("troupe: a node's max_frame_bytes must be between 2 KiB and 256 MiB");
  if (config_.max_handshakes == 0) throw std::runtime_error("troupe: a node's max_handshakes must be at least 1");
  // Any message the peer may send (at most one frame) must fit in what this node grants it,
  // including the part of the window not granted back yet (under a batch, inbound_flow.hpp).
  config_.receive_window_bytes = std::max<std::uint64_t>(config_.receive_window_bytes, 2 * config_.max_frame_bytes);
  // A dropped message would need a Context to count its dead letter; a remote actor is none.
  if (config_.outbound_overflow == runtime::Overflow::drop) config_.outbound_overflow = runtime::Overflow::fail;
  if (const auto* seeds = std::get_if<SeedDiscovery>(&config_.discovery)) {
    for (const std::string& text : seeds->seeds) {
      SeedAddress seed = parse_seed(text);  // throws, saying what is wrong with it
      if (tls_ && seed.name.empty()) {
        throw std::invalid_argument("troupe: seed '" + text + "' needs its node's name with TLS, as NAME@" + text +
                                    " (a dialer checks the certificate's name before it proves itself)");
      }
      seeds_.push_back(std::move(seed));
    }
    if (seeds->retry_interval <= Duration::zero()) throw std::invalid_argument("troupe: a seed retry interval must be > 0");
  }
  if (const auto* etcd = std::get_if<EtcdDiscovery>(&config_.discovery)) {
    if (etcd->endpoint.empty()) throw std::invalid_argument("troupe: EtcdDiscovery needs etcd's endpoint, HOST:PORT");
    if (etcd->prefix.empty()) throw std::invalid_argument("troupe: EtcdDiscovery needs a key prefix");
    if (etcd->lease_ttl < std::chrono::seconds(1) || etcd->retry_interval <= Duration::zero()) {
      throw std::invalid_argument("troupe: EtcdDiscovery needs a lease TTL of at least 1 s and a retry interval > 0");
    }
  }
}

NodeCore::~NodeCore() = default;

NodeStats NodeCore::stats() const noexcept {
  return NodeStats{NodeCounters::read(counters_.accepted),
                   NodeCounters::read(counters_.refused),
                   NodeCounters::read(counters_.failed),
                   NodeCounters::read(counters_.received),
                   NodeCounters::read(counters_.dead),
                   exports_.count(),
                   requests_.count(),
                   connections_.open_count(),
                   proxies_.count(),
                   peers_.count()};
}

void NodeCore::schedule(runtime::ActorCore* actor) noexcept { loop_.hand_over(actor); }

void NodeCore::never_run(runtime::ActorCore* actor) noexcept {
  // What it holds is dropped now, and so is whatever comes later: kept, it could make a cycle.
  // The export watcher's Downs each hold their actor, which may hold the watcher; a remote
  // actor's messages may hold a handle to it (or to a local actor that holds one), and it holds
  // this core. The node's executor runs only these two kinds.
  if (actor == exports_.watcher()) {
    exports_.watcher()->discard_all();
  } else {
    static_cast<RemoteActor*>(actor)->discard_all();
  }
}

void NodeCore::start() {
  // Before the transport thread starts (which then owns the exports), and after the export
  // watcher exists (every export is monitored by it): the first export, kSpawnerId.
  exports_.start(new ExportWatcher(shared_from_this()));
  spawner_ = spawn_spawner(system_, spawnables_);
  if (exports_.export_actor(spawner_.core()) != kSpawnerId) {
    throw std::logic_error("troupe: the spawner must be the node's first export");
  }
  const auto* seeds = std::get_if<SeedDiscovery>(&config_.discovery);
  MembershipSetup membership{
      Member{config_.name, config_.advertise_host.empty() ? config_.listen_host : config_.advertise_host, 0,
             incarnation_, MemberState::joining},
      seeds_,
      seeds != nullptr ? seeds->retry_interval
      : std::holds_alternative<EtcdDiscovery>(config_.discovery)
          ? std::get<EtcdDiscovery>(config_.discovery).retry_interval
          : SeedDiscovery{}.retry_interval,
      seeds != nullptr ? seeds->redial_lost_for : Duration{},
      seeds != nullptr ? seeds->remember_down_for : SeedDiscovery{}.remember_down_for,
      std::holds_alternative<EtcdDiscovery>(config_.discovery),
      weak_from_this(),
      log_};
  membership_ = spawn_membership(system_, std::move(membership));
  if (exports_.export_actor(membership_.core()) != kMembershipId) {
    throw std::logic_error("troupe: the membership actor must be the node's second export");
  }
  group_forwarder_ = std::make_unique<GroupForwarder>(membership_);
  troupe::detail::GroupOrigins::set_observer(system_.groups(), group_forwarder_.get());
  std::promise<void> listening;
  auto ready = listening.get_future();
  thread_ = std::thread([this, &listening] { run(listening); });
  // Named, as the workers are, so that tools (and tests) can tell it apart: top -H, /proc.
  pthread_setname_np(thread_.native_handle(), "troupe-node");
  try {
    ready.get();
  } catch (...) {
    thread_.join();
    throw;
  }
  metrics_.start(thread_.get_id());
  membership_.send(StartMembership{listener_.port()});
}

// The shutdown protocol: what Node::~Node (and a Node whose start failed) does through stop().
//  0. The node leaves its System's metrics (NodeMetricsSource::stop), while the transport thread
//     still answers a snapshot under way; no snapshot calls into the node after that.
//  1. Only the first call stops: the loop's stopped flag is raised under its mutex, and later
//     calls return at once. From then on nothing handed over runs (node_loop.cpp, 6): what a
//     remote actor scheduled now holds, and the export watcher's Downs, are discarded (never_run,
//     in step 5 or at the hand-over once step 5 has run), and posted tasks are dropped.
//  2. The loop is woken; its next drain sees the flag, runs nothing more that was handed over,
//     and ends the event loop.
//  3. The transport thread takes kj down, in order (run): every connection is closed (its reads
//     and writes cancelled), then the task set goes (accepts, dials, writes, timers), then the
//     connections themselves (their tasks referred to them), then the listeners (removing the
//     Unix socket file), then kj's I/O. Nothing then runs on the transport thread again.
//  4. Join the transport thread. Its parts are now this thread's to take apart.
//  5. Close the ready list: each actor on it goes to never_run (its mailbox is emptied, as in 1:
//     a remote actor's requests are answered with Errc::dead_actor, "node stopped") and gives back
//     the list's reference; a later hand-over does the same at once, on the sender's thread, so
//     nothing sent to a remote actor after the stop waits in its mailbox either. Kept there, a
//     message could hold a handle to its own receiver (a member list names the peer it goes to)
//     or to a local actor that holds one, and that remote actor, and this core with it, would
//     never go. The tasks posted and never run are dropped.
//  6. Close every peer's outbound limit: nothing will drain the outbound queues any more, so
//     senders waiting for room are released.
//  7. Untie every peer (Liveness::node_stopped): requests written to a peer and awaiting its
//     answer fail now (Errc::node_down, "node '<name>' stopped"), not at their timeouts; local
//     monitors of remote actors get Down node_down, links the exit signal. For the local actors,
//     every peer is gone, as at a node-down. (A System that outlives its Node would otherwise
//     wait, in ~System, for each such request's timeout.)
//  8. Drop the proxies and the exports, and the export watcher's handle: the watcher holds this
//     core, so this breaks the cycle. Remote handles users keep stay valid; what is sent to them
//     is dropped at once (5), a request answered with Errc::dead_actor.
//  9. Fail the lookups still waiting (Errc::node_unreachable, "node stopped").
// Why in this order: the flag is raised (1) before the loop is woken (2), so whatever was handed
// over is either drained by the loop or left on the list that step 5 empties, never lost.
// Steps 5 to 9 touch what only the transport thread touched before, so they come after the join
// (4). The handles of step 8 go only once nothing can use them; the watcher's is the one that
// keeps this core alive, so the core goes with the Node rather than leak.
void NodeCore::stop() {
  metrics_.stop();            // 0
  if (!loop_.stop()) return;  // 1, 2
  if (group_forwarder_) {
    // The System's groups stop telling this node (and then no call to the forwarder is under way).
    troupe::detail::GroupOrigins::set_observer(system_.groups(), nullptr);
    group_forwarder_.reset();
  }
  membership_.send(StopMembership{});                          // its peers see it stop (or this node go) as a node-down
  if (thread_.joinable()) thread_.join();                      // 3, 4
  loop_.close_ready();                                         // 5
  peers_.for_each([](Peer& p) { p.outbox.limit().close(); });  // 6
  peers_.for_each([this](Peer& p) { liveness_.node_stopped(p); });  // 7
  proxies_.clear();                                                 // 8
  exports_.clear();
  membership_ = DynamicHandle();
  lookups_.stop();  // 9
}

void NodeCore::run(std::promise<void>& listening) {
  bool announced = false;  // `listening` is gone once start() has returned
  try {
    loop_.open();
    listener_.open();
    loop_.tasks().add(requests_.sweep(loop_.timer()));
    if (config_.forget_idle_peers_after > Duration::zero()) loop_.tasks().add(idle_peers_.sweep(loop_.timer()));
    if (const auto* etcd = std::get_if<EtcdDiscovery>(&config_.discovery)) {
      Member self{config_.name, config_.advertise_host.empty() ? config_.listen_host : config_.advertise_host,
                  listener_.port(), incarnation_, MemberState::joining};
      etcd_ = std::make_unique<EtcdMembership>(*this, *etcd, std::move(self), membership_);
      etcd_->start();
    }
    listening.set_value();
    announced = true;
    loop_.run();
    // Teardown, in order: connections (they use the task set), then the tasks, then kj.
    connections_.close_all();
    loop_.drop_tasks();
    etcd_.reset();  // after the tasks that use it
    connections_.clear();
    listener_.close();
    loop_.close();
  } catch (const kj::Exception& e) {
    loop_.drop_tasks();
    etcd_.reset();
    connections_.clear();
    listener_.close();
    loop_.close();
    if (announced) {
      if (log_.enabled(LogLevel::error)) {
        const std::string why = kj::str(e).cStr();
        log_.log({.level = LogLevel::error,
                  .name = "transport_failed",
                  .message = "transport thread failed: " + why,
                  .reason = why});
      }
      return;
    }
    listening.set_exception(std::make_exception_ptr(std::runtime_error(
        "troupe: node '" + config_.name + "' cannot listen: " + std::string(e.getDescription().cStr()))));
  }
}

std::uint64_t NodeCore::renew_incarnation(const std::string& why) {
  std::uint64_t next = random_incarnation();
  while (next == incarnation_) next = random_incarnation();
  incarnation_ = next;
  peers_.for_each([](Peer& p) { p.declared_down = 0; });  // the new run has declared no one down
  connections_.drop_all(why);
  if (etcd_) etcd_->rejoin(incarnation_);
  return incarnation_;
}

void NodeCore::add_peer(std::string name, std::string host, std::uint16_t port) {
  post([this, name = std::move(name), host = std::move(host), port]() mutable {
    Peer& p = peers_.peer(name);
    p.configured = true;  // never forgotten (IdlePeers)
    p.address = std::make_pair(std::move(host), port);
    dialler_.retry_at_once(p);  // a new address is worth trying at once
  });
}

DynamicHandle NodeCore::spawner(std::string_view peer_name) {
  if (peer_name == config_.name) return spawner_;
  auto made = std::make_shared<std::promise<DynamicHandle>>();
  auto answer = made->get_future();
  post([this, made, peer_name = std::string(peer_name)]() {
    made->set_value(DynamicHandle::share(proxies_.proxy(peers_.peer(peer_name), kSpawnerId)));
  });
  try {
    return answer.get();  // broken if the node stopped first: the task is dropped with its promise
  } catch (const std::future_error&) {
    return DynamicHandle();
  }
}

}  // namespace detail

Node::Node(System& system, NodeConfig config)
    : core_(std::make_shared<detail::NodeCore>(system, std::move(config))), cluster_(core_) {
  try {
    core_->start();
    const std::string& metrics = core_->config().metrics_address;
    if (!metrics.empty() && system.metrics_address().empty()) system.serve_metrics(metrics);
  } catch (...) {
    // It could not listen (for peers, or for its metrics). The export watcher and the spawner start() made hold the
    // core, and no destructor of this Node will run: stop() drops them, or the core would leak.
    core_->stop();
    throw;
  }
}

Node::~Node() { core_->stop(); }

const std::string& Node::name() const noexcept { return core_->config().name; }
std::uint16_t Node::port() const noexcept { return core_->port(); }
void Node::add_peer(std::string name, std::string host, std::uint16_t port) {
  core_->add_peer(std::move(name), std::move(host), port);
}
void Node::add_peer_unix(std::string name, std::string socket_path) {
  core_->add_peer(std::move(name), "unix:" + socket_path, 0);  // kj's address syntax; no port
}
Result<DynamicHandle> Node::whereis(std::string_view peer, std::string_view actor_name, Duration timeout) {
  return core_->whereis(peer, actor_name, timeout);
}
NodeStats Node::stats() const noexcept { return core_->stats(); }
DynamicHandle Node::spawner(std::string_view peer) { return core_->spawner(peer); }
System& Node::system() noexcept { return core_->system(); }
void Node::register_spawnable(std::string type, const MessageType* args_type,
                              std::function<DynamicHandle(System&, Envelope&)> make) {
  std::lock_guard lock(core_->spawnables().mutex);
  core_->spawnables().entries.insert_or_assign(std::move(type), detail::Spawnables::Entry{args_type, std::move(make)});
}

}  // namespace troupe::transport
