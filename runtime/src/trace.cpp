// Tracing: per-thread span buffers and the Chrome trace event writer (see trace.hpp).
#include <troupe/runtime/trace.hpp>

#include <algorithm>
#include <fstream>
#include <iomanip>
#include <memory>
#include <mutex>
#include <vector>

#include <unistd.h>

namespace troupe::runtime::trace {

namespace detail {
std::atomic<bool> enabled_flag{false};
}

namespace {

struct SpanRecord {
  std::int64_t start_ns;
  std::int64_t end_ns;
  std::string_view name;
  SpanKind kind;
};

// One thread's spans. Written by its thread only; read by the writer when threads are quiet.
struct ThreadBuffer {
  std::uint32_t id = 0;
  std::string name;
  std::vector<SpanRecord> spans;
  std::size_t dropped = 0;
  bool thread_ended = false;
};

// Every buffer ever registered. Buffers outlive their threads (a worker's spans are written after
// the pool stopped); clear() frees those of ended threads.
struct Registry {
  std::mutex mutex;
  std::vector<std::shared_ptr<ThreadBuffer>> buffers;
  std::uint32_t next_id = 1;
};

Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: threads may record during exit
  return *r;
}

// The calling thread's buffer, registered on first use; marked ended when the thread exits.
struct ThreadSlot {
  std::shared_ptr<ThreadBuffer> buffer;
  std::string name;  // given before the first span: used when the buffer is made
  ~ThreadSlot() {
    if (!buffer) return;
    std::lock_guard lock(registry().mutex);
    buffer->thread_ended = true;
  }
};
thread_local ThreadSlot tls_slot;

ThreadBuffer& this_thread_buffer() {
  if (!tls_slot.buffer) {
    auto buffer = std::make_shared<ThreadBuffer>();
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    buffer->id = r.next_id++;
    buffer->name = tls_slot.name.empty() ? "thread " + std::to_string(buffer->id) : tls_slot.name;
    r.buffers.push_back(buffer);
    tls_slot.buffer = std::move(buffer);
  }
  return *tls_slot.buffer;
}

std::int64_t to_ns(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

void write_escaped(std::ostream& out, std::string_view text) {
  out << '"';
  for (char c : text) {
    switch (c) {
      case '"':
        out << "\\\"";
        break;
      case '\\':
        out << "\\\\";
        break;
      case '\n':
        out << "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out << ' ';
        } else {
          out << c;
        }
    }
  }
  out << '"';
}

}  // namespace

std::string_view to_string(SpanKind kind) noexcept {
  switch (kind) {
    case SpanKind::run:
      return "run";
    case SpanKind::park:
      return "park";
    case SpanKind::work:
      return "work";
    case SpanKind::wait_lock:
      return "wait_lock";
    case SpanKind::wait_io:
      return "wait_io";
    case SpanKind::stuck:
      return "stuck";
  }
  return "unknown";
}

void enable(bool on) noexcept {
  // Relaxed: see enabled().
  detail::enabled_flag.store(on, std::memory_order_relaxed);
}

void name_this_thread(std::string name) {
  if (!tls_slot.buffer) {  // no span yet: nothing registered (threads that never trace cost nothing)
    tls_slot.name = std::move(name);
    return;
  }
  std::lock_guard lock(registry().mutex);  // the writer may read names of live threads
  tls_slot.buffer->name = std::move(name);
}

void record(SpanKind kind, std::string_view name, Clock::time_point start, Clock::time_point end) noexcept {
  try {
    ThreadBuffer& buffer = this_thread_buffer();
    if (buffer.spans.size() >= max_spans_per_thread) {
      ++buffer.dropped;
      return;
    }
    buffer.spans.push_back(SpanRecord{to_ns(start), to_ns(end), name, kind});
  } catch (...) {  // no memory for the span: tracing is best effort, the runtime goes on
  }
}

Summary summary() {
  Summary s;
  std::lock_guard lock(registry().mutex);
  for (const auto& b : registry().buffers) {
    ++s.threads;
    s.spans += b->spans.size();
    s.dropped += b->dropped;
  }
  return s;
}

void write_chrome_json(std::ostream& out) {
  std::vector<std::shared_ptr<ThreadBuffer>> buffers;
  {
    std::lock_guard lock(registry().mutex);
    buffers = registry().buffers;
  }
  std::int64_t origin = INT64_MAX;
  for (const auto& b : buffers) {
    for (const auto& s : b->spans) origin = std::min(origin, s.start_ns);
  }
  if (origin == INT64_MAX) origin = 0;
  const std::ios_base::fmtflags flags = out.flags();
  const std::streamsize precision = out.precision();
  out << std::fixed << std::setprecision(3);
  // The process's own id, and the steady clock's reading at ts 0: traces of several processes on
  // one machine (a node and its peers) then merge into one timeline, aligned (steady_clock is
  // CLOCK_MONOTONIC, one clock for every process). The origin is a string: nanoseconds since boot
  // outgrow a double's exact integers after ~100 days.
  const long pid = static_cast<long>(::getpid());
  out << "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"steady_clock_origin_ns\":\"" << origin << "\"},"
      << "\"traceEvents\":[";
  bool first = true;
  auto separator = [&] {
    if (!first) out << ",\n";
    first = false;
  };
  for (const auto& b : buffers) {
    separator();
    out << "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":" << pid << ",\"tid\":" << b->id << ",\"args\":{\"name\":";
    {
      std::lock_guard lock(registry().mutex);
      write_escaped(out, b->name);
    }
    out << "}}";
    for (const auto& s : b->spans) {
      separator();
      out << "{\"ph\":\"X\",\"pid\":" << pid << ",\"tid\":" << b->id << ",\"cat\":\"" << to_string(s.kind)
          << "\",\"name\":";
      write_escaped(out, s.name.empty() ? to_string(s.kind) : s.name);
      // Microseconds with nanosecond decimals: short spans stay visible.
      out << ",\"ts\":" << static_cast<double>(s.start_ns - origin) / 1000.0
          << ",\"dur\":" << static_cast<double>(s.end_ns - s.start_ns) / 1000.0 << "}";
    }
  }
  out << "]}\n";
  out.flags(flags);
  out.precision(precision);
}

bool write_chrome_json(const std::string& path) {
  std::ofstream out(path);
  if (!out) return false;
  write_chrome_json(out);
  return static_cast<bool>(out);
}

void clear() {
  std::lock_guard lock(registry().mutex);
  auto& buffers = registry().buffers;
  std::erase_if(buffers, [](const std::shared_ptr<ThreadBuffer>& b) { return b->thread_ended; });
  for (auto& b : buffers) {
    b->spans.clear();
    b->dropped = 0;
  }
}

}  // namespace troupe::runtime::trace
