// threads-atomic: lock-free shared state. Work is claimed with fetch_add, the counter is one
// fetch_add per increment, and a bank transfer withdraws with a compare-and-swap loop (so a
// balance never goes below zero) before it deposits with fetch_add. Correct, and no thread ever
// waits for a lock — but every update still bounces one cache line between the cores. Traced
// (tracing.hpp): cpu chunks and counter/bank batches as `work`, socket calls as `wait_io`.
#include <atomic>
#include <memory>
#include <vector>

#include "models.hpp"
#include "threads.hpp"

namespace contrast {

namespace {

Outcome cpu(const Params& p) {
  std::atomic<unsigned> next{0};
  std::vector<u128> sums(kCpuValues);  // slot k written by the one thread that claimed k
  run_threads(p.workers, "atomic", [&](unsigned) {
    // relaxed: fetch_add alone makes each k claimed once; the results are read after join().
    for (unsigned k; (k = next.fetch_add(1, std::memory_order_relaxed)) < kCpuValues;) {
      const trace::Span span(trace::SpanKind::work, "sums one chunk");
      sums[k] = sum_of_squares(p.cpu_first + k);
    }
  });
  u128 total = 0;
  for (u128 s : sums) total += s;
  return check_cpu(p, total);
}

Outcome counter(const Params& p) {
  std::atomic<std::uint64_t> count{0};
  run_threads(p.counter_workers, "atomic", [&](unsigned) {
    in_traced_batches(p.counter_increments, "increments, a fetch_add each", [&](std::uint64_t) {
      count.fetch_add(1, std::memory_order_relaxed);  // relaxed: only the final sum matters (read after join)
    });
  });
  return check_counter(p, count.load(std::memory_order_relaxed));  // relaxed: join() ordered it
}

Outcome bank(const Params& p) {
  const auto accounts = std::make_unique<std::atomic<std::uint64_t>[]>(p.bank_accounts);
  for (unsigned a = 0; a < p.bank_accounts; ++a) accounts[a].store(p.bank_initial, std::memory_order_relaxed);
  std::atomic<std::uint64_t> applied{0};
  run_threads(p.bank_workers, "atomic", [&](unsigned teller) {
    TransferStream stream(p, teller);
    std::uint64_t mine = 0;
    in_traced_batches(p.bank_transfers, "transfers, compare-and-swap", [&](std::uint64_t) {
      const Transfer t = stream.next();
      // relaxed throughout: each balance is its own atomic and the invariant is checked after
      // join(); in between, money in flight is briefly in no account, which is allowed.
      std::uint64_t balance = accounts[t.from].load(std::memory_order_relaxed);
      bool withdrawn = false;
      while (balance >= t.amount) {
        if (accounts[t.from].compare_exchange_weak(balance, balance - t.amount, std::memory_order_relaxed)) {
          withdrawn = true;
          break;
        }
      }
      if (!withdrawn) return;
      accounts[t.to].fetch_add(t.amount, std::memory_order_relaxed);
      ++mine;
    });
    applied.fetch_add(mine, std::memory_order_relaxed);  // relaxed: read after join()
  });
  std::uint64_t total = 0;
  for (unsigned a = 0; a < p.bank_accounts; ++a) total += accounts[a].load(std::memory_order_relaxed);
  return check_bank(p, total, applied.load(std::memory_order_relaxed));
}

Outcome io(const Params& p) {
  std::atomic<std::uint64_t> next{0};
  std::atomic<std::uint64_t> answered{0};
  std::atomic<std::uint64_t> wrong{0};
  const unsigned threads = std::min<std::uint64_t>(p.io_concurrency, p.io_requests);
  run_threads(threads, "atomic", [&](unsigned) {
    BlockingConnection connection(p.io_port);
    // relaxed everywhere: claims need only atomicity; the tallies are read after join().
    for (std::uint64_t r; (r = next.fetch_add(1, std::memory_order_relaxed)) < p.io_requests;) {
      const std::optional<std::uint64_t> answer = connection.ask(r);
      if (!answer) return;
      answered.fetch_add(1, std::memory_order_relaxed);
      if (*answer != io_answer(r)) wrong.fetch_add(1, std::memory_order_relaxed);
    }
  });
  return check_io(p, answered.load(std::memory_order_relaxed), wrong.load(std::memory_order_relaxed));
}

}  // namespace

std::optional<Outcome> run_threads_atomic(Workload w, const Params& p) {
  switch (w) {
    case Workload::cpu: return cpu(p);
    case Workload::counter: return counter(p);
    case Workload::bank: return bank(p);
    case Workload::io: return io(p);
    case Workload::hog: return std::nullopt;  // threads-mutex shows threads under the hog
  }
  return std::nullopt;
}

}  // namespace contrast
