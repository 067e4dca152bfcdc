// A node in its own process, for the transport tests:
//   node_peer NAME SECRET [--heartbeat-ms N] [--window N] [--window-bytes N] [--max-frame N] [--tls CERT KEY CA]
//             [--dial NODE PORT] [--seed HOST:PORT] [--etcd HOST:PORT] [--no-spin]
//             [--unix PATH]
// (--heartbeat-ms: the heartbeat interval, the timeout four times it; --window: its
// NodeConfig::receive_window; --tls: the node uses TLS
// with these PEM files, NodeConfig::tls; --dial: connects to node NODE on 127.0.0.1:PORT before
// it reports its port, trying again for up to 10 s while it is refused; --unix: also listens on that Unix-domain
// socket, NodeConfig::listen_unix; --seed: joins a cluster through that member (SeedDiscovery,
// asking again every 100 ms); --etcd: joins the cluster kept in the etcd at HOST:PORT
// (EtcdDiscovery, a lease of 2 s); in a cluster, its echo actor is also the cluster-wide name
// "echo-NAME";
// --no-spin: neither its workers nor its transport thread
// spin before sleeping, Config::idle_spin and NodeConfig::idle_spin zero). It prints
// "port N" once listening, serves until its stdin closes (so it never outlives the test), and
// hosts:
//   "echo": answers Ping with Pong (n + 1, the same text, the sum of the values);
//   "sink": checks each sender's Seq stream is in order, answers Tally with what it saw;
//   "stats": answers RefusedCount with the node's refused-handshake count, DeadLetterCount with
//            its dead letters (NodeStats::dead_letters);
//   "slow": likewise for Blob streams, but takes its time over each Blob (a node whose actor does
//           not keep up with a flood), and stalls for a while on Hold;
//   "victim": stops on Quit, normally or with the error it names;
//   "hang": takes Hang requests and never answers them.
//   "relay": answers Callback through the handle inside it, HandleProbe with whether its handle
//            arrived valid, and Introduce with a handle to an actor on a third node;
//   "bank": answers Withdraw from a balance of 10, or fails with BankError::insufficient_funds, and
//           OpenVault with an error of the category "vault", which only node_peer registers;
//   "evolution": echoes Versioned and ReadingMessage as this build's version of them sees them
//            (node_peer_v1 is this program built with the older versions);
// and the spawnable type "word-counter" (WordCounterArgs).
#include "wire_messages.hpp"

#include <troupe/transport/node.hpp>
#include <troupe/troupe.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <numeric>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

using namespace transport_test;

