#include "models.hpp"

#include <array>

namespace contrast {

namespace {
constexpr std::array kModels{
    Model{"sequential", "one thread, the reference", run_sequential},
    Model{"threads-mutex", "shared state behind std::mutex", run_threads_mutex},
    Model{"threads-atomic", "lock-free shared state with atomics", run_threads_atomic},
    Model{"gil", "threads under a model of CPython's global interpreter lock", run_gil},
    Model{"event-loop", "one thread, one kj event loop, cooperative coroutines: like asyncio", run_event_loop},
    Model{"actors", "troupe actors: no shared state, only messages", run_actors},
    Model{"actors-unguarded", "troupe actors with the stuck-turn safety net off (hog only)", run_actors_unguarded},
    Model{"nodes", "troupe actors over two node processes (cpu only): like multiprocessing", run_nodes},
    Model{"race", "plain threads, no synchronisation (counter only): loses updates", run_race},
};
}  // namespace

std::span<const Model> all_models() { return kModels; }

bool implements(const Model& model, Workload w) {
  if (model.run == run_race) return w == Workload::counter;
  if (model.run == run_nodes) return w == Workload::cpu;
  if (model.run == run_actors_unguarded) return w == Workload::hog;
  if (model.run == run_threads_atomic) return w != Workload::hog;
  return true;
}

const Model* find_model(std::string_view name) {
  for (const Model& m : kModels) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

}  // namespace contrast
