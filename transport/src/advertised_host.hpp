// Which host a node names as its own in its hello (Hello.listenHost), so that peers, and the nodes
// they pass handles to this node's actors to, can dial it.
#pragma once

#include <troupe/transport/node.hpp>

#include <kj/async-io.h>

#include <string>
#include <string_view>

namespace troupe::transport::detail {

// The numeric local address of a connected socket stream ("10.0.0.2", "::1"), or "" where the
// stream cannot say (not a socket). Call it on the plain stream, before any TLS wrapping.
std::string local_host_of(kj::AsyncIoStream& stream);

// NodeConfig::advertise_host if set; else the listen host, unless that is a wildcard (0.0.0.0, ::,
// *, empty), which no peer can dial: then `local_host`, the address this node has on the
// connection the hello goes over, which the peer evidently reached (or, unknown, the listen host).
std::string advertised_host(const NodeConfig& config, std::string_view local_host);

}  // namespace troupe::transport::detail
