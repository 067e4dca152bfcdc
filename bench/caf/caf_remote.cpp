// caf-remote: the CAF 0.17 side of `./run bench remote` (bench/run-remote.sh), with CAF's io
// module (the middleman, BASP over TCP). Two processes on 127.0.0.1: this one and a peer it
// forks (bench/remote/remote_peer.hpp), which publishes an echo and a counter actor.
//
// Usage: caf-remote WORKLOAD [SCALE]
//   remote-rtt     a scoped_actor requests (ping, n) from the peer's echo actor, one at a time:
//                  prints the mean round trip in microseconds
//   remote-oneway  a scoped_actor sends (tick, n) to the peer's counter, then requests its count
//                  (CAF keeps order per sender): prints messages per second
// Prints exactly one line, `workload=NAME unit=UNIT value=NUMBER`; exits non-zero if a result is
// wrong. SCALE (default 1) multiplies the counts. Timing excludes start-up and the connection.
#include "../remote/remote_peer.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace caf;

namespace {

using ping_atom = atom_constant<atom("ping")>;
using tick_atom = atom_constant<atom("tick")>;
using count_atom = atom_constant<atom("count")>;
using clock_type = std::chrono::steady_clock;

behavior echo_actor(event_based_actor*) {
  return {[](ping_atom, std::uint64_t n) { return make_message(ping_atom::value, n); }};
}

behavior counter_actor(stateful_actor<std::pair<std::uint64_t, std::uint64_t>>* self) {
  return {[self](tick_atom, std::uint64_t n) {
            ++self->state.first;
            self->state.second += n;
          },
          [self](count_atom) { return self->state.first ^ (self->state.second << 1); }};
}

void serve(const std::function<void(std::uint16_t)>& report_port, bool counter) {
  actor_system_config cfg;
  cfg.load<io::middleman>();
  actor_system system{cfg};
  auto whom = counter ? system.spawn(counter_actor) : system.spawn(echo_actor);
  auto port = system.middleman().publish(whom, 0, "127.0.0.1");
  if (!port) bench_remote::PeerProcess::die("publish failed");
  report_port(*port);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: caf-remote remote-rtt|remote-oneway [SCALE]\n");
    return 2;
  }
  const std::string workload = argv[1];
  if (workload != "remote-rtt" && workload != "remote-oneway") {
    std::fprintf(stderr, "caf-remote: unknown workload '%s'\n", argv[1]);
    return 2;
  }
  const double scale = argc == 3 ? std::atof(argv[2]) : 1.0;
  auto count = [scale](double n) {
    return static_cast<std::uint64_t>(n * scale) > 0 ? static_cast<std::uint64_t>(n * scale) : 1;
  };
  const bool oneway = workload == "remote-oneway";

  bench_remote::PeerProcess peer([oneway](const auto& report) { serve(report, oneway); });
  actor_system_config cfg;
  cfg.load<io::middleman>();
  actor_system system{cfg};
  auto remote = system.middleman().remote_actor("127.0.0.1", peer.port());
  if (!remote) bench_remote::PeerProcess::die("cannot reach the peer's actor");
  scoped_actor self{system};
  const auto limit = std::chrono::seconds(600);

  if (!oneway) {
    const std::uint64_t warmup = 1000, n = count(20'000);
    bool ok = true;
    auto ask = [&](std::uint64_t i) {
      self->request(*remote, limit, ping_atom::value, i)
          .receive([&](ping_atom, std::uint64_t back) { ok = ok && back == i; }, [&](error&) { ok = false; });
    };
    for (std::uint64_t i = 0; i < warmup; ++i) ask(i);
    const auto start = clock_type::now();
    for (std::uint64_t i = 0; i < n; ++i) ask(i);
    const double us =
        std::chrono::duration<double, std::micro>(clock_type::now() - start).count() / static_cast<double>(n);
    if (!ok) bench_remote::PeerProcess::die("wrong or missing reply");
    std::printf("workload=remote-rtt unit=us value=%.2f\n", us);
  } else {
    const std::uint64_t n = count(2'000'000);
    std::uint64_t sum = 0;
    std::uint64_t got = 0;
    bool ok = true;
    const auto start = clock_type::now();
    for (std::uint64_t i = 0; i < n; ++i) {
      sum += i;
      self->send(*remote, tick_atom::value, i);
    }
    self->request(*remote, limit, count_atom::value)
        .receive([&](std::uint64_t value) { got = value; }, [&](error&) { ok = false; });
    const double seconds = std::chrono::duration<double>(clock_type::now() - start).count();
    if (!ok || got != (n ^ (sum << 1))) bench_remote::PeerProcess::die("the counter saw other messages than were sent");
    std::printf("workload=remote-oneway unit=msgs/s value=%.0f\n", static_cast<double>(n) / seconds);
  }
  return 0;
}
