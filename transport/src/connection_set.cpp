#include "connection_set.hpp"

#include "connection.hpp"
#include "node_core.hpp"

#include <algorithm>
#include <utility>

namespace troupe::transport::detail {

void ConnectionSet::serve(kj::Own<Connection> connection) {
  Connection& c = *connection;
  connections_.push_back(kj::mv(connection));
  node_.loop().tasks().add(c.run().then([this, &c]() { on_closed(c); },
                                        [this, &c](kj::Exception&& e) {
                                          if (c.authenticated() && !c.closed_here()) {
                                            NodeCounters::add(node_.counters().failed);
                                            log_failure(c, e);
                                          }
                                          on_closed(c);
                                        }));
}

void ConnectionSet::log_failure(const Connection& c, const kj::Exception& e) const {
  if (!node_.log().enabled(LogLevel::warning)) return;
  const std::string why = e.getDescription().cStr();
  const Peer* p = c.peer();
  node_.log().log({.level = LogLevel::warning,
                   .name = "connection_failed",
                   .message = c.describe() + " closed: " + why,
                   .peer = p != nullptr ? std::string_view(p->name) : std::string_view(),
                   .reason = why});
}

void ConnectionSet::log_up(const Connection& c, const Peer& p) const {
  if (!node_.log().enabled(LogLevel::info)) return;
  const LogField fields[] = {{"direction", c.dialled() ? "dialled" : "accepted"}};
  node_.log().log({.level = LogLevel::info,
                   .name = "connection_up",
                   .message = c.describe() + " is up (authenticated)",
                   .peer = p.name,
                   .fields = fields});
}

ConnectionSet::ConnectionSet(NodeCore& node) noexcept : node_(node) {}

ConnectionSet::~ConnectionSet() = default;

void ConnectionSet::close_all() {
  for (auto& c : connections_) c->close();
}

void ConnectionSet::clear() { connections_.clear(); }

void ConnectionSet::drop_all(const std::string& why) {
  for (auto& c : connections_) {
    // Closed by this node on purpose: no failure of the connection, nor a node-down of the peer.
    if (Peer* p = c->peer(); p != nullptr && p->connection == c.get()) lost(*p, why, Liveness::Cause::renewal);
    c->close();  // on_closed runs later, and finds the peer's connection already let go
  }
}

ConnectionSet::Incoming ConnectionSet::judge_incoming(const Peer& p, std::uint64_t incarnation) const {
  // Another run of the name while the connection to this one is alive: a second node of the
  // name, or a restart whose old connection this node has not seen die yet. Either way the live
  // one stays; a restarted peer gets in once its old connection is closed (EOF, reset, or no
  // heartbeat), and its dialling retries after the backoff.
  if (p.connection != nullptr && p.incarnation != incarnation) return Incoming::duplicate_name;
  const bool lower = node_.config().name < p.name;
  if (lower && (node_.dialler().dialing(p) || (p.connection != nullptr && p.connection->dialled()))) {
    return Incoming::duplicate_connection;
  }
  return Incoming::keep;
}

bool ConnectionSet::name_taken(const Peer& p, const Connection& c, std::uint64_t incarnation) const {
  return p.connection != nullptr && p.connection != &c && p.incarnation != incarnation;
}

void ConnectionSet::on_authenticated(Connection& c, Peer& p, std::uint64_t incarnation) {
  NodeCounters::add(node_.counters().accepted);
  open_.fetch_add(1, std::memory_order_relaxed);  // relaxed: a statistic
  if (c.dialled()) node_.dialler().dial_ended(p);
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
  p.outbox.push_first(Grant{node_.config().receive_window, node_.config().receive_window_bytes});
  p.connection = &c;
  p.incarnation = incarnation;
  if (p.declared_down != incarnation) p.declared_down = 0;  // another run: not the one declared down
  node_.dialler().reset_backoff(p);
  log_up(c, p);
  p.connection->write_pending();
  if (Peer* seed = c.seed()) node_.seeds().found(*seed, p);
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
void ConnectionSet::replace_connection(Peer& p, bool restarted) {
  std::deque<OutEnvelope> to_spawner;
  PendingRequests::Entries requests = node_.requests().take(p);
  PendingRequests::Entries spawner_requests;
  auto& queued = p.outbox.envelopes();
  for (auto it = queued.begin(); it != queued.end();) {
    if (it->receiver != kSpawnerId || it->kind == wire::Kind::RESPONSE) {
      ++it;
      continue;
    }
    if (auto tracked = requests.find({it->sender, it->request_id}); tracked != requests.end()) {
      spawner_requests.insert(requests.extract(tracked));
    }
    to_spawner.push_back(std::move(*it));
    it = queued.erase(it);
  }
  node_.requests().put(p, std::move(requests));
  Lookups::Waiting lookups = node_.lookups().take(p);  // those the caller gave up on are gone already

  lost(p, restarted ? "it restarted" : "it connected again");  // fails and drops the rest

  for (OutEnvelope& e : to_spawner) p.outbox.push(std::move(e));
  node_.requests().put(p, std::move(spawner_requests));
  node_.lookups().ask_again(p, std::move(lookups));
}

void ConnectionSet::lost(Peer& p, const std::string& why, Liveness::Cause cause) {
  p.connection = nullptr;
  node_.liveness().node_down(p, why, cause);
}

bool ConnectionSet::refer_to(const Peer& p) const noexcept {
  return std::any_of(connections_.begin(), connections_.end(),
                     [&p](const kj::Own<Connection>& c) { return c->peer() == &p || c->seed() == &p; });
}

void ConnectionSet::on_closed(Connection& c) {
  Peer* p = c.peer();
  if (c.authenticated()) open_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: a statistic
  Dialler& dialler = node_.dialler();
  if (p != nullptr && p->connection == &c) {
    lost(*p, "its connection closed");
  } else if (p != nullptr && c.dialled() && c.duplicate()) {
    // The peer keeps the connection it dialled; it is on its way (or here). Nothing failed: what
    // is queued waits for it, and a dial after the backoff covers a peer that never comes.
    dialler.dial_ended(*p);
    if (p->connection == nullptr) {
      dialler.back_off(*p);
      dialler.flush(*p);
    }
  } else if (p != nullptr && !c.authenticated() && c.dialled() && dialler.dialing(*p)) {
    dialler.dial_ended(*p);  // a dial whose handshake failed
    if (p->connection == nullptr) {
      dialler.back_off(*p);
      node_.dead_letters().unreachable(*p, "the handshake with node '" + p->name + "' failed: " + c.refusal());
    }
  }
  if (Peer* seed = c.seed(); seed != nullptr && !c.authenticated()) {
    // A seed's dial that reached a named node, then failed: the seed's answer is why.
    node_.seeds().failed(*seed, Error{c.name_refused() ? Errc::name_taken : Errc::node_unreachable, c.refusal()});
  }
  // Destroyed after the current continuation (it may be the connection's own).
  node_.loop().tasks().add(kj::evalLater(
      [this, &c]() { connections_.remove_if([&c](const kj::Own<Connection>& own) { return own.get() == &c; }); }));
}

}  // namespace troupe::transport::detail
