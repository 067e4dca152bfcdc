// The node's insides. Everything below "transport thread only" is touched by the kj loop's
// thread alone; the rest is guarded by `mutex_` or atomic, as marked.
#pragma once

#include "envelope_size.hpp"
#include "out_envelope.hpp"
#include "peer_address.hpp"
#include "refusal_log.hpp"
#include "spawner.hpp"
#include "wire.capnp.h"

#include <troupe/exit_reason.hpp>
#include <troupe/runtime/actor_core.hpp>
#include <troupe/runtime/idle_spin.hpp>
#include <troupe/runtime/mailbox_limit.hpp>
#include <troupe/transport/node.hpp>

#include <kj/async-io.h>
#include <kj/debug.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <future>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace troupe::transport::detail {

class Connection;
class ExportWatcher;
class NodeTls;
class RemoteActor;

struct OutControl {
  // Either non-zero: a credit grant (inbound_flow.hpp), nothing else below.
  std::uint32_t credit = 0;
  std::uint64_t credit_bytes = 0;
  bool is_reply = false;  // lookup, or lookupReply
  std::uint64_t lookup_id = 0;
  std::string name;
  bool found = false;
  std::uint64_t actor_id = 0;
};

// A link, monitor or exit signal on its way out (wire.capnp's Signal).
struct OutSignal {
  wire::SignalKind kind = wire::SignalKind::LINK;
  std::uint64_t from = 0;
  std::uint64_t to = 0;
  std::uint64_t ref = 0;
  ExitReason reason;
  bool linked = false;
  bool untrappable = false;
};

struct Peer {
  std::string name;
  std::optional<std::pair<std::string, std::uint16_t>> address;
  Connection* connection = nullptr;        // authenticated; carries everything this node sends the peer
  std::uint64_t incarnation = 0;           // the peer's, from its current connection (0: none yet)
  bool dialing = false;                    // this node's own dial is in flight (connect, TLS, handshake)
  bool dial_scheduled = false;             // a dial waits for the backoff to pass
  kj::Duration backoff = 0 * kj::SECONDS;  // before the next dial, after a failure or a node-down
  kj::TimePoint next_dial = kj::origin<kj::TimePoint>();
  std::vector<OutControl> controls;              // waiting for the connection or the writer
  std::vector<OutSignal> signals;                // likewise
  std::deque<OutEnvelope> envelopes;             // likewise (and for credit), in send order
  std::map<std::uint64_t, std::string> lookups;  // id -> name: lookups to fail if dialing fails

  // What a node-down must undo, by actor ids (remote: the peer's; local: this node's exports).
  // (local requester, request id) awaiting a response -> when the requester stops waiting (its
  // timeout; max: never). NodeCore::sweep_requests forgets those long past it.
  std::map<std::pair<std::uint64_t, std::uint64_t>, std::chrono::steady_clock::time_point> requests;
  std::set<std::pair<std::uint64_t, std::uint64_t>> links;                     // (remote actor, local actor)
  std::set<std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>> monitors;  // (remote actor, local watcher, ref)
  std::set<std::tuple<std::uint64_t, std::uint64_t, std::uint64_t>> watchers;  // (local actor, remote watcher, ref)
  std::uint64_t credit = 0;        // envelopes the peer has granted and not yet been sent
  std::uint64_t credit_bytes = 0;  // likewise in bytes (OutEnvelope::wire_bytes)
  // The largest frame the peer accepts: what its hello stated, or this node's own limit until a
  // connection tells. Written by the transport thread; read by any sender (RemoteActor::admit),
  // relaxed: a stale value only moves a refusal from the send to the transport thread.
  std::atomic<std::uint64_t> max_frame_bytes{0};
  // Bounds the messages this node holds for the peer (NodeConfig::max_outbound_queue): every
  // remote actor of the peer counts its sends here, until they are written or dropped. Shared by
  // those actors, which borrow it (RemoteActor); created with the peer, which outlives them.
  std::unique_ptr<runtime::MailboxLimit> outbound_limit;
};

