// The host a node names as its own (NodeConfig::advertise_host): what its hello says, and that a
// third node can dial it from a handle passed on by another node.
#include "peer_process.hpp"
#include "transport_test_support.hpp"
#include "wire.capnp.h"
#include "wire_messages.hpp"

#include <troupe/troupe.hpp>

#include <capnp/serialize.h>
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <stdexcept>
#include <string>

using namespace transport_test;
using namespace std::chrono_literals;

namespace {

// A plain TCP listener on 127.0.0.1 that plays a peer long enough to read the dialer's hello.
class RawListener {
 public:
  RawListener() : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (fd_ < 0) throw std::runtime_error("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 4) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &length) != 0) {
      ::close(fd_);
      throw std::runtime_error("listen failed");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~RawListener() { ::close(fd_); }
  RawListener(const RawListener&) = delete;
  RawListener& operator=(const RawListener&) = delete;
  std::uint16_t port() const noexcept { return port_; }

  // Accepts one connection and reads its first frame, the dialer's hello: (listenHost, listenPort).
  // A node that never dials fails the test at the receive timeout instead of hanging it.
  std::pair<std::string, std::uint16_t> read_hello() {
    timeval bound{10, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
    const int connection = ::accept(fd_, nullptr, nullptr);
    if (connection < 0) throw std::runtime_error("no node dialled");
    ::setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &bound, sizeof bound);
    try {
      capnp::StreamFdMessageReader frame(connection);
      auto hello = frame.getRoot<troupe::transport::wire::Frame>().getHello();
      std::pair<std::string, std::uint16_t> said{hello.getListenHost().cStr(), hello.getListenPort()};
      ::close(connection);
      return said;
    } catch (...) {
      ::close(connection);
      throw;
    }
  }

 private:
  int fd_;
  std::uint16_t port_ = 0;
};

// What node `config` says in its hello when it dials a peer on 127.0.0.1.
std::pair<std::string, std::uint16_t> hello_of(troupe::transport::NodeConfig config, std::uint16_t& node_port) {
  RawListener peer;
  troupe::System system;
  troupe::transport::Node node(system, std::move(config));
  node_port = node.port();
  node.add_peer("x", "127.0.0.1", peer.port());
  // The lookup makes the node dial; the raw peer never answers, so it times out (its only job).
  CHECK(node.whereis("x", "anyone", 50ms).code() == troupe::Errc::timeout);
  return peer.read_hello();
}

}  // namespace

TEST_CASE("a node's hello names a host its peer can dial") {
  std::uint16_t port = 0;
  SUBCASE("listening on 0.0.0.0: its address on the connection, not the wildcard") {
    auto config = node_config("a");
    config.listen_host = "0.0.0.0";
    const auto [host, said_port] = hello_of(config, port);
    CHECK(host == "127.0.0.1");
    CHECK(said_port == port);
  }
  SUBCASE("listening on a specific address: that address") {
    const auto [host, said_port] = hello_of(node_config("a"), port);
    CHECK(host == "127.0.0.1");
    CHECK(said_port == port);
  }
  SUBCASE("with advertise_host: that host, whatever it listens on") {
    auto config = node_config("a");
    config.listen_host = "0.0.0.0";
    config.advertise_host = "node-a.example";
    const auto [host, said_port] = hello_of(config, port);
    CHECK(host == "node-a.example");
    CHECK(said_port == port);
  }
}

TEST_CASE("a node listening on 0.0.0.0 is reached by a third node through a handle passed on") {
  PeerProcess b("b", kTestSecret);
  PeerProcess c("c", kTestSecret);
  troupe::System system;
  auto config = node_config("a");
  config.listen_host = "0.0.0.0";
  troupe::transport::Node node(system, config);
  node.add_peer("b", "127.0.0.1", b.port());  // a dials b; c never hears of a but from b
  auto relay_b = node.whereis("b", "relay", 10s);
  REQUIRE(relay_b.ok());
  troupe::ScopedActor me(system);
  auto relay_c = me.request<troupe::DynamicHandle>(*relay_b, Introduce{"c", c.port(), "relay"}, 10s);
  REQUIRE(relay_c.ok());
  REQUIRE(relay_c->valid());

  auto got = std::make_shared<std::promise<Pong>>();
  auto answer = got->get_future();
  troupe::Handle<void(Pong)> collector = system.spawn([got](troupe::Context&) {
    return troupe::behavior([got](const Pong& p) { got->set_value(p); });
  });
  // b sends c the callback holding a's collector: c learns a's address from b, dials a, answers.
  REQUIRE(relay_b->send(Forward{*relay_c, Callback{collector, 7}}).ok());
  REQUIRE(answer.wait_for(10s) == std::future_status::ready);  // a bound for a failing test only
  CHECK(answer.get().n == 8);
  CHECK(node.stats().connections_accepted >= 2);  // b's connection, and c's dial to a
}
