#pragma once

#include "workloads.hpp"

namespace contrast {

// The io workload as actors: io_concurrency client actors, each with a connection through a
// TcpFacility, none of them blocking a worker while it waits for an answer (model_actors_io.cpp).
Outcome run_actors_io(const Params& p);

}  // namespace contrast
