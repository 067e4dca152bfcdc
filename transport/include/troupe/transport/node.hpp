// A node: the actor system of one process, reachable by other processes over TCP.
//
//   troupe::System system;
//   troupe::transport::Node node(system, {.name = "a", .secret =
//   *troupe::transport::load_secret_env("TROUPE_SECRET")}); node.add_peer("b", "127.0.0.1", 7001);
//   troupe::Result<troupe::DynamicHandle> echo = node.whereis("b", "echo");   // b's registry
//   echo->send(Ping{1, "hi"});                                  // as to a local actor
//
// A remote actor stands behind the same handle types as a local one: send, requests (ScopedActor
// and co_await self.request) and replies work across nodes, FIFO per sender→receiver pair. Only
// declared message types cross (wire_type.hpp); a message of another type to a remote actor is a
// dead letter, and a request of it gets Errc::not_serializable.
//
// One transport thread runs a kj event loop: it listens, dials peers on demand (the first lookup
// of a peer), authenticates every connection (handshake.hpp's mutual HMAC-SHA256 challenge), and
// serializes what actors send to remote handles. Workers hand it remote-bound messages through
// the remote actor's mailbox and one coalesced cross-thread wake-up per batch.
//
// Flow control: a node grants each peer a window of envelopes (NodeConfig::receive_window) and
// grants them back as its actors handle them, so a fast sender cannot exhaust a slow node's
// memory. On the sending side, what waits for the peer's credit (or connection) is bounded
// (NodeConfig::max_outbound_queue): beyond it, a sending actor is muted and a sending thread waits
// (backpressure, as for a bounded mailbox), or the send fails with Errc::mailbox_full.
//
// Not yet across nodes: links, monitors and node-down (a signal to a remote actor is dropped and
// logged), heartbeats, handles inside messages, remote spawn, TLS.
#pragma once

#include <troupe/error.hpp>
#include <troupe/handle.hpp>
#include <troupe/runtime/mailbox_limit.hpp>
#include <troupe/system.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace troupe::transport {

struct NodeConfig {
  std::string name;  // unique among the nodes that talk to each other
  std::string listen_host = "127.0.0.1";
  std::uint16_t listen_port = 0;            // 0: a free port (see Node::port)
  std::string secret;                       // shared by every node; must not be empty
  std::size_t max_frame_bytes = 16u << 20;  // a larger frame closes its connection
  // Credits, in envelopes: each peer may have at most this many envelopes on their way to this
  // node or in its actors' mailboxes, not yet handled. Bounds what a peer can make this node hold.
  std::uint32_t receive_window = 8192;
  // Messages (one-way and requests, to all of one peer's actors) queued on this node and not yet
  // on the wire: waiting for the peer's credit or for the connection. At this bound:
  //   backpressure (default): the message is queued; a sending actor is muted (it is not run
  //     again) and a sending thread waits, until the queue has drained to half;
  //   fail: the send returns Errc::mailbox_full (a request's response is that error).
  // Overflow::drop is not offered for remote actors: it counts as fail. Responses are not
  // counted (they answer the peer's requests, which the peer's own bound limits).
  std::uint32_t max_outbound_queue = 65536;
  runtime::Overflow outbound_overflow = runtime::Overflow::backpressure;
  // Connection events (refusals, closes and why); default: one line on stderr.
  std::function<void(std::string_view)> log{};
};

struct NodeStats {
  std::uint64_t connections_accepted = 0;  // authenticated, either direction
  std::uint64_t handshakes_refused = 0;    // a peer that could not prove the secret, or failed to
  std::uint64_t connections_failed = 0;    // closed for an error after authentication (bad frame, I/O)
  std::uint64_t envelopes_received = 0;
  std::uint64_t dead_letters = 0;  // undeclared types, unknown receivers
};

// The secret from a file that only its owner may read (mode 0600 or stricter).
Result<std::string> load_secret_file(const std::string& path);
// The secret from an environment variable.
Result<std::string> load_secret_env(const char* variable);

namespace detail {
class NodeCore;
}

class Node {
 public:
  // Starts the transport thread and listens. Throws std::runtime_error if it cannot listen or the
  // secret is empty. `system` must outlive the node.
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

  // The actor registered as `actor_name` on node `peer` (blocking; call it outside actor handlers).
  // Errors: no_such_name, node_unreachable (unknown peer, refused or failed connection), timeout.
  Result<DynamicHandle> whereis(std::string_view peer, std::string_view actor_name,
                                Duration timeout = std::chrono::seconds(5));

  NodeStats stats() const noexcept;

 private:
  std::shared_ptr<detail::NodeCore> core_;
};

}  // namespace troupe::transport
