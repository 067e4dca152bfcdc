// threads-mutex: shared-state threads, the textbook way. Every piece of shared state sits behind a
// std::mutex: the cpu job queue and total, the counter, each bank account (two locks per
// transfer, taken together by std::scoped_lock so that opposite transfers cannot deadlock), and
// the io request queue and tallies. Traced (tracing.hpp): cpu chunks and counter/bank batches as
// `work`, contended waits for the cpu and io mutexes as `wait_lock`, socket calls as `wait_io`.
// hog: one thread per ticking task, and sleeps until a tick or a burst traced as `wait_io`.
#include <mutex>
#include <thread>
#include <vector>

#include "hog.hpp"
#include "models.hpp"
#include "threads.hpp"

namespace contrast {

namespace {

Outcome cpu(const Params& p) {
  std::mutex mutex;
  unsigned next = 0;  // guarded by mutex
  u128 total = 0;     // guarded by mutex
  run_threads(p.workers, "mutex", [&](unsigned) {
    for (;;) {
      unsigned k;
      {
        const std::unique_lock lock = lock_traced(mutex);
        if (next == kCpuValues) return;
        k = next++;
      }
      u128 sum;
      {
        const trace::Span span(trace::SpanKind::work, "sums one chunk");
        sum = sum_of_squares(p.cpu_first + k);  // the work itself needs no lock
      }
      const std::unique_lock lock = lock_traced(mutex);
      total += sum;
    }
  });
  return check_cpu(p, total);
}

Outcome counter(const Params& p) {
  std::mutex mutex;
  std::uint64_t count = 0;  // guarded by mutex
  run_threads(p.counter_workers, "mutex", [&](unsigned) {
    // One span per batch: the lock waits inside are too short and too many to draw one by one.
    in_traced_batches(p.counter_increments, "increments, a lock each", [&](std::uint64_t) {
      std::lock_guard lock(mutex);
      ++count;
    });
  });
  return check_counter(p, count);
}

Outcome bank(const Params& p) {
  struct Account {
    std::mutex mutex;
    std::uint64_t balance;  // guarded by mutex
  };
  std::vector<Account> accounts(p.bank_accounts);
  for (Account& a : accounts) a.balance = p.bank_initial;
  std::mutex applied_mutex;
  std::uint64_t applied = 0;  // guarded by applied_mutex
  run_threads(p.bank_workers, "mutex", [&](unsigned teller) {
    TransferStream stream(p, teller);
    std::uint64_t mine = 0;
    in_traced_batches(p.bank_transfers, "transfers, two locks each", [&](std::uint64_t) {
      const Transfer t = stream.next();
      Account& from = accounts[t.from];
      Account& to = accounts[t.to];
      std::scoped_lock lock(from.mutex, to.mutex);  // both or neither, deadlock-free
      if (from.balance < t.amount) return;
      from.balance -= t.amount;
      to.balance += t.amount;
      ++mine;
    });
    const std::unique_lock lock = lock_traced(applied_mutex);
    applied += mine;
  });
  std::uint64_t total = 0;
  for (Account& a : accounts) total += a.balance;  // the threads have joined
  return check_bank(p, total, applied);
}

Outcome io(const Params& p) {
  std::mutex mutex;
  std::uint64_t next = 0;      // guarded by mutex
  std::uint64_t answered = 0;  // guarded by mutex
  std::uint64_t wrong = 0;     // guarded by mutex
  const unsigned threads = std::min<std::uint64_t>(p.io_concurrency, p.io_requests);
  run_threads(threads, "mutex", [&](unsigned) {
    BlockingConnection connection(p.io_port);  // one blocking socket per thread
    for (;;) {
      std::uint64_t r;
      {
        const std::unique_lock lock = lock_traced(mutex);
        if (next == p.io_requests) return;
        r = next++;
      }
      const std::optional<std::uint64_t> answer = connection.ask(r);  // blocks, no lock held
      const std::unique_lock lock = lock_traced(mutex);
      if (!answer) return;
      ++answered;
      if (*answer != io_answer(r)) ++wrong;
    }
  });
  return check_io(p, answered, wrong);
}

// hog: a thread per ticking task and one per hog. A ticking thread sleeps until its tick; the
// kernel wakes it and, with every core busy (the hogs), pre-empts a running thread for it.
Outcome hog(const Params& p) {
  const HogPlan plan(p);
  std::mutex mutex;
  LatenessSamples samples;  // guarded by mutex
  samples.reserve(plan.expected_ticks());
  const HogClock::time_point start = HogClock::now();
  run_threads(plan.tasks + plan.hogs, "mutex", [&](unsigned index) {
    if (index >= plan.tasks) {  // a hog
      trace::name_this_thread("mutex hog " + std::to_string(index - plan.tasks));
      for (unsigned i = 0; i < plan.bursts; ++i) {
        {
          const trace::Span span(trace::SpanKind::wait_io, "sleeps until the burst");
          std::this_thread::sleep_until(start + plan.burst_start(i));
        }
        const trace::Span span(trace::SpanKind::work, "a hog computes");
        hog_compute(plan.burst, [] {});
      }
      return;
    }
    LatenessSamples mine;  // this thread's: merged under the mutex at the end
    mine.reserve(plan.ticks_per_task);
    for (std::uint64_t k = 0; k < plan.ticks_per_task; ++k) {
      const HogClock::time_point due = start + plan.tick_due(k);
      {
        const trace::Span span(trace::SpanKind::wait_io, "sleeps until its tick");
        std::this_thread::sleep_until(due);
      }
      const trace::Span span(trace::SpanKind::work, "handles its tick");
      mine.push_back(lateness_ns(due, HogClock::now()));
    }
    const std::unique_lock lock = lock_traced(mutex);
    samples.insert(samples.end(), mine.begin(), mine.end());
  });
  return check_hog(p, samples);
}

}  // namespace

std::optional<Outcome> run_threads_mutex(Workload w, const Params& p) {
  switch (w) {
    case Workload::cpu: return cpu(p);
    case Workload::counter: return counter(p);
    case Workload::bank: return bank(p);
    case Workload::io: return io(p);
    case Workload::hog: return hog(p);
  }
  return std::nullopt;
}

}  // namespace contrast
