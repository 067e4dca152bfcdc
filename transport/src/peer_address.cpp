#include "peer_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <string>

namespace troupe::transport::detail {

PeerAddress peer_address_of(kj::AsyncIoStream& stream, const std::string& fallback) {
  sockaddr_storage address{};
  kj::uint length = sizeof address;
  // Streams that are not sockets throw "unimplemented".
  if (kj::runCatchingExceptions([&]() { stream.getpeername(reinterpret_cast<sockaddr*>(&address), &length); }) !=
      nullptr) {
    return {"an unknown address", "unknown"};
  }
  char host[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    if (::inet_ntop(AF_INET, &v4.sin_addr, host, sizeof host) != nullptr)
      return {std::string(host) + ":" + std::to_string(ntohs(v4.sin_port)), host};
  } else if (address.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    if (::inet_ntop(AF_INET6, &v6.sin6_addr, host, sizeof host) != nullptr) {
      // Appended piece by piece: g++ 12 warns falsely (-Wrestrict) about "[" + std::string.
      std::string text(1, '[');
      text.append(host).append("]:").append(std::to_string(ntohs(v6.sin6_port)));
      return {std::move(text), host};
    }
  } else if (address.ss_family == AF_UNIX) {
    return {fallback, fallback};
  }
  return {"an unknown address", "unknown"};
}

std::string host_port_text(const std::string& host, std::uint16_t port) {
  std::string where;  // appended piece by piece: g++ 12 warns falsely (-Wrestrict) about "[" + std::string
  if (port == 0 && host.rfind("unix:", 0) == 0) {
    where = host;
  } else if (host.find(':') != std::string::npos) {
    where.append(1, '[').append(host).append("]:").append(std::to_string(port));
  } else {
    where.append(host).append(1, ':').append(std::to_string(port));
  }
  return where;
}

}  // namespace troupe::transport::detail
