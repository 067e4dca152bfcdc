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
//
// The workloads are in caf_messaging.cpp and caf_spawning.cpp, the helpers
// they share in caf_micro.hpp.

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include "caf_micro.hpp"

using namespace caf_micro;

namespace {

void usage() {
  std::cerr << "usage: caf-micro WORKLOAD [SCALE]\n"
               "workloads: pingpong-1 pingpong-4 fanin skynet ring "
               "idle-footprint fanout\n";
}

}  // namespace

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
  static const char* known[] = {"pingpong-1", "pingpong-4", "fanin", "skynet", "ring", "idle-footprint", "fanout"};
  if (std::find(std::begin(known), std::end(known), workload) == std::end(known)) {
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
    else if (workload == "fanout")
      res = run_fanout(sys, scale);
    else
      res = run_idle_footprint(sys, scale);
    // ~actor_system waits for all actors to terminate.
  }
  std::cout << "workload=" << workload << " unit=" << res.unit << " value=" << res.value << std::endl;
  return 0;
}
