// The test proxy itself (tcp_proxy.hpp): a proxy takes its address again while the connections an
// earlier one closed still linger there in TIME_WAIT, as the cluster tests' proxies on 127.0.0.2
// must whenever the kernel gives a new node a port such a proxy used before.
#include "tcp_proxy.hpp"
#include "raw_client.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

using namespace std::chrono_literals;
using transport_test::RawClient;

TEST_CASE("a proxy listens again where an earlier one's closed connections are in TIME_WAIT") {
  auto first = std::make_unique<transport_test::TcpProxy>(1, "127.0.0.2");
  const std::uint16_t port = first->port();
  first->partition();  // so it closes what it accepts at once: its end closes first
  {
    RawClient client(port, "127.0.0.2");
    REQUIRE(troupe_test::eventually([&] { return first->accepted() == 1; }, 10s));
    REQUIRE(client.bytes_until_closed() == std::optional<std::size_t>(0));  // the proxy's close arrived
  }  // and ours: the proxy's end of it is now in TIME_WAIT on 127.0.0.2:port
  first.reset();

  std::unique_ptr<transport_test::TcpProxy> second;
  CHECK_NOTHROW(second = std::make_unique<transport_test::TcpProxy>(1, "127.0.0.2", port));
  REQUIRE(second != nullptr);
  CHECK_NOTHROW(RawClient(port, "127.0.0.2"));
  CHECK(troupe_test::eventually([&] { return second->accepted() == 1; }, 10s));
}
