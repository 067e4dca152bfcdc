// The fan-out rows of troupe-micro: one producer sends M messages to each of 60 workers (fanout,
// fanout-paced), and the same arithmetic on plain threads with no messages (fanout-ceiling).
#include "micro_support.hpp"

#include <atomic>
#include <latch>
#include <memory>
#include <thread>
#include <vector>

namespace troupe_micro {

using troupe::Context;
using troupe::DynamicHandle;

namespace {

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

}  // namespace

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

}  // namespace troupe_micro
