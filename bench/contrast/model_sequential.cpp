// sequential: every workload on the calling thread, one step after another. The reference that
// every other model's speedup is measured against. Traced as "sequential": cpu chunks and
// counter/bank batches as `work`, socket calls as `wait_io`.
#include <vector>

#include "models.hpp"
#include "threads.hpp"

namespace contrast {

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
  }
  return std::nullopt;
}

}  // namespace contrast
