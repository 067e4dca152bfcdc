// Bad frames from a peer that has proven the secret: a node trusts no peer's bytes. A garbage,
// oversized or out-of-place frame after authentication closes that peer's connection, the log
// names the peer and the reason, and the node, its other connections and this process go on.
#include "log_lines.hpp"
#include "raw_dialer.hpp"
#include "test_support.hpp"
#include "transport_test_support.hpp"
#include "wire.capnp.h"
#include "wire_messages.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <capnp/message.h>
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

using namespace transport_test;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kMaxFrame = 64 * 1024;  // node a's NodeConfig::max_frame_bytes

// The node's log, for a failing check's message.
std::string all_lines(LogLines& log) {
  std::lock_guard lock(log.mutex);
  std::string text;
  for (const auto& line : log.lines) text += "\n  " + line;
  return text;
}

// A stream frame header: `segments` segments, the first of `words` words, the rest empty.
std::vector<std::uint8_t> frame_header(std::uint32_t segments, std::uint32_t words) {
  std::vector<std::uint8_t> bytes;
  auto u32 = [&bytes](std::uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
  };
  u32(segments - 1);
  u32(words);
  for (std::uint32_t i = 1; i < segments; ++i) u32(0);
  if (segments % 2 == 0) u32(0);  // padding to a word
  return bytes;
}

}  // namespace

TEST_CASE("a bad frame from an authenticated peer closes its connection only, and the log says who and why") {
  LogLines log("a");
  troupe::System system({.log = log.config()});
  troupe::transport::Node node(system, {.name = "a", .secret = kTestSecret, .max_frame_bytes = kMaxFrame});
  auto echo = system.spawn([](troupe::Context&) {
    return troupe::behavior([](const Ping& p) { return Pong{p.n + 1, p.text, 0}; });
  });
  REQUIRE(system.register_name("echo", echo).ok());

  // Another peer, connected before and used after: its connection must not notice.
  troupe::System other;
  troupe::transport::Node good(other, node_config("good"));
  good.add_peer("a", "127.0.0.1", node.port());
  auto remote_echo = good.whereis("a", "echo", 10s);
  REQUIRE(remote_echo.ok());
  troupe::ScopedActor me(other);
  REQUIRE(me.request<Pong>(*remote_echo, Ping{0, "before", {}}, 10s).ok());

  std::vector<std::uint8_t> bytes;
  std::string reason;  // what the log must give as the reason
  SUBCASE("garbage words: a root pointer out of the frame") {
    bytes = frame_header(1, 2);
    for (std::uint8_t b : {0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}) bytes.push_back(b);
    reason = "";  // Cap'n Proto's own words; only that there is a reason is checked
  }
  SUBCASE("a frame larger than the node accepts, refused from its header (no body follows)") {
    bytes = frame_header(1, kMaxFrame / 8 + 1);
    reason = "frame too large (" + std::to_string(kMaxFrame + 8) + " bytes, at most " + std::to_string(kMaxFrame) + ")";
  }
  SUBCASE("a frame claiming 4 GiB") {
    bytes = frame_header(1, 0xffffffff);
    reason = "frame too large";
  }
  SUBCASE("too many segments") {
    bytes = frame_header(65, 1);
    reason = "frame has too many segments (65, at most 64)";
  }
  SUBCASE("a well-formed frame that has no place after authentication: a second hello") {
    capnp::MallocMessageBuilder hello;
    hello.initRoot<troupe::transport::wire::Frame>().initHello().setNodeName("raw");
    auto words = capnp::messageToFlatArray(hello);
    bytes.assign(words.asBytes().begin(), words.asBytes().end());
    reason = "handshake frame after authentication";
  }
  SUBCASE("a frame cut short by the end of the stream") {
    bytes = frame_header(1, 4);
    for (std::uint8_t b : {1, 2, 3}) bytes.push_back(b);
    reason = "frame truncated";
  }

  {
    RawDialer raw(node.port());
    raw.authenticate(kTestSecret);
    REQUIRE(troupe_test::eventually([&] { return node.stats().connections_open == 2; }));
    REQUIRE(raw.client.send(bytes));
    raw.client.end_stream();  // a truncated frame ends here; the others are whole
    CHECK(raw.client.closed_by_node());
  }
  CHECK(troupe_test::eventually([&] { return node.stats().connections_failed == 1; }));
  // Closed for what it sent, after authentication: not a refusal, and logged with the peer's name.
  CHECK(node.stats().handshakes_refused == 0);
  CHECK(node.stats().connections_accepted == 2);
  const std::string prefix = "connection from node 'raw' closed: ";
  INFO("the log:", all_lines(log));
  CHECK(troupe_test::eventually([&] { return log.contains(prefix + reason); }));
  CHECK(troupe_test::eventually([&] { return log.contains("node 'raw' is down"); }));

  // The other connection never noticed: the same one carries the next request.
  auto pong = me.request<Pong>(*remote_echo, Ping{1, "after", {}}, 10s);
  REQUIRE(pong.ok());
  CHECK(pong->n == 2);
  CHECK(good.stats().connections_accepted == 1);
  CHECK(node.stats().connections_open == 1);
  // And the node takes new peers as before.
  troupe::System third;
  troupe::transport::Node late(third, node_config("late"));
  late.add_peer("a", "127.0.0.1", node.port());
  CHECK(late.whereis("a", "echo", 10s).ok());
}

