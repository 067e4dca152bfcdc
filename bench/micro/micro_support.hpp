// What the troupe-micro workloads share (troupe_micro.cpp, fanout.cpp): the result line, the
// messages more than one workload sends, and small helpers. Each helper that fails exits 1.
#pragma once

#include <troupe/troupe.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

namespace troupe_micro {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

[[noreturn]] inline void die(const std::string& why) {
  std::fprintf(stderr, "troupe-micro: %s\n", why.c_str());
  std::exit(1);
}

inline std::int64_t scaled(std::int64_t n, double scale) {
  return std::max<std::int64_t>(1, std::llround(static_cast<double>(n) * scale));
}

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

inline std::size_t resident_bytes() {
  std::ifstream in("/proc/self/statm");
  std::size_t pages = 0, resident = 0;
  if (!(in >> pages >> resident)) die("cannot read /proc/self/statm");
  return resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

template <class T>
T await(troupe::ScopedActor& me, const char* what) {
  auto r = me.receive<T>(600s);
  if (!r) die(std::string("timed out waiting for ") + what);
  return std::move(*r);
}

struct Line {
  const char* unit;
  double value;
};

struct Start {};
struct Sum {
  std::int64_t value;
};

// The paced workloads give each receiver a bounded mailbox of this many messages (Go's peer gives
// its channels 1,024 slots), and each sender paces its sends (Context::pace): it waits while the
// receiver is full, as a Go sender waits on a full channel.
constexpr std::uint32_t kPacedCapacity = 1024;

// The fan-out rows (fanout.cpp).
Line fanout(troupe::System& sys, double scale, bool paced);
Line fanout_ceiling(double scale);

}  // namespace troupe_micro
