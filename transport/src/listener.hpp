// The node's listening sockets: TCP on NodeConfig::listen_host and listen_port, and a Unix socket
// on NodeConfig::listen_unix if set. Each accepted stream takes one of the handshake slots (none
// left: refused), goes through TLS when configured (a failed TLS handshake is a refusal) and then
// to a Connection. Transport thread only, but for port(), read once open() has returned.
#pragma once

#include "handshake_slots.hpp"
#include "peer_address.hpp"

#include <kj/async-io.h>

#include <cstdint>
#include <optional>
#include <string>

namespace troupe::transport::detail {

class NodeCore;

class Listener {
 public:
  explicit Listener(NodeCore& node) noexcept : node_(node) {}

  // Listens and accepts from now on; throws (a kj::Exception) if it cannot listen.
  void open();
  // Stops listening and removes the Unix socket file it bound, if any.
  void close();
  std::uint16_t port() const noexcept { return port_; }

 private:
  // `unix_path`: "unix:PATH" for the Unix-socket listener (its peers have no address), else "".
  kj::Promise<void> accept_loop(kj::ConnectionReceiver& listener, std::string unix_path);
  kj::Own<kj::ConnectionReceiver> listen_unix();  // on NodeConfig::listen_unix (throws if it cannot)
  void remove_unix_socket();                      // the file listen_unix() bound, if any
  // Runs a Connection on an accepted stream; `local_host`: this node's address on it. The
  // connection holds `slot` until it authenticates.
  void serve_accepted(kj::Own<kj::AsyncIoStream> stream, std::string local_host, PeerAddress from,
                      HandshakeSlots::Slot slot);

  NodeCore& node_;
  kj::Own<kj::NetworkAddress> address_;
  kj::Own<kj::ConnectionReceiver> tcp_;
  kj::Own<kj::ConnectionReceiver> unix_;
  std::uint16_t port_ = 0;
  std::optional<HandshakeSlots> handshakes_;  // from open(), NodeConfig::max_handshakes of them
  bool unix_socket_bound_ = false;  // NodeConfig::listen_unix is ours to remove
};

}  // namespace troupe::transport::detail
