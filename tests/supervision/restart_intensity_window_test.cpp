// Restart intensity over time (README, "Failure handling": at most max_restarts restarts within
// `period`): the window slides, so a restart older than `period` is forgotten, one restart at a
// time. In deterministic mode, the crashes happen at exact points of the virtual clock.
#include <troupe/testing.hpp>

#include "supervision/supervisor_fixture.hpp"

namespace {

using TimePoint = troupe::runtime::TimerService::Clock::time_point;

// A deterministic system that does not log the crashes the tests cause.
troupe::Config quiet_deterministic(std::uint64_t seed) {
  troupe::Config config = troupe::testing::deterministic(seed);
  config.on_actor_exit = [](const troupe::ExitInfo&) {};
  return config;
}

// Moves the virtual clock to `start + at` (the actors run meanwhile).
void advance_to(troupe::System& system, TimePoint start, troupe::Duration at) {
  const auto target = start + at;
  REQUIRE(system.now() <= target);
  system.advance_time(target - system.now());
  REQUIRE(system.now() == target);
}

}  // namespace

TEST_SUITE("supervisors") {
  TEST_CASE("restart intensity: a restart older than the period is forgotten, and only that one") {
    for (std::uint64_t seed : {0u, 1u, 2u, 3u, 4u}) {
      CAPTURE(seed);
      troupe::System system(quiet_deterministic(seed));
      troupe::ScopedActor me(system);
      auto log = std::make_shared<Log>();
      auto sup = system.spawn_supervisor(reporting({.max_restarts = 2, .period = 10s}, me), {worker(log, "w")});
      me.monitor(sup);
      REQUIRE(children_of(me, sup).size() == 1);
      const TimePoint start = system.now();

      // Two restarts, at 0 s and 4 s: as many as the intensity allows within 10 s.
      crash(me, sup, "w");
      CHECK(expect_restart(me).restarts == 1);
      advance_to(system, start, 4s);
      crash(me, sup, "w");
      CHECK(expect_restart(me).restarts == 2);

      // At 11 s the restart at 0 s is more than a period old: forgotten, so a third is allowed.
      // (Were it still counted, this would be three within 10 s, and the supervisor would give up.)
      advance_to(system, start, 11s);
      crash(me, sup, "w");
      CHECK(expect_restart(me).restarts == 3);
      CHECK(info_of(me, sup, "w").alive);

      // At 13 s the restarts at 4 s and 11 s are still within the period: this one is too many.
      // (A window that restarted from nothing every period, instead of sliding, would allow it.)
      advance_to(system, start, 13s);
      crash(me, sup, "w");
      auto down = me.receive<troupe::Down>(10s);
      REQUIRE(down.ok());
      CHECK(down->actor == sup);
      CHECK(down->reason.message == "reached max restart intensity");
      CHECK(system.now() == start + 13s);
      CHECK(me.queued() == 0);  // no restart was reported for the last crash
    }
  }

  TEST_CASE("restart intensity: after a quiet period as long as the window, the full intensity is back") {
    troupe::System system(quiet_deterministic(7));
    troupe::ScopedActor me(system);
    auto log = std::make_shared<Log>();
    auto sup = system.spawn_supervisor(reporting({.max_restarts = 3, .period = 1min}, me), {worker(log, "w")});
    me.monitor(sup);
    REQUIRE(children_of(me, sup).size() == 1);
    const TimePoint start = system.now();
    // Three bursts of three crashes, each burst 61 s after the one before: every burst uses the
    // whole intensity, which only works if the previous burst has been forgotten.
    std::size_t restarts = 0;
    for (int burst = 0; burst < 3; ++burst) {
      advance_to(system, start, std::chrono::seconds(61 * burst));
      for (int i = 0; i < 3; ++i) {
        crash(me, sup, "w");
        CHECK(expect_restart(me).restarts == ++restarts);
      }
    }
    // A fourth crash in the last burst's minute is one too many.
    crash(me, sup, "w");
    auto down = me.receive<troupe::Down>(10s);
    REQUIRE(down.ok());
    CHECK(down->actor == sup);
    CHECK(down->reason.message == "reached max restart intensity");
  }
}
