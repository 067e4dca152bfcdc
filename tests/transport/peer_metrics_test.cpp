// A node's part of its System's metrics (MetricsSnapshot::nodes): each peer's traffic, credit,
// outbound queue, connection state, heartbeat round trip and node-downs, and the handshakes the
// node refused by cause; and the heartbeat's times on the wire (docs/wire.md).
#include "cluster/cluster_support.hpp"
#include "frame_codec.hpp"
#include "heartbeat.hpp"
#include "test_support.hpp"
#include "transport_test_support.hpp"
#include "wire_messages.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <capnp/serialize.h>
#include <doctest/doctest.h>
#include <kj/timer.h>

#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace transport_test;
using namespace std::chrono_literals;
namespace detail = troupe::transport::detail;

namespace {

// A strong secret, but not the cluster's.
constexpr const char* kOtherSecret = "f1e2d3c4b5a69788f1e2d3c4b5a69788f1e2d3c4b5a69788f1e2d3c4b5a69788";

// A sink on b: counts Seqs and answers a Tally with the count; holds on Hold until released.
troupe::DynamicHandle spawn_sink(troupe::System& system, std::shared_future<void> released) {
  return system.spawn([released](troupe::Context&) {
    auto received = std::make_shared<std::uint64_t>(0);
    return troupe::behavior([released](const Hold&) { released.wait(); }, [received](const Seq&) { ++*received; },
                            [received](const Tally&) {
                              return TallyReply{*received, 0};
                            });
  });
}

}  // namespace

