// Nodes with TLS (NodeConfig::tls): certificates from throwaway CAs made by the test
// (test_certificates.hpp), a second node in another process (node_peer with its TLS files).
#include "log_lines.hpp"
#include "peer_process.hpp"
#include "raw_client.hpp"
#include "test_certificates.hpp"
#include "test_support.hpp"
#include "transport_test_support.hpp"
#include "wire_messages.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

#include <stdexcept>

using namespace transport_test;
using namespace std::chrono_literals;

namespace {

constexpr const char* kSecret = kTestSecret;

std::vector<std::string> peer_tls_args(const troupe::transport::TlsConfig& tls) {
  return {"--tls", tls.certificate_chain_file, tls.private_key_file, tls.trusted_ca_file};
}

// An "echo" actor in `system`, answering Ping with Pong{n + 1, text}.
void register_echo(troupe::System& system) {
  auto echo = system.spawn([](troupe::Context&) {
    return troupe::behavior([](const Ping& p) { return Pong{p.n + 1, p.text, 0}; });
  });
  REQUIRE(system.register_name("echo", echo).ok());
}

// Asks `node`'s peer `peer` for its "echo" and pings it; true when the answer comes back.
bool echo_answers(troupe::System& system, troupe::transport::Node& node, const std::string& peer) {
  auto echo = node.whereis(peer, "echo", 10s);
  if (!echo.ok()) return false;
  troupe::ScopedActor me(system);
  auto pong = me.request<Pong>(*echo, Ping{7, "sealed", {}}, 10s);
  return pong.ok() && pong->n == 8 && pong->text == "sealed";
}

}  // namespace

TEST_CASE("over TLS, a request to a node in another process gets its reply") {
  TestCertificates pki;
  PeerProcess peer("tls-b", kSecret, peer_tls_args(pki.node("ca", "tls-b")));
  troupe::System system;
  troupe::transport::Node node(system, {.name = "tls-a", .secret = kSecret, .tls = pki.node("ca", "tls-a")});
  node.add_peer("tls-b", "127.0.0.1", peer.port());

  auto echo = node.whereis("tls-b", "echo", 10s);
  if (!echo.ok()) FAIL(echo.error().message());
  troupe::ScopedActor me(system);
  auto pong = me.request<Pong>(*echo, Ping{41, "over TLS", {1, 2, 39}}, 10s);
  REQUIRE(pong.ok());
  CHECK(pong->n == 42);
  CHECK(pong->text == "over TLS");
  CHECK(pong->sum == 42);
  CHECK(node.stats().connections_accepted == 1);
  CHECK(node.stats().handshakes_refused == 0);
  // The peer saw no refusal either: its count, asked over the TLS connection.
  auto stats = node.whereis("tls-b", "stats", 10s);
  REQUIRE(stats.ok());
  auto refused = me.request<std::uint64_t>(*stats, RefusedCount{}, 10s);
  REQUIRE(refused.ok());
  CHECK(*refused == 0);
}

TEST_CASE("a TLS node refuses a plaintext dialer, logs it, and still serves a TLS peer") {
  TestCertificates pki;
  LogLines log("tls-l");
  troupe::System system({.log = log.config()});
  register_echo(system);
  troupe::transport::Node listener(system, {.name = "tls-l", .secret = kSecret, .tls = pki.node("ca", "tls-l")});

  troupe::transport::Node plain(system, {.name = "plain", .secret = kSecret});
  plain.add_peer("tls-l", "127.0.0.1", listener.port());
  CHECK(plain.whereis("tls-l", "echo", 10s).code() == troupe::Errc::node_unreachable);
  CHECK(plain.stats().connections_accepted == 0);
  CHECK(troupe_test::eventually([&] { return listener.stats().handshakes_refused == 1; }));
  CHECK(troupe_test::eventually([&] { return log.contains("TLS handshake failed"); }));

  troupe::transport::Node good(system, {.name = "tls-g", .secret = kSecret, .tls = pki.node("ca", "tls-g")});
  good.add_peer("tls-l", "127.0.0.1", listener.port());
  CHECK(echo_answers(system, good, "tls-l"));
  CHECK(listener.stats().connections_accepted == 1);
}

TEST_CASE("a TLS dialer is refused by a plaintext node, which still serves plaintext peers") {
  TestCertificates pki;
  PeerProcess peer("b", kSecret);  // plaintext
  LogLines log("tls-a");
  troupe::System system({.log = log.config()});
  troupe::transport::Node tls(system, {.name = "tls-a", .secret = kSecret, .tls = pki.node("ca", "tls-a")});
  tls.add_peer("b", "127.0.0.1", peer.port());
  CHECK(tls.whereis("b", "echo", 10s).code() == troupe::Errc::node_unreachable);
  CHECK(tls.stats().connections_accepted == 0);
  CHECK(tls.stats().handshakes_refused == 1);
  CHECK(log.contains("refused node 'b' at 127.0.0.1:" + std::to_string(peer.port()) + ": the TLS handshake failed"));

  troupe::transport::Node plain(system, {.name = "a", .secret = kSecret});
  plain.add_peer("b", "127.0.0.1", peer.port());
  CHECK(echo_answers(system, plain, "b"));
}

