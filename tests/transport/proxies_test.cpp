// The remote actors a node stands in for (NodeStats::remote_actors): one per peer actor something
// on the node refers to, not one per actor the peer ever named.
#include "test_support.hpp"
#include "transport_test_support.hpp"
#include "wire_messages.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

using namespace transport_test;
using namespace std::chrono_literals;

TEST_CASE("a peer's short-lived requesters leave no stand-in behind on the node they asked") {
  troupe::System system_b;
  troupe::transport::Node b(system_b, node_config("b"));
  auto echo = system_b.spawn([](troupe::Context&) {
    return troupe::behavior([](const Ping& p) { return Pong{p.n, p.text, 0}; });
  });
  REQUIRE(system_b.register_name("echo", echo).ok());
  troupe::System system_a;
  troupe::transport::Node a(system_a, node_config("a"));
  a.add_peer("b", "127.0.0.1", b.port());
  auto remote_echo = a.whereis("b", "echo", 10s);
  REQUIRE(remote_echo.ok());

  // Each asker is a new actor of a's, exported for its one request: b makes a stand-in for it to
  // answer, and needs it no longer once the response is on its way.
  constexpr int askers = 3000;  // past the first sweep (1,024 stand-ins) twice over
  for (int i = 0; i < askers; ++i) {
    troupe::ScopedActor asker(system_a);
    auto pong = asker.request<Pong>(*remote_echo, Ping{i, "hi", {}}, 10s);
    REQUIRE(pong.ok());
    REQUIRE(pong->n == i);
  }
  // A sweep keeps the table within twice what is in use (a handful here), and at least its first
  // size: without it, b would hold all 3,000.
  CHECK(b.stats().remote_actors <= 1024);
  CHECK(b.stats().remote_actors >= 1);  // counted: the last askers' stand-ins wait for the next sweep

  // A stand-in made again later works as the first did: a handle b got from a, used after its
  // first stand-in may have gone.
  troupe::ScopedActor asker(system_a);
  auto pong = asker.request<Pong>(*remote_echo, Ping{-1, "again", {}}, 10s);
  REQUIRE(pong.ok());
  CHECK(pong->text == "again");
  CHECK(a.stats().connections_failed == 0);
  CHECK(b.stats().connections_failed == 0);
}