TEST_SUITE("metrics") {
  TEST_CASE("each node counts what crossed to its peer, both ways alike, and the peer is up with credit") {
    troupe::System system_b;
    std::promise<void> release;  // unused here: nothing holds
    troupe::transport::Node b(system_b, node_config("b"));
    REQUIRE(system_b.register_name("sink", spawn_sink(system_b, release.get_future().share())).ok());
    troupe::System system_a;
    troupe::transport::Node a(system_a, node_config("a"));
    a.add_peer("b", "127.0.0.1", b.port());
    auto sink = a.whereis("b", "sink", 10s);
    REQUIRE(sink.ok());

    constexpr std::uint64_t n = 500;
    for (std::uint64_t i = 0; i < n; ++i) REQUIRE(sink->send(Seq{0, i}).ok());
    troupe::ScopedActor me(system_a);
    auto tally = me.request<TallyReply>(*sink, Tally{0}, 10s);  // after the Seqs: they all arrived
    REQUIRE(tally.ok());
    REQUIRE(tally->received == n);

    auto b_on_a = peer_of(system_a, "a", "b");
    REQUIRE(b_on_a);
    CHECK(b_on_a->state == "up");
    CHECK(b_on_a->address == "127.0.0.1:" + std::to_string(b.port()));
    CHECK(b_on_a->envelopes_out >= n + 1);  // the Seqs and the Tally
    CHECK(b_on_a->envelopes_in >= 1);       // the TallyReply
    CHECK(b_on_a->bytes_out > n);
    CHECK(b_on_a->bytes_in > 0);
    CHECK(b_on_a->credit > 0);  // b's window, less what is in flight
    CHECK(b_on_a->outbound_envelopes == 0);
    CHECK(b_on_a->outbound_bytes == 0);
    CHECK(b_on_a->downs == 0);
    auto a_on_b = peer_of(system_b, "b", "a");
    REQUIRE(a_on_b);
    CHECK(a_on_b->state == "up");
    CHECK(a_on_b->envelopes_in >= n + 1);
    CHECK(a_on_b->envelopes_out >= 1);
    // Both sides count the same frames to the byte: once nothing is in flight (between heartbeats,
    // a second apart by default), what one wrote is what the other read.
    CHECK(troupe_test::eventually([&] {
      auto out = peer_of(system_a, "a", "b");
      auto in = peer_of(system_b, "b", "a");
      return out && in && out->bytes_out == in->bytes_in && out->bytes_in == in->bytes_out &&
             out->envelopes_out == in->envelopes_in;
    }));
    // One node, one part: the snapshot of b's System has b's, not a's.
    const auto nodes_b = system_b.metrics().nodes;
    REQUIRE(nodes_b.size() == 1);
    CHECK(nodes_b[0].name == "b");
  }

  TEST_CASE("messages waiting for the peer's credit are the outbound queue, and the credit is spent") {
    troupe::System system_b;
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    auto b_config = node_config("b");
    b_config.receive_window = 4;  // b's sink holds: after 4 envelopes, a has no credit left
    troupe::transport::Node b(system_b, std::move(b_config));
    REQUIRE(system_b.register_name("sink", spawn_sink(system_b, released)).ok());
    troupe::System system_a;
    troupe::transport::Node a(system_a, node_config("a"));
    a.add_peer("b", "127.0.0.1", b.port());
    auto sink = a.whereis("b", "sink", 10s);
    REQUIRE(sink.ok());

    troupe::ScopedActor me(system_a);
    // The sink's first turn starts with a signal (its export's monitor), which sets the messages
    // aside: the credit tokens behind them wait with them (marker_order_test.cpp), so the window
    // stays one.
    REQUIRE(sink->send(Hold{}).ok());
    constexpr std::uint64_t n = 20;
    for (std::uint64_t i = 0; i < n; ++i) REQUIRE(sink->send(Seq{0, i}).ok());
    // The Hold and 3 Seqs are in flight; the other 17 wait on a.
    REQUIRE(troupe_test::eventually([&] {
      auto p = peer_of(system_a, "a", "b");
      return p && p->outbound_envelopes == n - 3;
    }));
    auto waiting = peer_of(system_a, "a", "b");
    CHECK(waiting->credit == 0);  // the window's envelopes are spent: nothing may go, whatever bytes are left
    CHECK(waiting->outbound_bytes >= waiting->outbound_envelopes * 48);  // at least an envelope's header each
    CHECK(waiting->envelopes_out == 4);                                  // a window

    release.set_value();
    auto tally = me.request<TallyReply>(*sink, Tally{0}, 10s);
    REQUIRE(tally.ok());
    CHECK(tally->received == n);
    auto drained = peer_of(system_a, "a", "b");
    CHECK(drained->outbound_envelopes == 0);
    CHECK(drained->outbound_bytes == 0);
    CHECK(drained->envelopes_out == n + 2);  // the Hold, the Seqs and the Tally
  }

  TEST_CASE("heartbeats on an idle link give each side the round trip") {
    auto quick = [](std::string name) {
      auto config = node_config(std::move(name));
      config.heartbeat_interval = 100ms;  // heartbeats soon; the timeout stays far from any stall
      config.heartbeat_timeout = troupe_test::heartbeat_timeout;
      return config;
    };
    troupe::System system_b;
    troupe::transport::Node b(system_b, quick("b"));
    troupe::System system_a;
    troupe::transport::Node a(system_a, quick("a"));
    a.add_peer("b", "127.0.0.1", b.port());
    REQUIRE(a.whereis("b", "nobody", 10s).code() == troupe::Errc::no_such_name);  // connected
    CHECK(troupe_test::eventually([&] {
      auto p = peer_of(system_a, "a", "b");
      return p && p->rtt_seconds > 0;
    }));
    CHECK(troupe_test::eventually([&] {
      auto p = peer_of(system_b, "b", "a");
      return p && p->rtt_seconds > 0;
    }));
  }

  TEST_CASE("a handshake refused for another secret is counted under its cause, on both sides") {
    troupe::System system_a;
    troupe::transport::Node a(system_a, node_config("a"));
    auto before = node_part(system_a, "a");
    REQUIRE(before);
    CHECK(before->refusals.size() == 8);  // every cause, each counted from 0
    CHECK(refusals(*before, "bad_hmac") == 0);
    troupe::System system_m;
    troupe::transport::Node mallory(system_m, {.name = "mallory", .secret = kOtherSecret});
    mallory.add_peer("a", "127.0.0.1", a.port());
    CHECK(mallory.whereis("a", "echo", 10s).code() == troupe::Errc::node_unreachable);
    REQUIRE(troupe_test::eventually([&] { return a.stats().handshakes_refused == 1; }));
    auto after = node_part(system_a, "a");
    REQUIRE(after);
    CHECK(refusals(*after, "bad_hmac") == 1);
    CHECK(refusals(*after, "closed") == 0);
    CHECK(after->peers.empty());  // mallory never got in: no peer of that name
    // The dialer only saw the connection close after its proof.
    REQUIRE(troupe_test::eventually([&] { return mallory.stats().handshakes_refused >= 1; }));
    auto on_mallory = node_part(system_m, "mallory");
    REQUIRE(on_mallory);
    CHECK(refusals(*on_mallory, "closed") == mallory.stats().handshakes_refused);
    CHECK(refusals(*on_mallory, "bad_hmac") == 0);
  }

  TEST_CASE("a stopped peer is down once, seen from a node-down callback as from outside; a stopped node's part goes") {
    troupe::System system_a;
    std::promise<std::optional<troupe::PeerMetrics>> in_callback;
    auto a_config = node_config("a");
    // On the transport thread: a snapshot taken there is collected at once, not waited for.
    a_config.on_node_down = [&system_a, &in_callback, once = std::make_shared<std::once_flag>()](std::string_view) {
      std::call_once(*once, [&] { in_callback.set_value(peer_of(system_a, "a", "b")); });
    };
    auto a = std::make_unique<troupe::transport::Node>(system_a, std::move(a_config));
    {
      troupe::System system_b;
      troupe::transport::Node b(system_b, node_config("b"));
      a->add_peer("b", "127.0.0.1", b.port());
      REQUIRE(a->whereis("b", "nobody", 10s).code() == troupe::Errc::no_such_name);
      REQUIRE(peer_of(system_a, "a", "b")->state == "up");
    }
    auto seen = in_callback.get_future();
    REQUIRE(seen.wait_for(troupe_test::heartbeat_wait) == std::future_status::ready);
    const auto from_callback = seen.get();
    REQUIRE(from_callback);
    CHECK(from_callback->state == "down");
    CHECK(from_callback->downs == 1);
    auto after = peer_of(system_a, "a", "b");
    REQUIRE(after);
    CHECK(after->state == "down");  // nothing is queued for it: no dial
    CHECK(after->downs == 1);
    CHECK(after->credit == 0);  // the next connection starts from the window its peer grants

    a.reset();
    CHECK(system_a.metrics().nodes.empty());
  }

  TEST_CASE("a cluster member that stops is declared down") {
    cluster_test::ClusterNode a("a");
    auto b = std::make_unique<cluster_test::ClusterNode>("b", std::vector<std::string>{cluster_test::seed_of(a.node)});
    REQUIRE(b->node.cluster().wait_up());
    REQUIRE(cluster_test::sees(a.node, {"a", "b"}));
    CHECK(peer_of(a.system, "a", "b")->state == "up");
    b.reset();
    CHECK(troupe_test::eventually([&] { return peer_of(a.system, "a", "b")->state == "declared_down"; }));
    CHECK(peer_of(a.system, "a", "b")->downs == 1);
  }
}

