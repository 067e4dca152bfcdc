// The handshake as an attacker sees it: what the listener reveals to a dialer that has not proven
// itself (nothing that depends on the secret), weak secrets, the secret generator, and how every
// refused connection is counted and logged (once, with its address, in plain words, rate-limited).
#include "handshake.hpp"
#include "log_lines.hpp"
#include "raw_client.hpp"
#include "raw_dialer.hpp"
#include "refusal_log.hpp"
#include "test_support.hpp"
#include "transport_test_support.hpp"
#include "wire.capnp.h"
#include "wire_messages.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

using namespace transport_test;
using namespace std::chrono_literals;
namespace detail = troupe::transport::detail;
namespace wire = troupe::transport::wire;

namespace {

// A node that listens and answers Ping with Pong (its "echo"); its log kept.
struct ListeningNode {
  explicit ListeningNode(LogLines& log, troupe::Duration handshake_timeout = std::chrono::seconds(5),
                         std::uint32_t max_handshakes = 64)
      : system({.log = log.config()}),
        node(system, {.name = "a",
                      .secret = kTestSecret,
                      .handshake_timeout = handshake_timeout,
                      .max_handshakes = max_handshakes}) {
    auto echo = system.spawn([](troupe::Context&) {
      return troupe::behavior([](const Ping& p) { return Pong{p.n + 1, p.text, 0}; });
    });
    REQUIRE(system.register_name("echo", echo).ok());
  }
  // A good peer is still served: a lookup and a request over a new, authenticated connection.
  bool serves_a_peer() {
    troupe::System other;
    troupe::transport::Node client(other, node_config("good"));
    client.add_peer("a", "127.0.0.1", node.port());
    auto echo = client.whereis("a", "echo", 10s);
    if (!echo.ok()) return false;
    troupe::ScopedActor me(other);
    auto pong = me.request<Pong>(*echo, Ping{1, "", {}}, 10s);
    return pong.ok() && pong->n == 2;
  }
  troupe::System system;
  troupe::transport::Node node;
};

// The node's log lines that name this refused address.
std::size_t lines_refusing(LogLines& log, const std::string& address) {
  std::lock_guard lock(log.mutex);
  return static_cast<std::size_t>(std::count_if(log.lines.begin(), log.lines.end(), [&](const std::string& line) {
    return line.find("refused " + address) != std::string::npos;
  }));
}

// No line shows Cap'n Proto's or KJ's own text (a failed requirement, a source location).
bool log_is_plain(LogLines& log) {
  std::lock_guard lock(log.mutex);
  return std::none_of(log.lines.begin(), log.lines.end(), [](const std::string& line) {
    return line.find("requirement") != std::string::npos || line.find(" = ") != std::string::npos ||
           line.find(".c++:") != std::string::npos || line.find(".cpp:") != std::string::npos ||
           line.find(".h:") != std::string::npos;
  });
}

// The node's log, for a failing check's message.
std::string all_lines(LogLines& log) {
  std::lock_guard lock(log.mutex);
  std::string text;
  for (const auto& line : log.lines) text += "\n  " + line;
  return text;
}

// A fresh path in the temporary directory (removed by the destructor if something made it).
struct TempPath {
  TempPath() {
    char pattern[] = "/tmp/troupe-secret-XXXXXX";
    const int fd = ::mkstemp(pattern);
    REQUIRE(fd >= 0);
    ::close(fd);
    ::unlink(pattern);  // only the unique name is wanted
    path = pattern;
  }
  ~TempPath() { ::unlink(path.c_str()); }
  std::string path;
};

}  // namespace

TEST_CASE("the listener's hello carries no proof; its proof comes only after the dialer's matched") {
  LogLines log;
  ListeningNode a(log);
  RawDialer dialer(a.node.port());
  dialer.send_hello();
  const auto hello = dialer.read_hello();
  CHECK(hello.name == "a");
  CHECK(hello.proof_bytes == 0);  // nothing that depends on the secret yet

  // The dialer proves itself; then, and only then, the listener's proof comes, and it is right.
  dialer.send_proof(
      detail::handshake_mac(kTestSecret, detail::Role::dialer, dialer.name, "a", dialer.nonce, hello.nonce));
  const detail::Mac proof = dialer.read_proof();
  const detail::Mac expected =
      detail::handshake_mac(kTestSecret, detail::Role::listener, dialer.name, "a", dialer.nonce, hello.nonce);
  CHECK(detail::proof_matches(expected, proof.data(), proof.size()));
  CHECK(a.node.stats().handshakes_refused == 0);
}

