// Schema evolution between processes: node_peer_v1 has the older version of the message types,
// this test the newer (a field appended to Versioned; a field added to the Cap'n Proto Reading).
#include "peer_process.hpp"
#include "test_support.hpp"
#include "transport_test_support.hpp"
#include "wire_messages.hpp"

#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

#ifndef TROUPE_NODE_PEER_V1_PATH
#error "TROUPE_NODE_PEER_V1_PATH must name the node_peer_v1 program"
#endif

using namespace transport_test;
using namespace std::chrono_literals;

namespace {

struct Exchange {
  troupe::System system;
  troupe::transport::Node node{system, node_config("a")};
  troupe::ScopedActor me{system};
  troupe::DynamicHandle evolution;
  explicit Exchange(std::uint16_t port) {
    node.add_peer("b", "127.0.0.1", port);
    auto found = node.whereis("b", "evolution", 10s);
    REQUIRE(found.ok());
    evolution = *found;
  }
};

ReadingMessage reading(std::string_view sensor, std::int64_t value, std::int32_t scale) {
  ReadingMessage m;
  m.build().setSensor(capnp::Text::Reader(sensor.data(), sensor.size()));
  m.build().setValue(value);
  m.build().setScale(scale);
  return m;
}

}  // namespace

TEST_CASE("a declared message type with an appended field crosses between the old and the new version") {
  SUBCASE("an older receiver ignores the new field; a newer receiver of an old message sees its default") {
    PeerProcess old_peer("b", kTestSecret, {}, TROUPE_NODE_PEER_V1_PATH);
    Exchange x(old_peer.port());
    // The old node decodes n and skips the note; its echo has no note, so it reads as the default.
    auto echoed = x.me.request<Versioned>(x.evolution, Versioned{7, "from the new version"}, 10s);
    REQUIRE(echoed.ok());
    CHECK(echoed->n == 7);
    CHECK(echoed->note == "none");
  }
  SUBCASE("between two new versions the field travels") {
    PeerProcess new_peer("b", kTestSecret);
    Exchange x(new_peer.port());
    auto echoed = x.me.request<Versioned>(x.evolution, Versioned{7, "from the new version"}, 10s);
    REQUIRE(echoed.ok());
    CHECK(echoed->n == 7);
    CHECK(echoed->note == "from the new version");
  }
}

TEST_CASE("a Cap'n Proto message evolves by Cap'n Proto's rules between the old and the new schema") {
  SUBCASE("an older reader ignores the added field; a newer reader of an old message gets its default") {
    PeerProcess old_peer("b", kTestSecret, {}, TROUPE_NODE_PEER_V1_PATH);
    Exchange x(old_peer.port());
    auto answer = x.me.request<ReadingMessage>(x.evolution, reading("t1", 41, 3), 10s);
    REQUIRE(answer.ok());
    const auto r = answer->read();
    CHECK(std::string(r.getSensor().cStr()) == "t1");
    CHECK(r.getValue() == 42);
    CHECK(r.getScale() == 10);  // v1 has no scale: the v2 default
  }
  SUBCASE("between two new schemas the field travels") {
    PeerProcess new_peer("b", kTestSecret);
    Exchange x(new_peer.port());
    auto answer = x.me.request<ReadingMessage>(x.evolution, reading("t1", 41, 3), 10s);
    REQUIRE(answer.ok());
    CHECK(answer->read().getValue() == 42);
    CHECK(answer->read().getScale() == 3);
  }
}

TEST_CASE(
    "a one-way message of a type the receiving node does not declare is a dead letter there, and the connection goes "
    "on") {
  // The sender declares NewerOnly, so it cannot refuse it at the send; node_peer_v1 does not.
  PeerProcess old_peer("b", kTestSecret, {}, TROUPE_NODE_PEER_V1_PATH);
  Exchange x(old_peer.port());
  auto stats = x.node.whereis("b", "stats", 10s);
  REQUIRE(stats.ok());
  auto dead_letters_on_b = [&]() -> std::uint64_t {
    auto count = x.me.request<std::uint64_t>(*stats, DeadLetterCount{}, 10s);
    REQUIRE(count.ok());
    return *count;
  };
  REQUIRE(dead_letters_on_b() == 0);

  CHECK(x.evolution.send(NewerOnly{1}).ok());
  // Counted when b reads it; the count is asked through another remote actor, whose envelope may
  // go out first: ask until it shows (the bound only limits a failing test).
  CHECK(troupe_test::eventually([&] { return dead_letters_on_b() == 1; }));
  CHECK(x.system.dead_letters() == 0);  // nothing was refused here

  // A request of it is answered with the reason, and counted there too.
  auto reply = x.me.request<int>(x.evolution, NewerOnly{2}, 10s);
  CHECK(reply.code() == troupe::Errc::unexpected_message);
  CHECK(reply.error().what.find("NewerOnly") != std::string::npos);
  CHECK(reply.error().what.find("is not declared on node b") != std::string::npos);
  CHECK(dead_letters_on_b() == 2);

  // The connection carried on: the same one answers a declared type.
  auto echoed = x.me.request<Versioned>(x.evolution, Versioned{3, ""}, 10s);
  REQUIRE(echoed.ok());
  CHECK(echoed->n == 3);
  CHECK(x.node.stats().connections_accepted == 1);
  CHECK(x.node.stats().connections_failed == 0);
}
