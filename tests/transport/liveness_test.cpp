// Liveness across nodes: monitors, links and exit signals between processes, node-down on a
// crashed or silent peer, heartbeats, and reconnecting to a restarted peer.
#include "log_lines.hpp"
#include "peer_process.hpp"
#include "test_support.hpp"
#include "transport_test_support.hpp"
#include "wire_messages.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

#include <signal.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace transport_test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kSecret = kTestSecret;
// NodeStats::exported_actors of a node whose peers hold no handle to its actors: its spawner and
// its membership actor (cluster.hpp).
constexpr std::uint64_t kBuiltInOnly = 2;

// A node whose heartbeats are quicker than the default, yet far slower than any stall of this
// build on a loaded machine (test_support.hpp): a silent peer is down within seconds.
troupe::transport::NodeConfig quick_config() {
  return {.name = "a",
          .secret = kSecret,
          .heartbeat_interval = troupe_test::heartbeat_interval,
          .heartbeat_timeout = troupe_test::heartbeat_timeout};
}

// node_peer's arguments for the same heartbeats (its timeout is four intervals, as above).
std::vector<std::string> quick_peer() {
  static_assert(troupe_test::heartbeat_timeout == 4 * troupe_test::heartbeat_interval);
  return {"--heartbeat-ms", std::to_string(troupe_test::heartbeat_interval.count())};
}

// A local actor linked to `target` (linked before its first reply), that forwards the Exit it
// gets to `report` if it traps exits.
troupe::DynamicHandle spawn_linked(troupe::System& system, troupe::DynamicHandle target, bool trap,
                                   troupe::DynamicHandle report) {
  return system.spawn([target, trap, report](troupe::Context& self) {
    self.trap_exits(trap);
    self.link(target);
    return troupe::behavior([](int n) { return n; }, [report](const troupe::Exit& e) { report.send(e); },
                            [&self](const std::string& why) { self.quit(troupe::ExitReason::error(why)); });
  });
}

// A request to the never-answering `hang` that the node tracks as pending, then the peer is
// killed: the request fails at once with node_down, long before its own 60 s timeout.
void expect_node_down_while_pending(troupe::transport::Node& node, troupe::ScopedActor& me,
                                    const troupe::DynamicHandle& hang, PeerProcess& peer) {
  bool tracked = false;
  std::thread killer([&] {
    tracked = troupe_test::eventually([&] { return node.stats().pending_requests == 1; });
    peer.signal(SIGKILL);
  });
  CHECK(me.request<int>(hang, Hang{}, 60s).code() == troupe::Errc::node_down);
  killer.join();
  CHECK(tracked);
}

}  // namespace

TEST_CASE("a monitor of a remote actor gets the reason it stopped with") {
  PeerProcess peer("b", kSecret);
  troupe::System system;
  troupe::transport::Node node(system, {.name = "a", .secret = kSecret});
  node.add_peer("b", "127.0.0.1", peer.port());
  auto victim = node.whereis("b", "victim", 10s);
  REQUIRE(victim.ok());
  troupe::ScopedActor me(system);
  const troupe::MonitorRef ref = me.monitor(*victim);

  SUBCASE("a normal stop") {
    victim->send(Quit{});
    auto down = me.receive<troupe::Down>(10s);
    REQUIRE(down.ok());
    CHECK(down->ref == ref);
    CHECK(down->actor == *victim);
    CHECK(down->reason.kind == troupe::ExitReason::Kind::normal);

    // Monitoring it again, now that it is gone, answers at once with the reason it had.
    me.monitor(*victim);
    auto again = me.receive<troupe::Down>(10s);
    REQUIRE(again.ok());
    CHECK(again->reason.kind == troupe::ExitReason::Kind::normal);
  }
  SUBCASE("a failure, with its error text") {
    victim->send(Quit{"boom"});
    auto down = me.receive<troupe::Down>(10s);
    REQUIRE(down.ok());
    CHECK(down->reason.kind == troupe::ExitReason::Kind::error);
    CHECK(down->reason.message.find("boom") != std::string::npos);
  }
  SUBCASE("an exit signal sent across: kill") {
    system.spawn([target = *victim](troupe::Context& self) {
      self.exit(target, troupe::ExitReason::kill());
      return troupe::behavior([](int) {});
    });
    auto down = me.receive<troupe::Down>(10s);
    REQUIRE(down.ok());
    CHECK(down->reason.kind == troupe::ExitReason::Kind::kill);
  }
  SUBCASE("an exit signal sent across: an error reason stops an actor that does not trap exits") {
    system.spawn([target = *victim](troupe::Context& self) {
      self.exit(target, troupe::ExitReason::error("told to"));
      return troupe::behavior([](int) {});
    });
    auto down = me.receive<troupe::Down>(10s);
    REQUIRE(down.ok());
    CHECK(down->reason.to_string() == "error: told to");
  }
}

