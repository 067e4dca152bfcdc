// A node's peers and their connections: dialling on demand (with backoff, through TLS when
// configured), which of two connections to keep, and what a closed connection ends.
#include "advertised_host.hpp"
#include "connection.hpp"
#include "node_core.hpp"
#include "tls.hpp"

#include <troupe/message.hpp>

namespace troupe::transport::detail {
namespace {

constexpr kj::Duration kFirstBackoff = 100 * kj::MILLISECONDS;
constexpr kj::Duration kMaxBackoff = 2 * kj::SECONDS;

// A dialled stream, encrypted once the TLS handshake succeeded. A failure is a refusal, counted
// and logged here; it rejects with kTlsRefused, and dial() fails the peer's lookups.
constexpr const char* kTlsRefused = "the TLS handshake failed";

kj::Promise<kj::Own<kj::AsyncIoStream>> secure_dialled(NodeCore& node, NodeTls& tls, Peer& p, const PeerAddress& to,
                                                       kj::Own<kj::AsyncIoStream> stream) {
  return node.handshake_deadline(tls.wrap_dialled(kj::mv(stream), p.name))
      .catch_([&node, &p, to](kj::Exception&& e) -> kj::Own<kj::AsyncIoStream> {
        node.refuse(to, is_handshake_timeout(e) ? std::string("the TLS handshake timed out")
                                                : "the TLS handshake failed (a plaintext node, or a certificate that "
                                                  "does not name node '" +
                                                      p.name + "' or that the trusted CA did not sign?)");
        kj::throwFatalException(kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__, kj::str(kTlsRefused)));
      });
}

// A dialled peer as the log names it: "node 'b' at 10.0.0.2:7100" (unix:PATH for a Unix socket).
PeerAddress dialled_address(const Peer& p) {
  const auto& [host, port] = *p.address;
  std::string where;  // appended piece by piece: g++ 12 warns falsely (-Wrestrict) about "[" + std::string
  if (port == 0 && host.rfind("unix:", 0) == 0) {
    where = host;
  } else if (host.find(':') != std::string::npos) {
    where.append(1, '[').append(host).append("]:").append(std::to_string(port));
  } else {
    where.append(host).append(1, ':').append(std::to_string(port));
  }
  return {"node '" + p.name + "' at " + where, where};
}

}  // namespace

Peer& NodeCore::peer(std::string_view name) {
  auto it = peers_.find(name);
  if (it == peers_.end()) {
    auto p = std::make_unique<Peer>();
    p->name = std::string(name);
    p->outbound_limit = std::make_unique<runtime::MailboxLimit>(config_.max_outbound_queue, config_.outbound_overflow,
                                                                config_.max_outbound_bytes);
    // Until a connection says otherwise, the peer is taken to accept what this node accepts.
    p->max_frame_bytes.store(config_.max_frame_bytes, std::memory_order_relaxed);  // relaxed: see Peer
    it = peers_.emplace(p->name, std::move(p)).first;
  }
  return *it->second;
}

void NodeCore::add_peer(std::string name, std::string host, std::uint16_t port) {
  post([this, name = std::move(name), host = std::move(host), port]() mutable {
    Peer& p = peer(name);
    p.address = std::make_pair(std::move(host), port);
    p.backoff = 0 * kj::SECONDS;  // a new address is worth trying at once
    p.next_dial = kj::origin<kj::TimePoint>();
  });
}

void NodeCore::flush(Peer& p) {
  if (p.connection != nullptr) {
    p.connection->write_pending();
  } else if (!p.dialing && !p.dial_scheduled) {
    dial_after_backoff(p);
  }
}

void NodeCore::dial_after_backoff(Peer& p) {
  if (timer().now() >= p.next_dial) {
    dial(p);
    return;
  }
  p.dial_scheduled = true;
  tasks_->add(timer().atTime(p.next_dial).then([this, &p]() {
    p.dial_scheduled = false;
    if (p.connection == nullptr && !p.dialing) dial(p);
  }));
}

void NodeCore::back_off(Peer& p) {
  p.backoff = p.backoff == 0 * kj::SECONDS ? kFirstBackoff : kj::min(p.backoff * 2, kMaxBackoff);
  p.next_dial = timer().now() + p.backoff;
}

