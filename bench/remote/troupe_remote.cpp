// troupe-remote: troupe's side of `./run bench remote` (bench/run-remote.sh). Two processes on
// 127.0.0.1: this one and a peer it forks (remote_peer.hpp), each a troupe Node.
//
// Usage: troupe-remote WORKLOAD [SCALE]
//   remote-rtt     a thread's ScopedActor requests Ping from the peer's echo actor, one at a time:
//                  prints the mean round trip in microseconds
//   remote-oneway  a thread sends one-way Ticks to the peer's counter, then asks it for its count
//                  (FIFO: the answer comes after every Tick was handled): prints messages per second
// Prints exactly one line, `workload=NAME unit=UNIT value=NUMBER`; exits non-zero if a result is
// wrong. SCALE (default 1) multiplies the counts. Timing excludes start-up and the connection.
#include "remote_peer.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/transport/wire_type.hpp>
#include <troupe/troupe.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace bench_remote {

struct Ping {
  std::uint64_t n = 0;
};
TROUPE_WIRE_MESSAGE(Ping, n);
struct Tick {
  std::uint64_t n = 0;
};
TROUPE_WIRE_MESSAGE(Tick, n);
struct CountQuery {};
TROUPE_WIRE_EMPTY_MESSAGE(CountQuery);

}  // namespace bench_remote

namespace {

using namespace bench_remote;
using Clock = std::chrono::steady_clock;
// 256 bits as 64 hex digits, as generate_secret_file writes them.
constexpr const char* kSecret = "3b8e1f6a0c4d92e7b5a13f8c6d0e47b2a9c51e3f7d2b804c6a1e95f3b7d20c48";

void serve(const std::function<void(std::uint16_t)>& report_port) {
  troupe::System system({.log = {.level = troupe::LogLevel::warning}});  // connections are not news here
  troupe::transport::Node node(system, {.name = "peer", .secret = kSecret});
  auto echo = system.spawn([](troupe::Context&) { return troupe::behavior([](const Ping& p) { return p; }); });
  auto counter = system.spawn([](troupe::Context&) {
    auto state = std::make_shared<std::pair<std::uint64_t, std::uint64_t>>();  // count, sum of n
    return troupe::behavior(
        [state](const Tick& t) {
          ++state->first;
          state->second += t.n;
        },
        [state](const CountQuery&) { return state->first ^ (state->second << 1); });
  });
  if (!system.register_name("echo", echo) || !system.register_name("counter", counter)) PeerProcess::die("register");
  report_port(node.port());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: troupe-remote remote-rtt|remote-oneway [SCALE]\n");
    return 2;
  }
  const std::string workload = argv[1];
  if (workload != "remote-rtt" && workload != "remote-oneway") {
    std::fprintf(stderr, "troupe-remote: unknown workload '%s'\n", argv[1]);
    return 2;
  }
  const double scale = argc == 3 ? std::atof(argv[2]) : 1.0;
  auto count = [scale](double n) { return static_cast<std::uint64_t>(n * scale) > 0 ? static_cast<std::uint64_t>(n * scale) : 1; };

  PeerProcess peer(serve);  // before this process starts any thread
  troupe::System system({.log = {.level = troupe::LogLevel::warning}});  // connections are not news here
  troupe::transport::Node node(system, {.name = "bench", .secret = kSecret});
  node.add_peer("peer", "127.0.0.1", peer.port());
  troupe::ScopedActor me(system);

  if (workload == "remote-rtt") {
    auto echo = node.whereis("peer", "echo", std::chrono::seconds(10));
    if (!echo.ok()) PeerProcess::die("no echo actor on the peer");
    const std::uint64_t warmup = 1000, n = count(20'000);
    for (std::uint64_t i = 0; i < warmup; ++i) {
      if (!me.request<Ping>(*echo, Ping{i}, std::chrono::seconds(10)).ok()) PeerProcess::die("warm-up request failed");
    }
    const auto start = Clock::now();
    for (std::uint64_t i = 0; i < n; ++i) {
      auto r = me.request<Ping>(*echo, Ping{i}, std::chrono::seconds(10));
      if (!r.ok() || r->n != i) PeerProcess::die("wrong or missing reply");
    }
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count() / static_cast<double>(n);
    std::printf("workload=remote-rtt unit=us value=%.2f\n", us);
  } else {
    auto counter = node.whereis("peer", "counter", std::chrono::seconds(10));
    if (!counter.ok()) PeerProcess::die("no counter actor on the peer");
    const std::uint64_t n = count(2'000'000);
    std::uint64_t sum = 0;
    const auto start = Clock::now();
    for (std::uint64_t i = 0; i < n; ++i) {
      sum += i;
      (void)counter->send(Tick{i});
    }
    auto got = me.request<std::uint64_t>(*counter, CountQuery{}, std::chrono::seconds(600));
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    if (!got.ok() || *got != (n ^ (sum << 1))) PeerProcess::die("the counter saw other messages than were sent");
    std::printf("workload=remote-oneway unit=msgs/s value=%.0f\n", static_cast<double>(n) / seconds);
  }
  return 0;
}
