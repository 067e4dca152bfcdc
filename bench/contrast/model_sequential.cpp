// sequential: every workload on the calling thread, one step after another. The reference that
// every other model's speedup is measured against.
#include <vector>

#include "models.hpp"
#include "threads.hpp"

namespace contrast {

std::optional<Outcome> run_sequential(Workload w, const Params& p) {
  switch (w) {
    case Workload::cpu: {
      u128 total = 0;
      for (unsigned k = 0; k < kCpuValues; ++k) total += sum_of_squares(p.cpu_first + k);
      return check_cpu(p, total);
    }
    case Workload::counter: {
      std::uint64_t count = 0;
      for (unsigned worker = 0; worker < p.counter_workers; ++worker) {
        for (std::uint64_t i = 0; i < p.counter_increments; ++i) count = opaque(count) + 1;
      }
      return check_counter(p, count);
    }
    case Workload::bank: {
      std::vector<std::uint64_t> balance(p.bank_accounts, p.bank_initial);
      std::uint64_t applied = 0;
      for (unsigned teller = 0; teller < p.bank_workers; ++teller) {
        TransferStream stream(p, teller);
        for (std::uint64_t i = 0; i < p.bank_transfers; ++i) {
          const Transfer t = stream.next();
          if (balance[t.from] < t.amount) continue;  // insufficient funds: refused
          balance[t.from] -= t.amount;
          balance[t.to] += t.amount;
          ++applied;
        }
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
