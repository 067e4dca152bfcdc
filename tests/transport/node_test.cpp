// Two nodes in two processes on 127.0.0.1: the test's own and node_peer's (peer_process.hpp).
#include "log_lines.hpp"
#include "peer_process.hpp"
#include "raw_client.hpp"
#include "test_support.hpp"
#include "transport_test_support.hpp"
#include "wire_messages.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <map>
#include <memory>
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

// Writes `bytes` to a fresh TCP connection to 127.0.0.1:port and ends the stream, then reports
// whether the node closed it.
bool node_closes_after(std::uint16_t port, const std::vector<std::uint8_t>& bytes) {
  RawClient client(port);
  REQUIRE(client.send(bytes));
  client.end_stream();  // a truncated frame ends here
  return client.closed_by_node();
}

}  // namespace

TEST_CASE("a request crosses to a node in another process and its reply comes back") {
  PeerProcess peer("b", kSecret);
  troupe::System system;
  troupe::transport::Node node(system, {.name = "a", .secret = kSecret});
  node.add_peer("b", "127.0.0.1", peer.port());

  troupe::Result<troupe::DynamicHandle> echo = node.whereis("b", "echo", 10s);
  REQUIRE(echo.ok());
  troupe::ScopedActor me(system);
  troupe::Result<Pong> pong = me.request<Pong>(*echo, Ping{41, "over the wire", {1, 2, 39}}, 10s);
  REQUIRE(pong.ok());
  CHECK(pong->n == 42);
  CHECK(pong->text == "over the wire");
  CHECK(pong->sum == 42);
  CHECK(node.stats().connections_accepted == 1);

  SUBCASE("a lookup of an unknown name is an error value") {
    CHECK(node.whereis("b", "nobody", 10s).code() == troupe::Errc::no_such_name);
  }
  SUBCASE("the same remote actor is the same handle") {
    auto again = node.whereis("b", "echo", 10s);
    REQUIRE(again.ok());
    CHECK(*again == *echo);
  }
  SUBCASE("a request of an undeclared type gets not_serializable, and the connection goes on") {
    auto r = me.request<int>(*echo, NotOnTheWire{1}, 10s);
    CHECK(r.code() == troupe::Errc::not_serializable);
    CHECK(me.request<Pong>(*echo, Ping{1, "", {}}, 10s).ok());
  }
  SUBCASE("a request the remote actor has no handler for gets its error back") {
    auto r = me.request<int>(*echo, Seq{1, 2}, 10s);
    CHECK(r.code() == troupe::Errc::unexpected_message);
  }
}

TEST_CASE("without idle spinning (every thread sleeps at once) requests and messages still flow both ways") {
  // Every hand-over then goes through the transport loop's eventfd wake-up, and every frame
  // through its sleep in the event loop: the path the spinning default mostly skips.
  PeerProcess peer("b", kSecret, {"--no-spin"});
  troupe::System system(troupe::Config{.idle_spin = std::chrono::microseconds(0)});
  troupe::transport::NodeConfig config{.name = "a", .secret = kSecret};
  config.idle_spin = std::chrono::microseconds(0);
  troupe::transport::Node node(system, std::move(config));
  node.add_peer("b", "127.0.0.1", peer.port());
  auto echo = node.whereis("b", "echo", 10s);
  REQUIRE(echo.ok());
  auto sink = node.whereis("b", "sink", 10s);
  REQUIRE(sink.ok());
  troupe::ScopedActor me(system);
  for (int i = 0; i < 200; ++i) {
    auto pong = me.request<Pong>(*echo, Ping{i, "", {i}}, 10s);
    REQUIRE(pong.ok());
    CHECK(pong->n == i + 1);
    CHECK(pong->sum == i);
    // Pauses now and then, so both sides go back to sleep between messages.
    if (i % 20 == 0) std::this_thread::sleep_for(2ms);
  }
  constexpr std::uint32_t kSender = 7;
  for (std::uint64_t i = 0; i < 1000; ++i) REQUIRE(sink->send(Seq{kSender, i}));
  auto tally = me.request<TallyReply>(*sink, Tally{kSender}, 10s);
  REQUIRE(tally.ok());
  CHECK(tally->received == 1000);
  CHECK(tally->out_of_order == 0);
}