// The heartbeat's times, by hand: the echo, how long it was held, and the round trip.
TEST_CASE("a heartbeat echoes the last one heard once; the round trip leaves out how long it was held") {
  kj::TimerImpl timer(kj::origin<kj::TimePoint>());
  const troupe::transport::NodeConfig config = node_config("a");
  detail::Heartbeat a(timer, config);
  detail::Heartbeat b(timer, config);

  const auto start = std::chrono::steady_clock::now();
  const detail::HeartbeatTimes from_a = a.next_times();
  CHECK(from_a.sent_at != 0);
  CHECK(from_a.echoed_sent_at == 0);  // a heard nothing yet
  CHECK_FALSE(b.heard_beat(from_a));  // nothing of b's own came back
  std::this_thread::sleep_for(20ms);  // b holds it
  const detail::HeartbeatTimes from_b = b.next_times();
  CHECK(from_b.echoed_sent_at == from_a.sent_at);
  CHECK(from_b.echo_delay >= 20'000'000u);
  const auto rtt = a.heard_beat(from_b);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE(rtt);
  CHECK(rtt->count() > 0);
  CHECK(*rtt + std::chrono::nanoseconds(from_b.echo_delay) <= elapsed);
  CHECK(b.next_times().echoed_sent_at == 0);  // echoed once

  SUBCASE("a peer that sends no times gives none, and nothing to echo") {
    CHECK(a.next_times().echoed_sent_at == from_b.sent_at);  // what a heard last
    CHECK_FALSE(a.heard_beat(detail::HeartbeatTimes{}));
    CHECK(a.next_times().echoed_sent_at == 0);
  }
  SUBCASE("an echo that does not fit this side's clock is no round trip") {
    const std::uint64_t now = a.next_times().sent_at;
    CHECK_FALSE(a.heard_beat({.sent_at = 1, .echoed_sent_at = now + 60'000'000'000u, .echo_delay = 0}));
    CHECK_FALSE(a.heard_beat({.sent_at = 1, .echoed_sent_at = now, .echo_delay = 60'000'000'000u}));
  }
}

TEST_CASE("a heartbeat with times is, to a reader of the older schema, the void heartbeat it was") {
  // `heartbeat @5 :Void`, as a node before the times encoded it (capnp encode of the old schema):
  // segment table, root pointer (2 data words, 1 pointer), the union's discriminant 5.
  const std::vector<std::uint8_t> old_heartbeat = {0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0, 5, 0, 0, 0,
                                                   0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  kj::ArrayPtr<const capnp::word> old_words(reinterpret_cast<const capnp::word*>(old_heartbeat.data()),
                                            old_heartbeat.size() / sizeof(capnp::word));
  capnp::FlatArrayMessageReader old_reader(old_words);
  auto old_root = old_reader.getRoot<troupe::transport::wire::Frame>();
  REQUIRE(old_root.isHeartbeat());
  const detail::HeartbeatTimes none = detail::read_heartbeat(old_root.getHeartbeat());
  CHECK(none.sent_at == 0);
  CHECK(none.echoed_sent_at == 0);

  auto frame = detail::heartbeat_frame({.sent_at = 123, .echoed_sent_at = 45, .echo_delay = 6});
  const kj::Array<capnp::word> words = capnp::messageToFlatArray(*frame);
  const auto bytes = words.asBytes();
  // The root pointer and the data section, where an older reader finds the union, are the old ones.
  REQUIRE(bytes.size() > 32);
  CHECK(std::vector<std::uint8_t>(bytes.begin() + 8, bytes.begin() + 32) ==
        std::vector<std::uint8_t>(old_heartbeat.begin() + 8, old_heartbeat.begin() + 32));
  capnp::FlatArrayMessageReader reader(words.asPtr());
  const detail::HeartbeatTimes times =
      detail::read_heartbeat(reader.getRoot<troupe::transport::wire::Frame>().getHeartbeat());
  CHECK(times.sent_at == 123);
  CHECK(times.echoed_sent_at == 45);
  CHECK(times.echo_delay == 6);
}
