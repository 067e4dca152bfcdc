// A node: the actor system of one process, reachable by other processes over TCP.
//
//   troupe::System system;
//   auto secret = troupe::transport::load_secret_file("cluster.secret");   // mode 0600
//   troupe::transport::Node node(system, {.name = "a", .secret = *secret});
//   node.add_peer("b", "127.0.0.1", 7001);
//   troupe::Result<troupe::DynamicHandle> echo = node.whereis("b", "echo");   // b's registry
//   echo->send(Ping{1, "hi"});                                  // as to a local actor
//   // Typed: b checks that its "echo" handles every message type named (Errc::interface_mismatch).
//   troupe::Result<troupe::Handle<Pong(Ping)>> typed = node.whereis<troupe::Handle<Pong(Ping)>>("b", "echo");
//
// A remote actor stands behind the same handle types as a local one: send, requests (ScopedActor
// and co_await self.request) and replies work across nodes, FIFO per sender→receiver pair. Only
// declared message types cross (wire_type.hpp); a message of another type to a remote actor is
// refused at the send with Errc::not_serializable and counted as a dead letter.
//
// One transport thread (named "troupe-node") runs a kj event loop: it listens, dials peers on
// demand (the first lookup of a peer), authenticates every connection (below), and serializes
// what actors send to remote handles. Workers hand it remote-bound messages through
// the remote actor's mailbox and one coalesced cross-thread wake-up per batch. After each frame or
// hand-over the thread polls for NodeConfig::idle_spin before it sleeps again; hand-overs while it
// polls need no wake-up at all (a request's response typically comes within that time).
//
// Links, monitors and exit signals cross nodes as they work locally: the remote node links or
// monitors its actor on behalf of the peer and sends back the exit signal or Down with the real
// reason. Liveness: a quiet connection sends heartbeats; one that hears nothing for
// NodeConfig::heartbeat_timeout is closed ("no heartbeat"). When a peer's connection closes (EOF,
// error, heartbeat timeout) the peer is down: monitors of its actors get Down with
// ExitReason::node_down, linked local actors the exit signal with it, pending requests to it fail
// with Errc::node_down, queued messages are dead letters, and handles to its actors die for good
// (a restarted peer reuses actor ids; each run of a node has a random incarnation, exchanged after
// the handshake; in a cluster, a node that was declared down rejoins as a new one, closing all its
// connections first: cluster.hpp). The next send or lookup dials again, after a backoff of 100 ms
// doubling to 2 s.
//
// Logs: a node logs through its System's logger (Config::log, README.md "Logs"), every event with
// the node's name (LogEvent::node) and, where there is one, the peer's: connections up, refused,
// failed and duplicated, peers down or gone, messages dropped, cluster events.
//
// One connection per pair of nodes: two nodes that dial each other at once keep the connection
// the node whose name sorts lower dialled, and close the other during its handshake (logged as a
// duplicate; neither side sees the other down). A handshake that does not finish within
// NodeConfig::handshake_timeout closes its connection.
//
// One name, one node. While a node holds a live connection to node X, a connection from another
// node that also calls itself X (another incarnation) is refused: both sides log "duplicate node
// name", the refused one's lookups fail with node_unreachable saying so, and the live connection
// goes on undisturbed. A node that really restarted (a new incarnation) is told apart by its old
// connection being known dead: closed (EOF or reset, as when its process died: the kernel closes
// its sockets) or timed out (no heartbeat for NodeConfig::heartbeat_timeout, as when its host
// vanished). From then on its next dial is accepted as the new run, and the old run's handles stay
// dead. Until then the two cannot be told apart, so a restarted node whose old connection still
// looks alive here (its host lost power; a partition) is refused for up to heartbeat_timeout, and
// gets in at a later dial (its backoff is at most 2 s).
//
// Authentication (handshake.hpp): every connection starts with a mutual HMAC-SHA256
// challenge-response over the shared secret, bound to both nonces, both names and each side's
// role, compared in constant time. The dialer proves itself first; the listener, which anyone who
// reaches its port can talk to, sends nothing that depends on the secret until the dialer's proof
// matched, so connecting to a node gives away nothing to guess the secret with. Every connection
// refused before it is authenticated (a wrong proof, a timeout, a TLS mismatch, a malformed or
// unexpected frame, a bad version or name, a duplicate name, a peer that closes mid-handshake) is
// counted once in NodeStats::handshakes_refused and logged (connection_refused: the address and
// why), at most one event per address every 5 s (the next says how many were not logged).
//
// What a dialer gives away: it proves itself to whatever answers at the address it dials. A rogue
// listener there (someone who took over the address, or spoofs it on the path) gets the dialer's
// proof, an HMAC over nonces the rogue chose and names it knows: with it, it can test guesses of
// the secret offline, as fast as it can compute HMACs. A random 128-bit or longer secret makes
// that hopeless, which is why weak secrets are refused (NodeConfig::accept_weak_secret). TLS
// closes the gap: the TLS handshake runs first, and the dialer checks that the listener's
// certificate chains to the cluster's CA and names the node it dialled before it sends any HMAC,
// so a rogue listener without such a certificate never gets a proof.
//
// A local actor a peer can name (a requester, a watcher or linker of a remote actor, a lookup
// result) stays reachable by the peer until it stops; then the node forgets it (NodeStats::
// exported_actors counts those it keeps): later messages for it are dead letters, requests get
// dead_actor. A handle to a remote actor that its node reported stopped (a Down, a linked exit)
// answers later monitors with the reason it stopped with, and links with noproc.
//
// TLS (optional, NodeConfig::tls): every connection, accepted or dialled, is encrypted with TLS
// before the HMAC handshake, which still runs inside it: TLS protects the channel, the secret
// authorises the node. A TLS node refuses a plaintext peer (and a plaintext node a TLS one), logs
// it, counts it in handshakes_refused, and goes on serving.
//
// Handles travel inside declared messages (wire_type.hpp) and stay usable on the receiving node,
// also when they name an actor on a third node (the receiver dials it). Every node runs a spawner
// (spawn.hpp): register_spawnable here, then spawn("b", "word-counter", Args{...}) from elsewhere,
// or a SpawnRequest from inside an actor. An actor whose handle crossed (or that a lookup found)
// stays reachable by the peer until it stops (below).
//
// Flow control: a node grants each peer a window of envelopes and of bytes (NodeConfig::
// receive_window, receive_window_bytes) and grants them back as its actors handle them, so a fast
// sender cannot exhaust a slow node's memory. On the sending side, what waits for the peer's
// credit (or connection) is bounded in messages and in bytes (NodeConfig::max_outbound_queue,
// max_outbound_bytes): beyond either, a sending actor is muted and a sending thread waits
// (backpressure, as for a bounded mailbox), or the send fails with Errc::mailbox_full.
//
// Sizes: each node states in its hello the largest frame it accepts (NodeConfig::max_frame_bytes);
// the other cuts its frames well under it (about 1 MiB, or half the limit if less). A message
// whose envelope would not fit in one such frame is refused at the send (Errc::message_too_large,
// a dead letter): large messages are refused, not chunked. An undeclared type is refused there
// too (Errc::not_serializable). Neither ever reaches the wire or closes the connection.