TEST_CASE("a link across nodes works as a local one, both ways") {
  PeerProcess peer("b", kSecret);
  troupe::System system;
  troupe::transport::Node node(system, {.name = "a", .secret = kSecret});
  node.add_peer("b", "127.0.0.1", peer.port());
  auto victim = node.whereis("b", "victim", 10s);
  REQUIRE(victim.ok());
  troupe::ScopedActor me(system);

  SUBCASE("the remote actor fails: the local one stops with its reason") {
    auto local = spawn_linked(system, *victim, false, me.handle());
    me.monitor(local);
    REQUIRE(me.request<int>(local, 1, 10s).ok());  // linked now (its link went out before Quit)
    victim->send(Quit{"remote failure"});
    auto down = me.receive<troupe::Down>(10s);
    REQUIRE(down.ok());
    CHECK(down->actor == local);
    CHECK(down->reason.kind == troupe::ExitReason::Kind::error);
    CHECK(down->reason.message.find("remote failure") != std::string::npos);
  }
  SUBCASE("a local actor that traps exits gets an Exit instead") {
    auto local = spawn_linked(system, *victim, true, me.handle());
    REQUIRE(me.request<int>(local, 1, 10s).ok());
    victim->send(Quit{"remote failure"});
    auto exit = me.receive<troupe::Exit>(10s);
    REQUIRE(exit.ok());
    CHECK(exit->from == *victim);
    CHECK(exit->reason.message.find("remote failure") != std::string::npos);
    CHECK(me.request<int>(local, 2, 10s).ok());  // still running
  }
  SUBCASE("the local actor fails: the remote one stops with its reason") {
    me.monitor(*victim);
    auto local = spawn_linked(system, *victim, false, me.handle());
    REQUIRE(me.request<int>(local, 1, 10s).ok());
    local.send(std::string("local failure"));
    auto down = me.receive<troupe::Down>(10s);
    REQUIRE(down.ok());
    CHECK(down->actor == *victim);
    CHECK(down->reason.to_string() == "error: local failure");
  }
  SUBCASE("after unlink, the remote failure does not reach it") {
    auto local = system.spawn([target = *victim](troupe::Context& self) {
      self.link(target);
      self.unlink(target);
      return troupe::behavior([](int n) { return n; });
    });
    me.monitor(*victim);
    REQUIRE(me.request<int>(local, 1, 10s).ok());
    victim->send(Quit{"remote failure"});
    REQUIRE(me.receive<troupe::Down>(10s).ok());  // the victim is gone...
    CHECK(me.request<int>(local, 2, 10s).ok());   // ...and the unlinked actor lives on
  }
}

