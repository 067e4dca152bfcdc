// Tracing: per-thread spans of what each thread did and when (an actor's turn, a parked worker,
// a thread waiting for a lock or for I/O), exported as Chrome trace event JSON that Perfetto and
// chrome://tracing open.
//
// Off by default. Off, the cost is one relaxed load of a global flag per turn and per park. On,
// each span is two clock reads and a push into the recording thread's own buffer (no lock, no
// sharing); buffers are merged only when the trace is written. A thread's buffer holds at most
// `max_spans_per_thread` spans; later ones are counted as dropped, so memory stays bounded.
//
// The worker pool records `run` spans (one per actor turn, named after the actor's type) and
// `park` spans (asleep, waiting for work); a turn found stuck also gets a `stuck` span. Anything
// else — the contrast baselines' threads, a user's own threads — may record spans through the
// same API, so one timeline shows them all.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

namespace troupe::runtime::trace {

using Clock = std::chrono::steady_clock;

enum class SpanKind : std::uint8_t {
  run,        // a worker runs an actor's turn
  park,       // a worker sleeps: nothing to run
  work,       // a thread does its work (baselines)
  wait_lock,  // a thread waits for a lock (baselines: a mutex, the GIL)
  wait_io,    // a thread waits for I/O
  stuck,      // a worker's turn outlived SchedulerConfig::stuck_turn (from when it was seen)
};

std::string_view to_string(SpanKind kind) noexcept;

namespace detail {
extern std::atomic<bool> enabled_flag;
}

// Whether spans are being recorded. Relaxed: a switch read on hot paths; a span that starts
// just before or after a change is kept or dropped, either is fine.
inline bool enabled() noexcept { return detail::enabled_flag.load(std::memory_order_relaxed); }
// Starts or stops recording (spans already recorded are kept until clear()).
void enable(bool on) noexcept;

inline constexpr std::size_t max_spans_per_thread = std::size_t{1} << 21;

// Names the calling thread in the trace ("worker 0", "gil thread 3"). Any time; the last wins.
void name_this_thread(std::string name);

// Records one span on the calling thread's buffer. `name` must outlive the trace (a literal, or
// an actor type's name, which is static).
void record(SpanKind kind, std::string_view name, Clock::time_point start, Clock::time_point end) noexcept;

// A span from construction to destruction, recorded only if tracing was on at construction.
class Span {
 public:
  Span(SpanKind kind, std::string_view name) noexcept : kind_(kind), name_(name), on_(enabled()) {
    if (on_) start_ = Clock::now();
  }
  ~Span() {
    if (on_) record(kind_, name_, start_, Clock::now());
  }
  Span(const Span&) = delete;
  Span& operator=(const Span&) = delete;

 private:
  SpanKind kind_;
  std::string_view name_;
  bool on_;
  Clock::time_point start_{};
};

struct Summary {
  std::size_t threads = 0;
  std::size_t spans = 0;
  std::size_t dropped = 0;  // spans over a thread's limit
};
Summary summary();

// Writes every recorded span as Chrome trace event JSON ("X" events, microseconds since the
// first span; thread names as "M" metadata events; "pid" is the process's id, and
// otherData.steady_clock_origin_ns the steady clock at ts 0, so that traces of processes on one
// machine can be merged in time). Call when the recording threads are quiet
// (after System::wait_idle, or once they are joined): buffers are read without locks.
void write_chrome_json(std::ostream& out);
// The same into a file; false (and nothing written) if the file cannot be opened.
bool write_chrome_json(const std::string& path);

// Forgets every recorded span (buffers of threads that ended are freed). Same caveat as above.
void clear();

}  // namespace troupe::runtime::trace
