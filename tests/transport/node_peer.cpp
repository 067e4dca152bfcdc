// A node in its own process, for the transport tests: `node_peer NAME SECRET [RECEIVE_WINDOW]`
// (a window of 0 or none: the default). It prints
// "port N" once listening, serves until its stdin closes (so it never outlives the test), and
// hosts:
//   "echo": answers Ping with Pong (n + 1, the same text, the sum of the values);
//   "sink": checks each sender's Seq stream is in order, answers Tally with what it saw;
//   "slow": likewise for Blob streams, but takes its time over each Blob (a node whose actor does
//           not keep up with a flood), and stalls for a while on Hold;
//   "stats": answers RefusedCount with the node's refused-handshake count.
#include "wire_messages.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>
#include <numeric>
#include <unordered_map>

using namespace transport_test;

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::cerr << "usage: node_peer NAME SECRET [RECEIVE_WINDOW]\n";
    return 2;
  }
  troupe::System system;
  troupe::transport::NodeConfig config{.name = argv[1], .secret = argv[2]};
  if (argc == 4 && std::strtoul(argv[3], nullptr, 10) != 0)
    config.receive_window = static_cast<std::uint32_t>(std::strtoul(argv[3], nullptr, 10));
  troupe::transport::Node node(system, std::move(config));

  auto echo = system.spawn([](troupe::Context&) {
    return troupe::behavior([](const Ping& p) {
      return Pong{p.n + 1, p.text, std::accumulate(p.values.begin(), p.values.end(), std::int64_t{0})};
    });
  });
  struct Stream {
    std::uint64_t next = 0;
    std::uint64_t received = 0;
    std::uint64_t out_of_order = 0;
  };
  auto sink = system.spawn([](troupe::Context&) {
    auto streams = std::make_shared<std::unordered_map<std::uint32_t, Stream>>();
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
  auto slow = system.spawn([](troupe::Context&) {
    auto streams = std::make_shared<std::unordered_map<std::uint32_t, Stream>>();
    return troupe::behavior(
        [streams](const Blob& b) {
          // The work this node cannot keep up with.
          std::this_thread::sleep_for(std::chrono::microseconds(20));
          Stream& st = (*streams)[b.sender];
          if (b.index != st.next) ++st.out_of_order;
          st.next = b.index + 1;
          ++st.received;
        },
        [](const Hold& h) { std::this_thread::sleep_for(std::chrono::milliseconds(h.ms)); },
        [streams](const Tally& t) {
          const Stream& st = (*streams)[t.sender];
          return TallyReply{st.received, st.out_of_order};
        });
  });
  auto stats = system.spawn([&node](troupe::Context&) {
    return troupe::behavior([&node](const RefusedCount&) { return node.stats().handshakes_refused; });
  });
  if (!system.register_name("echo", echo) || !system.register_name("sink", sink) || !system.register_name("slow", slow) ||
      !system.register_name("stats", stats)) {
    return 1;
  }
  std::printf("port %u\n", static_cast<unsigned>(node.port()));
  std::fflush(stdout);
  char buffer[64];
  while (std::fread(buffer, 1, sizeof buffer, stdin) > 0) {
  }
  return 0;
}
