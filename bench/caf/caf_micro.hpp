// caf-micro's shared parts: the atoms, the helpers every workload uses, and the workloads'
// entry points (caf_messaging.cpp: ping-pong, fan-in, ring, fan-out; caf_spawning.cpp: skynet,
// idle footprint; caf_micro.cpp: main).
#pragma once

#include <caf/all.hpp>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <utility>

namespace caf_micro {

using namespace caf;

// -- atoms (CAF 0.17 style: at most 10 characters) ----------------------------

using ping_atom = atom_constant<atom("ping")>;
using pong_atom = atom_constant<atom("pong")>;
using start_atom = atom_constant<atom("start")>;
using done_atom = atom_constant<atom("done")>;
using count_atom = atom_constant<atom("count")>;
using token_atom = atom_constant<atom("token")>;
using connect_atom = atom_constant<atom("connect")>;
using sum_atom = atom_constant<atom("sum")>;

// -- helpers ------------------------------------------------------------------

using clock_type = std::chrono::steady_clock;

/// Upper bound for any single wait of the main thread; a hang is an error.
constexpr auto wait_limit = std::chrono::seconds(600);

[[noreturn]] inline void die(const std::string& msg) {
  std::cerr << "caf-micro: " << msg << std::endl;
  // The actor system may still have live actors at this point; do not wait
  // for them in its destructor.
  std::_Exit(1);
}

inline double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

inline int64_t scaled(int64_t base, double scale) {
  auto n = static_cast<int64_t>(std::llround(static_cast<double>(base) * scale));
  return std::max<int64_t>(1, n);
}

/// Current resident set size in bytes (from /proc/self/statm).
inline int64_t resident_bytes() {
  std::ifstream in("/proc/self/statm");
  int64_t size_pages = 0;
  int64_t resident_pages = 0;
  if (!(in >> size_pages >> resident_pages)) die("cannot read /proc/self/statm");
  return resident_pages * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}

/// Receives one message into the scoped actor, dying on timeout.
template <class... Fs>
void receive_one(scoped_actor& self, const char* what, Fs... fs) {
  self->receive(
      std::move(fs)..., after(wait_limit) >> [&] { die(std::string("timeout waiting for ") + what); });
}

struct result_line {
  std::string unit;
  std::string value;
};

inline std::string fmt_rate(double msgs, double secs) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.0f", msgs / secs);
  return buf;
}

inline std::string fmt_seconds(double secs) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6f", secs);
  return buf;
}

// -- workloads ----------------------------------------------------------------

result_line run_pingpong(actor_system& sys, int pairs, int64_t round_trips);
result_line run_fanin(actor_system& sys, double scale);
result_line run_ring(actor_system& sys, double scale);
result_line run_fanout(actor_system& sys, double scale);
result_line run_skynet(actor_system& sys, double scale);
result_line run_idle_footprint(actor_system& sys, double scale);

}  // namespace caf_micro