#pragma once

#include <troupe/error.hpp>
#include <troupe/handle.hpp>
#include <troupe/runtime/mailbox_limit.hpp>
#include <troupe/scoped_actor.hpp>
#include <troupe/system.hpp>
#include <troupe/transport/cluster.hpp>
#include <troupe/transport/spawn.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace troupe::transport {

// PEM files for TLS between nodes. Every node of a cluster trusts the same CA(s) and has a
// certificate signed by one of them. Checks: both sides verify the other's certificate chain
// against `trusted_ca_file` only (not the system's trust store); the dialer also checks that the
// listener's certificate names the node it dialled (a subjectAltName DNS entry, or else the
// common name, equal to the node name: give each node a certificate for its own name); the
// listener checks the dialer's chain only, the dialer's name being proven by the HMAC handshake.
struct TlsConfig {
  std::string certificate_chain_file;  // this node's certificate first, then any intermediates
  std::string private_key_file;        // the certificate's key, unencrypted
  std::string trusted_ca_file;         // the CA certificate(s) that sign the nodes' certificates
};

struct NodeConfig {
  std::string name;  // unique among the nodes that talk to each other
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 0;  // 0: a free port (see Node::port)
  // The host this node names as its own to peers (they pass it on with handles to its actors, so
  // third nodes can dial it). Empty: the listen host, except that a wildcard listen host (0.0.0.0,
  // ::) is replaced, on each connection, by this node's address on that connection.
  std::string advertise_host{};
  // Also listen on this Unix-domain socket path (empty: only TCP). Nodes on the same host dial it
  // with Node::add_peer_unix; the handshake, TLS if configured, and everything after are the same
  // as over TCP. A socket file already at the path (one a stopped node left) is replaced, anything
  // else there is an error; the node removes the file when it stops. Handles to this node's
  // actors still name its TCP address (a third node may be on another host).
  std::string listen_unix{};
  // Shared by every node. At least 128 bits of key material (secret_strength_bits), or the node
  // does not start: make one with generate_secret_file (troupe-node --generate-secret FILE).
  std::string secret;
  // Starts the node with a secret weaker than kMinSecretBits. A rogue listener that a node dials
  // can test guesses of the secret offline (see "What a dialer gives away" above); take this
  // risk only on a network where no one can impersonate a node, or with TLS.
  bool accept_weak_secret = false;
  // The largest frame this node accepts; a larger one closes its connection. Stated to each peer
  // in the handshake: a peer cuts its frames well under it, and refuses at the send (Errc::
  // message_too_large, a dead letter) a message whose envelope would not fit in one frame, that is
  // an encoded payload over about max_frame_bytes - 1 KiB. Large messages are refused, not chunked.
  // Between 2 KiB and 256 MiB (the constructor throws otherwise).
  std::size_t max_frame_bytes = 16u << 20;
  // Liveness: a connection that has sent nothing for `heartbeat_interval` sends a heartbeat; one
  // that has received nothing for `heartbeat_timeout` is closed ("no heartbeat") and its peer is
  // down. A dead or partitioned peer is so detected within about timeout + interval / 4.
  Duration heartbeat_interval = std::chrono::seconds(1);
  Duration heartbeat_timeout = std::chrono::seconds(4);
  // A connection must finish each of its handshakes (TLS, if configured, then the HMAC one) within
  // this; a peer that connects and stalls is closed ("handshake timed out") and counted in
  // handshakes_refused, so it cannot hold a socket forever.
  Duration handshake_timeout = std::chrono::seconds(5);
  // Connections accepted and still in their handshakes, at most this many at once: one more is
  // closed at once and refused as "busy". Each holds buffers (64 KiB and more, with TLS) until it
  // authenticates or times out, so without this bound anyone who can reach the port could make the
  // node hold whatever they open in handshake_timeout. A flood of stalling connections makes good
  // peers wait too, but only for it: they are served again once the flood's connections time out.
  // At least 1 (the constructor throws otherwise).
  std::uint32_t max_handshakes = 64;
  // How long the transport thread keeps polling after its last frame or hand-over before it
  // sleeps in the event loop (<troupe/runtime/idle_spin.hpp>): while it polls, a frame or a
  // worker's message is taken up without a wake-up. The polling pauses where it does not pay
  // (runtime::AdaptiveSpin: nothing came in several polls in a row, or the machine is busy).
  // Zero: sleep at once.
  std::chrono::microseconds idle_spin{50};
  // Called on the transport thread when the connection to a peer is lost (after the monitors,
  // links and requests that depended on it were told). Must not block. Not called for a peer that
  // left the cluster gracefully, nor when this node closes its connections to rejoin its cluster
  // as a new incarnation (cluster.hpp): those peers are not down.
  std::function<void(std::string_view node)> on_node_down{};
  // A peer this node has had nothing to do with for this long is forgotten: no connection or dial,
  // nothing queued for it, no request or lookup awaiting its answer, no link or monitor across,
  // and no handle here to any actor of its that is not dead already (a node-down kills them). Its
  // counters and its series in the metrics go with it; a node of that name later is a new peer.
  // So a long-lived node whose cluster comes and goes under new names (autoscaled members, each
  // named afresh) keeps only the peers of its last few minutes. A peer given by Node::add_peer is
  // configuration, and stays. Zero: never forget.
  Duration forget_idle_peers_after = std::chrono::minutes(5);
  // Credits, in envelopes: each peer may have at most this many envelopes on their way to this
  // node or in its actors' mailboxes, not yet handled. Bounds what a peer can make this node hold.
  std::uint32_t receive_window = 8192;
  // The same window in bytes, as envelopes weigh on the wire (envelope_size.hpp); raised to at least
  // twice max_frame_bytes, so that any message the peer may send fits in what it is granted.
  // Decoded, a message takes more than it weighs: a string (at least 4 bytes on the wire) takes 32
  // in memory, a handle (about 10) a stand-in of about 250. What a peer can make this node
  // hold is a small multiple of this window (tens of times for a message of handles alone).
  std::uint64_t receive_window_bytes = 32u << 20;
  // Messages (one-way and requests, to all of one peer's actors) queued on this node and not yet
  // on the wire: waiting for the peer's credit or for the connection. At this bound:
  //   backpressure (default): the message is queued; a sending actor is muted (it is not run
  //     again) and a sending thread waits, until the queue has drained to half;
  //   fail: the send returns Errc::mailbox_full (a request's response is that error).
  // Overflow::drop is not offered for remote actors: it counts as fail. Responses have their own
  // bound, max_outbound_response_bytes.
  std::uint32_t max_outbound_queue = 65536;
  // The same bound in bytes, each message weighed by its encoded size (wire_type.hpp's `size`):
  // whichever bound is reached first applies the policy below.
  std::uint64_t max_outbound_bytes = 64u << 20;
  runtime::Overflow outbound_overflow = runtime::Overflow::backpressure;
  // Responses to one peer's requests queued on this node and not yet on the wire (waiting for the
  // peer's credit, or for it to read), in bytes as for max_outbound_bytes. A responder is never
  // muted or refused: it answers a request this node already took. At this bound the response is
  // replaced by a small error (Errc::mailbox_full) that says why, so the requester hears at once;
  // and once a quarter more than the bound waits (such errors), the peer's next request closes
  // its connection: it asks faster than it reads.
  std::uint64_t max_outbound_response_bytes = 64u << 20;
  // TLS on every connection of this node; none: plaintext (then only the HMAC handshake).
  std::optional<TlsConfig> tls{};
  // How this node finds the members of its cluster (cluster.hpp): the peers it is given
  // (StaticDiscovery, the default), a join through seeds (SeedDiscovery), or etcd (EtcdDiscovery).
  std::variant<StaticDiscovery, SeedDiscovery, EtcdDiscovery> discovery{};
  // Where to serve the metrics of the node's System (/metrics in Prometheus text format,
  // /metrics.json, the dashboard at /), as "host:port" (port 0 picks a free one: System::
  // metrics_address()). Set, and the System serving nothing yet, the node starts serving there
  // (System::serve_metrics); the server belongs to the System and outlives the node. A System
  // that serves already keeps its address. The constructor throws if it cannot listen there.
  std::string metrics_address{};
};

