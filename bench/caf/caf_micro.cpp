// caf-micro: the CAF 0.17 side of troupe's micro-benchmark suite.
//
// Usage: caf-micro WORKLOAD [SCALE]
//
// Runs one workload once with CAF 0.17 (default work-stealing scheduler,
// worker threads = hardware concurrency, event-based actors) and prints
// exactly one line to stdout:
//
//   workload=NAME unit=UNIT value=NUMBER
//
// Timing uses std::chrono::steady_clock from just before the first
// message/spawn of the workload until the result has been verified by the
// main thread; actor_system construction and teardown are excluded. Every
// workload verifies its result and exits non-zero (message on stderr) if it is
// wrong. SCALE (default 1.0) multiplies message/actor counts for smoke runs.
//
// The main thread talks to the actors through a caf::scoped_actor, the usual
// way to bridge non-actor code and actors in CAF 0.17.

#include <caf/all.hpp>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace caf;

namespace {

// -- atoms (CAF 0.17 style: at most 10 characters) ----------------------------

using ping_atom = atom_constant<atom("ping")>;
using pong_atom = atom_constant<atom("pong")>;
using start_atom = atom_constant<atom("start")>;
using done_atom = atom_constant<atom("done")>;
using count_atom = atom_constant<atom("count")>;
using token_atom = atom_constant<atom("token")>;
using connect_atom = atom_constant<atom("connect")>;

// -- helpers ------------------------------------------------------------------

using clock_type = std::chrono::steady_clock;

/// Upper bound for any single wait of the main thread; a hang is an error.
constexpr auto wait_limit = std::chrono::seconds(600);

[[noreturn]] void die(const std::string& msg) {
  std::cerr << "caf-micro: " << msg << std::endl;
  // The actor system may still have live actors at this point; do not wait
  // for them in its destructor.
  std::_Exit(1);
}

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

int64_t scaled(int64_t base, double scale) {
  auto n = static_cast<int64_t>(std::llround(static_cast<double>(base) * scale));
  return std::max<int64_t>(1, n);
}

/// Current resident set size in bytes (from /proc/self/statm).
int64_t resident_bytes() {
  std::ifstream in("/proc/self/statm");
  int64_t size_pages = 0;
  int64_t resident_pages = 0;
  if (!(in >> size_pages >> resident_pages))
    die("cannot read /proc/self/statm");
  return resident_pages * static_cast<int64_t>(sysconf(_SC_PAGESIZE));
}

/// Receives one message into the scoped actor, dying on timeout.
template <class... Fs>
void receive_one(scoped_actor& self, const char* what, Fs... fs) {
  self->receive(std::move(fs)...,
                after(wait_limit) >> [&] {
                  die(std::string("timeout waiting for ") + what);
                });
}

struct result_line {
  std::string unit;
  std::string value;
};

std::string fmt_rate(double msgs, double secs) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.0f", msgs / secs);
  return buf;
}

std::string fmt_seconds(double secs) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.6f", secs);
  return buf;
}

// -- ping-pong ----------------------------------------------------------------

struct pong_state {
  int64_t pings = 0;
};

behavior pong_actor(stateful_actor<pong_state>* self) {
  return {
    [=](ping_atom, int64_t i) {
      ++self->state.pings;
      // The returned tuple is delivered back to the sender of the ping.
      return std::make_tuple(pong_atom::value, i);
    },
    [=](count_atom) { return self->state.pings; },
  };
}

struct ping_state {
  int64_t pongs = 0;
};

behavior ping_actor(stateful_actor<ping_state>* self, actor pong,
                    int64_t round_trips, actor done_to) {
  return {
    [=](start_atom) { self->send(pong, ping_atom::value, int64_t{0}); },
    [=](pong_atom, int64_t i) {
      auto& st = self->state;
      if (i != st.pongs) {
        // Out-of-order or corrupted reply: report failure.
        self->send(done_to, done_atom::value, int64_t{-1});
        self->quit();
        return;
      }
      if (++st.pongs == round_trips) {
        self->send(done_to, done_atom::value, st.pongs);
        self->quit();
      } else {
        self->send(pong, ping_atom::value, st.pongs);
      }
    },
  };
}

result_line run_pingpong(actor_system& sys, int pairs, int64_t round_trips) {
  scoped_actor self{sys};
  std::vector<actor> pongs;
  std::vector<actor> pings;
  for (int p = 0; p < pairs; ++p) {
    pongs.push_back(sys.spawn(pong_actor));
    pings.push_back(sys.spawn(ping_actor, pongs.back(), round_trips,
                              actor{self}));
  }
  auto start = clock_type::now();
  for (auto& ping : pings)
    self->send(ping, start_atom::value);
  int64_t total = 0;
  for (int p = 0; p < pairs; ++p) {
    receive_one(self, "ping-pong completion", [&](done_atom, int64_t n) {
      if (n != round_trips)
        die("ping-pong: a ping actor reported " + std::to_string(n)
            + " round trips, expected " + std::to_string(round_trips));
      total += n;
    });
  }
  auto secs = seconds_since(start);
  if (total != round_trips * pairs)
    die("ping-pong: total round trips mismatch");
  // Cross-check on the pong side (outside the timed region).
  for (auto& pong : pongs) {
    self->request(pong, infinite, count_atom::value)
      .receive(
        [&](int64_t n) {
          if (n != round_trips)
            die("ping-pong: a pong actor saw " + std::to_string(n)
                + " pings, expected " + std::to_string(round_trips));
        },
        [&](error& err) {
          die("ping-pong: count request failed: " + sys.render(err));
        });
    self->send_exit(pong, exit_reason::user_shutdown);
  }
  auto msgs = 2.0 * static_cast<double>(round_trips) * pairs;
  return {"msgs/s", fmt_rate(msgs, secs)};
}

