#include "connection.hpp"
#include "node_core.hpp"
#include "remote_actor.hpp"

#include <kj/debug.h>

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <stdexcept>

namespace troupe::transport {
namespace detail {
namespace {

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

}  // namespace

NodeCore::NodeCore(System& system, NodeConfig config) : system_(system), config_(std::move(config)) {
  if (config_.secret.empty()) throw std::runtime_error("troupe: a node needs a shared secret");
  if (config_.name.empty()) throw std::runtime_error("troupe: a node needs a name");
  if (config_.receive_window == 0) throw std::runtime_error("troupe: a node's receive window must not be 0");
  // A dropped message would need a Context to count its dead letter; a remote actor is none.
  if (config_.outbound_overflow == runtime::Overflow::drop) config_.outbound_overflow = runtime::Overflow::fail;
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) throw std::runtime_error(std::string("troupe: eventfd: ") + std::strerror(errno));
}

NodeCore::~NodeCore() { ::close(wake_fd_); }

void NodeCore::wake_locked() {
  if (wake_pending_) return;  // the loop has not read the last wake-up yet: it will see this too
  wake_pending_ = true;
  const std::uint64_t one = 1;
  // An eventfd write of 8 bytes only fails on counter overflow, impossible with one unread write.
  [[maybe_unused]] const auto written = ::write(wake_fd_, &one, sizeof one);
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
  return NodeStats{accepted.load(std::memory_order_relaxed), refused.load(std::memory_order_relaxed),
                   failed.load(std::memory_order_relaxed), received.load(std::memory_order_relaxed),
                   dead.load(std::memory_order_relaxed)};
}

void NodeCore::start() {
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
  // Nothing will drain the outbound queues any more: release every sender waiting for room.
  for (auto& [name, p] : peers_) p->outbound_limit->close();
  // The loop is gone: drop the references it held. Remote handles users keep stay valid; their
  // messages stay in their mailboxes until the last handle goes (RemoteActor::destroy).
  proxies_.clear();
  exports_.clear();
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
    wake_stream_ = io_->lowLevelProvider->wrapInputFd(
        wake_fd_, kj::LowLevelAsyncIoProvider::ALREADY_CLOEXEC | kj::LowLevelAsyncIoProvider::ALREADY_NONBLOCK);
    auto stop = kj::newPromiseAndFulfiller<void>();
    stopping_ = kj::mv(stop.fulfiller);
    tasks_->add(accept_loop(*listener));
    tasks_->add(pump());
    listening.set_value();
    announced = true;
    kj::mv(stop.promise).wait(io_->waitScope);
    // Teardown, in order: connections (they use the task set), then the tasks, then kj.
    for (auto& c : connections_) c->close();
    tasks_ = nullptr;
    connections_.clear();
    listener = nullptr;
    address = nullptr;
    stopping_ = nullptr;
    wake_stream_ = nullptr;
    io_ = nullptr;
  } catch (const kj::Exception& e) {
    tasks_ = nullptr;
    connections_.clear();
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

kj::Promise<void> NodeCore::accept_loop(kj::ConnectionReceiver& listener) {
  return listener.accept().then([this, &listener](kj::Own<kj::AsyncIoStream> stream) {
    auto connection = kj::heap<Connection>(*this, kj::mv(stream), nullptr);
    Connection& c = *connection;
    connections_.push_back(kj::mv(connection));
    tasks_->add(c.run().then([this, &c]() { on_closed(c); },
                             [this, &c](kj::Exception&& e) {
                               if (c.authenticated())
                                 failed.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
                               log(c.describe() + " closed: " + e.getDescription().cStr());
                               on_closed(c);
                             }));
    return accept_loop(listener);
  });
}

void NodeCore::schedule(runtime::ActorCore* actor) noexcept {
  std::lock_guard lock(mutex_);
  if (stopped_) return;  // stays in its mailbox; disposed when the remote handle goes
  // Relaxed: the list is guarded by mutex_.
  actor->next.store(ready_head_, std::memory_order_relaxed);
  ready_head_ = actor;
  wake_locked();
}

void NodeCore::post(std::function<void()> task) {
  std::lock_guard lock(mutex_);
  if (stopped_) return;
  posted_.push_back(std::move(task));
  wake_locked();
}

kj::Promise<void> NodeCore::pump() {
  // Sleeps until a hand-over writes the eventfd; reading it resets the counter.
  return wake_stream_->tryRead(&wake_buffer_, sizeof wake_buffer_, sizeof wake_buffer_).then([this](std::size_t) {
    runtime::RunLink* ready = nullptr;
    std::vector<std::function<void()>> posted;
    bool stopping = false;
    {
      std::lock_guard lock(mutex_);
      wake_pending_ = false;  // hand-overs after this point write again
      ready = std::exchange(ready_head_, nullptr);
      posted.swap(posted_);
      stopping = stopped_;
    }
    if (stopping) {
      KJ_IF_MAYBE (fulfiller, stopping_) {
        (*fulfiller)->fulfill();
      }
      return kj::Promise<void>(kj::NEVER_DONE);
    }
    for (auto& task : posted) task();
    // The list is newest first; sending order across remote actors does not matter (FIFO is per
    // actor), but reversing keeps batches fair to those scheduled first.
    std::vector<RemoteActor*> actors;
    for (runtime::RunLink* at = ready; at != nullptr;) {
      runtime::RunLink* following = at->next.load(std::memory_order_relaxed);  // taken under mutex_ above
      actors.push_back(static_cast<RemoteActor*>(static_cast<runtime::ActorCore*>(at)));
      at = following;
    }
    for (auto it = actors.rbegin(); it != actors.rend(); ++it) {
      if ((*it)->resume() == runtime::TurnResult::more) schedule(*it);
    }
    return pump();
  });
}

Peer& NodeCore::peer(std::string_view name) {
  auto it = peers_.find(name);
  if (it == peers_.end()) {
    auto p = std::make_unique<Peer>();
    p->name = std::string(name);
    p->outbound_limit = std::make_unique<runtime::MailboxLimit>(config_.max_outbound_queue, config_.outbound_overflow);
    it = peers_.emplace(p->name, std::move(p)).first;
  }
  return *it->second;
}

void NodeCore::add_peer(std::string name, std::string host, std::uint16_t port) {
  post([this, name = std::move(name), host = std::move(host), port]() mutable {
    peer(name).address = std::make_pair(std::move(host), port);
  });
}

void NodeCore::flush(Peer& p) {
  if (p.connection != nullptr) {
    p.connection->write_pending();
  } else if (!p.dialing) {
    dial(p);
  }
}

void NodeCore::dial(Peer& p) {
  if (!p.address) {
    fail_lookups(p, "no address for node '" + p.name + "'");
    return;
  }
  p.dialing = true;
  tasks_->add(io_->provider->getNetwork()
                  .parseAddress(kj::StringPtr(p.address->first.c_str()), p.address->second)
                  .then([](kj::Own<kj::NetworkAddress> address) { return address->connect(); })
                  .then([this, &p](kj::Own<kj::AsyncIoStream> stream) {
                    auto connection = kj::heap<Connection>(*this, kj::mv(stream), &p);
                    Connection& c = *connection;
                    connections_.push_back(kj::mv(connection));
                    return c.run().then([this, &c]() { on_closed(c); },
                                        [this, &c](kj::Exception&& e) {
                                          if (c.authenticated())
                                            failed.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
                                          log(c.describe() + " closed: " + e.getDescription().cStr());
                                          on_closed(c);
                                        });
                  })
                  .catch_([this, &p](kj::Exception&& e) {
                    log("cannot connect to node '" + p.name + "': " + e.getDescription().cStr());
                    p.dialing = false;
                    fail_lookups(p, "cannot connect to node '" + p.name + "'");
                  }));
}

void NodeCore::fail_lookups(Peer& p, const std::string& why) {
  for (std::uint64_t id : p.lookups) {
    if (auto it = lookups_.find(id); it != lookups_.end()) {
      it->second->set_value(Error{Errc::node_unreachable, why});
      lookups_.erase(it);
    }
  }
  p.lookups.clear();
  p.controls.clear();
  dead.fetch_add(p.envelopes.size(), std::memory_order_relaxed);  // relaxed: a statistic
  for (const OutEnvelope& e : p.envelopes) {
    if (e.counted) p.outbound_limit->consumed();
  }
  p.envelopes.clear();
}

void NodeCore::on_authenticated(Connection& c, Peer& p) {
  accepted.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
  p.dialing = false;
  if (p.connection == nullptr) p.connection = &c;  // the first one stays: FIFO needs one path
  p.connection->write_pending();
}

void NodeCore::on_closed(Connection& c) {
  Peer* p = c.peer();
  if (p != nullptr && p->connection == &c) {
    p->connection = nullptr;
    p->dialing = false;
    p->credit = 0;  // the next connection starts from the window its peer grants it
    fail_lookups(*p, "connection to node '" + p->name + "' closed");
  } else if (p != nullptr && !c.authenticated() && p->dialing && p->connection == nullptr) {
    p->dialing = false;  // a dial whose handshake failed
    fail_lookups(*p, "node '" + p->name + "' refused the handshake");
  }
  // Destroyed after the current continuation (it may be the connection's own).
  tasks_->add(kj::evalLater(
      [this, &c]() { connections_.remove_if([&c](const kj::Own<Connection>& own) { return own.get() == &c; }); }));
}

std::uint64_t NodeCore::export_actor(runtime::ActorCore* actor) {
  auto [it, inserted] = export_ids_.try_emplace(actor, next_export_);
  if (inserted) exports_.emplace(next_export_++, DynamicHandle::share(actor));
  return it->second;
}

runtime::ActorCore* NodeCore::exported(std::uint64_t id) const {
  auto it = exports_.find(id);
  return it == exports_.end() ? nullptr : it->second.core();
}

RemoteActor* NodeCore::proxy(Peer& p, std::uint64_t remote_id) {
  auto& handle = proxies_[{&p, remote_id}];
  if (!handle) handle = DynamicHandle::adopt(new RemoteActor(shared_from_this(), p, remote_id));
  return static_cast<RemoteActor*>(handle.core());
}

void NodeCore::lookup_answered(std::uint64_t lookup_id, Peer& p, bool found, std::uint64_t actor_id) {
  auto it = lookups_.find(lookup_id);
  if (it == lookups_.end()) return;  // the caller gave up (timeout)
  std::erase(p.lookups, lookup_id);
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
    p.lookups.push_back(id);
    OutControl lookup;
    lookup.lookup_id = id;
    lookup.name = std::move(name);
    p.controls.push_back(std::move(lookup));
    flush(p);
  });
  if (answer.wait_for(timeout) != std::future_status::ready) {
    post([this, id]() { lookups_.erase(id); });
    return Error{Errc::timeout, "no answer from node '" + std::string(peer_name) + "'"};
  }
  return answer.get();
}

}  // namespace detail

Node::Node(System& system, NodeConfig config) : core_(std::make_shared<detail::NodeCore>(system, std::move(config))) {
  core_->start();
}

Node::~Node() { core_->stop(); }

const std::string& Node::name() const noexcept { return core_->config().name; }
std::uint16_t Node::port() const noexcept { return core_->port(); }
void Node::add_peer(std::string name, std::string host, std::uint16_t port) {
  core_->add_peer(std::move(name), std::move(host), port);
}
Result<DynamicHandle> Node::whereis(std::string_view peer, std::string_view actor_name, Duration timeout) {
  return core_->whereis(peer, actor_name, timeout);
}
NodeStats Node::stats() const noexcept { return core_->stats(); }

}  // namespace troupe::transport