struct NodeStats {
  std::uint64_t connections_accepted = 0;  // authenticated, either direction
  // Connections refused before authentication, for any reason (node.hpp's "Authentication"), in
  // either direction; each counted once.
  std::uint64_t handshakes_refused = 0;
  std::uint64_t connections_failed = 0;  // closed for an error after authentication (bad frame, I/O)
  std::uint64_t envelopes_received = 0;
  std::uint64_t dead_letters = 0;  // undeclared types, unknown receivers
  // Local actors peers can reach by id now (requesters, watchers, linkers, lookup results, ...);
  // each is dropped when it stops.
  std::uint64_t exported_actors = 0;  // local actors peers can name, the node's spawner and membership actor included
  // Requests to remote actors whose requester awaits a response (failed with node_down if the
  // peer goes first); a requester that stops takes its entries with it.
  std::uint64_t pending_requests = 0;
  // Authenticated connections open now: one per connected peer (two nodes that dial each other
  // at once keep one connection, the one the node whose name sorts lower dialled).
  std::uint64_t connections_open = 0;
  // Remote actors this node stands in for now: those something here refers to (a handle, a
  // request awaiting its response, a message not yet sent), and up to as many again (or 1,024)
  // that nothing does any more, dropped at the next sweep.
  std::uint64_t remote_actors = 0;
  // Peers this node keeps: every node it is connected to or has had to do with lately
  // (NodeConfig::forget_idle_peers_after), and each seed address it has asked lately
  // (SeedDiscovery: a placeholder until the node there says its name).
  std::uint64_t peers = 0;
};