void NodeCore::dial(Peer& p) {
  if (!p.address) {
    fail_lookups(p, "no address for node '" + p.name + "'");
    return;
  }
  p.dialing = true;
  const PeerAddress to = dialled_address(p);
  // This node's address on the connection, read from the plain socket (a TLS stream cannot say).
  auto local_host = kj::heap<std::string>();
  std::string& local = *local_host;
  auto connected = io_->provider->getNetwork()
                       .parseAddress(kj::StringPtr(p.address->first.c_str()), p.address->second)
                       .then([](kj::Own<kj::NetworkAddress> address) { return address->connect(); })
                       .then([&local](kj::Own<kj::AsyncIoStream> plain) {
                         local = local_host_of(*plain);
                         return plain;
                       });
  if (tls_ != nullptr) {
    connected = connected.then([this, &p, to](kj::Own<kj::AsyncIoStream> plain) {
      return secure_dialled(*this, *tls_, p, to, kj::mv(plain));
    });
  }
  tasks_->add(kj::mv(connected).then(
      [this, &p, to, local_host = kj::mv(local_host)](kj::Own<kj::AsyncIoStream> stream) mutable {
        auto connection = kj::heap<Connection>(*this, kj::mv(stream), &p, kj::mv(*local_host), to);
        Connection& c = *connection;
        connections_.push_back(kj::mv(connection));
        serve(c);
      },
      [this, &p](kj::Exception&& e) {
        const bool refused_by_tls = e.getDescription() == kTlsRefused;  // secure_dialled logged it
        if (!refused_by_tls) log("cannot connect to node '" + p.name + "': " + e.getDescription().cStr());
        p.dialing = false;
        back_off(p);
        fail_lookups(p, refused_by_tls ? "node '" + p.name + "' refused the TLS handshake"
                                       : "cannot connect to node '" + p.name + "'");
      }));
}

void NodeCore::fail_lookups(Peer& p, const std::string& why) {
  for (const auto& [id, name] : p.lookups) {
    if (auto it = lookups_.find(id); it != lookups_.end()) {
      it->second->set_value(Error{Errc::node_unreachable, why});
      lookups_.erase(it);
    }
  }
  p.lookups.clear();
  p.controls.clear();
  p.signals.clear();
  // Requests that never left get their answer now rather than at their timeout.
  for (const OutEnvelope& e : p.envelopes) drop_queued(p, e, Error{Errc::node_unreachable, why});
  p.envelopes.clear();
}

void NodeCore::drop_queued(Peer& p, const OutEnvelope& e, const Error& error) {
  dead.fetch_add(1, std::memory_order_relaxed);          // relaxed: a statistic
  if (e.counted) p.outbound_limit->consumed(e.charged);  // it leaves the outbound queue unsent
  if (e.kind != wire::Kind::REQUEST || e.sender == 0) return;
  untrack_request(p, e.sender, e.request_id);
  if (runtime::ActorCore* requester = exported(e.sender)) {
    troupe::detail::send_response_error(requester, e.request_id, error);
  }
}

void NodeCore::drop_unsendable(Peer& p, const OutEnvelope& e) {
  const std::string why = std::string(e.type_name) + " of " + std::to_string(e.payload.size()) +
                          " bytes is larger than node '" + p.name + "' accepts (" +
                          std::to_string(p.max_frame_bytes.load(std::memory_order_relaxed)) + "-byte frames)";
  log("dropped a message: " + why);
  drop_queued(p, e, Error{Errc::message_too_large, why});
}

NodeCore::Incoming NodeCore::judge_incoming(const Peer& p, std::uint64_t incarnation) const {
  // Another run of the name while the connection to this one is alive: a second node of the
  // name, or a restart whose old connection this node has not seen die yet. Either way the live
  // one stays; a restarted peer gets in once its old connection is closed (EOF, reset, or no
  // heartbeat), and its dialling retries after the backoff.
  if (p.connection != nullptr && p.incarnation != incarnation) return Incoming::duplicate_name;
  const bool lower = config_.name < p.name;
  if (lower && (p.dialing || (p.connection != nullptr && p.connection->dialled()))) {
    return Incoming::duplicate_connection;
  }
  return Incoming::keep;
}

bool NodeCore::name_taken(const Peer& p, const Connection& c, std::uint64_t incarnation) const {
  return p.connection != nullptr && p.connection != &c && p.incarnation != incarnation;
}

