// Deterministic tests: run a test body under many seeds of a deterministic System (see
// DeterministicMode in system.hpp), stop at the first seed that fails, and say how to replay it.
//
//   auto result = troupe::testing::explore(200, [](std::uint64_t seed) {
//     troupe::System system(troupe::testing::deterministic(seed));
//     ...
//     troupe::testing::check(order_is_right, "replies in request order");
//   });
//   CHECK_MESSAGE(result, result.failure);
//
// With TROUPE_SEED=N in the environment, explore() runs seed N alone: the failing run, replayed.
#pragma once

#include <troupe/system.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace troupe::testing {

// What check() throws.
class CheckFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws CheckFailed(what) unless `condition`: fails the seed under explore().
void check(bool condition, std::string_view what);

struct Exploration {
  std::uint64_t runs = 0;                    // seeds run
  std::optional<std::uint64_t> failed_seed;  // the first seed that failed
  std::string failure;                       // what failed, and how to replay it; empty if none did
  explicit operator bool() const noexcept { return !failed_seed; }
};

// The seed named by the environment variable TROUPE_SEED, if it is set to a number.
std::optional<std::uint64_t> seed_from_environment();

// Runs run(seed) for the seeds first, first + 1, ..., first + count - 1, or, when TROUPE_SEED is
// set, for that seed alone. A run fails by throwing (check() throws CheckFailed). The first
// failure ends the exploration; it is printed to stderr, like the returned `failure`, as
// "troupe: <what>: failed with seed N; replay with TROUPE_SEED=N".
Exploration explore(std::uint64_t count, const std::function<void(std::uint64_t seed)>& run,
                    std::uint64_t first = 0);

// A Config for a deterministic system: `seed`, and `budget` messages per turn.
Config deterministic(std::uint64_t seed, std::uint16_t budget = 1);

}  // namespace troupe::testing