// The secret from a file that only its owner may read (mode 0600 or stricter).
Result<std::string> load_secret_file(const std::string& path);
// The secret from an environment variable.
Result<std::string> load_secret_env(const char* variable);
// Writes a new random secret to `path`: 256 bits from OpenSSL's CSPRNG as 64 hex digits and a
// newline, in a file created with mode 0600. Refuses to replace an existing file (or follow a
// link). The error (Errc::node_unreachable, as load_secret_file's) says what failed.
Result<void> generate_secret_file(const std::string& path);

// The fewest bits of key material a node's secret must have (unless NodeConfig::accept_weak_secret).
inline constexpr double kMinSecretBits = 128;
// An estimate of the key material in `secret`, in bits: its length times log2 of the size of the
// alphabet it draws from, the sum of the character classes it uses: lowercase letters 26,
// uppercase 26, digits 10, printable ASCII symbols and the space 33; a secret with any other byte
// counts as drawing from all 256. So 64 hex digits (generate_secret_file) give 330 bits, 43
// base64 characters at least 256, 16 random bytes 128; "hunter2hunter2" (14 lowercase letters and
// digits) 72, refused. It is an upper bound: it cannot see that a long secret is made of dictionary words
// or repeats itself. A random secret from generate_secret_file is the sure way.
double secret_strength_bits(std::string_view secret) noexcept;