namespace node_peer_only {
// An application error category the test process does not register.
enum class VaultError { locked = 3 };
TROUPE_ERROR_CATEGORY(VaultError, "vault", locked);
}  // namespace node_peer_only

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: node_peer NAME SECRET [--heartbeat-ms N] [--window N] [--window-bytes N] [--max-frame N] "
                 "[--tls CERT KEY CA] [--dial NODE PORT] [--seed HOST:PORT] [--etcd HOST:PORT] "
                 "[--no-spin] [--unix PATH]\n";
    return 2;
  }
  const bool no_spin = std::find(argv + 3, argv + argc, std::string_view("--no-spin")) != argv + argc;
  troupe::System system(
      troupe::Config{.idle_spin = no_spin ? std::chrono::microseconds(0) : troupe::Config{}.idle_spin});
  troupe::transport::NodeConfig config{.name = argv[1], .secret = argv[2]};
  if (no_spin) config.idle_spin = std::chrono::microseconds(0);
  std::optional<std::pair<std::string, std::uint16_t>> dial;  // a node to connect to before reporting the port
  for (int i = 3; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (flag == "--heartbeat-ms" && i + 1 < argc) {
      const auto interval = std::chrono::milliseconds(std::atoi(argv[++i]));
      config.heartbeat_interval = interval;
      config.heartbeat_timeout = 4 * interval;
    } else if (flag == "--window" && i + 1 < argc) {
      const unsigned long window = std::strtoul(argv[++i], nullptr, 10);
      if (window != 0) config.receive_window = static_cast<std::uint32_t>(window);
    } else if (flag == "--window-bytes" && i + 1 < argc) {
      config.receive_window_bytes = std::strtoull(argv[++i], nullptr, 10);
    } else if (flag == "--max-frame" && i + 1 < argc) {
      config.max_frame_bytes = std::strtoull(argv[++i], nullptr, 10);
    } else if (flag == "--unix" && i + 1 < argc) {
      config.listen_unix = argv[++i];
    } else if (flag == "--no-spin") {
      // read above: the system is made before the node's configuration
    } else if (flag == "--tls" && i + 3 < argc) {
      config.tls = troupe::transport::TlsConfig{argv[i + 1], argv[i + 2], argv[i + 3]};
      i += 3;
    } else if (flag == "--seed" && i + 1 < argc) {
      troupe::transport::SeedDiscovery discovery;
      discovery.seeds.push_back(argv[++i]);
      discovery.retry_interval = std::chrono::milliseconds(100);
      config.discovery = std::move(discovery);
    } else if (flag == "--etcd" && i + 1 < argc) {
      troupe::transport::EtcdDiscovery discovery;
      discovery.endpoint = argv[++i];
      discovery.lease_ttl = std::chrono::seconds(2);
      discovery.retry_interval = std::chrono::milliseconds(100);
      config.discovery = std::move(discovery);
    } else if (flag == "--dial" && i + 2 < argc) {
      dial = std::make_pair(std::string(argv[i + 1]), static_cast<std::uint16_t>(std::atoi(argv[i + 2])));
      i += 2;
    } else {
      std::cerr << "node_peer: bad argument " << flag << "\n";
      return 2;
    }
  }
  const auto node_config_discovery = config.discovery;
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
        [](const Hold& h) {
          const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(h.ms);
          while (std::chrono::steady_clock::now() < until) {
            if (!h.until_file.empty() && std::ifstream(h.until_file).good()) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
          }
        },
        [streams](const Tally& t) {
          const Stream& st = (*streams)[t.sender];
          return TallyReply{st.received, st.out_of_order};
        });
  });
  auto stats = system.spawn([&node](troupe::Context&) {
    return troupe::behavior([&node](const RefusedCount&) { return node.stats().handshakes_refused; },
                            [&node](const DeadLetterCount&) { return node.stats().dead_letters; });
  });
  auto victim = system.spawn([](troupe::Context& self) {
    return troupe::behavior([&self](const Quit& q) {
      if (!q.error.empty()) throw std::runtime_error(q.error);
      self.quit();
    });
  });
  auto hang = system.spawn([](troupe::Context& self) {
    auto kept = std::make_shared<std::vector<troupe::Promise<int>>>();
    return troupe::behavior([&self, kept](const Hang&) {
      kept->push_back(self.promise<int>());
      return kept->back();
    });
  });
  auto relay = system.spawn([&node](troupe::Context& self) {
    return troupe::behavior(
        [](const Callback& c) {
          (void)c.to.send(Pong{c.n + 1, "called back", 0});
        },
        [](const HandleProbe& p) { return p.handle.valid(); }, [](const Forward& f) { (void)f.via.send(f.callback); },
        [&self, &node](const Introduce& i) -> troupe::Task<troupe::Result<troupe::DynamicHandle>> {
          node.add_peer(i.node, "127.0.0.1", i.port);
          troupe::DynamicHandle spawner = node.spawner(i.node);
          troupe::transport::WhereisRequest lookup{i.actor};
          co_return co_await self.request(spawner, std::move(lookup), std::chrono::seconds(10));
        });
  });
  auto evolution = system.spawn([](troupe::Context&) {
    return troupe::behavior([](const Versioned& v) { return v; },
                            [](const ReadingMessage& in) {
                              // A fresh message of this build's version, from what this version reads.
                              ReadingMessage out;
                              out.build().setSensor(in.read().getSensor());
                              out.build().setValue(in.read().getValue() + 1);
#ifndef TROUPE_TEST_OLD_SCHEMA
                              out.build().setScale(in.read().getScale());
#endif
                              return out;
                            });
  });
  auto bank = system.spawn([](troupe::Context&) {
    return troupe::behavior(
        [](const Withdraw& w) -> troupe::Result<std::int32_t> {
          if (w.amount > 10) {
            return troupe::Error(BankError::insufficient_funds, "balance 10, asked " + std::to_string(w.amount));
          }
          return 10 - w.amount;
        },
        [](const OpenVault&) -> troupe::Result<void> {
          return troupe::Error(node_peer_only::VaultError::locked, "the vault is locked");
        });
  });
  node.register_spawnable<WordCounterArgs>("word-counter", [](troupe::System& sys, const WordCounterArgs& args) {
    return sys.spawn([ignore = args.ignore](troupe::Context&) {
      return troupe::behavior([ignore](const CountWords& c) {
        std::istringstream words(c.text);
        std::uint64_t n = 0;
        for (std::string w; words >> w;) n += w != ignore ? 1 : 0;
        return n;
      });
    });
  });
  if (!system.register_name("echo", echo) || !system.register_name("sink", sink) ||
      !system.register_name("stats", stats) || !system.register_name("slow", slow) ||
      !system.register_name("victim", victim) || !system.register_name("hang", hang) ||
      !system.register_name("relay", relay) || !system.register_name("evolution", evolution) ||
      !system.register_name("bank", bank)) {
    return 1;
  }
  // In a cluster (--seed, --etcd), its echo is also a cluster-wide name: "echo-NAME".
  if (!std::holds_alternative<troupe::transport::StaticDiscovery>(node_config_discovery)) {
    if (!node.cluster().wait_up(std::chrono::seconds(30)) ||
        !node.cluster().register_name("echo-" + node.name(), echo, std::chrono::seconds(30))) {
      return 1;
    }
  }
  if (dial) {
    // Connected (and authenticated) once the node answers a lookup, found or not. A refused
    // connection is tried again (after the node's backoff) for 10 s: a node of this name that
    // still looks alive there is refused until its connection is known dead (a restart test).
    node.add_peer(dial->first, "127.0.0.1", dial->second);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (;;) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return 1;
      const auto answer = node.whereis(dial->first, "nobody", left);
      if (answer.ok() || answer.code() == troupe::Errc::no_such_name) break;
      if (answer.code() != troupe::Errc::node_unreachable) return 1;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // the next lookup waits for the backoff anyway
    }
  }
  std::printf("port %u\n", static_cast<unsigned>(node.port()));
  std::fflush(stdout);
  char buffer[64];
  while (std::fread(buffer, 1, sizeof buffer, stdin) > 0) {
  }
  return 0;
}
