// A troupe program that serves its metrics and runs a steady, known workload until SIGINT or
// SIGTERM, for the tests that scrape a real process (promtool, Prometheus, the dashboard in a
// browser):
//
//   metrics_workload [--metrics HOST:PORT] [--workers N] [--burst M] [--period-ms P] [--work W]
//                    [--wave-ticks T]
//
// N actors of type Worker (default 8) live throughout; every P ms (default 20) a Driver sends each
// of them M messages (default 10), each of which costs W loop iterations (default 0). With T, the
// burst rises and falls, from none to M and back, every T ticks (a load that changes, to look
// at). It prints "metrics_workload: serving http://HOST:PORT" once it listens, and exits 0 when
// told to stop.
#include <troupe/troupe.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace workload {

struct Work {
  int n;
  int cost;  // loop iterations
};
struct Tick {};

class Worker {
 public:
  auto behavior() {
    return troupe::behavior([this](Work w) {
      for (int i = 0; i < w.cost; ++i) sum_ = sum_ + static_cast<unsigned>(i);
      sum_ = sum_ + static_cast<unsigned>(w.n);
    });
  }

 private:
  volatile unsigned sum_ = 0;
};

struct Load {
  int burst;
  int work;
  int wave_ticks;  // 0: the same burst every tick
};

class Driver {
 public:
  Driver(std::vector<troupe::Handle<void(Work)>> workers, Load load) : workers_(std::move(workers)), load_(load) {}
  auto behavior() {
    return troupe::behavior([this](Tick) {
      int burst = load_.burst;
      if (load_.wave_ticks > 0) {  // a triangle: 0 up to burst and down again
        const int phase = static_cast<int>(ticks_++ % static_cast<unsigned>(load_.wave_ticks));
        const int half = load_.wave_ticks / 2 > 0 ? load_.wave_ticks / 2 : 1;
        burst = load_.burst * (phase < half ? phase : load_.wave_ticks - phase) / half;
      }
      for (const auto& worker : workers_) {
        for (int i = 0; i < burst; ++i) worker.send(Work{i, load_.work});
      }
    });
  }

 private:
  std::vector<troupe::Handle<void(Work)>> workers_;
  Load load_;
  unsigned ticks_ = 0;
};

}  // namespace workload

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: metrics_workload [--metrics HOST:PORT] [--workers N] [--burst M] [--period-ms P] [--work W] "
               "[--wave-ticks T]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string address = "127.0.0.1:0";
  int workers = 8;
  int burst = 10;
  int period_ms = 20;
  int work = 0;
  int wave_ticks = 0;
  for (int i = 1; i < argc; ++i) {
    if (i + 1 == argc) return usage();
    const char* value = argv[++i];
    if (std::strcmp(argv[i - 1], "--metrics") == 0) {
      address = value;
    } else if (std::strcmp(argv[i - 1], "--workers") == 0) {
      workers = std::atoi(value);
    } else if (std::strcmp(argv[i - 1], "--burst") == 0) {
      burst = std::atoi(value);
    } else if (std::strcmp(argv[i - 1], "--period-ms") == 0) {
      period_ms = std::atoi(value);
    } else if (std::strcmp(argv[i - 1], "--work") == 0) {
      work = std::atoi(value);
    } else if (std::strcmp(argv[i - 1], "--wave-ticks") == 0) {
      wave_ticks = std::atoi(value);
    } else {
      return usage();
    }
  }
  if (workers < 1 || burst < 1 || period_ms < 1 || work < 0 || wave_ticks < 0) return usage();

  // SIGINT and SIGTERM are taken by sigwait, never by a handler: blocked before any thread starts,
  // so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  troupe::Config config;
  config.workers = 2;
  config.metrics_address = address;
  std::unique_ptr<troupe::System> started;
  try {
    started = std::make_unique<troupe::System>(config);
  } catch (const std::exception& e) {  // the address is taken or malformed
    std::fprintf(stderr, "metrics_workload: %s\n", e.what());
    return 1;
  }
  troupe::System& system = *started;
  std::vector<troupe::Handle<void(workload::Work)>> pool;
  for (int i = 0; i < workers; ++i) pool.push_back(system.spawn<workload::Worker>());
  auto driver = system.spawn<workload::Driver>(pool, workload::Load{burst, work, wave_ticks});
  troupe::Timer ticks = system.send_every(driver, std::chrono::milliseconds(period_ms), workload::Tick{});
  std::printf("metrics_workload: serving http://%s\n", system.metrics_address().c_str());
  std::fflush(stdout);

  int signal = 0;
  sigwait(&stop_signals, &signal);
  ticks.cancel();
  return 0;
}
