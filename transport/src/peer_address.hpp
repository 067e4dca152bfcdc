// Who is at the other end of a connection, as the node's log names it when it refuses one.
#pragma once

#include <kj/async-io.h>

#include <string>

namespace troupe::transport::detail {

struct PeerAddress {
  std::string text;  // for the log: "127.0.0.1:54321", "[::1]:54321", "unix:/run/app/b.sock"
  // What repeated refusals are counted under (RefusalLog): the host without its port, since a
  // peer that connects again comes from another ephemeral port.
  std::string key;
};

// The remote address of an accepted stream. Call it on the plain stream, before any TLS
// wrapping. A Unix-socket peer has no name of its own: `fallback` names it (the listening path);
// a stream that is no socket at all is "an unknown address".
PeerAddress peer_address_of(kj::AsyncIoStream& stream, const std::string& fallback);

}  // namespace troupe::transport::detail
