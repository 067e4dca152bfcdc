// The bound on responses a node holds for a peer (NodeConfig::max_outbound_response_bytes): a
// responder is never held back, so past the bound a response is replaced by an error that says
// why, the connection stays, and a peer that keeps asking while its responses pile up further is
// closed.
#include "log_lines.hpp"
#include "raw_dialer.hpp"
#include "test_support.hpp"
#include "transport_test_support.hpp"
#include "wire_messages.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

using namespace transport_test;
using namespace std::chrono_literals;

namespace {

// Answers Ping{n} with a Blob of n KiB, counting what it answered.
troupe::DynamicHandle spawn_blob_server(troupe::System& system, std::shared_ptr<std::atomic<int>> answered) {
  return system.spawn([answered](troupe::Context&) {
    return troupe::behavior([answered](const Ping& ping) {
      answered->fetch_add(1, std::memory_order_relaxed);  // read only after the replies: relaxed is enough
      return Blob{0, static_cast<std::uint64_t>(ping.n), std::string(static_cast<std::size_t>(ping.n) * 1024, 'r')};
    });
  });
}

// Holds in its handler of Hold until released, and takes Seqs: what a peer's slow actor does to
// the credit it grants.
troupe::DynamicHandle spawn_held_sink(troupe::System& system, std::shared_future<void> released) {
  return system.spawn([released](troupe::Context&) {
    return troupe::behavior([released](const Hold&) { released.wait(); }, [](const Seq&) {});
  });
}

std::string all_lines(LogLines& log) {
  std::lock_guard lock(log.mutex);
  std::string out;
  for (const auto& line : log.lines) out += "\n  " + line;
  return out;
}

std::size_t lines_with(LogLines& log, std::string_view text) {
  std::lock_guard lock(log.mutex);
  std::size_t n = 0;
  for (const auto& line : log.lines) n += line.find(text) != std::string::npos ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("responses a peer has not taken past their bound become errors that say why; the connection stays") {
  // b's slow actor keeps a's credit spent, so a's responses to b's requests wait on a.
  std::promise<void> release;
  troupe::System system_b;
  auto b_config = node_config("b");
  b_config.receive_window = 4;
  troupe::transport::Node b(system_b, std::move(b_config));
  REQUIRE(system_b.register_name("sink", spawn_held_sink(system_b, release.get_future().share())).ok());

  LogLines log("a");
  troupe::System system_a({.log = log.config()});
  auto a_config = node_config("a");
  a_config.max_outbound_response_bytes = 1u << 20;  // three responses of 300 KiB fit, not four
  troupe::transport::Node a(system_a, std::move(a_config));
  auto answered = std::make_shared<std::atomic<int>>(0);
  REQUIRE(system_a.register_name("server", spawn_blob_server(system_a, answered)).ok());
  a.add_peer("b", "127.0.0.1", b.port());  // b knows a by this connection

  auto sink = a.whereis("b", "sink", 10s);
  REQUIRE(sink.ok());
  REQUIRE(sink->send(Hold{}).ok());
  constexpr std::uint64_t seqs = 10;
  for (std::uint64_t i = 0; i < seqs; ++i) REQUIRE(sink->send(Seq{0, i}).ok());
  // The Hold and 3 Seqs take b's window; the other 7 wait on a, and whatever comes after them.
  REQUIRE(troupe_test::eventually([&] {
    auto p = peer_of(system_a, "a", "b");
    return p && p->credit == 0 && p->outbound_envelopes == seqs - 3;
  }));

  auto server = b.whereis("a", "server", 10s);  // a lookup is a control: it needs no credit
  REQUIRE(server.ok());
  constexpr int requests = 8;
  std::vector<std::future<troupe::Result<Blob>>> replies;
  for (int i = 0; i < requests; ++i) {
    replies.push_back(std::async(std::launch::async, [&] {
      troupe::ScopedActor asker(system_b);
      return asker.request<Blob>(*server, Ping{300, "", {}}, 60s);
    }));
  }
  // Every request answered and every answer queued on a, before any of them may leave.
  REQUIRE(troupe_test::eventually([&] {
    auto p = peer_of(system_a, "a", "b");
    return answered->load(std::memory_order_relaxed) == requests && p && p->outbound_envelopes == seqs - 3 + requests;
  }));
  release.set_value();

  int blobs = 0;
  int refused = 0;
  for (auto& reply : replies) {
    auto r = reply.get();
    if (r.ok()) {
      ++blobs;
      CHECK(r->bytes.size() == 300u * 1024);
    } else {
      ++refused;
      CHECK(r.code() == troupe::Errc::mailbox_full);
      CHECK(r.error().what.find("max_outbound_response_bytes") != std::string::npos);
      CHECK(r.error().what.find("node 'b'") != std::string::npos);
    }
  }
  CHECK(blobs == 3);
  CHECK(refused == requests - 3);
  INFO("a's log:", all_lines(log));
  CHECK(lines_with(log, "dropped a response") == 1);  // the first refusal, not each

  // The queue drained: a response of any size under the bound goes again, on the same connection.
  troupe::ScopedActor asker(system_b);
  auto after = asker.request<Blob>(*server, Ping{900, "", {}}, 10s);
  REQUIRE(after.ok());
  CHECK(after->bytes.size() == 900u * 1024);
  CHECK(a.stats().connections_failed == 0);
  CHECK(b.stats().connections_failed == 0);
  CHECK(a.stats().connections_open == 1);
}

TEST_CASE("a peer that keeps asking without taking its responses is closed past a quarter over the bound") {
  LogLines log("a");
  troupe::System system({.log = log.config()});
  auto config = node_config("a");
  config.max_outbound_response_bytes = 64 * 1024;  // three responses of 16 KiB; then errors
  troupe::transport::Node node(system, config);
  auto answered = std::make_shared<std::atomic<int>>(0);
  REQUIRE(system.register_name("server", spawn_blob_server(system, answered)).ok());

  // A peer that grants no credit: nothing this node queues for it can leave.
  RawDialer raw(node.port());
  raw.authenticate(kTestSecret);
  {
    capnp::MallocMessageBuilder frame;
    frame.initRoot<troupe::transport::wire::Frame>().initLookup().setName("server");
    send_frame(raw.client, frame);
  }
  std::uint64_t server_id = 0;
  while (server_id == 0) {  // the node's grant may come first; lookup replies need no credit
    capnp::StreamFdMessageReader frame(raw.client.fd());
    auto root = frame.getRoot<troupe::transport::wire::Frame>();
    if (root.isLookupReply()) {
      REQUIRE(root.getLookupReply().getFound());
      server_id = root.getLookupReply().getActorId();
    }
  }

  std::uint64_t next_id = 1;
  auto send_requests = [&](int n) {
    capnp::MallocMessageBuilder frame;
    auto envelopes = frame.initRoot<troupe::transport::wire::Frame>().initEnvelopes(n);
    std::string payload;
    troupe::transport::WireWriter writer(payload);
    troupe::transport::WireCodec<Ping>::encode(writer, Ping{16, "", {}});
    for (int i = 0; i < n; ++i) {
      auto e = envelopes[i];
      e.setSender(7);  // a requester of raw's
      e.setReceiver(server_id);
      e.setTypeId(1);
      if (next_id == 1) e.setMessageType("Ping");  // the type's first envelope names it
      e.setKind(troupe::transport::wire::Kind::REQUEST);
      e.setRequestId(next_id++);
      e.setPayload(kj::arrayPtr(reinterpret_cast<const kj::byte*>(payload.data()), payload.size()));
    }
    send_frame(raw.client, frame);
  };
  // Each wave is answered and its responses queued before the next is sent: three Blobs fill the
  // bound, then errors of a few hundred bytes each pile up past a quarter more, and the next
  // request closes the connection.
  auto closed = [&] { return log.contains("asks faster than it takes the responses"); };
  auto queued = [&] {
    for (troupe::NodeMetrics& n : system.metrics().nodes) {
      for (troupe::PeerMetrics& p : n.peers) {
        if (p.node == "raw") return p.outbound_envelopes;
      }
    }
    return std::uint64_t{0};
  };
  int sent = 0;
  while (sent < 2000 && !closed()) {
    send_requests(50);
    sent += 50;
    REQUIRE(troupe_test::eventually([&] { return closed() || queued() == static_cast<std::uint64_t>(sent); }));
  }
  INFO("the log:", all_lines(log));
  CHECK(sent < 2000);
  CHECK(answered->load(std::memory_order_relaxed) < sent);  // the last wave was not taken
  CHECK(log.contains("dropped a response"));
  CHECK(troupe_test::eventually(
      [&] { return log.contains("connection from node 'raw' closed: it asks faster than it takes the responses: "); }));
  CHECK(troupe_test::eventually([&] { return node.stats().connections_failed == 1; }));
  // The node goes on: a new peer is answered.
  troupe::System other;
  troupe::transport::Node late(other, node_config("late"));
  late.add_peer("a", "127.0.0.1", node.port());
  auto server = late.whereis("a", "server", 10s);
  REQUIRE(server.ok());
  troupe::ScopedActor me(other);
  auto blob = me.request<Blob>(*server, Ping{1, "", {}}, 10s);
  REQUIRE(blob.ok());
  CHECK(blob->bytes.size() == 1024);
}
