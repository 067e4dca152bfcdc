// The messages of the `nodes` model, shared by the tool's node and the second node process
// (contrast_node.cpp): declared once for the wire.
#pragma once

#include <troupe/transport/wire_type.hpp>

#include <cstdint>

namespace contrast::nodes {

struct SumJob {  // a request: the sum of i*i for i < n
  std::uint64_t n = 0;
};
TROUPE_WIRE_MESSAGE(SumJob, n);

struct SumResult {  // the reply: the 128-bit sum in two halves
  std::uint64_t low = 0;
  std::uint64_t high = 0;
};
TROUPE_WIRE_MESSAGE(SumResult, low, high);

struct SummerArgs {  // remote spawn's arguments: none
};
TROUPE_WIRE_EMPTY_MESSAGE(SummerArgs);

inline constexpr const char* kSummerType = "square-summer";

}  // namespace contrast::nodes
