#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "threads.hpp"

namespace contrast {

BlockingConnection::BlockingConnection(std::uint16_t port) {
  const trace::Span span(trace::SpanKind::wait_io, "connects");
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // small requests: no Nagle delay
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc;
  do {
    rc = ::connect(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

BlockingConnection::~BlockingConnection() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<std::uint64_t> BlockingConnection::ask(std::uint64_t request) {
  if (fd_ < 0) return std::nullopt;
  const trace::Span span(trace::SpanKind::wait_io, "waits for the answer");
  unsigned char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(request >> (8 * i));
  for (std::size_t sent = 0; sent < sizeof bytes;) {
    const ssize_t n = ::send(fd_, bytes + sent, sizeof bytes - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    sent += static_cast<std::size_t>(n);
  }
  for (std::size_t got = 0; got < sizeof bytes;) {  // blocks for the server's latency
    const ssize_t n = ::recv(fd_, bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    got += static_cast<std::size_t>(n);
  }
  std::uint64_t answer = 0;
  for (int i = 0; i < 8; ++i) answer |= std::uint64_t{bytes[i]} << (8 * i);
  return answer;
}

}  // namespace contrast
