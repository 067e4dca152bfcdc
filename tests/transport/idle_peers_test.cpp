// A node forgets the peers nothing on it uses any more (NodeConfig::forget_idle_peers_after): a
// cluster that keeps changing under new names does not grow its members' peer tables, or their
// metrics, without bound. What is in use stays: a connection, a handle to a live remote actor, a
// peer given by add_peer.
#include "test_support.hpp"
#include "transport_test_support.hpp"
#include "wire_messages.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <thread>

using namespace transport_test;
using namespace std::chrono_literals;

namespace {

constexpr auto kForgetAfter = 200ms;
// Long enough for several sweeps past kForgetAfter: what is still known then is kept.
constexpr auto kWellPast = 4 * kForgetAfter;

troupe::transport::NodeConfig forgetful(std::string name) {
  troupe::transport::NodeConfig config = node_config(std::move(name));
  config.forget_idle_peers_after = kForgetAfter;
  return config;
}

void register_echo(troupe::System& system) {
  auto echo = system.spawn([](troupe::Context&) {
    return troupe::behavior([](const Ping& p) { return Pong{p.n, p.text, 0}; });
  });
  REQUIRE(system.register_name("echo", echo).ok());
}

// A node that dials `a` (given by no add_peer of a's: a knows it from the connection alone) and
// finds a's echo, with an echo of its own for a to find.
struct Visitor {
  Visitor(const std::string& name, troupe::transport::Node& a) : node(system, node_config(name)) {
    register_echo(system);
    node.add_peer("a", "127.0.0.1", a.port());
    REQUIRE(node.whereis("a", "echo", 10s).ok());
  }
  troupe::System system;
  troupe::transport::Node node;
};

// Asks `echo` once from `system`: true if it answered.
bool answers(troupe::System& system, const troupe::DynamicHandle& echo) {
  troupe::ScopedActor me(system);
  auto pong = me.request<Pong>(echo, Ping{7, "hi", {}}, 10s);
  return pong.ok() && pong->n == 7;
}

// The peers node `a`'s part of `system`'s metrics lists.
std::size_t peers_in_metrics(troupe::System& system) {
  auto a = node_part(system, "a");
  REQUIRE(a.has_value());
  return a->peers.size();
}

}  // namespace

TEST_CASE("peers that went away are forgotten once idle; a node of the same name later is a new peer") {
  troupe::System system_a;
  troupe::transport::Node a(system_a, forgetful("a"));
  register_echo(system_a);
  // Members that come and go, each under a new name (as autoscaled ones would).
  for (int i = 0; i < 5; ++i) {
    Visitor v("visitor-" + std::to_string(i), a);
  }
  CHECK(troupe_test::eventually([&] { return a.stats().peers == 0; }));  // was 5, for ever
  CHECK(peers_in_metrics(system_a) == 0);

  Visitor again("visitor-0", a);
  auto echo = a.whereis("visitor-0", "echo", 10s);  // on the connection it dialled: a forgot its address
  REQUIRE(echo.ok());
  CHECK(answers(system_a, *echo));
  CHECK(a.stats().peers == 1);
  CHECK(a.stats().connections_failed == 0);
}

TEST_CASE("a connected peer is kept, however long nothing crosses") {
  troupe::System system_a;
  troupe::transport::Node a(system_a, forgetful("a"));
  register_echo(system_a);
  Visitor b("b", a);
  std::this_thread::sleep_for(kWellPast);
  CHECK(a.stats().peers == 1);
  CHECK(peers_in_metrics(system_a) == 1);
  auto echo = a.whereis("b", "echo", 10s);
  REQUIRE(echo.ok());
  CHECK(answers(system_a, *echo));
}

TEST_CASE("a handle kept to a gone peer's actor does not keep the peer, and stays safe to use") {
  troupe::System system_a;
  troupe::transport::Node a(system_a, forgetful("a"));
  register_echo(system_a);
  std::optional<Visitor> b(std::in_place, "b", a);
  auto echo = a.whereis("b", "echo", 10s);
  REQUIRE(echo.ok());
  REQUIRE(answers(system_a, *echo));
  b.reset();  // b stops: a sees it down, and the handle's actor is dead
  CHECK(troupe_test::eventually([&] { return a.stats().peers == 0; }));

  // The forgotten peer's actor answers as a dead one: at once, node_down.
  troupe::ScopedActor me(system_a);
  auto pong = me.request<Pong>(*echo, Ping{1, "late", {}}, 10s);
  REQUIRE(!pong.ok());
  CHECK(pong.error().code == troupe::Errc::node_down);
  echo->send(Ping{2, "later", {}});  // a dead letter
  CHECK(troupe_test::eventually([&] { return a.stats().dead_letters >= 2; }));
  CHECK(a.stats().peers == 0);  // using the handle brought nothing back
}

TEST_CASE("a handle to a live remote actor keeps its peer; once dropped, the peer goes") {
  troupe::System system_a;
  troupe::transport::Node a(system_a, forgetful("a"));
  // The spawner of a node never reached: not dead (no node-down), so the peer is in use.
  troupe::DynamicHandle spawner = a.spawner("x");
  REQUIRE(spawner.valid());
  std::this_thread::sleep_for(kWellPast);
  CHECK(a.stats().peers == 1);
  spawner = troupe::DynamicHandle();
  CHECK(troupe_test::eventually([&] { return a.stats().peers == 0; }));
}

TEST_CASE("a peer given by add_peer is configuration: kept, though never reached") {
  troupe::System system_a;
  troupe::transport::Node a(system_a, forgetful("a"));
  a.add_peer("z", "127.0.0.1", 1);
  std::this_thread::sleep_for(kWellPast);
  CHECK(a.stats().peers == 1);
}

TEST_CASE("with forget_idle_peers_after zero, a node keeps every peer") {
  troupe::System system_a;
  troupe::transport::NodeConfig config = node_config("a");
  config.forget_idle_peers_after = troupe::Duration::zero();
  troupe::transport::Node a(system_a, config);
  register_echo(system_a);
  { Visitor b("b", a); }
  CHECK(troupe_test::eventually([&] { return a.stats().connections_open == 0; }));
  std::this_thread::sleep_for(kWellPast);
  CHECK(a.stats().peers == 1);
}
