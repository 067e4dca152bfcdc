// troupe-micro: the troupe side of the micro-benchmark suite (bench/caf/ is the same workloads on
// CAF 0.17, bench/peers/ on Go and Erlang; bench/run-micro.sh runs them all and prints medians and
// ratios).
//
// Usage: troupe-micro WORKLOAD [SCALE]
// Prints exactly one line: `workload=NAME unit=UNIT value=NUMBER`. Timing starts just before the
// workload's first message or spawn and ends when the main thread has the verified result;
// System construction and teardown are excluded. A wrong result exits 1. The fan-out rows are
// in fanout.cpp.
#include "micro_support.hpp"

#include <atomic>
#include <memory>
#include <string>
#include <vector>

using troupe::Context;
using troupe::DynamicHandle;
using namespace troupe_micro;

namespace {

// -- ping-pong: pairs bounce a sequence number; each ping checks the order of its replies ------
struct Ping {
  std::int64_t seq;
};
struct Pong {
  std::int64_t seq;
};
struct Connect {
  DynamicHandle peer;
};
struct Done {
  std::int64_t count;
  std::int64_t sum;
};

Line pingpong(troupe::System& sys, int pairs, std::int64_t round_trips) {
  troupe::ScopedActor me(sys);
  std::vector<DynamicHandle> pings;
  for (int p = 0; p < pairs; ++p) {
    auto pong = sys.spawn([](Context&) {
      auto ping = std::make_shared<DynamicHandle>();
      return troupe::behavior([ping](Connect c) { *ping = std::move(c.peer); },
                              [ping](Ping p) { ping->send(Pong{p.seq}); });
    });
    auto ping = sys.spawn(
        [round_trips](Context& self, DynamicHandle pong, DynamicHandle done) {
          auto next = std::make_shared<std::int64_t>(0);
          return troupe::behavior([pong, next](Start) { pong.send(Ping{0}); },
                                  [&self, pong, done, next, round_trips](Pong p) {
                                    if (p.seq != *next) die("ping-pong: reply out of order");
                                    if (++*next == round_trips) {
                                      done.send(Done{*next, 0});
                                      self.quit();
                                    } else {
                                      pong.send(Ping{*next});
                                    }
                                  });
        },
        DynamicHandle(pong), me.handle());
    pong.send(Connect{ping});
    pings.push_back(ping);
  }
  sys.wait_idle();  // every pair connected before the clock starts
  const auto start = Clock::now();
  for (auto& ping : pings) ping.send(Start{});
  std::int64_t total = 0;
  for (int p = 0; p < pairs; ++p) total += await<Done>(me, "ping-pong").count;
  const double secs = seconds_since(start);
  if (total != round_trips * pairs) die("ping-pong: round trips mismatch");
  return {"msgs/s", 2.0 * static_cast<double>(total) / secs};
}

// -- fan-in: 20 senders, one receiver ---------------------------------------------------------

Line fanin(troupe::System& sys, double scale, bool paced) {
  constexpr int senders = 20;
  const std::int64_t per_sender = scaled(200000, scale);
  const std::int64_t expected = per_sender * senders;
  troupe::ScopedActor me(sys);
  troupe::SpawnOptions options;
  if (paced) options.mailbox_capacity = kPacedCapacity;
  auto sink = sys.spawn(
      options,
      [expected](Context& self, DynamicHandle done) {
        auto count = std::make_shared<std::int64_t>(0);
        auto sum = std::make_shared<std::int64_t>(0);
        return troupe::behavior([&self, done, count, sum, expected](std::int64_t x) {
          *sum += x;
          if (++*count == expected) {
            done.send(Done{*count, *sum});
            self.quit();
          }
        });
      },
      me.handle());
  sys.wait_idle();
  const auto start = Clock::now();
  if (!paced) {
    for (int s = 0; s < senders; ++s) {
      sys.spawn(
          [per_sender](Context& self, DynamicHandle to) {
            for (std::int64_t i = 0; i < per_sender; ++i) to.send(i);
            self.quit();
            return troupe::behavior([](Start) {});
          },
          DynamicHandle(sink));
    }
  } else {
    // fanin-paced: each sender paces its sends (Context::pace), waiting while the sink is behind.
    for (int s = 0; s < senders; ++s) {
      sys.spawn(
             [per_sender](Context& self, DynamicHandle to) {
               return troupe::behavior([&self, to, per_sender](Start) -> troupe::Task<void> {
                 for (std::int64_t i = 0; i < per_sender; ++i) {
                   to.send(i);
                   co_await self.pace();
                 }
                 self.quit();
               });
             },
             DynamicHandle(sink))
          .send(Start{});
    }
  }
  const Done done = await<Done>(me, "fan-in");
  const double secs = seconds_since(start);
  if (done.count != expected || done.sum != senders * (per_sender * (per_sender - 1) / 2)) {
    die("fanin: wrong count or sum");
  }
  return {"msgs/s", static_cast<double>(expected) / secs};
}

// -- skynet: a 10-ary tree of actors summing the numbers of its leaves -----------------------

class Skynet {
 public:
  // behavior() comes first: spawn<Skynet> inside the constructor needs its return type.
  auto behavior() {
    return troupe::behavior([this](Sum s) {
      sum_ += s.value;
      if (++received_ == 10) {
        parent_.send(Sum{sum_});
        self_.quit();
      }
    });
  }

  Skynet(Context& self, DynamicHandle parent, std::int64_t num, std::int64_t size)
      : self_(self), parent_(std::move(parent)) {
    if (size == 1) {
      parent_.send(Sum{num});
      self.quit();
      return;
    }
    const std::int64_t child = size / 10;
    for (std::int64_t i = 0; i < 10; ++i) self.spawn<Skynet>(self.self(), num + i * child, child);
  }