namespace detail {
class NodeCore;
}

class Node {
 public:
  // Starts the transport thread and listens. Throws std::runtime_error if it cannot listen, the
  // secret is empty or weak (NodeConfig::secret), or a TLS file cannot be read or parsed.
  // `system` must outlive the node.
  Node(System& system, NodeConfig config);
  // Closes every connection and stops the transport thread. Messages still queued for remote
  // actors are dropped; handles to remote actors stay valid (sends to them become dead letters).
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const std::string& name() const noexcept;
  std::uint16_t port() const noexcept;

  // Where peer `name` listens; the node dials it on first use.
  void add_peer(std::string name, std::string host, std::uint16_t port);
  // Likewise for a peer on this host that listens on a Unix-domain socket (NodeConfig::listen_unix).
  void add_peer_unix(std::string name, std::string socket_path);

  // The actor registered as `actor_name` on node `peer` (blocking; call it outside actor handlers).
  // Errors: no_such_name, node_unreachable (unknown peer, refused or failed connection), timeout.
  Result<DynamicHandle> whereis(std::string_view peer, std::string_view actor_name,
                                Duration timeout = std::chrono::seconds(5));
  // Typed: the actor as typed handle H (a Handle<R(M)...>), checked on the peer: if the actor
  // lacks a handler for a message type H names, Errc::interface_mismatch, naming those types.
  // Asks the peer's spawner (a WhereisRequest::expecting<H>); errors as above.
  //   Result<Handle<int(Get), void(Add)>> counter = node.whereis<Handle<int(Get), void(Add)>>("b", "counter");
  template <TypedHandle H>
  Result<H> whereis(std::string_view peer, std::string_view actor_name, Duration timeout = std::chrono::seconds(5)) {
    ScopedActor self(system());
    Result<DynamicHandle> found =
        self.request<DynamicHandle>(spawner(peer), WhereisRequest::expecting<H>(std::string(actor_name)), timeout);
    if (!found) return found.error();
    return troupe::detail::assume_typed<H>(std::move(*found));
  }