// -- fan-in -------------------------------------------------------------------

struct sink_state {
  int64_t count = 0;
  int64_t sum = 0;
};

behavior sink_actor(stateful_actor<sink_state>* self, int64_t expected,
                    actor done_to) {
  return {
    [=](int64_t x) {
      auto& st = self->state;
      st.sum += x;
      if (++st.count == expected) {
        self->send(done_to, done_atom::value, st.count, st.sum);
        self->quit();
      }
    },
  };
}

void source_actor(event_based_actor* self, actor sink, int64_t n) {
  for (int64_t i = 0; i < n; ++i)
    self->send(sink, i);
  // No behavior: the actor terminates after sending.
}

result_line run_fanin(actor_system& sys, double scale) {
  constexpr int senders = 20;
  const int64_t per_sender = scaled(200000, scale);
  const int64_t expected = per_sender * senders;
  scoped_actor self{sys};
  auto sink = sys.spawn(sink_actor, expected, actor{self});
  auto start = clock_type::now();
  for (int s = 0; s < senders; ++s)
    sys.spawn(source_actor, sink, per_sender);
  receive_one(self, "fan-in completion", [&](done_atom, int64_t n, int64_t sum) {
    const int64_t want = senders * (per_sender * (per_sender - 1) / 2);
    if (n != expected || sum != want)
      die("fanin: receiver counted " + std::to_string(n) + " messages with sum "
          + std::to_string(sum) + ", expected " + std::to_string(expected)
          + " / " + std::to_string(want));
  });
  auto secs = seconds_since(start);
  return {"msgs/s", fmt_rate(static_cast<double>(expected), secs)};
}

// -- skynet -------------------------------------------------------------------

struct skynet_state {
  int64_t sum = 0;
  int pending = 10;
};

behavior skynet_actor(stateful_actor<skynet_state>* self, actor parent,
                      int64_t num, int64_t size) {
  if (size == 1) {
    self->send(parent, num);
    self->quit();
    return {};
  }
  auto child_size = size / 10;
  for (int64_t i = 0; i < 10; ++i)
    self->spawn(skynet_actor, actor{self}, num + i * child_size, child_size);
  return {
    [=](int64_t x) {
      auto& st = self->state;
      st.sum += x;
      if (--st.pending == 0) {
        self->send(parent, st.sum);
        self->quit();
      }
    },
  };
}

result_line run_skynet(actor_system& sys, double scale) {
  // The tree is 10-ary, so the leaf count is rounded to a power of ten.
  auto exponent = std::llround(std::log10(1e6 * scale));
  exponent = std::max<long long>(1, std::min<long long>(exponent, 8));
  int64_t leaves = 1;
  for (long long i = 0; i < exponent; ++i)
    leaves *= 10;
  const int64_t want = leaves * (leaves - 1) / 2;
  scoped_actor self{sys};
  auto start = clock_type::now();
  sys.spawn(skynet_actor, actor{self}, int64_t{0}, leaves);
  int64_t sum = -1;
  receive_one(self, "skynet result", [&](int64_t x) { sum = x; });
  if (sum != want)
    die("skynet: sum " + std::to_string(sum) + ", expected "
        + std::to_string(want));
  auto secs = seconds_since(start);
  return {"s", fmt_seconds(secs)};
}

// -- ring ---------------------------------------------------------------------

struct ring_state {
  actor next;
  int64_t tokens = 0;
};

behavior ring_node(stateful_actor<ring_state>* self, int64_t index,
                   actor done_to) {
  return {
    [=](connect_atom, actor next) {
      self->state.next = std::move(next);
      return count_atom::value; // acknowledgement
    },
    [=](token_atom, int64_t remaining) {
      auto& st = self->state;
      ++st.tokens;
      if (remaining == 0)
        self->send(done_to, done_atom::value, index);
      else
        self->send(st.next, token_atom::value, remaining - 1);
    },
    [=](count_atom) { return self->state.tokens; },
  };
}

