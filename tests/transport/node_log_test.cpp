// What a node logs, through its System's logger (Config::log): structured events naming the node
// and the peer, for a refused connection, a connection up and a node down; and the System's
// minimum level applies to them.
#include "log_recorder.hpp"
#include "peer_process.hpp"
#include "test_support.hpp"
#include "transport_test_support.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

#include <signal.h>

#include <string>

using namespace transport_test;
using namespace std::chrono_literals;
using troupe_test::LogRecorder;
using troupe_test::RecordedEvent;

namespace {

// A strong secret, but not the cluster's.
constexpr const char* kOtherSecret = "f1e2d3c4b5a69788f1e2d3c4b5a69788f1e2d3c4b5a69788f1e2d3c4b5a69788";

bool has(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_SUITE("logs") {
  TEST_CASE("a connection refused for a wrong secret is logged by both nodes, each naming itself and the other") {
    LogRecorder events;  // both systems': the node field tells them apart
    troupe::System system_a({.log = events.config()});
    troupe::System system_m({.log = events.config()});
    troupe::transport::Node a(system_a, node_config("a"));
    {
      troupe::transport::Node mallory(system_m, {.name = "mallory", .secret = kOtherSecret});
      mallory.add_peer("a", "127.0.0.1", a.port());
      CHECK(mallory.whereis("a", "echo", 10s).code() == troupe::Errc::node_unreachable);
    }
    REQUIRE(troupe_test::eventually([&] { return a.stats().handshakes_refused == 1; }));
    REQUIRE(troupe_test::eventually([&] { return events.first("connection_refused", "a").has_value(); }));

    const RecordedEvent by_a = *events.first("connection_refused", "a");
    CHECK(by_a.level == troupe::LogLevel::warning);
    CHECK(by_a.node == "a");
    CHECK(by_a.peer.starts_with("127.0.0.1:"));  // not authenticated: only its address is known
    CHECK(by_a.reason == "it could not prove the cluster secret");
    CHECK(by_a.message == "refused " + by_a.peer + ": it could not prove the cluster secret");
    CHECK(by_a.field("address") == by_a.peer);
    CHECK(by_a.field("unlogged").empty());  // nothing went unlogged

    const auto by_mallory = events.first("connection_refused", "mallory");
    REQUIRE(by_mallory);
    CHECK(by_mallory->peer == "a");  // it dialled a: the name is known
    CHECK(by_mallory->field("address") == "127.0.0.1:" + std::to_string(a.port()));
    CHECK(by_mallory->reason.starts_with("it closed the connection after this node's proof"));
    CHECK(events.named("connection_up").empty());
  }

  TEST_CASE("a connection up and a node down are logged with the node, the peer and why") {
    LogRecorder events;
    PeerProcess peer("b", kTestSecret);
    troupe::System system({.log = events.config()});
    troupe::transport::Node a(system, node_config("a"));
    a.add_peer("b", "127.0.0.1", peer.port());
    REQUIRE(a.whereis("b", "echo", 10s).ok());

    const auto up = events.first("connection_up");
    REQUIRE(up);
    CHECK(up->level == troupe::LogLevel::info);
    CHECK(up->node == "a");
    CHECK(up->peer == "b");
    CHECK(up->field("direction") == "dialled");
    CHECK(up->message == "connection to node 'b' is up (authenticated)");
    CHECK(events.named("node_down").empty());

    peer.signal(SIGKILL);  // its sockets close with it
    REQUIRE(troupe_test::eventually([&] { return events.first("node_down").has_value(); }));
    const RecordedEvent down = *events.first("node_down");
    CHECK(down.level == troupe::LogLevel::warning);
    CHECK(down.node == "a");
    CHECK(down.peer == "b");
    CHECK_FALSE(down.reason.empty());
    CHECK(down.message == "node 'b' is down: " + down.reason);
    CHECK(events.named("node_left").empty());  // it did not leave: it died
  }

  TEST_CASE("a node's events below its System's minimum level are dropped") {
    LogRecorder events;
    troupe::System system_a({.log = events.config(troupe::LogLevel::warning)});
    troupe::System system_b({.log = events.config(troupe::LogLevel::warning)});
    troupe::transport::Node a(system_a, node_config("a"));
    troupe::transport::Node b(system_b, node_config("b"));
    troupe::System system_m;
    troupe::transport::Node mallory(system_m, {.name = "mallory", .secret = kOtherSecret});
    mallory.add_peer("a", "127.0.0.1", a.port());
    CHECK(mallory.whereis("a", "echo", 10s).code() == troupe::Errc::node_unreachable);
    b.add_peer("a", "127.0.0.1", a.port());
    CHECK(b.whereis("a", "nobody", 10s).code() == troupe::Errc::no_such_name);  // connected
    REQUIRE(troupe_test::eventually([&] { return a.stats().connections_accepted == 1; }));

    REQUIRE(troupe_test::eventually([&] { return events.first("connection_refused", "a").has_value(); }));
    CHECK(events.named("connection_up").empty());  // info: below warning
    for (const auto& e : events.events()) CHECK(e.level >= troupe::LogLevel::warning);
    CHECK(has(events.first("connection_refused", "a")->reason, "secret"));
  }
}
