// TurnSampler: which turns an executor thread samples for the metrics. About one in
// ActorCore::kSampledTurnPeriod, at gaps that vary, so that no rhythm of the workload lines up
// with them (metrics_test.cpp has the ping-pong this is for).
#include <troupe/runtime/turn_sampler.hpp>

#include <doctest/doctest.h>

#include <cstdint>
#include <set>
#include <vector>

namespace {

using troupe::runtime::ActorCore;
using troupe::runtime::detail::TurnSampler;

// The gaps between the first `n` sampled turns (the first gap counted from the start).
std::vector<std::uint64_t> gaps(TurnSampler& sampler, int n) {
  std::vector<std::uint64_t> out;
  std::uint64_t since = 0;
  while (static_cast<int>(out.size()) < n) {
    ++since;
    if (sampler.next()) {
      out.push_back(since);
      since = 0;
    }
  }
  return out;
}

}  // namespace

TEST_CASE("turn sampler: gaps between 3/4 and 5/4 of the period, averaging the period") {
  TurnSampler sampler(12345);
  const auto g = gaps(sampler, 20'000);
  constexpr std::uint64_t kPeriod = ActorCore::kSampledTurnPeriod;
  CHECK(g.front() == kPeriod);  // the first after a whole period
  std::uint64_t sum = 0;
  std::set<std::uint64_t> distinct;
  bool odd = false;
  bool even = false;
  for (const std::uint64_t gap : g) {
    REQUIRE(gap >= kPeriod - kPeriod / 4);
    REQUIRE(gap <= kPeriod + kPeriod / 4);
    sum += gap;
    distinct.insert(gap);
    (gap % 2 == 0 ? even : odd) = true;
  }
  const double mean = static_cast<double>(sum) / static_cast<double>(g.size());
  CHECK(mean > 0.98 * kPeriod);
  CHECK(mean < 1.02 * kPeriod);
  // Both parities, and many lengths: a workload that cycles through two (or any small number of)
  // actors is not seen through one of them only.
  CHECK(odd);
  CHECK(even);
  CHECK(distinct.size() > 400);
}

TEST_CASE("turn sampler: the same seed samples the same turns (the deterministic scheduler's replays)") {
  TurnSampler a(7);
  TurnSampler b(7);
  TurnSampler c(8);
  const auto ga = gaps(a, 50);
  CHECK(ga == gaps(b, 50));
  CHECK(ga != gaps(c, 50));
}
