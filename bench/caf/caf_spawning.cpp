// caf-micro's spawning workloads: skynet and the idle footprint (CAF 0.17).
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "caf_micro.hpp"

namespace caf_micro {

// -- skynet -------------------------------------------------------------------

namespace {

struct skynet_state {
  int64_t sum = 0;
  int pending = 10;
};

behavior skynet_actor(stateful_actor<skynet_state>* self, actor parent, int64_t num, int64_t size) {
  if (size == 1) {
    self->send(parent, num);
    self->quit();
    return {};
  }
  auto child_size = size / 10;
  for (int64_t i = 0; i < 10; ++i) self->spawn(skynet_actor, actor{self}, num + i * child_size, child_size);
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

}  // namespace

result_line run_skynet(actor_system& sys, double scale) {
  // The tree is 10-ary: the leaf count is the largest power of ten not above the scaled 10^6
  // (at least 10), as in troupe_micro.cpp.
  int64_t leaves = 1;
  while (leaves * 10 <= scaled(1000000, scale)) leaves *= 10;
  leaves = std::max<int64_t>(leaves, 10);
  const int64_t want = leaves * (leaves - 1) / 2;
  scoped_actor self{sys};
  auto start = clock_type::now();
  sys.spawn(skynet_actor, actor{self}, int64_t{0}, leaves);
  int64_t sum = -1;
  receive_one(self, "skynet result", [&](int64_t x) { sum = x; });
  if (sum != want) die("skynet: sum " + std::to_string(sum) + ", expected " + std::to_string(want));
  auto secs = seconds_since(start);
  return {"s", fmt_seconds(secs)};
}

// -- idle footprint -----------------------------------------------------------

namespace {

std::atomic<int64_t> idle_started{0};

behavior idle_actor(event_based_actor*) {
  idle_started.fetch_add(1, std::memory_order_relaxed);
  return {
      [](int64_t) {
        // never called
      },
  };
}

}  // namespace

result_line run_idle_footprint(actor_system& sys, double scale) {
  const int64_t n = scaled(1000000, scale);
  scoped_actor self{sys};
  // Allocate (and touch) the handle storage before the baseline, so that it
  // is not attributed to the actors.
  std::vector<actor> handles(static_cast<size_t>(n));
  auto before = resident_bytes();
  auto start = clock_type::now();
  for (auto& h : handles) h = sys.spawn(idle_actor);
  // spawn() returns before the scheduler has run the actor's initialization;
  // wait until every actor has been initialized and is idle.
  auto deadline = clock_type::now() + wait_limit;
  while (idle_started.load(std::memory_order_relaxed) < n) {
    if (clock_type::now() > deadline) die("idle-footprint: timeout waiting for actors to start");
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto secs = seconds_since(start);
  auto after_bytes = resident_bytes();
  if (idle_started.load() != n) die("idle-footprint: started count mismatch");
  std::cerr << "caf-micro: idle-footprint: spawned " << n << " actors in " << secs << " s, RSS " << before << " -> "
            << after_bytes << " bytes" << std::endl;
  auto per_actor = static_cast<double>(after_bytes - before) / static_cast<double>(n);
  for (auto& h : handles) self->send_exit(h, exit_reason::user_shutdown);
  handles.clear();
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.0f", per_actor);
  return {"bytes", buf};
}

}  // namespace caf_micro
