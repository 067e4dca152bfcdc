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
// Handles travel inside declared messages (wire_type.hpp) and stay usable on the receiving node,
// also when they name an actor on a third node (the receiver dials it). Every node runs a spawner
// (spawn.hpp): register_spawnable here, then spawn("b", "word-counter", Args{...}) from elsewhere,
// or a SpawnRequest from inside an actor. An actor whose handle crossed (or that a lookup found)
// stays exported, so reachable and alive, for as long as its node runs.
//
// Not yet across nodes: links, monitors and node-down (a signal to a remote actor is dropped and
// logged), heartbeats, credits (the outbound queue of an unconnected peer is unbounded), TLS.
#pragma once

#include <troupe/error.hpp>
#include <troupe/handle.hpp>
#include <troupe/scoped_actor.hpp>
#include <troupe/system.hpp>
#include <troupe/transport/spawn.hpp>

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

  // The built-in spawner of node `peer` (this node's own for its own name), for SpawnRequest and
  // WhereisRequest (spawn.hpp) from actors. Needs no network round trip: it only waits for the
  // transport thread to make the proxy. Empty once the node has stopped.
  DynamicHandle spawner(std::string_view peer);

  NodeStats stats() const noexcept;

 private:
  System& system() noexcept;
  void register_spawnable(std::string type, const MessageType* args_type,
                          std::function<DynamicHandle(System&, Envelope&)> make);

  std::shared_ptr<detail::NodeCore> core_;
};

}  // namespace troupe::transport
