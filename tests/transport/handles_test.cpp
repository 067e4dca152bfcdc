// Handles inside messages: to the sending node's own actors, and to actors on a third node.
#include "peer_process.hpp"
#include "transport_test_support.hpp"
#include "wire_messages.hpp"

#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

#include <future>

using namespace transport_test;
using namespace std::chrono_literals;

TEST_CASE("a handle sent inside a message lets the receiving node reply to the original actor") {
  PeerProcess b("b", kTestSecret);
  troupe::System system;
  troupe::transport::Node node(system, node_config("a"));
  node.add_peer("b", "127.0.0.1", b.port());
  auto relay = node.whereis("b", "relay", 10s);
  REQUIRE(relay.ok());

  auto got = std::make_shared<std::promise<Pong>>();
  auto answer = got->get_future();
  troupe::Handle<void(Pong)> collector = system.spawn([got](troupe::Context&) {
    return troupe::behavior([got](const Pong& p) { got->set_value(p); });
  });
  // b decodes a typed handle and sends through it with its typed send.
  REQUIRE(relay->send(Callback{collector, 41}).ok());
  REQUIRE(answer.wait_for(10s) == std::future_status::ready);  // a bound for a failing test only
  const Pong pong = answer.get();
  CHECK(pong.n == 42);
  CHECK(pong.text == "called back");

  troupe::ScopedActor me(system);
  SUBCASE("an empty handle arrives empty") {
    CHECK(me.request<bool>(*relay, HandleProbe{}, 10s).value_or(true) == false);
  }
  SUBCASE("a handle to an actor of the receiving node itself arrives valid") {
    CHECK(me.request<bool>(*relay, HandleProbe{*relay}, 10s).value_or(false) == true);
  }
}

TEST_CASE("a node passes on a handle to an actor on a third node, and the receiver dials that node") {
  PeerProcess b("b", kTestSecret);
  PeerProcess c("c", kTestSecret);
  troupe::System system;
  troupe::transport::Node node(system, node_config("a"));
  node.add_peer("b", "127.0.0.1", b.port());  // a is never told where c is
  auto relay = node.whereis("b", "relay", 10s);
  REQUIRE(relay.ok());

  troupe::ScopedActor me(system);
  // b looks c's echo up through c's spawner (an actor's non-blocking whereis) and answers with it.
  auto echo_on_c = me.request<troupe::DynamicHandle>(*relay, Introduce{"c", c.port(), "echo"}, 10s);
  REQUIRE(echo_on_c.ok());
  REQUIRE(echo_on_c->valid());
  auto pong = me.request<Pong>(*echo_on_c, Ping{1, "via b", {2, 3}}, 10s);
  REQUIRE(pong.ok());
  CHECK(pong->n == 2);
  CHECK(pong->sum == 5);
  CHECK(node.stats().connections_accepted == 2);  // b, and c dialed directly
  // a learned c's address from the handle: a lookup on c finds the very same proxy.
  auto looked_up = node.whereis("c", "echo", 10s);
  REQUIRE(looked_up.ok());
  CHECK(*looked_up == *echo_on_c);

  SUBCASE("a lookup of an unknown name through the spawner is an error value") {
    auto missing = me.request<troupe::DynamicHandle>(*relay, Introduce{"c", c.port(), "nobody"}, 10s);
    CHECK(missing.code() == troupe::Errc::no_such_name);
  }
}

TEST_CASE("a handle encodes only while a node sends it") {
  troupe::System system;
  auto actor = system.spawn([](troupe::Context&) { return troupe::behavior([](const Pong&) {}); });
  std::string bytes;
  troupe::transport::WireWriter w(bytes);
  CHECK_THROWS_AS(troupe::transport::WireCodec<troupe::DynamicHandle>::encode(w, actor),
                  troupe::transport::WireError);
}