TEST_CASE("a dialer with a wrong proof gets no proof from the listener, and is refused, counted and logged") {
  LogLines log;
  ListeningNode a(log);
  RawDialer dialer(a.node.port());
  const std::string address = "127.0.0.1:" + std::to_string(dialer.client.local_port());
  dialer.send_hello();
  const auto hello = dialer.read_hello();
  CHECK(hello.proof_bytes == 0);
  // A guess of the secret: the listener must not answer it with anything an offline search could use.
  dialer.send_proof(detail::handshake_mac("a guess at the secret", detail::Role::dialer, dialer.name, "a", dialer.nonce,
                                          hello.nonce));
  const auto after = dialer.client.bytes_until_closed();
  REQUIRE(after.has_value());  // closed
  CHECK(*after == 0);          // with not a byte more
  CHECK(troupe_test::eventually([&] { return lines_refusing(log, address) == 1; }));
  CHECK(log.contains("refused " + address + ": it could not prove the cluster secret"));
  CHECK(a.node.stats().handshakes_refused == 1);
  CHECK(a.serves_a_peer());
  CHECK(a.node.stats().handshakes_refused == 1);  // once, not again later
}

TEST_CASE("every connection refused before authentication is counted once and logged with its address, in words") {
  LogLines log;
  ListeningNode a(log, 300ms);
  std::string address;
  std::string reason;
  std::string cause;  // what the node's metrics count it under (NodeMetrics::refusals)
  SUBCASE("a malformed frame") {
    RawClient client(a.node.port());
    address = "127.0.0.1:" + std::to_string(client.local_port());
    // A complete frame of garbage words: Cap'n Proto cannot read a hello from it.
    REQUIRE(client.send({0, 0, 0, 0, 2, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));
    CHECK(client.closed_by_node());
    reason = "it sent a malformed frame before authenticating";
    cause = "malformed";
  }
  SUBCASE("a frame beyond the handshake's limits") {
    RawClient client(a.node.port());
    address = "127.0.0.1:" + std::to_string(client.local_port());
    REQUIRE(client.send({0xff, 0xff, 0xff, 0xff, 0x01, 0, 0, 0}));  // 2^32 segments claimed
    CHECK(client.closed_by_node());
    reason = "it sent a malformed frame before authenticating (frame has too many segments";
    cause = "malformed";
  }
  SUBCASE("an unexpected frame: a lookup instead of a hello") {
    RawClient client(a.node.port());
    address = "127.0.0.1:" + std::to_string(client.local_port());
    capnp::MallocMessageBuilder frame;
    auto lookup = frame.initRoot<wire::Frame>().initLookup();
    lookup.setLookupId(1);
    lookup.setName("echo");
    send_frame(client, frame);
    CHECK(client.closed_by_node());
    reason = "it sent an unexpected frame before authenticating";
    cause = "malformed";
  }
  SUBCASE("another protocol version") {
    RawDialer dialer(a.node.port());
    address = "127.0.0.1:" + std::to_string(dialer.client.local_port());
    dialer.send_hello(99);
    CHECK(dialer.client.closed_by_node());
    reason = "it speaks protocol version 99, this node version " + std::to_string(wire::PROTOCOL_VERSION);
    cause = "version";
  }
  SUBCASE("the peer closes in the middle of the handshake") {
    RawDialer dialer(a.node.port());
    address = "127.0.0.1:" + std::to_string(dialer.client.local_port());
    dialer.send_hello();
    (void)dialer.read_hello();
    dialer.client.close();
    reason = "it closed the connection during the handshake";
    cause = "closed";
  }
  SUBCASE("the peer stalls past the handshake timeout") {
    RawDialer dialer(a.node.port());
    address = "127.0.0.1:" + std::to_string(dialer.client.local_port());
    dialer.send_hello();
    (void)dialer.read_hello();
    CHECK(dialer.client.closed_by_node());
    reason = "the handshake timed out";
    cause = "timeout";
  }
  CAPTURE(reason);
  INFO("the node's log:" << all_lines(log));
  CHECK(troupe_test::eventually([&] { return log.contains("refused " + address + ": " + reason); }));
  CHECK(a.node.stats().handshakes_refused == 1);
  CHECK(log_is_plain(log));
  CHECK(a.serves_a_peer());
  CHECK(a.node.stats().handshakes_refused == 1);  // once, not again as the connection went
  CHECK(lines_refusing(log, address) == 1);
  const auto nodes = a.system.metrics().nodes;
  REQUIRE(nodes.size() == 1);
  for (const auto& [name, count] : nodes[0].refusals) {
    CAPTURE(name);
    CHECK(count == (name == cause ? 1u : 0u));  // under its cause, and no other
  }
}

TEST_CASE("handshakes under way are bounded: one more is refused, busy, until one goes or authenticates") {
  LogLines log;
  ListeningNode a(log, 60s, 2);  // a timeout that none of them reaches: only the bound refuses
  auto busy = [&] { return refusals(a.system.metrics().nodes.at(0), "busy"); };
  // The node takes connections in the order they came: two take the slots, the third finds none.
  RawClient first(a.node.port());
  RawClient second(a.node.port());
  RawClient third(a.node.port());
  CHECK(third.closed_by_node());
  const std::string address = "127.0.0.1:" + std::to_string(third.local_port());
  INFO("the node's log:" << all_lines(log));
  CHECK(troupe_test::eventually(
      [&] { return log.contains("refused " + address + ": 2 connections were in their handshakes already"); }));
  CHECK(busy() == 1);
  CHECK(log_is_plain(log));

  // One that goes gives its slot back: a good peer is served (refused, busy, if it came before the
  // node saw `first` go; then it asks again).
  first.close();
  troupe::System other;
  troupe::transport::Node good(other, node_config("good"));
  good.add_peer("a", "127.0.0.1", a.node.port());
  REQUIRE(troupe_test::eventually([&] { return good.whereis("a", "echo", 10s).ok(); }));
  // And one that authenticated holds none, while it stays: two slots, `second` in one, so the
  // fourth takes the other and only the fifth is refused.
  const std::uint64_t busy_before = busy();  // the good peer may have been refused while first went
  RawClient fourth(a.node.port());
  RawClient fifth(a.node.port());
  CHECK(fifth.closed_by_node());
  CHECK(troupe_test::eventually([&] { return busy() >= busy_before + 1; }));
  CHECK(busy() == busy_before + 1);
  CHECK(good.whereis("a", "echo", 10s).ok());  // over the same connection, still up
}

TEST_CASE("repeated refusals from one address are counted each, and logged a few times at most") {
  LogLines log;
  ListeningNode a(log);
  constexpr std::uint64_t kAttempts = 20;
  for (std::uint64_t i = 0; i < kAttempts; ++i) {
    RawClient client(a.node.port());
    REQUIRE(client.send({0xff, 0xff, 0xff, 0xff, 0x01, 0, 0, 0}));
    CHECK(client.closed_by_node());
  }
  CHECK(troupe_test::eventually([&] { return a.node.stats().handshakes_refused == kAttempts; }));
  // One line per address per 5 s: one here, unless the attempts took longer than that.
  const std::size_t lines = lines_refusing(log, "127.0.0.1:");
  CHECK(lines >= 1);
  CHECK(lines <= 3);
  CHECK(a.serves_a_peer());
}

TEST_CASE("RefusalLog: one line per address per interval, then how many went unlogged; bounded") {
  using Clock = detail::RefusalLog::Clock;
  const Clock::time_point t0{};
  detail::RefusalLog log(5s, 3);
  auto first = log.admit("10.0.0.1", t0);
  REQUIRE(first.has_value());
  CHECK(first->unlogged == 0);
  CHECK_FALSE(log.admit("10.0.0.1", t0 + 1s).has_value());
  CHECK_FALSE(log.admit("10.0.0.1", t0 + 4s).has_value());
  CHECK(log.admit("10.0.0.2", t0 + 4s).has_value());  // another address has its own allowance
  auto resumed = log.admit("10.0.0.1", t0 + 5s);
  REQUIRE(resumed.has_value());
  CHECK(resumed->key == "10.0.0.1");
  CHECK(resumed->unlogged == 2);
  CHECK_FALSE(log.admit("10.0.0.1", t0 + 6s).has_value());

  // Full (3 addresses, all refused within the interval): a new address shares the overflow entry.
  CHECK(log.admit("10.0.0.3", t0 + 6s).has_value());
  auto overflow = log.admit("10.0.0.4", t0 + 6s);
  REQUIRE(overflow.has_value());
  CHECK(overflow->key == detail::RefusalLog::kOtherAddresses);
  CHECK_FALSE(log.admit("10.0.0.5", t0 + 7s).has_value());  // limited together with 10.0.0.4
  CHECK(log.size() <= 4);
  // Once intervals passed, old addresses are forgotten to make room again.
  auto later = log.admit("10.0.0.6", t0 + 20s);
  REQUIRE(later.has_value());
  CHECK(later->key == "10.0.0.6");
  CHECK(log.size() <= 4);
  for (int i = 0; i < 1000; ++i) (void)log.admit("10.1.0." + std::to_string(i), t0 + 21s);
  CHECK(log.size() <= 4);
}

TEST_CASE("secret_strength_bits: length times log2 of the character classes used") {
  using troupe::transport::secret_strength_bits;
  CHECK(secret_strength_bits("") == 0);
  CHECK(secret_strength_bits("abc") == doctest::Approx(3 * std::log2(26.0)));
  CHECK(secret_strength_bits("aB3") == doctest::Approx(3 * std::log2(62.0)));
  CHECK(secret_strength_bits("a b!") == doctest::Approx(4 * std::log2(59.0)));  // space and '!' are symbols
  CHECK(secret_strength_bits(std::string("a\xff", 2)) == doctest::Approx(16));  // any other byte: 256
  CHECK(secret_strength_bits("hunter2hunter2") < troupe::transport::kMinSecretBits);
  CHECK(secret_strength_bits("correcthorse") < troupe::transport::kMinSecretBits);  // 12 lowercase letters
  CHECK(secret_strength_bits(kTestSecret) >= troupe::transport::kMinSecretBits);
  CHECK(secret_strength_bits(std::string(64, 'f')) >= troupe::transport::kMinSecretBits);  // an upper bound only
  CHECK(secret_strength_bits("q2Xw9T3KcE7fVb1LmN8pRz4YsH6jGd0AuW5eXo1Ik9M") >= 128);       // 43 base64 characters
  CHECK(secret_strength_bits(std::string(16, '\x80')) == doctest::Approx(128));            // 16 raw bytes
}

TEST_CASE("a node refuses a weak secret unless told to accept the risk") {
  troupe::System system;
  CHECK_THROWS_WITH_AS(troupe::transport::Node(system, {.name = "a", .secret = "guessed"}),
                       doctest::Contains("secret is too weak"), std::runtime_error);
  CHECK_THROWS_AS(troupe::transport::Node(system, {.name = "a", .secret = "hunter2hunter2"}), std::runtime_error);
  troupe::transport::Node weak(system, {.name = "a", .secret = "guessed", .accept_weak_secret = true});
  troupe::transport::Node strong(system, node_config("b"));
  CHECK(weak.port() != 0);
  CHECK(strong.port() != 0);
}

TEST_CASE("generate_secret_file writes 64 hex digits, mode 0600, that load_secret_file accepts, and no file twice") {
  TempPath file;
  REQUIRE(troupe::transport::generate_secret_file(file.path).ok());
  struct stat st {};
  REQUIRE(::stat(file.path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::ifstream in(file.path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text.size() == 65);
  CHECK(text.back() == '\n');
  text.pop_back();
  CHECK(std::all_of(text.begin(), text.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }));
  auto loaded = troupe::transport::load_secret_file(file.path);
  REQUIRE(loaded.ok());
  CHECK(*loaded == text);
  CHECK(troupe::transport::secret_strength_bits(*loaded) >= troupe::transport::kMinSecretBits);

  // An existing file is never replaced; the secret in it stays.
  auto again = troupe::transport::generate_secret_file(file.path);
  CHECK_FALSE(again.ok());
  CHECK(*troupe::transport::load_secret_file(file.path) == text);
  // Two secrets differ.
  TempPath other;
  REQUIRE(troupe::transport::generate_secret_file(other.path).ok());
  CHECK(*troupe::transport::load_secret_file(other.path) != text);

  // A node starts with it.
  troupe::System system;
  troupe::transport::Node node(system, {.name = "a", .secret = *loaded});
  CHECK(node.port() != 0);
}
