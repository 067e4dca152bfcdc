// The contrast's workloads: what each one computes, its parameters, and how its result is checked.
// Every model (sequential, threads-mutex, threads-atomic, gil, event-loop, actors, ...) runs the
// same workloads with the same parameters, so their times can be compared cell by cell.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace contrast {

enum class Workload { cpu, counter, bank, io, hog };
inline constexpr Workload kAllWorkloads[] = {Workload::cpu, Workload::counter, Workload::bank, Workload::io,
                                             Workload::hog};

std::string_view to_string(Workload w);
std::optional<Workload> parse_workload(std::string_view name);

struct Params {
  unsigned workers = 2;  // threads (or actor worker threads) for cpu, counter and bank

  // cpu: sum of i*i for i < n, for the 20 values n = cpu_first .. cpu_first + 19.
  std::uint64_t cpu_first = 100'000'000;  // ~0.65 s sequential here: fixed costs (threads starting) stay small

  // counter: counter_workers workers each add 1, counter_increments times, to one counter.
  unsigned counter_workers = 4;
  std::uint64_t counter_increments = 1'000'000;

  // bank: bank_workers tellers each make bank_transfers random transfers between bank_accounts
  // accounts that start with bank_initial each; the total never changes.
  unsigned bank_workers = 4;
  unsigned bank_accounts = 100;
  std::uint64_t bank_transfers = 200'000;
  std::uint64_t bank_initial = 1'000;
  std::uint64_t seed = 42;

  // io: io_requests requests to the latency server on 127.0.0.1:io_port (answered after its
  // latency each), at most io_concurrency at a time (threads or connections).
  std::uint16_t io_port = 0;
  unsigned io_requests = 1000;
  unsigned io_concurrency = 100;

  // gil: the switch interval (CPython's sys.setswitchinterval, default 5 ms).
  std::chrono::microseconds switch_interval{5000};

  // hog (hog.hpp): hog_tasks small tasks each handle a tick every hog_period for hog_duration and
  // record how late each tick was handled; meanwhile `hogs` tasks (0: one per worker, so that
  // every core is held) compute without yielding for hog_burst, hog_bursts times, spaced out.
  unsigned hog_tasks = 200;
  unsigned hogs = 0;
  std::chrono::microseconds hog_period{2'000};
  std::chrono::microseconds hog_duration{2'000'000};
  std::chrono::microseconds hog_burst{300'000};
  unsigned hog_bursts = 3;
};

// hog: how late the ticks were handled, over every tick of every task (nearest-rank percentiles).
struct Lateness {
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
  std::uint64_t ticks = 0;     // ticks handled
  std::uint64_t expected = 0;  // hog_tasks * ticks per task
};

// What a model reports for one workload.
// A Chrome trace another process wrote while a model ran traced (nodes: the second node's).
struct ProcessTrace {
  std::string label;  // its rows are named "<label>: <thread>"
  std::string path;   // the file; whoever merges it removes it
};

struct Outcome {
  bool correct = false;
  std::string detail;                // a short human-readable account ("count 4000000 of 4000000")
  std::uint64_t lost = 0;            // race: updates lost
  std::optional<Lateness> lateness;  // hog only
  std::vector<ProcessTrace> process_traces;  // traced runs only: other processes' traces to merge
};
// A model that could not finish: not correct, and why.
inline Outcome failure(std::string detail) {
  Outcome o;
  o.detail = std::move(detail);
  return o;
}

// --- cpu ------------------------------------------------------------------------------------------
using u128 = unsigned __int128;
constexpr unsigned kCpuValues = 20;

// The work of one cpu job, the same function for every model. n < 2^32 keeps it exact.
u128 sum_of_squares(std::uint64_t n);
// The same sum over i in [from, to): a slice of a job, for models that pause between slices.
u128 sum_of_squares_range(std::uint64_t from, std::uint64_t to);
// Sum of i*i for i < n by the closed form (n-1)n(2n-1)/6.
u128 sum_of_squares_closed(std::uint64_t n);
// The expected total over the 20 values.
u128 cpu_expected_total(const Params& p);
Outcome check_cpu(const Params& p, u128 total);

// --- counter --------------------------------------------------------------------------------------
Outcome check_counter(const Params& p, std::uint64_t count);

// --- bank -----------------------------------------------------------------------------------------
// One teller's sequence of transfers, reproducible from (seed, teller).
struct Transfer {
  unsigned from;
  unsigned to;
  std::uint64_t amount;
};
class TransferStream {
 public:
  TransferStream(const Params& p, unsigned teller);
  Transfer next();

 private:
  std::uint64_t state_;
  unsigned accounts_;
  std::uint64_t max_amount_;
};
// Checks the invariant: the balances add up to bank_accounts * bank_initial.
Outcome check_bank(const Params& p, std::uint64_t total, std::uint64_t applied);

// --- io -------------------------------------------------------------------------------------------
// The wire protocol: a request is 8 bytes (a request number, little-endian); the response is 8
// bytes holding io_answer(number).
constexpr std::uint64_t io_answer(std::uint64_t request) { return request * 2654435761u + 1; }
Outcome check_io(const Params& p, std::uint64_t answered, std::uint64_t wrong);

// Keeps the compiler from folding a loop of increments into one addition: the value passes
// through an empty asm statement the optimiser cannot see through. Costs nothing at run time.
inline std::uint64_t opaque(std::uint64_t v) {
  asm volatile("" : "+r"(v));
  return v;
}

}  // namespace contrast
