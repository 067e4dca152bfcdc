// A plain TCP client for the transport tests: it plays a peer that is not a node (garbage, a
// truncated frame, nothing at all, or a handshake by hand) and sees whether and when the node
// closes the connection.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <vector>

namespace transport_test {

class RawClient {
 public:
  // Connects to `host` (a loopback address: 127.0.0.2 is where the cluster tests' proxies listen).
  explicit RawClient(std::uint16_t port, const char* host = "127.0.0.1") : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    if (::inet_pton(AF_INET, host, &addr.sin_addr) != 1 ||
        ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      throw std::runtime_error("connect failed");
    }
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // MSG_NOSIGNAL: a node that already closed the connection is a failed send, not a SIGPIPE.
  bool send(const void* data, std::size_t size) {
    return ::send(fd_, data, size, MSG_NOSIGNAL) == static_cast<ssize_t>(size);
  }
  bool send(const std::vector<std::uint8_t>& bytes) { return send(bytes.data(), bytes.size()); }
  void end_stream() { ::shutdown(fd_, SHUT_WR); }
  void close() {  // closes the connection now (the destructor would too)
    ::close(fd_);
    fd_ = -1;
  }

  int fd() const noexcept { return fd_; }
  // The client's own port: with 127.0.0.1, the address the node sees (and logs) it as.
  std::uint16_t local_port() const {
    sockaddr_in addr{};
    socklen_t length = sizeof addr;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &length) != 0) throw std::runtime_error("getsockname");
    return ntohs(addr.sin_port);
  }
  // Blocking reads (a Cap'n Proto reader on fd()) fail after `bound` instead of hanging a test.
  void set_receive_timeout(std::chrono::seconds bound) {
    timeval tv{static_cast<time_t>(bound.count()), 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }

  // Reads what the node sends until it closes the connection (EOF or a reset): how many bytes
  // came first; or nothing if `bound` passes first. The bound only limits a failing test.
  std::optional<std::size_t> bytes_until_closed(std::chrono::seconds bound = std::chrono::seconds(10)) {
    set_receive_timeout(bound);
    char buffer[256];
    std::size_t total = 0;
    ssize_t n = 0;
    while ((n = ::read(fd_, buffer, sizeof buffer)) > 0) total += static_cast<std::size_t>(n);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return total;
    return std::nullopt;
  }
  // Reads (and drops) what the node sends until it closes the connection: true, or until
  // `bound` passes first: false.
  bool closed_by_node(std::chrono::seconds bound = std::chrono::seconds(10)) {
    return bytes_until_closed(bound).has_value();
  }

 private:
  int fd_;
};

}  // namespace transport_test