class NodeCore final : public runtime::Executor, public std::enable_shared_from_this<NodeCore> {
 public:
  NodeCore(System& system, NodeConfig config);
  ~NodeCore();
  void start();  // runs the loop thread; returns once listening (throws if it cannot)
  void stop();   // closes everything and joins the thread; idempotent

  // Any thread: a remote actor's mailbox became non-empty.
  void schedule(runtime::ActorCore* actor) noexcept override;
  // Any thread: runs `task` on the transport thread (dropped once stopped).
  void post(std::function<void()> task);

  Result<DynamicHandle> whereis(std::string_view peer, std::string_view name, Duration timeout);
  void add_peer(std::string name, std::string host, std::uint16_t port);

  const NodeConfig& config() const noexcept { return config_; }
  System& system() noexcept { return system_; }
  std::uint16_t port() const noexcept { return port_; }
  NodeStats stats() const noexcept;
  void log(const std::string& line);
  // Transport thread: a frame or a hand-over came. Ends the loop's sleep (run_events) and keeps
  // it polling a while longer.
  void note_activity();
  Spawnables& spawnables() noexcept { return *spawnables_; }
  DynamicHandle spawner(std::string_view peer);

  // Transport thread only.
  Peer& peer(std::string_view name);
  void flush(Peer& peer);  // hands what is queued to the peer's connection (or dials)
  // An envelope taken off the peer's queue unsent: a dead letter (NodeStats::dead_letters), its
  // requester answered with `error`; it leaves the outbound bound.
  void drop_queued(Peer& peer, const OutEnvelope& envelope, const Error& error);
  // drop_queued for one larger than the peer accepts (its limit shrank after the send), logged.
  void drop_unsendable(Peer& peer, const OutEnvelope& envelope);
  // The id a peer names `actor` by. The node keeps the actor (a strong handle) and monitors it
  // (ExportWatcher) until it stops: then unexport() drops it, and its id names nothing.
  std::uint64_t export_actor(runtime::ActorCore* actor);
  // The export `id`, if it still is `actor` (the watcher's Down for it).
  void unexport(std::uint64_t id, runtime::ActorCore* actor);
  // The id of an actor that is telling a peer it stopped (its Down, its linked exit signal): its
  // export's id even if the export was just dropped (the signals of a stopping actor and the
  // watcher's Down race), so the peer hears of the id it knows; else export_actor(actor).
  std::uint64_t id_of_stopping(runtime::ActorCore* actor);
  runtime::ActorCore* exported(std::uint64_t id) const;
  // Peer::requests, with the count NodeStats::pending_requests shows.
  void track_request(Peer& peer, std::uint64_t requester, std::uint64_t request_id,
                     std::chrono::steady_clock::time_point deadline);
  void untrack_request(Peer& peer, std::uint64_t requester, std::uint64_t request_id);
  RemoteActor* proxy(Peer& peer, std::uint64_t remote_id);  // one per remote actor, cached
  // The listener's side of a connection from `peer`, run `incarnation`, that proved the secret:
  //   duplicate_name: a live connection to another run of a node of that name is up here: this
  //     one is refused, the live one stays (one name, one node; node.hpp says how a restart is
  //     told apart);
  //   duplicate_connection: two nodes that dial each other at once keep the connection the node
  //     whose name sorts lower dialled: that node closes the other's while its own is in flight
  //     or up (not a refusal: the pair keeps one connection);
  //   keep: otherwise.
  enum class Incoming { keep, duplicate_connection, duplicate_name };
  Incoming judge_incoming(const Peer& peer, std::uint64_t incarnation) const;
  // The dialer's side: a connection this node dialled reached run `incarnation` of `peer` while
  // another run of that name is connected here (a race of two nodes of one name): refused.
  bool name_taken(const Peer& peer, const Connection& connection, std::uint64_t incarnation) const;
  // A connection refused before it was authenticated, whatever the reason: counted in `refused`
  // and logged, "refused <who>: <why>" (why: plain words), at most one line per address per
  // kRefusalLogInterval (RefusalLog). Every refused connection comes here exactly once: from
  // the TLS phase (accept_loop, dial), or from its Connection (Connection::run).
  void refuse(const PeerAddress& from, const std::string& why);
  // After the handshake and the exchange of incarnations: grants the peer its receive window,
  // then writes what is queued. A new connection replaces the peer's old one, if any (the peer
  // dials only when it has none, so it saw the old one go): the old one is closed and the peer is
  // down first, except for what was queued for the node rather than for its actors (see
  // replace_connection in node_peers.cpp).
  void on_authenticated(Connection& connection, Peer& peer, std::uint64_t incarnation);
  void on_closed(Connection& connection);
  // The peer's connection is gone: monitors get Down node_down, links the exit signal, requests
  // Errc::node_down; handles to its actors die; queued messages are dead letters.
  void node_down(Peer& peer, const std::string& why);
  void handle_signal(Peer& peer, wire::Signal::Reader signal);  // one that came from the peer
  std::uint64_t incarnation() const noexcept { return incarnation_; }
  kj::Timer& timer() { return io_->provider->getTimer(); }
  // `handshake`, or a rejection (is_handshake_timeout) once NodeConfig::handshake_timeout passes.
  // Not counted here: the caller's error handler refuses the connection, with that reason.
  template <class T>
  kj::Promise<T> handshake_deadline(kj::Promise<T> handshake);
  void lookup_answered(std::uint64_t lookup_id, Peer& peer, bool found, std::uint64_t actor_id);
  kj::AsyncIoProvider& io() { return *io_->provider; }
  kj::TaskSet& tasks() { return *tasks_; }

