// The test proxy itself (tcp_proxy.hpp): a proxy takes its address again while the connections an
// earlier one closed still linger there in TIME_WAIT, as the cluster tests' proxies on 127.0.0.2
// must whenever the kernel gives a new node a port such a proxy used before.
#include "tcp_proxy.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <memory>

using namespace std::chrono_literals;

namespace {

// Dials 127.0.0.2:port; -1 if the connection is refused.
int dial(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, "127.0.0.2", &addr.sin_addr);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

TEST_CASE("a proxy listens again where an earlier one's closed connections are in TIME_WAIT") {
  auto first = std::make_unique<transport_test::TcpProxy>(1, "127.0.0.2");
  const std::uint16_t port = first->port();
  first->partition();  // so it closes what it accepts at once: its end closes first
  const int client = dial(port);
  REQUIRE(client >= 0);
  REQUIRE(troupe_test::eventually([&] { return first->accepted() == 1; }, 10s));
  char byte;
  timeval bound{10, 0};
  ::setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
  REQUIRE(::recv(client, &byte, 1, 0) == 0);  // the proxy's close arrived
  ::close(client);                            // and ours: the proxy's end of it is now in TIME_WAIT on 127.0.0.2:port
  first.reset();

  std::unique_ptr<transport_test::TcpProxy> second;
  CHECK_NOTHROW(second = std::make_unique<transport_test::TcpProxy>(1, "127.0.0.2", port));
  REQUIRE(second != nullptr);
  const int again = dial(port);
  CHECK(again >= 0);
  CHECK(troupe_test::eventually([&] { return second->accepted() == 1; }, 10s));
  if (again >= 0) ::close(again);
}