TEST_CASE("a node without the secret is refused before any message") {
  PeerProcess peer("b", kSecret);
  LogLines log("mallory");
  troupe::System system({.log = log.config()});
  {
    // A strong secret, but not the cluster's.
    troupe::transport::Node intruder(
        system, {.name = "mallory", .secret = "f1e2d3c4b5a69788f1e2d3c4b5a69788f1e2d3c4b5a69788f1e2d3c4b5a69788"});
    intruder.add_peer("b", "127.0.0.1", peer.port());
    auto echo = intruder.whereis("b", "echo", 10s);
    CHECK(echo.code() == troupe::Errc::node_unreachable);
    CHECK(intruder.stats().connections_accepted == 0);
    CHECK(intruder.stats().handshakes_refused == 1);  // b closed the connection on its proof
    CHECK(log.contains("refused node 'b' at 127.0.0.1:" + std::to_string(peer.port()) +
                       ": it closed the connection after this node's proof"));
  }
  // b refused it too, and logged so: ask b, over an authenticated connection.
  troupe::transport::Node friendly(system, {.name = "a", .secret = kSecret});
  friendly.add_peer("b", "127.0.0.1", peer.port());
  auto stats = friendly.whereis("b", "stats", 10s);
  if (!stats.ok()) FAIL(stats.error().message());
  troupe::ScopedActor me(system);
  // The dialer proves itself first: b refused mallory's proof (and sent none of its own), and
  // nothing of mallory's reached an actor.
  auto refused = me.request<std::uint64_t>(*stats, RefusedCount{}, 10s);
  REQUIRE(refused.ok());
  CHECK(*refused == 1);
}