  // Lets any node start actors of type `type` here (Node::spawn, or a SpawnRequest to this node's
  // spawner): `factory(system, args)` returns the new actor's handle (a DynamicHandle or a typed
  // one); Args is a declared wire type. A later registration under the same name replaces it.
  template <class Args, class F>
  void register_spawnable(std::string type, F factory) {
    static_assert(WireEncodable<Args>, "troupe: spawn arguments must be a declared wire type");
    register_spawnable(std::move(type), &message_type<Args>,
                       [factory = std::move(factory)](System& system, Envelope& args) -> DynamicHandle {
                         return factory(system, static_cast<const Args&>(payload<Args>(args)));
                       });
  }

  // Starts an actor of registered type `type` on node `peer` (blocking; call it outside actor
  // handlers, which send a SpawnRequest to spawner(peer) instead). Errors: no_such_type,
  // bad_arguments, actor_failed (the factory threw), node_unreachable, timeout.
  template <class Args>
  Result<DynamicHandle> spawn(std::string_view peer, std::string type, Args args,
                              Duration timeout = std::chrono::seconds(5)) {
    ScopedActor self(system());
    return self.request<DynamicHandle>(spawner(peer), SpawnRequest::of(std::move(type), std::move(args)), timeout);
  }
  // Typed: the new actor as typed handle H, checked on the peer: if it lacks a handler for a
  // message type H names, it is stopped there and the spawn fails with Errc::interface_mismatch,
  // naming those types.
  template <TypedHandle H, class Args>
  Result<H> spawn(std::string_view peer, std::string type, Args args, Duration timeout = std::chrono::seconds(5)) {
    ScopedActor self(system());
    Result<DynamicHandle> spawned = self.request<DynamicHandle>(
        spawner(peer), SpawnRequest::expecting<H>(std::move(type), std::move(args)), timeout);
    if (!spawned) return spawned.error();
    return troupe::detail::assume_typed<H>(std::move(*spawned));
  }

  // The built-in spawner of node `peer` (this node's own for its own name), for SpawnRequest and
  // WhereisRequest (spawn.hpp) from actors. Needs no network round trip: it only waits for the
  // transport thread to make the proxy. Empty once the node has stopped.
  DynamicHandle spawner(std::string_view peer);

  NodeStats stats() const noexcept;

  // Membership: the members, their events, a graceful leave (cluster.hpp).
  Cluster& cluster() noexcept { return cluster_; }

 private:
  System& system() noexcept;
  void register_spawnable(std::string type, const MessageType* args_type,
                          std::function<DynamicHandle(System&, Envelope&)> make);

  std::shared_ptr<detail::NodeCore> core_;
  Cluster cluster_;
};

}  // namespace troupe::transport
