// The hog workload: every model that implements it sees every tick of every task and reports
// lateness figures that are in order (no assertion on their size: timing on a shared machine is
// noisy); the percentiles are nearest-rank; a missing tick is a wrong result; the schedule puts
// each burst inside the run.
#include <doctest/doctest.h>

#include <set>
#include <string>

#include "hog.hpp"
#include "models.hpp"

using namespace contrast;

namespace {

Params small_hog() {
  Params p;
  p.workers = 2;
  p.hog_tasks = 10;
  p.hog_period = std::chrono::milliseconds(2);
  p.hog_duration = std::chrono::milliseconds(120);
  p.hog_burst = std::chrono::milliseconds(20);
  p.hog_bursts = 2;
  p.switch_interval = std::chrono::milliseconds(1);
  return p;
}

}  // namespace

TEST_CASE("the hog runs under every model that implements it, every tick seen, lateness in order") {
  const Params p = small_hog();
  const HogPlan plan(p);
  std::set<std::string> ran;
  for (const Model& model : all_models()) {
    CAPTURE(std::string(model.name));
    const std::optional<Outcome> outcome = model.run(Workload::hog, p);
    REQUIRE(outcome.has_value() == implements(model, Workload::hog));
    if (!outcome) continue;
    ran.insert(std::string(model.name));
    CAPTURE(outcome->detail);
    CHECK(outcome->correct);
    REQUIRE(outcome->lateness.has_value());
    const Lateness& l = *outcome->lateness;
    CHECK(l.expected == plan.expected_ticks());
    CHECK(l.ticks == l.expected);
    CHECK(l.p50_ms >= 0);
    CHECK(l.p99_ms >= l.p50_ms);
    CHECK(l.max_ms >= l.p99_ms);
  }
  CHECK(ran == std::set<std::string>{"sequential", "threads-mutex", "gil", "event-loop", "actors", "actors-unguarded"});
}

TEST_CASE("only the hog workload runs under actors-unguarded, and the others report no lateness") {
  const Model* unguarded = find_model("actors-unguarded");
  REQUIRE(unguarded != nullptr);
  for (Workload w : {Workload::cpu, Workload::counter, Workload::bank, Workload::io}) {
    CHECK_FALSE(implements(*unguarded, w));
    CHECK_FALSE(unguarded->run(w, small_hog()).has_value());
  }
  CHECK_FALSE(implements(*find_model("threads-atomic"), Workload::hog));
  Params p = small_hog();
  p.cpu_first = 1000;
  CHECK_FALSE(run_sequential(Workload::cpu, p)->lateness.has_value());
}

TEST_CASE("the lateness percentiles are nearest-rank over every sample") {
  Params p = small_hog();
  p.hog_tasks = 1;
  p.hog_duration = p.hog_period * 10;  // 10 ticks: one sample each
  LatenessSamples samples;
  for (std::int64_t ms = 10; ms >= 1; --ms) samples.push_back(ms * 1'000'000);  // 1 .. 10 ms, unsorted
  const Outcome o = check_hog(p, samples);
  CHECK(o.correct);
  REQUIRE(o.lateness.has_value());
  CHECK(o.lateness->p50_ms == doctest::Approx(5));   // the 5th of 10
  CHECK(o.lateness->p99_ms == doctest::Approx(10));  // rank ceil(9.9) = 10: the largest
  CHECK(o.lateness->max_ms == doctest::Approx(10));

  samples.pop_back();  // a tick that was never handled
  CHECK_FALSE(check_hog(p, samples).correct);
}

TEST_CASE("the hog's schedule: ticks every period, bursts inside the run, one hog per worker by default") {
  Params p = small_hog();
  const HogPlan plan(p);
  CHECK(plan.ticks_per_task == 60);
  CHECK(plan.tick_due(0) == std::chrono::milliseconds(2));
  CHECK(plan.tick_due(59) == std::chrono::milliseconds(120));
  CHECK(plan.hogs == 2);
  CHECK(plan.burst_start(0) == std::chrono::milliseconds(20));  // centred in the first half
  CHECK(plan.burst_start(1) == std::chrono::milliseconds(80));
  CHECK(plan.burst_start(1) + plan.burst <= plan.tick_due(plan.ticks_per_task - 1));
  p.hogs = 1;
  CHECK(HogPlan(p).hogs == 1);
  CHECK(lateness_ns(HogClock::time_point{} + std::chrono::seconds(1), HogClock::time_point{}) == 0);
}