TEST_CASE("messages from several senders arrive complete and in order per sender") {
  PeerProcess peer("b", kSecret);
  troupe::System system;
  troupe::transport::Node node(system, {.name = "a", .secret = kSecret});
  node.add_peer("b", "127.0.0.1", peer.port());
  auto sink = node.whereis("b", "sink", 10s);
  REQUIRE(sink.ok());

  constexpr std::uint32_t senders = 4;
  const std::uint64_t per_sender = troupe_test::scaled(100'000) / senders;
  std::vector<std::thread> threads;
  std::vector<TallyReply> tallies(senders);
  std::vector<char> answered(senders, 0);  // not vector<bool>: its bits share words across threads
  for (std::uint32_t s = 0; s < senders; ++s) {
    threads.emplace_back([&, s] {
      for (std::uint64_t i = 0; i < per_sender; ++i) (void)sink->send(Seq{s, i});
      // Same thread, same remote actor: the Tally is queued behind this sender's Seqs.
      troupe::ScopedActor me(system);
      auto tally = me.request<TallyReply>(*sink, Tally{s}, 60s);
      if (tally.ok()) {
        tallies[s] = *tally;
        answered[s] = 1;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (std::uint32_t s = 0; s < senders; ++s) {
    CAPTURE(s);
    CHECK(answered[s]);
    CHECK(tallies[s].received == per_sender);
    CHECK(tallies[s].out_of_order == 0);
  }
}

TEST_CASE("a malformed or truncated frame closes only its own connection") {
  LogLines log("a");
  troupe::System system({.log = log.config()});
  troupe::transport::Node node(system, {.name = "a", .secret = kSecret});
  auto echo = system.spawn([](troupe::Context&) {
    return troupe::behavior(
        [](const Ping& p) {
          return Pong{p.n + 1, p.text, 0};
        },
        // Asked by node b's relay (Forward): answers the handle inside.
        [](const Callback& c) {
          (void)c.to.send(Pong{c.n + 1, "asked from b", 0});
        });
  });
  REQUIRE(system.register_name("echo", echo).ok());

  // 2^32 segments claimed.
  CHECK(node_closes_after(node.port(), {0xff, 0xff, 0xff, 0xff, 0x01, 0, 0, 0}));
  // One segment of a million words: beyond the handshake's limit.
  CHECK(node_closes_after(node.port(), {0, 0, 0, 0, 0x40, 0x42, 0x0f, 0}));
  // A plausible header, then the stream ends mid-frame.
  CHECK(node_closes_after(node.port(), {0, 0, 0, 0, 4, 0, 0, 0, 1, 2, 3}));
  // A complete frame of garbage words.
  CHECK(node_closes_after(node.port(),
                          {0, 0, 0, 0, 2, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
  // Each is a refusal; the log says so once for the address (the rest within seconds are
  // counted, not logged: handshake_test.cpp), with the reason in words.
  CHECK(troupe_test::eventually([&] { return node.stats().handshakes_refused == 4; }));
  CHECK(log.contains("refused 127.0.0.1:"));
  CHECK(log.contains("it sent a malformed frame before authenticating (frame has too many segments"));

  // The node still serves: a node in another process dials it (node_peer --dial reports its
  // port only once this node has answered its lookup), looks echo up and asks it.
  PeerProcess peer("b", kSecret, {"--dial", "a", std::to_string(node.port())});
  CHECK(node.stats().connections_accepted == 1);
  auto relay = node.whereis("b", "relay", 10s);  // over b's connection
  REQUIRE(relay.ok());
  troupe::ScopedActor me(system);
  auto found = me.request<troupe::DynamicHandle>(*relay, Introduce{"a", node.port(), "echo"}, 10s);
  REQUIRE(found.ok());
  CHECK(*found == troupe::DynamicHandle(echo));  // b's lookup found our echo
  auto got = std::make_shared<std::promise<Pong>>();
  auto answer = got->get_future();
  troupe::Handle<void(Pong)> collector =
      system.spawn([got](troupe::Context&) { return troupe::behavior([got](const Pong& p) { got->set_value(p); }); });
  // b's relay sends echo the callback; echo answers the collector.
  REQUIRE(relay->send(Forward{*found, Callback{collector, 1}}).ok());
  REQUIRE(answer.wait_for(10s) == std::future_status::ready);  // a bound for a failing test only
  const Pong pong = answer.get();
  CHECK(pong.n == 2);
  CHECK(pong.text == "asked from b");
  CHECK(node.stats().connections_accepted == 1);
}

TEST_CASE("a peer that connects and stalls in the handshake is closed at the handshake timeout") {
  LogLines log("a");
  troupe::System system({.log = log.config()});
  troupe::transport::Node node(system, {.name = "a", .secret = kSecret, .handshake_timeout = 200ms});
  auto echo = system.spawn([](troupe::Context&) {
    return troupe::behavior([](const Ping& p) { return Pong{p.n + 1, p.text, 0}; });
  });
  REQUIRE(system.register_name("echo", echo).ok());

  SUBCASE("it says nothing") {
    RawClient silent(node.port());
    CHECK(silent.closed_by_node());
  }
  SUBCASE("it stops in the middle of its hello") {
    RawClient stalled(node.port());
    REQUIRE(stalled.send({0, 0, 0, 0, 4, 0, 0, 0, 1, 2}));  // a frame header, then part of a word
    CHECK(stalled.closed_by_node());
  }
  CHECK(troupe_test::eventually([&] { return node.stats().handshakes_refused == 1; }));
  CHECK(troupe_test::eventually([&] { return log.contains("handshake timed out"); }));

  // The node still serves a good peer.
  troupe::transport::Node client(system, {.name = "c", .secret = kSecret});
  client.add_peer("a", "127.0.0.1", node.port());
  auto remote_echo = client.whereis("a", "echo", 10s);
  REQUIRE(remote_echo.ok());
  troupe::ScopedActor me(system);
  auto pong = me.request<Pong>(*remote_echo, Ping{1, "after the stall", {}}, 10s);
  REQUIRE(pong.ok());
  CHECK(pong->n == 2);
}

TEST_CASE("a node forgets the local actors it exported once they stop") {
  PeerProcess peer("b", kSecret);
  troupe::System system;
  troupe::transport::Node node(system, {.name = "a", .secret = kSecret});
  node.add_peer("b", "127.0.0.1", peer.port());
  auto echo = node.whereis("b", "echo", 10s);
  REQUIRE(echo.ok());

  // Each request exports its requester (the peer answers it by id); each requester then stops.
  const std::uint64_t requesters = troupe_test::scaled(1000) < 100 ? 100 : troupe_test::scaled(1000);
  for (std::uint64_t i = 0; i < requesters; ++i) {
    troupe::ScopedActor me(system);
    auto pong = me.request<Pong>(*echo, Ping{static_cast<std::int32_t>(i), "", {}}, 10s);
    REQUIRE(pong.ok());
  }
  CHECK(troupe_test::eventually([&] { return node.stats().exported_actors == kBuiltInOnly; }));

  // A live requester stays exported while it runs, and its replies still come.
  troupe::ScopedActor me(system);
  REQUIRE(me.request<Pong>(*echo, Ping{1, "", {}}, 10s).ok());
  CHECK(node.stats().exported_actors == kBuiltInOnly + 1);
  REQUIRE(me.request<Pong>(*echo, Ping{2, "", {}}, 10s).ok());
  CHECK(node.stats().exported_actors == kBuiltInOnly + 1);
}

namespace {

// An actor that counts each sender's Seq stream and answers Tally, as node_peer's "sink".
troupe::DynamicHandle spawn_sink(troupe::System& system) {
  struct Stream {
    std::uint64_t next = 0;
    std::uint64_t received = 0;
    std::uint64_t out_of_order = 0;
  };
  return system.spawn([](troupe::Context&) {
    auto streams = std::make_shared<std::map<std::uint32_t, Stream>>();
    return troupe::behavior(
        [streams](const Seq& s) {
          Stream& st = (*streams)[s.sender];
          if (s.index != st.next) ++st.out_of_order;
          st.next = s.index + 1;
          ++st.received;
        },
        [streams](const Tally& t) {
          const Stream& st = (*streams)[t.sender];
          return TallyReply{st.received, st.out_of_order};
        });
  });
}

}  // namespace

TEST_CASE("two nodes that dial each other at the same moment end with one connection") {
  troupe::System system_a;
  troupe::System system_b;
  REQUIRE(system_a.register_name("sink", spawn_sink(system_a)).ok());
  REQUIRE(system_b.register_name("sink", spawn_sink(system_b)).ok());
  const std::uint64_t rounds = troupe_test::scaled(40) < 8 ? 8 : troupe_test::scaled(40);
  const std::uint64_t messages = 500;
  for (std::uint64_t round = 0; round < rounds; ++round) {
    CAPTURE(round);
    troupe::transport::Node a(system_a, {.name = "a", .secret = kSecret});
    troupe::transport::Node b(system_b, {.name = "b", .secret = kSecret});
    a.add_peer("b", "127.0.0.1", b.port());
    b.add_peer("a", "127.0.0.1", a.port());

    // Both look the other up at once: each dials, and each accepts the other's dial.
    std::atomic<int> ready{0};
    troupe::Result<troupe::DynamicHandle> sink_of_b(troupe::Errc::timeout);
    troupe::Result<troupe::DynamicHandle> sink_of_a(troupe::Errc::timeout);
    auto look_up = [&](troupe::transport::Node& node, const char* peer, troupe::Result<troupe::DynamicHandle>& out) {
      // acq_rel: a start line only; the spin bounds nothing but the threads' start.
      ready.fetch_add(1, std::memory_order_acq_rel);
      while (ready.load(std::memory_order_acquire) < 2) {
      }
      out = node.whereis(peer, "sink", 10s);
    };
    std::thread from_a([&] { look_up(a, "b", sink_of_b); });
    std::thread from_b([&] { look_up(b, "a", sink_of_a); });
    from_a.join();
    from_b.join();
    REQUIRE(sink_of_b.ok());
    REQUIRE(sink_of_a.ok());

    // Messages both ways, in order (a stream of its own per round: the sinks outlive the nodes).
    const auto stream = static_cast<std::uint32_t>(round);
    for (std::uint64_t i = 0; i < messages; ++i) {
      (void)sink_of_b->send(Seq{stream, i});
      (void)sink_of_a->send(Seq{stream, i});
    }
    troupe::ScopedActor in_a(system_a);
    troupe::ScopedActor in_b(system_b);
    auto tally_b = in_a.request<TallyReply>(*sink_of_b, Tally{stream}, 10s);
    auto tally_a = in_b.request<TallyReply>(*sink_of_a, Tally{stream}, 10s);
    REQUIRE(tally_b.ok());
    REQUIRE(tally_a.ok());
    CHECK(tally_b->received == messages);
    CHECK(tally_b->out_of_order == 0);
    CHECK(tally_a->received == messages);
    CHECK(tally_a->out_of_order == 0);

    // One connection between them, the same on both sides, and neither side saw the other down.
    CHECK(a.stats().connections_open == 1);
    CHECK(b.stats().connections_open == 1);
    CHECK(a.stats().connections_accepted == 1);
    CHECK(b.stats().connections_accepted == 1);
    CHECK(a.stats().dead_letters == 0);
    CHECK(b.stats().dead_letters == 0);
  }
}