TEST_CASE("a node whose certificate another CA signed is refused, both ways") {
  TestCertificates pki;
  LogLines log("tls-l");
  troupe::System system({.log = log.config()});
  register_echo(system);
  troupe::transport::Node listener(system, {.name = "tls-l", .secret = kSecret, .tls = pki.node("ca", "tls-l")});

  SUBCASE("a dialer with a foreign certificate: the listener refuses it") {
    // It trusts the listener's CA, so only the listener's check can refuse it.
    troupe::transport::TlsConfig foreign = pki.node("other-ca", "tls-m");
    foreign.trusted_ca_file = pki.node("ca", "unused").trusted_ca_file;
    troupe::transport::Node stranger(system, {.name = "tls-m", .secret = kSecret, .tls = foreign});
    stranger.add_peer("tls-l", "127.0.0.1", listener.port());
    CHECK(stranger.whereis("tls-l", "echo", 10s).code() == troupe::Errc::node_unreachable);
    CHECK(troupe_test::eventually([&] { return listener.stats().handshakes_refused == 1; }));
    CHECK(troupe_test::eventually([&] { return log.contains("TLS handshake failed"); }));
  }
  SUBCASE("a dialer that trusts only another CA refuses the listener") {
    troupe::transport::Node stranger(system,
                                     {.name = "tls-m", .secret = kSecret, .tls = pki.node("other-ca", "tls-m")});
    stranger.add_peer("tls-l", "127.0.0.1", listener.port());
    CHECK(stranger.whereis("tls-l", "echo", 10s).code() == troupe::Errc::node_unreachable);
    CHECK(stranger.stats().handshakes_refused == 1);
  }
  SUBCASE("a dialer refuses a listener whose certificate names another node") {
    troupe::transport::Node impostor(system, {.name = "tls-i", .secret = kSecret, .tls = pki.node("ca", "tls-x")});
    troupe::transport::Node dialer(system, {.name = "tls-d", .secret = kSecret, .tls = pki.node("ca", "tls-d")});
    dialer.add_peer("tls-i", "127.0.0.1", impostor.port());
    CHECK(dialer.whereis("tls-i", "echo", 10s).code() == troupe::Errc::node_unreachable);
    CHECK(dialer.stats().handshakes_refused == 1);
  }

  // Whatever it refused, the listener still serves a good TLS peer.
  troupe::transport::Node good(system, {.name = "tls-g", .secret = kSecret, .tls = pki.node("ca", "tls-g")});
  good.add_peer("tls-l", "127.0.0.1", listener.port());
  CHECK(echo_answers(system, good, "tls-l"));
}

TEST_CASE("a node with unreadable TLS files does not start") {
  TestCertificates pki;
  troupe::System system;
  troupe::transport::TlsConfig tls = pki.node("ca", "tls-a");
  tls.private_key_file = pki.directory() + "/missing.key";
  CHECK_THROWS_AS(troupe::transport::Node(system, {.name = "tls-a", .secret = kSecret, .tls = tls}),
                  std::runtime_error);
  tls = pki.node("ca", "tls-a");
  tls.trusted_ca_file = tls.private_key_file;  // not a certificate
  CHECK_THROWS_AS(troupe::transport::Node(system, {.name = "tls-a", .secret = kSecret, .tls = tls}),
                  std::runtime_error);
}

TEST_CASE("a TLS node closes a peer that connects and never starts the TLS handshake") {
  TestCertificates pki;
  LogLines log("tls-l");
  troupe::System system({.log = log.config()});
  register_echo(system);
  troupe::transport::Node listener(
      system, {.name = "tls-l", .secret = kSecret, .handshake_timeout = 200ms, .tls = pki.node("ca", "tls-l")});
  {
    RawClient silent(listener.port());
    CHECK(silent.closed_by_node());
  }
  CHECK(troupe_test::eventually([&] { return listener.stats().handshakes_refused == 1; }));
  CHECK(troupe_test::eventually([&] { return log.contains("handshake timed out"); }));

  troupe::transport::Node good(system, {.name = "tls-g", .secret = kSecret, .tls = pki.node("ca", "tls-g")});
  good.add_peer("tls-l", "127.0.0.1", listener.port());
  CHECK(echo_answers(system, good, "tls-l"));
}

TEST_CASE("a plaintext node names a TLS dialer as such, refuses it, and serves on") {
  TestCertificates pki;
  LogLines log("p");
  troupe::System system({.log = log.config()});
  register_echo(system);
  troupe::transport::Node plain(system, {.name = "p", .secret = kSecret});
  troupe::transport::Node tls(system, {.name = "tls-a", .secret = kSecret, .tls = pki.node("ca", "tls-a")});
  tls.add_peer("p", "127.0.0.1", plain.port());
  CHECK(tls.whereis("p", "echo", 10s).code() == troupe::Errc::node_unreachable);
  CHECK(troupe_test::eventually([&] { return log.contains("a TLS client connected to this plaintext node"); }));
  CHECK_FALSE(log.contains("too many segments"));
  CHECK(plain.stats().handshakes_refused == 1);

  troupe::transport::Node other(system, {.name = "o", .secret = kSecret});
  other.add_peer("p", "127.0.0.1", plain.port());
  CHECK(echo_answers(system, other, "p"));
}
