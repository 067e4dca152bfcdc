// Timelines: a Chrome trace (troupe::runtime::trace::write_chrome_json) read back as one row of
// spans per thread, and written as a data file that timeline.gp draws with gnuplot — one row per
// thread or worker, working / waiting for a lock / waiting for I/O / parked in their own colours.
#pragma once

#include <cstdint>
#include <istream>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace contrast {

// What a span shows in a timeline: the trace's span kinds, four colours.
enum class Activity : int {
  working = 0,    // work (a baseline's thread) and run (a worker runs an actor's turn)
  waiting_lock = 1,
  waiting_io = 2,
  parked = 3,     // a worker with nothing to run
};

struct TimelineSpan {
  Activity activity;
  std::int64_t start_ns;  // since the trace's first span
  std::int64_t end_ns;
};

struct TimelineRow {
  std::string thread;  // the thread's name in the trace ("gil thread 0", "worker 1")
  std::vector<TimelineSpan> spans;
};

struct Timeline {
  // Threads with at least one span, ordered by name (numbers by value); threads of one process
  // that share a name (a compensating worker started again) share a row.
  std::vector<TimelineRow> rows;
};

// Reads Chrome trace event JSON as write_chrome_json writes it ("X" events whose "cat" is the span
// kind, "M" thread_name events). Throws std::runtime_error (or nlohmann's parse error) when the
// input is not such a trace.
Timeline read_chrome_trace(std::istream& in);

// Merges `other`, a Chrome trace another troupe process on this machine wrote, into `into`: its
// spans move onto into's time axis (both traces carry otherData.steady_clock_origin_ns, readings
// of the one monotonic clock) and its threads are named "<label>: <thread>". Returns the merged
// trace's JSON. Throws as read_chrome_trace does, and std::runtime_error for a trace without
// its origin.
std::string merge_chrome_trace(std::string_view into, std::string_view other, std::string_view label);

// The data timeline.gp draws, one line per span:
//   row start_ms end_ms activity "thread name"
// row 0 is the first row of the timeline; activity is the Activity's number.
void write_timeline_data(const Timeline& timeline, std::ostream& out);

}  // namespace contrast