// Node a, and a peer played by hand that has proven the secret.
struct AuthenticatedRawPeer {
  AuthenticatedRawPeer() { raw.authenticate(kTestSecret); }
  LogLines log{"a"};
  troupe::System system{{.log = log.config()}};
  troupe::transport::Node node{system, {.name = "a", .secret = kTestSecret}};
  RawDialer raw{node.port()};
};

TEST_CASE_FIXTURE(AuthenticatedRawPeer,
                  "a peer that asks without reading the answers is closed, not answered without bound") {
  // Lookups, many to a write, never reading what comes back. Once the socket's buffers are full,
  // the answers queue in the node, until the bound closes the connection (outbox.hpp).
  capnp::MallocMessageBuilder frame;
  auto lookup = frame.initRoot<troupe::transport::wire::Frame>().initLookup();
  lookup.setName("nobody");
  const auto words = capnp::messageToFlatArray(frame);
  std::vector<std::uint8_t> batch;
  for (int i = 0; i < 1000; ++i) batch.insert(batch.end(), words.asBytes().begin(), words.asBytes().end());
  std::size_t sent = 0;
  constexpr std::size_t kMostLookups = 4'000'000;  // far past the bound and any socket's buffers
  while (sent < kMostLookups && raw.client.send(batch)) sent += 1000;
  CHECK(sent < kMostLookups);  // the node closed it: a send failed
  INFO("the log:", all_lines(log));
  CHECK(troupe_test::eventually(
      [&] { return log.contains("connection from node 'raw' closed: it asks faster than it reads the answers"); }));
  CHECK(node.stats().connections_failed == 1);
  // And the node takes new peers as before.
  troupe::System other;
  troupe::transport::Node late(other, node_config("late"));
  late.add_peer("a", "127.0.0.1", node.port());
  CHECK(late.whereis("a", "nobody", 10s).code() == troupe::Errc::no_such_name);
}

TEST_CASE_FIXTURE(
    AuthenticatedRawPeer,
    "a response that answers no request of the node's is a dead letter, not a message queued for an actor") {
  REQUIRE(troupe_test::eventually([&] { return node.stats().connections_open == 1; }));
  // A Pong "answering" request 777 of the spawner (exported on every node), which asked nothing.
  capnp::MallocMessageBuilder frame;
  auto envelope = frame.initRoot<troupe::transport::wire::Frame>().initEnvelopes(1)[0];
  envelope.setReceiver(1);
  envelope.setTypeId(1);
  envelope.setMessageType("Pong");
  envelope.setKind(troupe::transport::wire::Kind::RESPONSE);
  envelope.setRequestId(777);
  std::string payload;
  troupe::transport::WireWriter writer(payload);
  troupe::transport::WireCodec<Pong>::encode(writer, Pong{1, "unasked", 0});
  envelope.setPayload(kj::arrayPtr(reinterpret_cast<const kj::byte*>(payload.data()), payload.size()));
  send_frame(raw.client, frame);
  INFO("the log:", all_lines(log));
  CHECK(troupe_test::eventually([&] { return node.stats().dead_letters == 1; }));
  CHECK(node.stats().envelopes_received == 1);
  CHECK(node.stats().connections_failed == 0);  // not a malformed frame: the connection stays
  CHECK(node.stats().connections_open == 1);
}
