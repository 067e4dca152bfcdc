#include "advertised_host.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace troupe::transport::detail {
namespace {

bool is_wildcard(std::string_view host) {
  return host.empty() || host == "*" || host == "0.0.0.0" || host == "::" || host == "[::]";
}

}  // namespace

std::string local_host_of(kj::AsyncIoStream& stream) {
  sockaddr_storage address{};
  kj::uint length = sizeof address;
  // Streams that are not sockets throw "unimplemented": then the caller has no local address.
  if (kj::runCatchingExceptions([&]() { stream.getsockname(reinterpret_cast<sockaddr*>(&address), &length); }) !=
      nullptr) {
    return {};
  }
  char text[INET6_ADDRSTRLEN] = {};
  const void* raw = nullptr;
  if (address.ss_family == AF_INET) {
    raw = &reinterpret_cast<const sockaddr_in*>(&address)->sin_addr;
  } else if (address.ss_family == AF_INET6) {
    raw = &reinterpret_cast<const sockaddr_in6*>(&address)->sin6_addr;
  } else {
    return {};  // a Unix socket: no host a remote peer could dial
  }
  if (::inet_ntop(address.ss_family, raw, text, sizeof text) == nullptr) return {};
  return text;
}

std::string advertised_host(const NodeConfig& config, std::string_view local_host) {
  if (!config.advertise_host.empty()) return config.advertise_host;
  if (is_wildcard(config.listen_host) && !local_host.empty()) return std::string(local_host);
  return config.listen_host;
}

}  // namespace troupe::transport::detail
