// sequential: every workload on the calling thread, one step after another. The reference that
// every other model's speedup is measured against. Traced as "sequential": cpu chunks and
// counter/bank batches as `work`, socket calls as `wait_io`.
#include <thread>
#include <vector>

#include "hog.hpp"
#include "models.hpp"
#include "threads.hpp"

namespace contrast {

namespace {

// hog: the ticks of every task and the hogs' bursts take turns on the one thread, in the order
// they are due: while a burst computes (each hog's in turn), every tick waits.
Outcome hog(const Params& p) {
  const HogPlan plan(p);
  LatenessSamples samples;
  samples.reserve(plan.expected_ticks());
  const HogClock::time_point start = HogClock::now();
  unsigned burst = 0;
  for (std::uint64_t k = 0; k < plan.ticks_per_task; ++k) {
    const HogClock::time_point due = start + plan.tick_due(k);
    while (burst < plan.bursts && start + plan.burst_start(burst) <= due) {
      {
        const trace::Span span(trace::SpanKind::wait_io, "sleeps until the burst");
        std::this_thread::sleep_until(start + plan.burst_start(burst));
      }
      for (unsigned h = 0; h < plan.hogs; ++h) {
        const trace::Span span(trace::SpanKind::work, "a hog computes");
        hog_compute(plan.burst, [] {});
      }
      ++burst;
    }
    {
      const trace::Span span(trace::SpanKind::wait_io, "sleeps until the tick");
      std::this_thread::sleep_until(due);
    }
    const trace::Span span(trace::SpanKind::work, "handles the tick of every task");
    for (unsigned t = 0; t < plan.tasks; ++t) samples.push_back(lateness_ns(due, HogClock::now()));
  }
  return check_hog(p, samples);
}

}  // namespace

std::optional<Outcome> run_sequential(Workload w, const Params& p) {
  trace::name_this_thread("sequential");  // traced like the threads' models (tracing.hpp)
  switch (w) {
    case Workload::cpu: {
      u128 total = 0;
      for (unsigned k = 0; k < kCpuValues; ++k) {
        const trace::Span span(trace::SpanKind::work, "sums one chunk");
        total += sum_of_squares(p.cpu_first + k);
      }
      return check_cpu(p, total);
    }
    case Workload::counter: {
      std::uint64_t count = 0;
      for (unsigned worker = 0; worker < p.counter_workers; ++worker) {
        in_traced_batches(p.counter_increments, "increments", [&](std::uint64_t) { count = opaque(count) + 1; });
      }
      return check_counter(p, count);
    }
    case Workload::bank: {
      std::vector<std::uint64_t> balance(p.bank_accounts, p.bank_initial);
      std::uint64_t applied = 0;
      for (unsigned teller = 0; teller < p.bank_workers; ++teller) {
        TransferStream stream(p, teller);
        in_traced_batches(p.bank_transfers, "transfers", [&](std::uint64_t) {
          const Transfer t = stream.next();
          if (balance[t.from] < t.amount) return;  // insufficient funds: refused
          balance[t.from] -= t.amount;
          balance[t.to] += t.amount;
          ++applied;
        });
      }
      std::uint64_t total = 0;
      for (std::uint64_t b : balance) total += b;
      return check_bank(p, total, applied);
    }
    case Workload::io: {
      BlockingConnection connection(p.io_port);
      std::uint64_t answered = 0;
      std::uint64_t wrong = 0;
      for (std::uint64_t r = 0; r < p.io_requests; ++r) {
        const std::optional<std::uint64_t> answer = connection.ask(r);
        if (!answer) break;
        ++answered;
        if (*answer != io_answer(r)) ++wrong;
      }
      return check_io(p, answered, wrong);
    }
    case Workload::hog: return hog(p);
  }
  return std::nullopt;
}

}  // namespace contrast
