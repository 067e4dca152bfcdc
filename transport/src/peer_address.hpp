// Who is at the other end of a connection, as the node's log names it when it refuses one.
#pragma once

#include <kj/async-io.h>

#include <cstdint>
#include <string>

namespace troupe::transport::detail {

struct PeerAddress {
  // For the log's message: "127.0.0.1:54321", "[::1]:54321", "unix:/run/app/b.sock", or, dialled,
  // "node 'b' at 10.0.0.2:7100".
  std::string text;
  // What repeated refusals are counted under (RefusalLog): the host without its port, since a
  // peer that connects again comes from another ephemeral port.
  std::string key;
  // For the log's fields: the node this node dialled (empty: an accepted connection, or a seed),
  // and the address alone (empty: it is `text`).
  std::string node{};
  std::string address{};
};

// The remote address of an accepted stream. Call it on the plain stream, before any TLS
// wrapping. A Unix-socket peer has no name of its own: `fallback` names it (the listening path);
// a stream that is no socket at all is "an unknown address".
PeerAddress peer_address_of(kj::AsyncIoStream& stream, const std::string& fallback);

// A peer's listening address as the log and the metrics write it: "10.0.0.2:7100", "[::1]:7100",
// or the host alone for a Unix socket ("unix:PATH", port 0).
std::string host_port_text(const std::string& host, std::uint16_t port);

}  // namespace troupe::transport::detail
