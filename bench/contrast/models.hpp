// The contrast's models: the same workloads run in different ways. Each model is one function that
// runs one workload with the given parameters and checks its result; it returns nullopt for a
// workload it does not implement (race implements counter only).
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "workloads.hpp"

namespace contrast {

using ModelFn = std::optional<Outcome> (*)(Workload, const Params&);

struct Model {
  std::string_view name;
  std::string_view summary;  // one line, for --help and reports
  ModelFn run;
};

std::optional<Outcome> run_sequential(Workload w, const Params& p);      // model_sequential.cpp
std::optional<Outcome> run_threads_mutex(Workload w, const Params& p);   // model_threads_mutex.cpp
std::optional<Outcome> run_threads_atomic(Workload w, const Params& p);  // model_threads_atomic.cpp
std::optional<Outcome> run_gil(Workload w, const Params& p);             // model_gil.cpp
std::optional<Outcome> run_actors(Workload w, const Params& p);          // model_actors.cpp
std::optional<Outcome> run_race(Workload w, const Params& p);            // model_race.cpp
std::optional<Outcome> run_nodes(Workload w, const Params& p);           // model_nodes.cpp
std::optional<Outcome> run_event_loop(Workload w, const Params& p);      // model_event_loop.cpp
// hog only: actors with Config::stuck_turn = 0, the safety net off (model_actors_hog.cpp).
std::optional<Outcome> run_actors_unguarded(Workload w, const Params& p);

// Whether `model` runs workload `w` (race: counter only; nodes: cpu only; actors-unguarded: hog
// only; threads-atomic: all but hog; the rest: all).
bool implements(const Model& model, Workload w);

// Every model, sequential (the reference) first.
std::span<const Model> all_models();
const Model* find_model(std::string_view name);

}  // namespace contrast
