// troupe-micro: the troupe side of the micro-benchmark suite (bench/caf/ is the same workloads on
// CAF 0.17, bench/peers/ on Go and Erlang; bench/run-micro.sh runs them all and prints medians and
// ratios).
//
// Usage: troupe-micro WORKLOAD [SCALE]
// Prints exactly one line: `workload=NAME unit=UNIT value=NUMBER`. Timing starts just before the
// workload's first message or spawn and ends when the main thread has the verified result;
// System construction and teardown are excluded. A wrong result exits 1.
#include <troupe/troupe.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <latch>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using troupe::Context;
using troupe::DynamicHandle;

namespace {

[[noreturn]] void die(const std::string& why) {
  std::fprintf(stderr, "troupe-micro: %s\n", why.c_str());
  std::exit(1);
}

std::int64_t scaled(std::int64_t n, double scale) {
  return std::max<std::int64_t>(1, std::llround(static_cast<double>(n) * scale));
}

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::size_t resident_bytes() {
  std::ifstream in("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  if (!(in >> pages >> resident)) die("cannot read /proc/self/statm");
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

template <class T>
T await(troupe::ScopedActor& me, const char* what) {
  auto r = me.receive<T>(600s);
  if (!r) die(std::string("timed out waiting for ") + what);
  return std::move(*r);
}

struct Line {
  const char* unit;
  double value;
};

// -- ping-pong: pairs bounce a sequence number; each ping checks the order of its replies ------
struct Ping {
  std::int64_t seq;
};
struct Pong {
  std::int64_t seq;
};
struct Start {};
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
// The paced workloads give each receiver a bounded mailbox of this many messages (Go's peer gives
// its channels 1,024 slots), and each sender paces its sends (Context::pace): it waits while the
// receiver is full, as a Go sender waits on a full channel.
constexpr std::uint32_t kPacedCapacity = 1024;

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
struct Sum {
  std::int64_t value;
};

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

// -- fan-out: one producer sends M messages to each of 60 workers, all in one turn ------------
// f(i): 200 rounds of a 27-bit linear congruential generator (every intermediate is below 2^58),
// a few hundred nanoseconds of arithmetic per message (bench/peers/README.md, fanout).
std::int64_t fanout_work(std::int64_t i) {
  constexpr std::int64_t mask = (std::int64_t{1} << 27) - 1;
  std::int64_t x = i & mask;
  for (int r = 0; r < 200; ++r) x = (x * 1103515245 + 12345) & mask;
  return x;
}

// The fan-out rows' shape (and fanout-ceiling's): 60 workers, M messages each, and what each
// worker's sum must be, the sum of f(i) for i in 0..M-1 (computed before any clock starts).
constexpr int kFanoutWorkers = 60;
std::int64_t fanout_per_worker(double scale) { return scaled(40000, scale); }
std::int64_t fanout_worker_sum(std::int64_t per_worker) {
  std::int64_t s = 0;
  for (std::int64_t i = 0; i < per_worker; ++i) s += fanout_work(i);
  return s;
}

// The fan-out producer: one turn of plain sends, or (fanout-paced) a coroutine that paces its
// sends (Context::pace), waiting while the worker it sent to is behind.
DynamicHandle spawn_fanout_producer(troupe::System& sys, std::vector<DynamicHandle> mailboxes, std::int64_t per_worker,
                                    bool paced) {
  if (paced) {
    return sys.spawn([mailboxes, per_worker](Context& self) {
      return troupe::behavior([&self, mailboxes, per_worker](Start) -> troupe::Task<void> {
        for (std::int64_t i = 0; i < per_worker; ++i) {
          for (const auto& mailbox : mailboxes) {
            mailbox.send(i);
            co_await self.pace();
          }
        }
        self.quit();
      });
    });
  }
  return sys.spawn([mailboxes, per_worker](Context& self) {
    return troupe::behavior([&self, mailboxes, per_worker](Start) {
      for (std::int64_t i = 0; i < per_worker; ++i) {
        for (const auto& mailbox : mailboxes) mailbox.send(i);
      }
      self.quit();
    });
  });
}

Line fanout(troupe::System& sys, double scale, bool paced) {
  constexpr int workers = kFanoutWorkers;
  const std::int64_t per_worker = fanout_per_worker(scale);
  const std::int64_t s = fanout_worker_sum(per_worker);
  troupe::ScopedActor me(sys);
  std::vector<DynamicHandle> mailboxes;
  troupe::SpawnOptions options;
  if (paced) options.mailbox_capacity = kPacedCapacity;
  for (int w = 0; w < workers; ++w) {
    mailboxes.push_back(sys.spawn(
        options,
        [per_worker](Context& self, DynamicHandle collector) {
          auto count = std::make_shared<std::int64_t>(0);
          auto sum = std::make_shared<std::int64_t>(0);
          return troupe::behavior([&self, collector, count, sum, per_worker](std::int64_t i) {
            *sum += fanout_work(i);
            if (++*count == per_worker) {
              collector.send(Sum{*sum});
              self.quit();
            }
          });
        },
        me.handle()));
  }
  auto producer = spawn_fanout_producer(sys, mailboxes, per_worker, paced);
  sys.wait_idle();  // every worker and the producer started before the clock starts
  const auto start = Clock::now();
  producer.send(Start{});
  std::int64_t total = 0;
  for (int w = 0; w < workers; ++w) total += await<Sum>(me, "fan-out").value;
  const double secs = seconds_since(start);
  if (total != workers * s) die("fanout: total " + std::to_string(total) + ", expected " + std::to_string(workers * s));
  return {"msgs/s", static_cast<double>(workers * per_worker) / secs};
}

// -- the fan-out rows' ceiling: their arithmetic alone, no messages ---------------------------
// The same 60 x M calls of fanout_work, on as many plain threads as the System has workers (one
// per CPU), each taking a worker's M calls at a time. No runtime's fanout can beat this rate on
// the machine; bench/run-micro.sh prints it beside the fanout rows (ceiling=, max_ratio_best=).
Line fanout_ceiling(double scale) {
  constexpr int workers = kFanoutWorkers;
  const std::int64_t per_worker = fanout_per_worker(scale);
  const std::int64_t s = fanout_worker_sum(per_worker);
  const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
  std::atomic<int> next_worker{0};
  std::atomic<std::int64_t> total{0};
  std::latch go(1);
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      go.wait();
      std::int64_t mine = 0;
      // Relaxed: the counter only hands out distinct workers; join() publishes the sums.
      while (next_worker.fetch_add(1, std::memory_order_relaxed) < workers) {
        for (std::int64_t i = 0; i < per_worker; ++i) mine += fanout_work(i);
      }
      total.fetch_add(mine, std::memory_order_relaxed);
    });
  }
  const auto start = Clock::now();
  go.count_down();
  for (auto& thread : pool) thread.join();
  const double secs = seconds_since(start);
  if (total.load() != workers * s) die("fanout-ceiling: wrong total");
  return {"msgs/s", static_cast<double>(workers * per_worker) / secs};
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
