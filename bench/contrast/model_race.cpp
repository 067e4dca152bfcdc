// race: the lost update, on purpose. K threads each add 1 to a shared counter C times with no
// lock: read the value, add one, write it back. Two threads that read the same value both write
// value + 1, and one increment is gone. The counter is a std::atomic accessed only by a relaxed
// load and a separate relaxed store, so the program has no undefined behaviour (no data race in
// the C++ sense; ThreadSanitizer agrees) while the read-modify-write is still not atomic — exactly
// the bug a plain `count++` on shared memory has, without the undefined behaviour.
#include <atomic>

#include "models.hpp"
#include "threads.hpp"

namespace contrast {

std::optional<Outcome> run_race(Workload w, const Params& p) {
  if (w != Workload::counter) return std::nullopt;
  std::atomic<std::uint64_t> count{0};
  run_threads(p.counter_workers, "race", [&](unsigned) {
    in_traced_batches(p.counter_increments, "increments, unsynchronised", [&](std::uint64_t) {
      // relaxed load then relaxed store: deliberately NOT one atomic read-modify-write.
      const std::uint64_t seen = count.load(std::memory_order_relaxed);
      count.store(seen + 1, std::memory_order_relaxed);
    });
  });
  return check_counter(p, count.load(std::memory_order_relaxed));  // relaxed: join() ordered it
}

}  // namespace contrast