 private:
  Context& self_;
  DynamicHandle parent_;
  std::int64_t sum_ = 0;
  int received_ = 0;
};

Line skynet(troupe::System& sys, double scale) {
  std::int64_t leaves = 1;
  while (leaves * 10 <= scaled(1000000, scale)) leaves *= 10;
  leaves = std::max<std::int64_t>(leaves, 10);
  troupe::ScopedActor me(sys);
  const auto start = Clock::now();
  sys.spawn<Skynet>(me.handle(), std::int64_t{0}, leaves);
  const Sum sum = await<Sum>(me, "skynet");
  const double secs = seconds_since(start);
  if (sum.value != leaves * (leaves - 1) / 2) die("skynet: wrong sum " + std::to_string(sum.value));
  return {"s", secs};
}

// -- ring: 503 actors pass one token ----------------------------------------------------------
struct Token {
  std::int64_t remaining;
};
struct Finished {
  std::int64_t index;
};

Line ring(troupe::System& sys, double scale) {
  constexpr std::int64_t size = 503;
  const std::int64_t hops = scaled(5000000, scale);
  troupe::ScopedActor me(sys);
  auto tokens = std::make_shared<std::atomic<std::int64_t>>(0);
  std::vector<DynamicHandle> nodes;
  for (std::int64_t i = 0; i < size; ++i) {
    nodes.push_back(sys.spawn(
        [i, tokens](Context&, DynamicHandle done) {
          auto next = std::make_shared<DynamicHandle>();
          auto handled = std::make_shared<std::int64_t>(0);
          return troupe::behavior([next](Connect c) { *next = std::move(c.peer); },
                                  [=](Token t) {
                                    ++*handled;
                                    if (t.remaining == 0) {
                                      tokens->fetch_add(*handled, std::memory_order_relaxed);
                                      done.send(Finished{i});
                                    } else {
                                      next->send(Token{t.remaining - 1});
                                    }
                                  },
                                  [=](Start) { tokens->fetch_add(*handled, std::memory_order_relaxed); });
        },
        me.handle()));
  }
  for (std::int64_t i = 0; i < size; ++i) nodes[i].send(Connect{nodes[(i + 1) % size]});
  sys.wait_idle();
  const auto start = Clock::now();
  nodes[0].send(Token{hops});
  const Finished f = await<Finished>(me, "ring");
  const double secs = seconds_since(start);
  if (f.index != hops % size) die("ring: token ended at the wrong node");
  for (std::int64_t i = 0; i < size; ++i) {
    if (i != f.index) nodes[i].send(Start{});  // report counts
  }
  sys.wait_idle();
  if (tokens->load() != hops + 1) die("ring: token count mismatch " + std::to_string(tokens->load()));
  return {"msgs/s", static_cast<double>(hops) / secs};
}

// -- idle footprint: RSS growth per idle actor ------------------------------------------------
Line idle_footprint(troupe::System& sys, double scale) {
  const std::int64_t n = scaled(1000000, scale);
  std::vector<DynamicHandle> handles(static_cast<std::size_t>(n));
  static std::atomic<std::int64_t> started{0};
  const std::size_t before = resident_bytes();
  for (auto& h : handles) {
    h = sys.spawn([](Context&) {
      started.fetch_add(1, std::memory_order_relaxed);
      return troupe::behavior([](std::int64_t) {});
    });
  }
  sys.wait_idle();  // every actor has run its first turn and is idle
  if (started.load() != n) die("idle-footprint: not every actor started");
  const std::size_t after = resident_bytes();
  std::fprintf(stderr, "troupe-micro: idle-footprint: RSS %zu -> %zu bytes for %lld actors\n", before, after,
               static_cast<long long>(n));
  return {"bytes", std::round(static_cast<double>(after - before) / static_cast<double>(n))};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: troupe-micro WORKLOAD [SCALE]\nworkloads: pingpong-1 pingpong-4 fanin skynet ring "
                 "idle-footprint fanout fanin-paced fanout-paced fanout-ceiling\n");
    return 2;
  }
  const std::string workload = argv[1];
  const double scale = argc > 2 ? std::atof(argv[2]) : 1.0;
  if (!(scale > 0)) die("SCALE must be positive");
  Line line{};
  if (workload == "fanout-ceiling") {
    line = fanout_ceiling(scale);  // no System: its threads would only compete for the CPUs
  } else {
    troupe::System sys;
    if (workload == "pingpong-1") {
      line = pingpong(sys, 1, scaled(1000000, scale));
    } else if (workload == "pingpong-4") {
      line = pingpong(sys, 4, scaled(500000, scale));
    } else if (workload == "fanin") {
      line = fanin(sys, scale, false);
    } else if (workload == "fanin-paced") {
      line = fanin(sys, scale, true);
    } else if (workload == "skynet") {
      line = skynet(sys, scale);
    } else if (workload == "ring") {
      line = ring(sys, scale);
    } else if (workload == "idle-footprint") {
      line = idle_footprint(sys, scale);
    } else if (workload == "fanout") {
      line = fanout(sys, scale, false);
    } else if (workload == "fanout-paced") {
      line = fanout(sys, scale, true);
    } else {
      std::fprintf(stderr, "troupe-micro: unknown workload %s\n", workload.c_str());
      return 2;
    }
  }
  if (std::string(line.unit) == "s") {
    std::printf("workload=%s unit=s value=%.6f\n", workload.c_str(), line.value);
  } else {
    std::printf("workload=%s unit=%s value=%.0f\n", workload.c_str(), line.unit, line.value);
  }
  return 0;
}
