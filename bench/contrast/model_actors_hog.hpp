#pragma once

#include "workloads.hpp"

namespace contrast {

// The hog workload as actors (model_actors_hog.cpp): with the runtime's stuck-turn safety net
// (Config::stuck_turn at its default) or without it (stuck_turn = 0).
Outcome run_actors_hog(const Params& p, bool safety_net);

}  // namespace contrast
