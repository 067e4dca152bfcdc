// parallel_map: a CPU-bound map over every core. For each of 20 values of n, compute the sum of
// i*i for i < n; one actor per value, the results gathered by a coordinator actor. The same work is
// then done sequentially on one thread, and the two are compared: same results, less wall time.
//
//   usage: parallel_map [N]      (the values are N .. N+19; default N = 20,000,000)
//
// This is the classic teaching workload for "why not threads?". In CPython, threads run it one at
// a time (the GIL); asyncio runs it on one core; separate processes work but copy everything. Here
// each value is an actor's job, the worker pool runs actors on all cores, and nothing is shared:
// a job goes in a message, its result comes back in a message.
//
// The arithmetic is exact and well-defined: n <= 2^32, so i*i fits in 64 bits, and the sum
// (< n^3/3 < 2^96) in an unsigned 128-bit integer.
#include <troupe/troupe.hpp>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using u128 = unsigned __int128;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kValues = 20;
constexpr int kRounds = 3;

// The work of one job: a plain function, called by the actors and by the sequential baseline alike.
[[gnu::noinline]] u128 sum_of_squares(std::uint64_t n) {
  u128 sum = 0;
  for (std::uint64_t i = 0; i < n; ++i) sum += i * i;
  return sum;
}

// --- Messages ---------------------------------------------------------------------------------
struct MapJob {  // main -> coordinator: compute every input, send the sums to reply_to
  std::vector<std::uint64_t> inputs;
  troupe::DynamicHandle reply_to;
};
struct Compute {  // coordinator -> worker: one input
  std::size_t index;
  std::uint64_t n;
  troupe::DynamicHandle reply_to;
};
struct Partial {  // worker -> coordinator: one result
  std::size_t index;
  u128 sum;
};
struct MapDone {  // coordinator -> main: all results, in input order
  std::vector<u128> sums;
};

// --- Actors -----------------------------------------------------------------------------------

// A worker: computes one value, sends it back, and stops. Actors are cheap (a few hundred bytes,
// no thread of their own), so one per job is the natural way to write it.
auto square_summer(troupe::Context& self) {
  return troupe::behavior([&self](const Compute& job) {
    job.reply_to.send(Partial{job.index, sum_of_squares(job.n)});
    self.quit();
  });
}

// The coordinator: fans the job out, one worker per input, and gathers the partial results in any
// order. Its state (sums_, remaining_) is touched only by its own handlers, one message at a time,
// so gathering needs no lock even though the workers finish concurrently on different cores.
class Coordinator {
 public:
  explicit Coordinator(troupe::Context& self) : self_(self) {}

  auto behavior() {
    return troupe::behavior(
        [this](MapJob& job) {
          reply_to_ = std::move(job.reply_to);
          sums_.assign(job.inputs.size(), 0);
          remaining_ = job.inputs.size();
          for (std::size_t i = 0; i < job.inputs.size(); ++i) {
            self_.spawn(square_summer).send(Compute{i, job.inputs[i], self_.self()});
          }
        },
        [this](const Partial& partial) {
          sums_[partial.index] = partial.sum;
          if (--remaining_ == 0) reply_to_.send(MapDone{std::move(sums_)});
        });
  }

 private:
  troupe::Context& self_;
  troupe::DynamicHandle reply_to_;
  std::vector<u128> sums_;
  std::size_t remaining_ = 0;
};

// --- Output helpers ---------------------------------------------------------------------------
static std::string with_commas(u128 value) {
  std::string reversed;  // digits from the last, with a comma before every third
  for (int digits = 0; digits == 0 || value != 0; ++digits, value /= 10) {
    if (digits > 0 && digits % 3 == 0) reversed += ',';
    reversed += static_cast<char>('0' + static_cast<int>(value % 10));
  }
  return {reversed.rbegin(), reversed.rend()};
}

static double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

int main(int argc, char** argv) {
  const std::uint64_t first = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20'000'000;
  if (first == 0 || first > (std::uint64_t{1} << 32) - kValues) {
    std::fprintf(stderr, "usage: %s [N], 0 < N <= 2^32 - %zu\n", argv[0], kValues);
    return 2;
  }
  std::vector<std::uint64_t> inputs(kValues);
  for (std::size_t i = 0; i < kValues; ++i) inputs[i] = first + i;

  troupe::System system;  // one worker per hardware thread
  const unsigned workers = system.worker_count();
  std::printf("Parallel map: sum of i*i for i < n, for %zu values of n (%s .. %s)\n", kValues,
              with_commas(inputs.front()).c_str(), with_commas(inputs.back()).c_str());
  std::printf("One actor per value, on %u worker threads, against the same work on one thread (best of %d).\n\n",
              workers, kRounds);

  // Both sides run kRounds times and keep their fastest round, the one least disturbed by whatever
  // else the machine is doing.
  troupe::ScopedActor me(system);
  auto coordinator = system.spawn<Coordinator>();
  std::vector<u128> parallel;
  std::vector<u128> sequential(kValues);
  double parallel_s = 1e300;
  double sequential_s = 1e300;
  int rounds_differing = 0;
  for (int round = 0; round < kRounds; ++round) {
    // 1. The actors: one job message to the coordinator; the results come back in one message.
    const auto parallel_start = Clock::now();
    coordinator.send(MapJob{inputs, me.handle()});
    troupe::Result<MapDone> done = me.receive<MapDone>(std::chrono::hours(1));
    parallel_s = std::min(parallel_s, seconds_since(parallel_start));
    if (!done) {
      std::printf("FAILED: no result from the coordinator: %s\n", done.error().message().c_str());
      return 1;
    }
    parallel = std::move(done->sums);

    // 2. The baseline: the same calls, one after the other, on this thread.
    const auto sequential_start = Clock::now();
    for (std::size_t i = 0; i < kValues; ++i) sequential[i] = sum_of_squares(inputs[i]);
    sequential_s = std::min(sequential_s, seconds_since(sequential_start));
    if (parallel != sequential) ++rounds_differing;
  }

  // 3. Check every result against the baseline and against the closed form (n-1)n(2n-1)/6.
  //    (The loop above compared every round's results with the baseline too.)
  std::size_t mismatches = 0;
  std::printf("  %-14s  %36s  %s\n", "n", "sum of i*i for i < n", "check");
  for (std::size_t i = 0; i < kValues; ++i) {
    const u128 n = inputs[i];
    const u128 closed_form = (n - 1) * n * (2 * n - 1) / 6;
    const bool match = parallel[i] == sequential[i] && parallel[i] == closed_form;
    mismatches += match ? 0 : 1;
    std::printf("  %-14s  %36s  %s\n", with_commas(n).c_str(), with_commas(parallel[i]).c_str(),
                match ? "ok" : "MISMATCH");
  }

  std::printf("\n  sequential, 1 thread        %7.3f s\n", sequential_s);
  std::printf("  troupe, %zu actors           %7.3f s\n", kValues, parallel_s);
  // 20 equal jobs on w workers take ceil(20 / w) waves: that bounds the speedup.
  const double ideal = static_cast<double>(kValues) / static_cast<double>((kValues + workers - 1) / workers);
  std::printf("  speedup                     %7.2fx  on %u workers (ideal %.1fx)\n\n", sequential_s / parallel_s,
              workers, ideal);

  if (mismatches != 0 || rounds_differing != 0) {
    std::printf("FAILED: %zu of %zu results wrong; %d of %d rounds differed from the sequential computation\n",
                mismatches, kValues, rounds_differing, kRounds);
    return 1;
  }
  std::printf("OK: all %zu results match the sequential computation and the closed form\n", kValues);
  return 0;
}
