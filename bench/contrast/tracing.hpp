// How the thread-based models record their spans in the runtime's trace (troupe/runtime/trace.hpp),
// so that one timeline shows a baseline's threads the way it shows troupe's workers:
//   work       computing (a cpu chunk, a batch of counter increments or bank transfers; the GIL
//              model: one period of holding the GIL)
//   wait_lock  waiting for a lock (a contended std::mutex; the GIL)
//   wait_io    blocked in a socket call (BlockingConnection)
// Spans stay coarse so that tracing barely changes what it measures, and off they cost one relaxed
// load of the trace switch per span.
#pragma once

#include <troupe/runtime/trace.hpp>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <string_view>

namespace contrast {

namespace trace = troupe::runtime::trace;

// counter and bank: one `work` span per this many steps. A single increment takes nanoseconds;
// a span each would cost more than the work and draw millions of invisible slivers.
inline constexpr std::uint64_t kSpanBatch = 10'000;

// Runs step(i) for i in [0, count), in batches of kSpanBatch steps, each one `work` span.
template <class Step>
void in_traced_batches(std::uint64_t count, std::string_view name, Step&& step) {
  for (std::uint64_t begin = 0; begin < count; begin += kSpanBatch) {
    const trace::Span span(trace::SpanKind::work, name);
    const std::uint64_t end = std::min(count, begin + kSpanBatch);
    for (std::uint64_t i = begin; i < end; ++i) step(i);
  }
}

// Locks `mutex`, recording a `wait_lock` span when it had to wait (try_lock failed). Uncontended
// locks record nothing.
template <class Mutex>
std::unique_lock<Mutex> lock_traced(Mutex& mutex, std::string_view name = "waits for the mutex") {
  if (mutex.try_lock()) return std::unique_lock<Mutex>(mutex, std::adopt_lock);
  const trace::Span span(trace::SpanKind::wait_lock, name);
  return std::unique_lock<Mutex>(mutex);
}

}  // namespace contrast