result_line run_ring(actor_system& sys, double scale) {
  constexpr int64_t ring_size = 503;
  const int64_t hops = scaled(5000000, scale);
  scoped_actor self{sys};
  std::vector<actor> nodes;
  nodes.reserve(ring_size);
  for (int64_t i = 0; i < ring_size; ++i)
    nodes.push_back(sys.spawn(ring_node, i, actor{self}));
  // Close the ring (synchronously, so it is complete before the timer).
  for (int64_t i = 0; i < ring_size; ++i) {
    self->request(nodes[static_cast<size_t>(i)], infinite, connect_atom::value,
                  nodes[static_cast<size_t>((i + 1) % ring_size)])
      .receive([](count_atom) {},
               [&](error& err) {
                 die("ring: connect failed: " + sys.render(err));
               });
  }
  auto start = clock_type::now();
  // The token is injected at node 0 and then makes `hops` ring hops.
  self->send(nodes[0], token_atom::value, hops);
  int64_t last = -1;
  receive_one(self, "ring completion", [&](done_atom, int64_t index) {
    last = index;
  });
  auto secs = seconds_since(start);
  if (last != hops % ring_size)
    die("ring: token ended at node " + std::to_string(last) + ", expected "
        + std::to_string(hops % ring_size));
  int64_t total = 0;
  for (auto& node : nodes) {
    self->request(node, infinite, count_atom::value)
      .receive([&](int64_t n) { total += n; },
               [&](error& err) {
                 die("ring: count request failed: " + sys.render(err));
               });
  }
  if (total != hops + 1)
    die("ring: nodes handled " + std::to_string(total) + " tokens, expected "
        + std::to_string(hops + 1));
  for (auto& node : nodes)
    self->send_exit(node, exit_reason::user_shutdown);
  return {"msgs/s", fmt_rate(static_cast<double>(hops), secs)};
}

// -- idle footprint -----------------------------------------------------------

std::atomic<int64_t> idle_started{0};

behavior idle_actor(event_based_actor*) {
  idle_started.fetch_add(1, std::memory_order_relaxed);
  return {
    [](int64_t) {
      // never called
    },
  };
}

result_line run_idle_footprint(actor_system& sys, double scale) {
  const int64_t n = scaled(1000000, scale);
  scoped_actor self{sys};
  // Allocate (and touch) the handle storage before the baseline, so that it
  // is not attributed to the actors.
  std::vector<actor> handles(static_cast<size_t>(n));
  auto before = resident_bytes();
  auto start = clock_type::now();
  for (auto& h : handles)
    h = sys.spawn(idle_actor);
  // spawn() returns before the scheduler has run the actor's initialization;
  // wait until every actor has been initialized and is idle.
  auto deadline = clock_type::now() + wait_limit;
  while (idle_started.load(std::memory_order_relaxed) < n) {
    if (clock_type::now() > deadline)
      die("idle-footprint: timeout waiting for actors to start");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto secs = seconds_since(start);
  auto after_bytes = resident_bytes();
  if (idle_started.load() != n)
    die("idle-footprint: started count mismatch");
  std::cerr << "caf-micro: idle-footprint: spawned " << n << " actors in "
            << secs << " s, RSS " << before << " -> " << after_bytes
            << " bytes" << std::endl;
  auto per_actor = static_cast<double>(after_bytes - before)
                   / static_cast<double>(n);
  for (auto& h : handles)
    self->send_exit(h, exit_reason::user_shutdown);
  handles.clear();
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.0f", per_actor);
  return {"bytes", buf};
}

void usage() {
  std::cerr << "usage: caf-micro WORKLOAD [SCALE]\n"
               "workloads: pingpong-1 pingpong-4 fanin skynet ring "
               "idle-footprint\n";
}

} // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    usage();
    return 2;
  }
  const std::string workload = argv[1];
  double scale = 1.0;
  if (argc == 3) {
    char* end = nullptr;
    scale = std::strtod(argv[2], &end);
    if (end == argv[2] || *end != '\0' || !(scale > 0) || !std::isfinite(scale)) {
      std::cerr << "caf-micro: invalid SCALE '" << argv[2] << "'\n";
      return 2;
    }
  }
  static const char* known[] = {"pingpong-1", "pingpong-4", "fanin",
                                "skynet",     "ring",       "idle-footprint"};
  if (std::find(std::begin(known), std::end(known), workload)
      == std::end(known)) {
    std::cerr << "caf-micro: unknown workload '" << workload << "'\n";
    usage();
    return 2;
  }
  result_line res;
  {
    actor_system_config cfg;
    // CAF 0.17 defaults to max(hardware_concurrency, 4) workers; use exactly
    // the hardware concurrency, like troupe does.
    auto hw = std::max(1u, std::thread::hardware_concurrency());
    cfg.set("scheduler.max-threads", static_cast<size_t>(hw));
    actor_system sys{cfg};
    if (workload == "pingpong-1")
      res = run_pingpong(sys, 1, scaled(1000000, scale));
    else if (workload == "pingpong-4")
      res = run_pingpong(sys, 4, scaled(500000, scale));
    else if (workload == "fanin")
      res = run_fanin(sys, scale);
    else if (workload == "skynet")
      res = run_skynet(sys, scale);
    else if (workload == "ring")
      res = run_ring(sys, scale);
    else
      res = run_idle_footprint(sys, scale);
    // ~actor_system waits for all actors to terminate.
  }
  std::cout << "workload=" << workload << " unit=" << res.unit
            << " value=" << res.value << std::endl;
  return 0;
}
