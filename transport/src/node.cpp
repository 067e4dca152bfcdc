// The node: start and stop of its transport thread, listening (TCP, and a Unix socket if asked),
// accepting connections, lookups by name, and the public Node. The loop itself is node_loop.cpp;
// peers and dialling node_peers.cpp; liveness node_liveness.cpp; exports node_exports.cpp.
#include "advertised_host.hpp"
#include "connection.hpp"
#include "export_watcher.hpp"
#include "node_core.hpp"
#include "peer_address.hpp"
#include "remote_actor.hpp"
#include "tls.hpp"

#include <troupe/message.hpp>
#include <troupe/signals.hpp>

#include <kj/debug.h>

#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <iostream>
#include <random>
#include <stdexcept>

namespace troupe::transport {
namespace detail {
namespace {

// At most one log line per address per interval about refused connections; so many addresses
// remembered (refusal_log.hpp).
constexpr std::chrono::seconds kRefusalLogInterval{5};
constexpr std::size_t kRefusalLogAddresses = 256;

class LogErrors final : public kj::TaskSet::ErrorHandler {
 public:
  explicit LogErrors(NodeCore& node) : node_(node) {}
  void taskFailed(kj::Exception&& e) override {
    if (e.getType() != kj::Exception::Type::DISCONNECTED)
      node_.log(std::string("transport task failed: ") + e.getDescription().cStr());
  }

