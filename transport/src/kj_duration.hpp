// A kj duration from a troupe one (NodeConfig's durations, for kj's timer).
#pragma once

#include <troupe/transport/node.hpp>

#include <kj/time.h>

#include <chrono>

namespace troupe::transport::detail {

inline kj::Duration to_kj(Duration d) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count() * kj::NANOSECONDS;
}

}  // namespace troupe::transport::detail