TEST_CASE("a crashed peer is down: monitors, links and pending requests are told at once") {
  LogLines log("a");
  PeerProcess peer("b", kSecret, quick_peer());
  troupe::System system({.log = log.config()});
  std::atomic<int> downs_reported{0};
  auto config = quick_config();
  config.on_node_down = [&](std::string_view name) {
    if (name == "b") downs_reported.fetch_add(1, std::memory_order_relaxed);  // relaxed: a counter
  };
  troupe::transport::Node node(system, std::move(config));
  node.add_peer("b", "127.0.0.1", peer.port());
  auto victim = node.whereis("b", "victim", 10s);
  auto hang = node.whereis("b", "hang", 10s);
  REQUIRE(victim.ok());
  REQUIRE(hang.ok());
  troupe::ScopedActor me(system);
  me.monitor(*victim);
  auto linked = spawn_linked(system, *victim, true, me.handle());
  REQUIRE(me.request<int>(linked, 1, 10s).ok());

  troupe::Result<int> pending(troupe::Errc::timeout);
  std::thread asker([&] {
    troupe::ScopedActor asking(system);
    pending = asking.request<int>(*hang, Hang{}, 60s);  // far beyond the test's bounds
  });
  // The request must be on its way before the peer goes; one sent after it is node_unreachable.
  REQUIRE(troupe_test::eventually([&] { return node.stats().pending_requests == 1; }));

  SUBCASE("killed: its connection closes") { peer.signal(SIGKILL); }
  SUBCASE("stopped: silent, so its heartbeats stop") { peer.signal(SIGSTOP); }

  auto down = me.receive<troupe::Down>(troupe_test::heartbeat_wait);
  REQUIRE(down.ok());
  CHECK(down->reason.kind == troupe::ExitReason::Kind::node_down);
  CHECK(down->reason.to_string() == "node_down: b");
  auto exit = me.receive<troupe::Exit>(10s);
  REQUIRE(exit.ok());
  CHECK(exit->reason.kind == troupe::ExitReason::Kind::node_down);
  asker.join();
  CHECK(pending.code() == troupe::Errc::node_down);
  CHECK(log.contains("node 'b' is down"));
  // The hook runs after the notices went out: wait for it (relaxed: a counter, nothing to order).
  CHECK(troupe_test::eventually([&] { return downs_reported.load(std::memory_order_relaxed) == 1; }));

  // Handles to its actors are dead now: a monitor is answered at once, a request fails.
  me.monitor(*victim);
  auto again = me.receive<troupe::Down>(10s);
  REQUIRE(again.ok());
  CHECK(again->reason.kind == troupe::ExitReason::Kind::node_down);
  CHECK(me.request<int>(*hang, Hang{}, 10s).code() == troupe::Errc::node_down);
}

TEST_CASE("a silent peer is closed for no heartbeat") {
  LogLines log("a");
  PeerProcess peer("b", kSecret, quick_peer());
  troupe::System system({.log = log.config()});
  troupe::transport::Node node(system, quick_config());
  node.add_peer("b", "127.0.0.1", peer.port());
  auto victim = node.whereis("b", "victim", 10s);
  REQUIRE(victim.ok());
  troupe::ScopedActor me(system);
  me.monitor(*victim);
  peer.signal(SIGSTOP);
  REQUIRE(me.receive<troupe::Down>(troupe_test::heartbeat_wait).ok());
  CHECK(log.contains("connection to node 'b' closed: no heartbeat"));
}

TEST_CASE("heartbeats keep an idle connection alive past the timeout") {
  LogLines log("a");
  PeerProcess peer("b", kSecret, quick_peer());
  troupe::System system({.log = log.config()});
  troupe::transport::Node node(system, quick_config());
  node.add_peer("b", "127.0.0.1", peer.port());
  auto echo = node.whereis("b", "echo", 10s);
  REQUIRE(echo.ok());
  // Idle past the timeout (by two intervals): only heartbeats cross meanwhile. The wait is what
  // is tested, not a synchronisation: without heartbeats either side would close the connection
  // within it, and the request below would fail with node_down.
  std::this_thread::sleep_for(troupe_test::heartbeat_timeout + 2 * troupe_test::heartbeat_interval);
  troupe::ScopedActor me(system);
  auto pong = me.request<Pong>(*echo, Ping{1, "still", {}}, 10s);
  REQUIRE(pong.ok());
  CHECK(pong->n == 2);
  CHECK(node.stats().connections_accepted == 1);  // the same connection throughout
  CHECK_FALSE(log.contains("no heartbeat"));
  CHECK_FALSE(log.contains("is down"));
}

