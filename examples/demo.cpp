// demo: the showcase (`./run demo`). Two measurements that show what an actor runtime is for:
//   1. a CPU-bound map spread over every core by actors, with its speedup over one thread;
//   2. ping-pong between two actors, the raw cost of a message.
//
//   usage: demo [N] [messages]      (defaults: N = 20,000,000, messages = 2,000,000)
//
// It is parallel_map and ping_pong in one program; see those two examples for the long comments.
#include <troupe/troupe.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using u128 = unsigned __int128;
using Clock = std::chrono::steady_clock;

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

// --- 1. The parallel map: sum of i*i for i < n, one actor per n --------------------------------
constexpr std::size_t kValues = 20;

[[gnu::noinline]] u128 sum_of_squares(std::uint64_t n) {  // exact for n <= 2^32
  u128 sum = 0;
  for (std::uint64_t i = 0; i < n; ++i) sum += i * i;
  return sum;
}

struct MapJob {
  std::vector<std::uint64_t> inputs;
  troupe::DynamicHandle reply_to;
};
struct Compute {
  std::size_t index;
  std::uint64_t n;
  troupe::DynamicHandle reply_to;
};
struct Partial {
  std::size_t index;
  u128 sum;
};
struct MapDone {
  std::vector<u128> sums;
};

// One job, one actor: compute, answer, stop.
auto square_summer(troupe::Context& self) {
  return troupe::behavior([&self](const Compute& job) {
    job.reply_to.send(Partial{job.index, sum_of_squares(job.n)});
    self.quit();
  });
}

// Fans a job out to one worker actor per input and gathers the results, in whatever order they
// finish; its state is its own, so no lock.
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

static bool run_parallel_map(troupe::System& system, std::uint64_t first) {
  std::vector<std::uint64_t> inputs(kValues);
  for (std::size_t i = 0; i < kValues; ++i) inputs[i] = first + i;
  const unsigned workers = system.worker_count();
  std::printf("[1/2] Parallel CPU-bound map: sum of i*i for i < n, for %zu values of n from %s.\n", kValues,
              with_commas(first).c_str());
  std::printf("      One actor per value, gathered by a coordinator actor, against the same loop on one thread\n");
  std::printf("      (each timed 3 times, the fastest kept).\n");

  // Each side runs 3 times and keeps its fastest round (the machine may be busy with other work).
  troupe::ScopedActor me(system);
  auto coordinator = system.spawn<Coordinator>();
  std::vector<u128> sequential(kValues);
  double parallel_s = 1e300;
  double sequential_s = 1e300;
  bool ok = true;
  for (int round = 0; round < 3; ++round) {
    const auto parallel_start = Clock::now();
    coordinator.send(MapJob{inputs, me.handle()});
    troupe::Result<MapDone> done = me.receive<MapDone>(std::chrono::hours(1));
    parallel_s = std::min(parallel_s, seconds_since(parallel_start));

    const auto sequential_start = Clock::now();
    for (std::size_t i = 0; i < kValues; ++i) sequential[i] = sum_of_squares(inputs[i]);
    sequential_s = std::min(sequential_s, seconds_since(sequential_start));
    ok = ok && done && done->sums == sequential;
  }

  const double ideal = static_cast<double>(kValues) / static_cast<double>((kValues + workers - 1) / workers);
  std::printf("      sequential, 1 thread   %7.3f s\n", sequential_s);
  std::printf("      troupe, %zu actors      %7.3f s   speedup %.2fx on %u workers (ideal %.1fx)\n", kValues,
              parallel_s, sequential_s / parallel_s, workers, ideal);
  std::printf("      e.g. n = %s: %s\n", with_commas(first).c_str(), with_commas(sequential[0]).c_str());
  std::printf("      %s\n\n", ok ? "all 20 results match the sequential ones" : "FAILED: the results differ");
  return ok;
}

// --- 2. Ping-pong: two actors bounce a counter ----------------------------------------------
struct Ball {
  std::uint64_t hits;
};
struct GameOver {
  std::uint64_t hits;
};

class Player {
 public:
  Player(troupe::Context& self, troupe::DynamicHandle partner, troupe::DynamicHandle referee, std::uint64_t limit);
  auto behavior() {
    return troupe::behavior([this](Ball ball) {
      if (ball.hits < limit_) {
        partner_.send(Ball{ball.hits + 1});
      } else {
        referee_.send(GameOver{ball.hits});
      }
    });
  }

 private:
  troupe::DynamicHandle partner_;
  troupe::DynamicHandle referee_;
  std::uint64_t limit_;
};

// The first player spawns its partner, which plays back to it. (Out of the class: spawn<Player>
// needs behavior()'s deduced return type.)
Player::Player(troupe::Context& self, troupe::DynamicHandle partner, troupe::DynamicHandle referee, std::uint64_t limit)
    : partner_(std::move(partner)), referee_(std::move(referee)), limit_(limit) {
  if (!partner_) partner_ = self.spawn<Player>(self.self(), referee_, limit_);
}

static bool run_ping_pong(troupe::System& system, std::uint64_t messages) {
  std::printf("[2/2] Ping-pong: two actors bounce a counter %s times, one message per bounce.\n",
              with_commas(messages).c_str());
  troupe::ScopedActor me(system);
  auto ping = system.spawn<Player>(troupe::DynamicHandle{}, me.handle(), messages);
  const auto start = Clock::now();
  ping.send(Ball{0});
  troupe::Result<GameOver> over = me.receive<GameOver>(std::chrono::minutes(10));
  const double seconds = seconds_since(start);

  const bool ok = over && over->hits == messages;
  std::printf("      %s messages in %.3f s = %.2f M msgs/s (%.0f ns per message)\n", with_commas(messages).c_str(),
              seconds, static_cast<double>(messages) / seconds / 1e6, seconds * 1e9 / static_cast<double>(messages));
  std::printf("      %s\n\n", ok ? "the counter arrived exact" : "FAILED: the counter is wrong");
  return ok;
}

int main(int argc, char** argv) {
  const std::uint64_t first = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 20'000'000;
  const std::uint64_t messages = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 2'000'000;
  if (first == 0 || first > (std::uint64_t{1} << 32) - kValues || messages == 0) {
    std::fprintf(stderr, "usage: %s [N (0 < N <= 2^32 - 20)] [messages > 0]\n", argv[0]);
    return 2;
  }

  troupe::System system;  // one worker thread per hardware thread
  std::printf("troupe demo\n===========\n");
  std::printf("Actors: each one's state is its own, they share no memory and talk only by messages,\n");
  std::printf("and a pool of %u worker threads (one per hardware thread) runs them on every core.\n",
              system.worker_count());
  std::printf("So no data races, by construction, and real parallelism: no global lock, no single event loop.\n\n");

  const bool map_ok = run_parallel_map(system, first);
  const bool ping_ok = run_ping_pong(system, messages);
  std::printf("%s\n", map_ok && ping_ok ? "OK" : "FAILED");
  return map_ok && ping_ok ? 0 : 1;
}