  // Counters: relaxed, read only for statistics.
  std::atomic<std::uint64_t> accepted{0}, refused{0}, failed{0}, received{0}, dead{0};
  // Gauges, written by the transport thread only: relaxed, read only for statistics.
  std::atomic<std::uint64_t> exported_count{0};
  std::atomic<std::uint64_t> pending_count{0};  // Peer::requests, over all peers
  std::atomic<std::uint64_t> open_count{0};     // authenticated connections not closed yet

 private:
  void run(std::promise<void>& listening);
  // `unix_path`: "unix:PATH" for the Unix-socket listener (its peers have no address), else "".
  kj::Promise<void> accept_loop(kj::ConnectionReceiver& listener, std::string unix_path);
  kj::Own<kj::ConnectionReceiver> listen_unix();  // on NodeConfig::listen_unix (throws if it cannot)
  void remove_unix_socket();                      // the file listen_unix() bound, if any
  // Runs a Connection on an accepted stream; `local_host`: this node's address on it.
  void serve_accepted(kj::Own<kj::AsyncIoStream> stream, std::string local_host, PeerAddress from);
  // Runs `connection` (accepted or dialled) until it closes; logs why if it fails after
  // authentication (a refusal before it, the Connection logs itself).
  void serve(Connection& connection);
  kj::Promise<void> pump();
  void drain_handovers();  // runs what other threads handed over (posted tasks, ready remote actors)
  void run_events(kj::Promise<void> stopped);  // the loop: sleep until activity, then poll a while
  void poll_while_busy();                      // the polling half of run_events
  void wake_locked();                          // under mutex_: makes the loop look at what was handed over
  void dial(Peer& peer);
  void dial_after_backoff(Peer& peer);
  void back_off(Peer& peer);  // the next dial waits longer (100 ms doubling to 2 s)
  void fail_lookups(Peer& peer, const std::string& why);
  // on_authenticated's node-down of the connection a new one replaces (node_peers.cpp).
  void replace_connection(Peer& peer, bool restarted);
  // Every kRequestSweepInterval: forgets the requests whose requesters stopped waiting a while
  // ago (their timeout answered them): a requester that lives on would otherwise leave an entry
  // behind for each request its peer never answered.
  kj::Promise<void> sweep_requests();

  System& system_;
  NodeConfig config_;
  std::unique_ptr<NodeTls> tls_;  // built from config_.tls; used by the transport thread only
  RefusalLog refusal_log_;        // transport thread only
  std::shared_ptr<Spawnables> spawnables_ = std::make_shared<Spawnables>();
  DynamicHandle spawner_;  // exported as kSpawnerId
  std::uint16_t port_ = 0;
  bool unix_socket_bound_ = false;   // transport thread: NodeConfig::listen_unix is ours to remove
  const std::uint64_t incarnation_;  // random, chosen at start: tells this run from a restarted one
  std::thread thread_;