TEST_CASE("a restarted peer is reached again; handles to its old actors stay dead") {
  LogLines log("a");
  troupe::System system({.log = log.config()});
  troupe::transport::Node node(system, quick_config());
  troupe::ScopedActor me(system);
  auto first = std::make_unique<PeerProcess>("b", kSecret, quick_peer());
  node.add_peer("b", "127.0.0.1", first->port());
  auto old_echo = node.whereis("b", "echo", 10s);
  REQUIRE(old_echo.ok());
  REQUIRE(me.request<Pong>(*old_echo, Ping{1, "", {}}, 10s).ok());
  me.monitor(*old_echo);
  first->signal(SIGKILL);
  REQUIRE(me.receive<troupe::Down>(10s).ok());
  first.reset();

  PeerProcess second("b", kSecret, quick_peer());
  node.add_peer("b", "127.0.0.1", second.port());
  auto echo = node.whereis("b", "echo", 10s);
  REQUIRE(echo.ok());
  CHECK(*echo != *old_echo);
  auto pong = me.request<Pong>(*echo, Ping{41, "again", {}}, 10s);
  REQUIRE(pong.ok());
  CHECK(pong->n == 42);
  // The old handle names an actor of the dead run (the new run reuses its id): it reaches nothing.
  CHECK(me.request<Pong>(*old_echo, Ping{1, "", {}}, 10s).code() == troupe::Errc::node_down);
  CHECK(node.stats().connections_accepted == 2);
}

TEST_CASE("requests that timed out against a peer that never answers are forgotten with their requesters") {
  PeerProcess peer("b", kSecret);
  troupe::System system;
  troupe::transport::Node node(system, {.name = "a", .secret = kSecret});
  node.add_peer("b", "127.0.0.1", peer.port());
  auto hang = node.whereis("b", "hang", 10s);
  REQUIRE(hang.ok());
  const std::uint64_t requests = troupe_test::scaled(200) < 20 ? 20 : troupe_test::scaled(200);
  for (std::uint64_t i = 0; i < requests; ++i) {
    troupe::ScopedActor me(system);
    CHECK(me.request<int>(*hang, Hang{}, 5ms).code() == troupe::Errc::timeout);
  }
  CHECK(troupe_test::eventually([&] { return node.stats().pending_requests == 0; }));
  CHECK(troupe_test::eventually([&] { return node.stats().exported_actors == kBuiltInOnly; }));
  // The connection is fine: a pending request still fails fast when the peer goes down.
  troupe::ScopedActor me(system);
  expect_node_down_while_pending(node, me, *hang, peer);
}

TEST_CASE("a requester that lives on does not leave its timed-out requests behind") {
  PeerProcess peer("b", kSecret);
  troupe::System system;
  troupe::transport::Node node(system, {.name = "a", .secret = kSecret});
  node.add_peer("b", "127.0.0.1", peer.port());
  auto hang = node.whereis("b", "hang", 10s);
  REQUIRE(hang.ok());
  troupe::ScopedActor me(system);  // one requester, alive throughout: its export stays
  constexpr int kRequests = 20;
  for (int i = 0; i < kRequests; ++i) CHECK(me.request<int>(*hang, Hang{}, 5ms).code() == troupe::Errc::timeout);
  // The node tracked them (a node-down would fail them) until a sweep past their deadlines.
  CHECK(troupe_test::eventually([&] { return node.stats().pending_requests == 0; }, 30s));
  CHECK(node.stats().exported_actors == kBuiltInOnly + 1);  // the requester is still exported
  // A request that has not timed out yet is still tracked, and still fails fast on a node-down.
  expect_node_down_while_pending(node, me, *hang, peer);
}