 private:
  NodeCore& node_;
};

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
      refusal_log_(kRefusalLogInterval, kRefusalLogAddresses),
      incarnation_(random_incarnation()),
      loop_spin_(config_.idle_spin) {
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
  // Any message the peer may send (at most one frame) must fit in what this node grants it,
  // including the part of the window not granted back yet (under a batch, inbound_flow.hpp).
  config_.receive_window_bytes = std::max<std::uint64_t>(config_.receive_window_bytes, 2 * config_.max_frame_bytes);
  // A dropped message would need a Context to count its dead letter; a remote actor is none.
  if (config_.outbound_overflow == runtime::Overflow::drop) config_.outbound_overflow = runtime::Overflow::fail;
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::runtime_error(std::string("troupe: eventfd: ") + std::strerror(errno));
}

NodeCore::~NodeCore() { ::close(wake_fd_); }

void NodeCore::refuse(const PeerAddress& from, const std::string& why) {
  refused.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
  const auto verdict = refusal_log_.admit(from.key, std::chrono::steady_clock::now());
  if (!verdict) return;  // this address had a line a moment ago
  std::string line = "refused " + from.text + ": " + why;
  if (verdict->unlogged != 0) {
    line += " (" + std::to_string(verdict->unlogged) + " more refused from " + verdict->key + " since the last line)";
  }
  log(line);
}

void NodeCore::log(const std::string& line) {
  const std::string text = "troupe node '" + config_.name + "': " + line;
  if (config_.log) {
    config_.log(text);
  } else {
    std::cerr << text << '\n';
  }
}

NodeStats NodeCore::stats() const noexcept {
  // Relaxed: statistics, read without ordering.
  return NodeStats{accepted.load(std::memory_order_relaxed),      refused.load(std::memory_order_relaxed),
                   failed.load(std::memory_order_relaxed),        received.load(std::memory_order_relaxed),
                   dead.load(std::memory_order_relaxed),          exported_count.load(std::memory_order_relaxed),
                   pending_count.load(std::memory_order_relaxed), open_count.load(std::memory_order_relaxed)};
}

void NodeCore::start() {
  watcher_ = new ExportWatcher(shared_from_this());
  export_watcher_ = DynamicHandle::adopt(watcher_);
  // Before the transport thread starts (which then owns exports_), and after the export watcher
  // exists (every export is monitored by it): the first export, kSpawnerId.
  spawner_ = spawn_spawner(system_, spawnables_);
  if (export_actor(spawner_.core()) != kSpawnerId) {
    throw std::logic_error("troupe: the spawner must be the node's first export");
  }
  std::promise<void> listening;
  auto ready = listening.get_future();
  thread_ = std::thread([this, &listening] { run(listening); });
  try {
    ready.get();
  } catch (...) {
    thread_.join();
    throw;
  }
}

void NodeCore::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    wake_locked();
  }
  if (thread_.joinable()) thread_.join();
  // Remote actors still on the ready list: their messages stay in their mailboxes (as above).
  for (runtime::RunLink* at = std::exchange(ready_head_, nullptr); at != nullptr;) {
    runtime::RunLink* following = at->next.load(std::memory_order_relaxed);  // the loop is gone: no other reader
    if (at == watcher_) watcher_->discard_all();                             // as schedule() does once stopped
    static_cast<runtime::ActorCore*>(at)->release();
    at = following;
  }
  // Nothing will drain the outbound queues any more: release every sender waiting for room.
  for (auto& [name, p] : peers_) p->outbound_limit->close();
  // The loop is gone: drop the references it held. Remote handles users keep stay valid; their
  // messages stay in their mailboxes until the last handle goes (RemoteActor::destroy).
  proxies_.clear();
  exports_.clear();
  export_ids_.clear();
  stopped_exports_.clear();
  exported_count.store(0, std::memory_order_relaxed);  // relaxed: a statistic
  export_watcher_ = {};                                // the watcher keeps this core alive: break the cycle
  for (auto& [id, waiting] : lookups_) waiting->set_value(Error{Errc::node_unreachable, "node stopped"});
  lookups_.clear();
}

void NodeCore::run(std::promise<void>& listening) {
  bool announced = false;  // `listening` is gone once start() has returned
  try {
    io_ = kj::heap<kj::AsyncIoContext>(kj::setupAsyncIo());
    LogErrors errors(*this);
    tasks_ = kj::heap<kj::TaskSet>(errors);
    auto address = io_->provider->getNetwork()
                       .parseAddress(kj::StringPtr(config_.listen_host.c_str()), config_.listen_port)
                       .wait(io_->waitScope);
    kj::Own<kj::ConnectionReceiver> listener = address->listen();
    port_ = static_cast<std::uint16_t>(listener->getPort());
    kj::Own<kj::ConnectionReceiver> unix_listener;
    if (!config_.listen_unix.empty()) unix_listener = listen_unix();
    wake_stream_ = io_->lowLevelProvider->wrapInputFd(
        wake_fd_, kj::LowLevelAsyncIoProvider::ALREADY_CLOEXEC | kj::LowLevelAsyncIoProvider::ALREADY_NONBLOCK);
    auto stop = kj::newPromiseAndFulfiller<void>();
    stopping_ = kj::mv(stop.fulfiller);
    tasks_->add(accept_loop(*listener, ""));
    if (unix_listener.get() != nullptr) tasks_->add(accept_loop(*unix_listener, "unix:" + config_.listen_unix));
    tasks_->add(pump());
    tasks_->add(sweep_requests());
    listening.set_value();
    announced = true;
    run_events(kj::mv(stop.promise));
    // Teardown, in order: connections (they use the task set), then the tasks, then kj.
    for (auto& c : connections_) c->close();
    tasks_ = nullptr;
    connections_.clear();
    listener = nullptr;
    unix_listener = nullptr;
    remove_unix_socket();
    address = nullptr;
    stopping_ = nullptr;
    wake_stream_ = nullptr;
    io_ = nullptr;
  } catch (const kj::Exception& e) {
    tasks_ = nullptr;
    connections_.clear();
    remove_unix_socket();
    stopping_ = nullptr;
    wake_stream_ = nullptr;
    io_ = nullptr;
    if (announced) {
      log(std::string("transport thread failed: ") + kj::str(e).cStr());
      return;
    }
    listening.set_exception(std::make_exception_ptr(std::runtime_error(
        "troupe: node '" + config_.name + "' cannot listen: " + std::string(e.getDescription().cStr()))));
  }
}

kj::Own<kj::ConnectionReceiver> NodeCore::listen_unix() {
  const std::string& path = config_.listen_unix;
  auto address = io_->provider->getNetwork().parseAddress(kj::str("unix:", path.c_str())).wait(io_->waitScope);
  struct stat status {};
  if (::lstat(path.c_str(), &status) == 0) {
    KJ_REQUIRE(S_ISSOCK(status.st_mode), "the Unix socket path is taken by something that is not a socket", path);
    // A socket file: replace it only if nobody listens there (a node that stopped without
    // removing it); a live node's socket is an error, as a TCP port in use is.
    bool live = false;
    KJ_IF_MAYBE (refused, kj::runCatchingExceptions([&]() {
                   address->connect().wait(io_->waitScope);
                   live = true;
                 })) {
      (void)refused;  // nobody listens: a stale file
    }
    KJ_REQUIRE(!live, "another process listens on the Unix socket", path);
    ::unlink(path.c_str());
  }
  auto listener = address->listen();
  unix_socket_bound_ = true;
  return listener;
}

void NodeCore::remove_unix_socket() {
  if (!unix_socket_bound_) return;
  unix_socket_bound_ = false;
  ::unlink(config_.listen_unix.c_str());
}

kj::Promise<void> NodeCore::accept_loop(kj::ConnectionReceiver& listener, std::string unix_path) {
  return listener.accept().then(
      [this, &listener, unix_path = kj::mv(unix_path)](kj::Own<kj::AsyncIoStream> plain) mutable {
        // Read from the plain socket: a TLS stream cannot say.
        std::string local_host = local_host_of(*plain);
        PeerAddress from = peer_address_of(*plain, unix_path);
        if (tls_ == nullptr) {
          serve_accepted(kj::mv(plain), kj::mv(local_host), kj::mv(from));
        } else {
          // A failed TLS handshake (a plaintext or untrusted dialer) is a refusal: counted, logged,
          // and the stream dropped; the node serves on.
          auto secured = handshake_deadline(tls_->wrap_accepted(kj::mv(plain)));
          tasks_->add(secured.then(
              [this, local_host = kj::mv(local_host), from](kj::Own<kj::AsyncIoStream> stream) mutable {
                serve_accepted(kj::mv(stream), kj::mv(local_host), kj::mv(from));
              },
              [this, from](kj::Exception&& e) {
                refuse(from, is_handshake_timeout(e) ? "the TLS handshake timed out"
                                                     : "the TLS handshake failed (a plaintext peer, or a certificate "
                                                       "the trusted CA did not sign?)");
              }));
        }
        return accept_loop(listener, kj::mv(unix_path));
      });
}

void NodeCore::serve_accepted(kj::Own<kj::AsyncIoStream> stream, std::string local_host, PeerAddress from) {
  auto connection = kj::heap<Connection>(*this, kj::mv(stream), nullptr, kj::mv(local_host), kj::mv(from));
  Connection& c = *connection;
  connections_.push_back(kj::mv(connection));
  serve(c);
}

void NodeCore::serve(Connection& c) {
  tasks_->add(c.run().then([this, &c]() { on_closed(c); },
                           [this, &c](kj::Exception&& e) {
                             if (c.authenticated()) {
                               failed.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
                               log(c.describe() + " closed: " + e.getDescription().cStr());
                             }
                             on_closed(c);
                           }));
}

DynamicHandle NodeCore::spawner(std::string_view peer_name) {
  if (peer_name == config_.name) return spawner_;
  auto made = std::make_shared<std::promise<DynamicHandle>>();
  auto answer = made->get_future();
  post([this, made, peer_name = std::string(peer_name)]() {
    made->set_value(DynamicHandle::share(proxy(peer(peer_name), kSpawnerId)));
  });
  try {
    return answer.get();  // broken if the node stopped first: the task is dropped with its promise
  } catch (const std::future_error&) {
    return DynamicHandle();
  }
}

RemoteActor* NodeCore::proxy(Peer& p, std::uint64_t remote_id) {
  auto& handle = proxies_[{&p, remote_id}];
  if (!handle) handle = DynamicHandle::adopt(new RemoteActor(shared_from_this(), p, remote_id));
  return static_cast<RemoteActor*>(handle.core());
}

void NodeCore::lookup_answered(std::uint64_t lookup_id, Peer& p, bool found, std::uint64_t actor_id) {
  auto it = lookups_.find(lookup_id);
  if (it == lookups_.end()) return;  // the caller gave up (timeout)
  p.lookups.erase(lookup_id);
  if (found) {
    it->second->set_value(DynamicHandle::share(proxy(p, actor_id)));
  } else {
    it->second->set_value(Error{Errc::no_such_name, "no actor named so on node '" + p.name + "'"});
  }
  lookups_.erase(it);
}

Result<DynamicHandle> NodeCore::whereis(std::string_view peer_name, std::string_view name, Duration timeout) {
  auto waiting = std::make_shared<std::promise<Result<DynamicHandle>>>();
  auto answer = waiting->get_future();
  const std::uint64_t id = next_lookup_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a counter
  post([this, waiting, id, peer_name = std::string(peer_name), name = std::string(name)]() mutable {
    Peer& p = peer(peer_name);
    lookups_.emplace(id, waiting);
    p.lookups.emplace(id, name);
    OutControl lookup;
    lookup.lookup_id = id;
    lookup.name = std::move(name);
    p.controls.push_back(std::move(lookup));
    flush(p);
  });
  if (answer.wait_for(timeout) != std::future_status::ready) {
    // The caller gave up: forget the lookup everywhere (a late reply then finds nothing to answer).
    post([this, id, peer_name = std::string(peer_name)]() {
      lookups_.erase(id);
      peer(peer_name).lookups.erase(id);
    });
    return Error{Errc::timeout, "no answer from node '" + std::string(peer_name) + "'"};
  }
  return answer.get();
}

}  // namespace detail

Node::Node(System& system, NodeConfig config) : core_(std::make_shared<detail::NodeCore>(system, std::move(config))) {
  try {
    core_->start();
  } catch (...) {
    // It could not listen. The export watcher and the spawner start() made hold the core, and
    // no destructor of this Node will run: stop() drops them, or the core would leak.
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