  // Shared with other threads, under mutex_.
  std::mutex mutex_;
  runtime::RunLink* ready_head_ = nullptr;  // remote actors with messages to send (intrusive, LIFO)
  std::vector<std::function<void()>> posted_;
  bool wake_pending_ = false;  // an eventfd write is unread: later hand-overs need not write again
  bool loop_polling_ = false;  // the loop polls (poll_while_busy): hand-overs set handed_over_ instead
  bool stopped_ = false;
  int wake_fd_ = -1;                           // eventfd the loop reads: one coalesced wake-up per batch of hand-overs
  std::atomic<std::uint64_t> next_lookup_{1};  // relaxed: only uniqueness matters
  // Set (under mutex_) by a hand-over while the loop polls; the loop then drains under mutex_,
  // which orders what was handed over: relaxed is enough for the flag itself.
  std::atomic<bool> handed_over_{false};

  // Transport thread only.
  kj::Own<kj::AsyncIoContext> io_;
  kj::Own<kj::TaskSet> tasks_;
  kj::Own<kj::AsyncInputStream> wake_stream_;                // wake_fd_, read by pump()
  kj::Maybe<kj::Own<kj::PromiseFulfiller<void>>> stopping_;  // fulfilled by pump() once stopped_
  std::uint64_t wake_buffer_ = 0;
  std::uint64_t activity_count_ = 0;  // frames and drains so far (poll_while_busy looks for change)
  runtime::AdaptiveSpin loop_spin_;   // poll_while_busy's polling, and whether it has paid lately
  bool loop_stopping_ = false;        // stop() was seen: run_events returns
  kj::Maybe<kj::Own<kj::PromiseFulfiller<void>>> activity_;  // ends run_events' sleep
  std::map<std::string, std::unique_ptr<Peer>, std::less<>> peers_;
  std::list<kj::Own<Connection>> connections_;
  std::unordered_map<std::uint64_t, DynamicHandle> exports_;
  std::unordered_map<runtime::ActorCore*, std::uint64_t> export_ids_;
  DynamicHandle export_watcher_;      // monitors every export (made in start(); dropped in stop())
  ExportWatcher* watcher_ = nullptr;  // export_watcher_'s core; after stop() for identity and discard_all()
  // Exports dropped in the last moments, oldest first, for id_of_stopping(). A stopping actor's
  // signals to remote watchers hold a reference to it, so its address is not reused while one is
  // in flight; an entry is kept for a grace period, and only as many as kMaxStoppedExports.
  struct StoppedExport {
    kj::TimePoint when;
    runtime::ActorCore* actor;  // identity only, never dereferenced
    std::uint64_t id;
  };
  std::deque<StoppedExport> stopped_exports_;
  std::uint64_t next_export_ = 1;
  std::map<std::pair<Peer*, std::uint64_t>, DynamicHandle> proxies_;
  std::unordered_map<std::uint64_t, std::shared_ptr<std::promise<Result<DynamicHandle>>>> lookups_;
  friend class RemoteActor;
};

// A kj duration from a troupe one.
inline kj::Duration to_kj(Duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count() * kj::NANOSECONDS;
}

// The rejection handshake_deadline gives a handshake that took too long.
inline constexpr const char* kHandshakeTimedOut = "handshake timed out";
inline bool is_handshake_timeout(const kj::Exception& e) { return e.getDescription() == kHandshakeTimedOut; }

template <class T>
kj::Promise<T> NodeCore::handshake_deadline(kj::Promise<T> handshake) {
  auto expired = timer().afterDelay(to_kj(config_.handshake_timeout)).then([]() -> kj::Promise<T> {
    // Not KJ_EXCEPTION, which would describe the constant as "name = value".
    return kj::Exception(kj::Exception::Type::FAILED, __FILE__, __LINE__, kj::str(kHandshakeTimedOut));
  });
  return handshake.exclusiveJoin(kj::mv(expired));
}

}  // namespace troupe::transport::detail
