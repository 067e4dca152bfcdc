// One name, one node: a second live node under a name already connected is refused and the live
// one keeps working; a node that really restarted is accepted once its old connection is known
// dead (closed by its death, or silent past the heartbeat timeout).
#include "log_lines.hpp"
#include "peer_process.hpp"
#include "test_support.hpp"
#include "transport_test_support.hpp"
#include "wire_messages.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

#include <signal.h>

#include <memory>
#include <string>
#include <vector>

using namespace transport_test;
using namespace std::chrono_literals;

namespace {

troupe::DynamicHandle spawn_echo(troupe::System& system) {
  return system.spawn([](troupe::Context&) {
    return troupe::behavior([](const Ping& p) { return Pong{p.n + 1, p.text, 0}; });
  });
}

// A request to `echo` from `system` is answered.
bool answers(troupe::System& system, const troupe::DynamicHandle& echo, int n) {
  troupe::ScopedActor me(system);
  auto pong = me.request<Pong>(echo, Ping{n, "", {}}, 10s);
  return pong.ok() && pong->n == n + 1;
}

}  // namespace

TEST_CASE("a second live node under a connected node's name is refused, and the live one keeps working") {
  LogLines log_a;
  LogLines log_b1;
  LogLines log_b2;
  troupe::System system_a({.log = log_a.config()});
  troupe::System system_b1({.log = log_b1.config()});
  troupe::System system_b2({.log = log_b2.config()});
  REQUIRE(system_a.register_name("echo", spawn_echo(system_a)).ok());
  REQUIRE(system_b1.register_name("echo", spawn_echo(system_b1)).ok());
  REQUIRE(system_b2.register_name("echo", spawn_echo(system_b2)).ok());
  troupe::transport::Node a(system_a, node_config("a"));
  troupe::transport::Node b1(system_b1, node_config("b"));
  troupe::transport::Node b2(system_b2, node_config("b"));

  // b1 connects to a; each can reach the other's echo.
  b1.add_peer("a", "127.0.0.1", a.port());
  auto a_from_b1 = b1.whereis("a", "echo", 10s);
  REQUIRE(a_from_b1.ok());
  auto b1_from_a = a.whereis("b", "echo", 10s);  // over the connection b1 dialled
  REQUIRE(b1_from_a.ok());

  b2.add_peer("a", "127.0.0.1", a.port());
  for (int attempt = 0; attempt < 3; ++attempt) {
    CAPTURE(attempt);
    // The impostor (or a misconfigured twin) is refused, and learns why.
    auto refused = b2.whereis("a", "echo", 10s);
    CHECK(refused.code() == troupe::Errc::node_unreachable);
    if (!refused.ok()) CHECK(refused.error().message().find("duplicate node name 'b'") != std::string::npos);
    // The live pair goes on, both ways, over its first connection.
    CHECK(answers(system_b1, *a_from_b1, attempt));
    CHECK(answers(system_a, *b1_from_a, attempt));
  }
  CHECK(log_a.contains("duplicate node name 'b'"));
  CHECK(log_b2.contains("duplicate node name 'b'"));
  CHECK(a.stats().connections_accepted == 1);
  CHECK(a.stats().connections_open == 1);
  CHECK(a.stats().handshakes_refused >= 3);
  CHECK(b2.stats().handshakes_refused >= 3);
  CHECK(b2.stats().connections_accepted == 0);
  CHECK(b1.stats().connections_accepted == 1);
  CHECK_FALSE(log_b1.contains("is down"));
  CHECK_FALSE(log_a.contains("is down"));
}

TEST_CASE("a peer killed with SIGKILL and started again under its name is accepted as its new run") {
  LogLines log;
  troupe::System system({.log = log.config()});
  troupe::transport::Node a(system, node_config("a"));
  const std::string port = std::to_string(a.port());
  auto first = std::make_unique<PeerProcess>("b", kTestSecret, std::vector<std::string>{"--dial", "a", port});
  auto old_echo = a.whereis("b", "echo", 10s);  // over the connection b dialled
  REQUIRE(old_echo.ok());
  REQUIRE(answers(system, *old_echo, 1));

  first->signal(SIGKILL);
  // Its death closed its sockets: the old connection is known dead.
  CHECK(troupe_test::eventually([&] { return log.contains("node 'b' is down"); }));
  first.reset();
  // The new run dials this node and must be let in (node_peer exits if it is not within 10 s).
  PeerProcess second("b", kTestSecret, {"--dial", "a", port});
  auto echo = a.whereis("b", "echo", 10s);
  REQUIRE(echo.ok());
  CHECK(*echo != *old_echo);
  CHECK(answers(system, *echo, 41));
  CHECK(a.stats().connections_accepted == 2);
  CHECK_FALSE(log.contains("duplicate node name"));
}

TEST_CASE("a peer restarted while its old connection still looks alive gets in once that connection times out") {
  LogLines log;
  troupe::System system({.log = log.config()});
  // The old connection is known dead 3 s after its last frame (long enough that the new run's
  // first dial surely comes before it).
  auto config = node_config("a");
  config.heartbeat_interval = 200ms;
  config.heartbeat_timeout = 3s;
  troupe::transport::Node a(system, std::move(config));
  const std::string port = std::to_string(a.port());
  auto first = std::make_unique<PeerProcess>("b", kTestSecret, std::vector<std::string>{"--dial", "a", port});
  auto old_echo = a.whereis("b", "echo", 10s);
  REQUIRE(old_echo.ok());
  REQUIRE(answers(system, *old_echo, 1));

  // Frozen: its socket stays open and quiet, as for a host that lost power. A node that starts
  // under its name cannot be told from a second live node yet: refused, until no heartbeat came
  // for the timeout; then its next dial gets in (node_peer dials again for up to 10 s).
  first->signal(SIGSTOP);
  PeerProcess second("b", kTestSecret, {"--dial", "a", port});
  CHECK(log.contains("duplicate node name 'b'"));
  CHECK(log.contains("node 'b' is down"));
  auto echo = a.whereis("b", "echo", 10s);
  REQUIRE(echo.ok());
  CHECK(*echo != *old_echo);
  CHECK(answers(system, *echo, 9));
  CHECK(a.stats().connections_accepted == 2);
  first->signal(SIGKILL);
}
