#include "hog.hpp"

#include <cmath>
#include <cstdio>
#include <string>

namespace contrast {

HogPlan::HogPlan(const Params& p)
    : tasks(p.hog_tasks),
      hogs(p.hogs != 0 ? p.hogs : std::max(1u, p.workers)),
      ticks_per_task(std::max<std::uint64_t>(1, p.hog_period.count() > 0 ? p.hog_duration / p.hog_period : 1)),
      period(p.hog_period),
      burst(p.hog_burst),
      bursts(p.hog_bursts) {}

HogClock::duration HogPlan::burst_start(unsigned i) const {
  const HogClock::duration run = period * static_cast<std::int64_t>(ticks_per_task);
  const HogClock::duration centre = run * (2 * std::int64_t{i} + 1) / (2 * std::int64_t{std::max(1u, bursts)});
  return std::max(HogClock::duration::zero(), centre - burst / 2);
}

namespace {

double percentile_ms(const LatenessSamples& sorted, double q) {
  if (sorted.empty()) return 0;
  // Nearest rank: the smallest sample with at least q of them at or below it.
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return static_cast<double>(sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1]) / 1e6;
}

}  // namespace

Outcome check_hog(const Params& p, LatenessSamples& samples) {
  const HogPlan plan(p);
  std::sort(samples.begin(), samples.end());
  Lateness l;
  l.ticks = samples.size();
  l.expected = plan.expected_ticks();
  l.p50_ms = percentile_ms(samples, 0.50);
  l.p99_ms = percentile_ms(samples, 0.99);
  l.max_ms = samples.empty() ? 0 : static_cast<double>(samples.back()) / 1e6;
  char text[160];
  std::snprintf(text, sizeof text, "%llu of %llu ticks, late p50 %.3f ms, p99 %.3f ms, max %.3f ms",
                static_cast<unsigned long long>(l.ticks), static_cast<unsigned long long>(l.expected), l.p50_ms,
                l.p99_ms, l.max_ms);
  Outcome o;
  o.correct = l.ticks == l.expected;
  o.detail = text;
  o.lateness = l;
  return o;
}

}  // namespace contrast