void NodeCore::on_authenticated(Connection& c, Peer& p, std::uint64_t incarnation) {
  accepted.fetch_add(1, std::memory_order_relaxed);    // relaxed: a statistic
  open_count.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
  if (c.dialled()) p.dialing = false;
  if (p.connection != nullptr) {
    // The same run of the peer lost the old connection before this node saw it go: FIFO needs
    // one path, and what depended on the old one is gone on the peer's side. (Another run is
    // refused during the handshake, judge_incoming and name_taken, unless it raced past those
    // checks while this connection's last handshake frame was being written.)
    Connection* old = p.connection;
    replace_connection(p, p.incarnation != incarnation);
    old->close();
  }
  // The peer may send a whole window on this connection: granted before anything else is written.
  OutControl window;
  window.credit = config_.receive_window;
  window.credit_bytes = config_.receive_window_bytes;
  p.controls.insert(p.controls.begin(), std::move(window));
  p.connection = &c;
  p.incarnation = incarnation;
  p.backoff = 0 * kj::SECONDS;
  p.connection->write_pending();
}

// What was queued for the peer when a new connection replaces its old one (of the same run, but
// for a race: see on_authenticated):
//   - messages and requests to its actors: dead letters, requests failed with node_down, as at any
//     node-down. Their order relative to what the old connection lost is unknown (and a
//     restarted peer reuses actor ids).
//   - requests to its spawner not yet written (remote spawns and whereis): kept, and sent on the
//     new connection. These ask the node, not an actor. One already written is failed with
//     node_down: it may have run there.
//   - registry lookups (Node::whereis), queued or written and unanswered: sent again on the new
//     connection. A lookup asks the node, changes nothing there, and is answered once (its id).
//   - lookup replies: dropped; the peer gave up the lookups they answer with the old connection.
//   - credit grants: dropped; the new connection starts from the window on_authenticated grants.
//   - signals (links, monitors, exits, downs): dropped; node_down tells the local actors
//     concerned (Down / exit signal node_down), as the peer's side did at its own node-down.
void NodeCore::replace_connection(Peer& p, bool restarted) {
  std::deque<OutEnvelope> to_spawner;
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::chrono::steady_clock::time_point> spawner_requests;
  for (auto it = p.envelopes.begin(); it != p.envelopes.end();) {
    if (it->receiver != kSpawnerId || it->kind == wire::Kind::RESPONSE) {
      ++it;
      continue;
    }
    if (auto tracked = p.requests.find({it->sender, it->request_id}); tracked != p.requests.end()) {
      spawner_requests.insert(p.requests.extract(tracked));
    }
    to_spawner.push_back(std::move(*it));
    it = p.envelopes.erase(it);
  }
  pending_count.fetch_sub(spawner_requests.size(), std::memory_order_relaxed);  // relaxed: a statistic
  std::map<std::uint64_t, std::string> lookups;
  std::swap(lookups, p.lookups);
  std::erase_if(lookups, [this](const auto& lookup) { return !lookups_.contains(lookup.first); });  // given up

  node_down(p, restarted ? "it restarted" : "it connected again");  // fails and drops the rest

  p.envelopes = std::move(to_spawner);
  pending_count.fetch_add(spawner_requests.size(), std::memory_order_relaxed);  // relaxed: a statistic
  p.requests = std::move(spawner_requests);
  for (const auto& [id, name] : lookups) {
    OutControl lookup;
    lookup.lookup_id = id;
    lookup.name = name;
    p.controls.push_back(std::move(lookup));
  }
  p.lookups = std::move(lookups);
}

void NodeCore::on_closed(Connection& c) {
  Peer* p = c.peer();
  if (c.authenticated()) open_count.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a statistic
  if (p != nullptr && p->connection == &c) {
    node_down(*p, "its connection closed");
  } else if (p != nullptr && c.dialled() && c.duplicate()) {
    // The peer keeps the connection it dialled; it is on its way (or here). Nothing failed: what
    // is queued waits for it, and a dial after the backoff covers a peer that never comes.
    p->dialing = false;
    if (p->connection == nullptr) {
      back_off(*p);
      flush(*p);
    }
  } else if (p != nullptr && !c.authenticated() && c.dialled() && p->dialing) {
    p->dialing = false;  // a dial whose handshake failed
    if (p->connection == nullptr) {
      back_off(*p);
      fail_lookups(*p, "the handshake with node '" + p->name + "' failed: " + c.refusal());
    }
  }
  // Destroyed after the current continuation (it may be the connection's own).
  tasks_->add(kj::evalLater(
      [this, &c]() { connections_.remove_if([&c](const kj::Own<Connection>& own) { return own.get() == &c; }); }));
}

}  // namespace troupe::transport::detail
