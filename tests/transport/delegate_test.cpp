// Context::delegate across nodes: a request handed on to a remote actor is answered straight to
// the requester, whether the requester is on the delegating node or on the node answering.
#include "transport_test_support.hpp"
#include "wire_messages.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

using namespace transport_test;
using namespace std::chrono_literals;

namespace {

// Node a's front hands every Ping on to b's echo; b dialled a, so each knows the other.
struct TwoNodes {
  TwoNodes() {
    auto echo = system_b.spawn([](troupe::Context&) {
      return troupe::behavior([](const Ping& p) { return Pong{p.n + 1, "from b", 0}; });
    });
    REQUIRE(system_b.register_name("echo", echo).ok());
    node_b.add_peer("a", "127.0.0.1", node_a.port());
    auto nothing = node_b.whereis("a", "nothing here", 10s);  // connects b to a
    REQUIRE(nothing.code() == troupe::Errc::no_such_name);
    auto echo_seen_from_a = node_a.whereis("b", "echo", 10s);
    REQUIRE(echo_seen_from_a.ok());
    front = system_a.spawn([echo = *echo_seen_from_a](troupe::Context& self) {
      return troupe::behavior([&self, echo](const Ping& p) {
        auto handed = self.delegate<Pong>(echo, p);
        self.quit();  // a reply that came back through the front would be lost
        return handed;
      });
    });
    REQUIRE(system_a.register_name("front", front).ok());
  }
  troupe::System system_a;
  troupe::transport::Node node_a{system_a, node_config("a")};
  troupe::System system_b;
  troupe::transport::Node node_b{system_b, node_config("b")};
  troupe::DynamicHandle front;
};

}  // namespace

TEST_CASE("a request handed on to an actor on another node is answered there, straight to the requester") {
  TwoNodes nodes;
  SUBCASE("a requester on the delegating node") {
    troupe::ScopedActor me(nodes.system_a);
    auto pong = me.request<Pong>(nodes.front, Ping{1, "hi", {}}, 10s);
    REQUIRE(pong.ok());
    CHECK(pong->n == 2);
    CHECK(pong->text == "from b");
  }
  SUBCASE("a requester on the node that answers: the reply crosses back through the delegating node") {
    auto front_on_a = nodes.node_b.whereis("a", "front", 10s);
    REQUIRE(front_on_a.ok());
    troupe::ScopedActor me(nodes.system_b);
    auto pong = me.request<Pong>(*front_on_a, Ping{41, "hi", {}}, 10s);
    REQUIRE(pong.ok());
    CHECK(pong->n == 42);
  }
}
