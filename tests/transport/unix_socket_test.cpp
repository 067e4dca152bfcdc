// Nodes on one host over a Unix-domain socket (NodeConfig::listen_unix, Node::add_peer_unix):
// the same handshake and messages as over TCP; a socket file a killed node left behind is
// replaced, a live node's is not; a node removes its socket file when it stops.
#include "peer_process.hpp"
#include "test_support.hpp"
#include "transport_test_support.hpp"
#include "wire_messages.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <string>

using namespace troupe_test;
using namespace transport_test;

namespace {

constexpr const char* kSecret = kTestSecret;

bool exists(const std::string& path) {
  struct stat status {};
  return ::lstat(path.c_str(), &status) == 0;
}

std::string socket_path(const char* what) {
  return "/tmp/troupe-test-" + std::to_string(::getpid()) + "-" + what + ".sock";
}

// A request to node b's echo actor, reached only through its Unix socket `path`.
void request_over(const std::string& path) {
  troupe::System system;
  troupe::transport::Node node(system, {.name = "a", .secret = kSecret});
  node.add_peer_unix("b", path);  // the only address of b this node has
  auto echo = node.whereis("b", "echo", 10s);
  REQUIRE(echo.ok());
  troupe::ScopedActor me(system);
  auto pong = me.request<Pong>(*echo, Ping{6, "over a Unix socket", {1, 2}}, 10s);
  REQUIRE(pong.ok());
  CHECK(pong->n == 7);
  CHECK(pong->text == "over a Unix socket");
  CHECK(pong->sum == 3);
}

}  // namespace

TEST_CASE("two nodes talk over a Unix-domain socket") {
  const std::string path = socket_path("b");
  ::unlink(path.c_str());
  {
    PeerProcess peer("b", kSecret, {"--unix", path});
    CHECK(exists(path));
    request_over(path);

    SUBCASE("a second node cannot take a live node's socket") {
      troupe::System system;
      CHECK_THROWS_WITH_AS(troupe::transport::Node(system, {.name = "c", .listen_unix = path, .secret = kSecret}),
                           doctest::Contains("another process listens"), std::runtime_error);
      request_over(path);  // b still serves on it
    }
    SUBCASE("the socket file of a killed node is replaced by the next node on that path") {
      peer.signal(SIGKILL);
      REQUIRE(exists(path));  // nobody removed it
      PeerProcess again("b", kSecret, {"--unix", path});
      request_over(path);
    }
  }
  // The node that listened last removed its socket file as it stopped (its stdin closed).
  CHECK(eventually([&] { return !exists(path); }));
}

TEST_CASE("a node refuses a Unix socket path taken by something that is not a socket") {
  const std::string path = socket_path("file");
  std::FILE* file = std::fopen(path.c_str(), "w");
  REQUIRE(file != nullptr);
  std::fclose(file);
  troupe::System system;
  CHECK_THROWS_WITH_AS(troupe::transport::Node(system, {.name = "a", .listen_unix = path, .secret = kSecret}),
                       doctest::Contains("not a socket"), std::runtime_error);
  CHECK(exists(path));  // left alone
  ::unlink(path.c_str());
}

TEST_CASE("a node removes its Unix socket file when it stops") {
  const std::string path = socket_path("self");
  ::unlink(path.c_str());
  {
    troupe::System system;
    troupe::transport::Node node(system, {.name = "a", .listen_unix = path, .secret = kSecret});
    CHECK(exists(path));
  }
  CHECK_FALSE(exists(path));
}
