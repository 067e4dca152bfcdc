// gil: threads as CPython runs them. Each thread holds the model GIL (gil.hpp) while it runs
// "interpreter work" and calls check() — the eval-breaker — at every loop back-edge, as CPython's
// bytecode loop does, so that a waiting thread gets the GIL within about one switch interval. The
// shared state is plain memory, safe because only the GIL holder touches it (like a Python int
// or list touched by Python code). Blocking socket calls release the GIL, as CPython's socket
// module does (Py_BEGIN_ALLOW_THREADS).
//
// One simplification: `count += 1` in CPython is several bytecodes, and a switch between its load
// and its store loses an update even under the GIL (rare since 3.10, which checks the eval
// breaker only at back-edges and calls). Here the check sits between whole increments — the
// CPython 3.10+ behaviour — so counter and bank are always correct, just not parallel.
//
// Traced: the GIL records its own hold (`work`) and wait (`wait_lock`) periods (gil.hpp), the
// blocking socket calls record `wait_io` (BlockingConnection).
#include <thread>
#include <vector>

#include "gil.hpp"
#include "hog.hpp"
#include "models.hpp"
#include "threads.hpp"

namespace contrast {

namespace {

// Interpreter work between eval-breaker checks, for cpu: a slice of one sum. CPython checks every
// few bytecodes; a slice of 1024 iterations is about a microsecond, far below the 5 ms interval.
constexpr std::uint64_t kSlice = 1024;

Outcome cpu(const Params& p) {
  Gil gil(p.switch_interval);
  unsigned next = 0;  // guarded by the GIL
  u128 total = 0;     // guarded by the GIL
  run_threads(p.workers, "gil", [&](unsigned) {
    Gil::Held held(gil);
    while (next < kCpuValues) {
      const std::uint64_t n = p.cpu_first + next++;
      u128 sum = 0;
      for (std::uint64_t from = 0; from < n; from += kSlice) {
        sum += sum_of_squares_range(from, std::min(n, from + kSlice));
        gil.check();
      }
      total += sum;
    }
  });
  return check_cpu(p, total);
}

Outcome counter(const Params& p) {
  Gil gil(p.switch_interval);
  std::uint64_t count = 0;  // guarded by the GIL
  run_threads(p.counter_workers, "gil", [&](unsigned) {
    Gil::Held held(gil);
    for (std::uint64_t i = 0; i < p.counter_increments; ++i) {
      count = opaque(count) + 1;
      gil.check();
    }
  });
  return check_counter(p, count);
}

Outcome bank(const Params& p) {
  Gil gil(p.switch_interval);
  std::vector<std::uint64_t> balance(p.bank_accounts, p.bank_initial);  // guarded by the GIL
  std::uint64_t applied = 0;                                            // guarded by the GIL
  run_threads(p.bank_workers, "gil", [&](unsigned teller) {
    Gil::Held held(gil);
    TransferStream stream(p, teller);
    for (std::uint64_t i = 0; i < p.bank_transfers; ++i, gil.check()) {
      const Transfer t = stream.next();
      if (balance[t.from] < t.amount) continue;
      balance[t.from] -= t.amount;
      balance[t.to] += t.amount;
      ++applied;
    }
  });
  std::uint64_t total = 0;
  for (std::uint64_t b : balance) total += b;
  return check_bank(p, total, applied);
}

Outcome io(const Params& p) {
  Gil gil(p.switch_interval);
  std::uint64_t next = 0;      // guarded by the GIL
  std::uint64_t answered = 0;  // guarded by the GIL
  std::uint64_t wrong = 0;     // guarded by the GIL
  const unsigned threads = std::min<std::uint64_t>(p.io_concurrency, p.io_requests);
  run_threads(threads, "gil", [&](unsigned) {
    Gil::Held held(gil);
    std::optional<BlockingConnection> connection;
    {
      Gil::Released io(gil);  // connect() blocks: released, as in CPython
      connection.emplace(p.io_port);
    }
    while (next < p.io_requests) {
      const std::uint64_t r = next++;
      std::optional<std::uint64_t> answer;
      {
        Gil::Released io(gil);  // the blocking send and recv run without the GIL
        answer = connection->ask(r);
      }
      if (!answer) break;
      ++answered;
      if (*answer != io_answer(r)) ++wrong;
      gil.check();
    }
    Gil::Released io(gil);  // closing the socket is a system call too
    connection.reset();
  });
  return check_io(p, answered, wrong);
}

// hog: a thread per ticking task and one per hog, as CPython threads. Sleeping until a tick
// releases the GIL (time.sleep does); handling it needs the GIL back. The hog computes holding
// the GIL and passes the eval-breaker check after every slice, as interpreter work does, so a
// woken ticker waits for the switch interval, asks for a drop, and gets the GIL at the hog's next
// check.
Outcome hog(const Params& p) {
  const HogPlan plan(p);
  Gil gil(p.switch_interval);
  LatenessSamples samples;  // guarded by the GIL
  samples.reserve(plan.expected_ticks());
  const HogClock::time_point start = HogClock::now();
  run_threads(plan.tasks + plan.hogs, "gil", [&](unsigned index) {
    Gil::Held held(gil);
    if (index >= plan.tasks) {  // a hog
      trace::name_this_thread("gil hog " + std::to_string(index - plan.tasks));
      for (unsigned i = 0; i < plan.bursts; ++i) {
        {
          Gil::Released sleeping(gil);
          const trace::Span span(trace::SpanKind::wait_io, "sleeps until the burst");
          std::this_thread::sleep_until(start + plan.burst_start(i));
        }
        hog_compute(plan.burst, [&gil] { gil.check(); });
      }
      return;
    }
    for (std::uint64_t k = 0; k < plan.ticks_per_task; ++k) {
      const HogClock::time_point due = start + plan.tick_due(k);
      {
        Gil::Released sleeping(gil);
        const trace::Span span(trace::SpanKind::wait_io, "sleeps until its tick");
        std::this_thread::sleep_until(due);
      }
      samples.push_back(lateness_ns(due, HogClock::now()));
      gil.check();
    }
  });
  return check_hog(p, samples);
}

}  // namespace

std::optional<Outcome> run_gil(Workload w, const Params& p) {
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
