// System::shutdown() with a supervision tree (README, "Failure handling" and "Shutdown"): every
// actor stops at once with reason shutdown, trapping children and their shutdown timers
// notwithstanding, and no supervisor restarts anything meanwhile. (Stopping a supervisor in
// order is stop_supervisor's: supervisor_shutdown_test.cpp.)
#include <troupe/testing.hpp>

#include "supervision/supervisor_fixture.hpp"

using troupe::testing::check;

TEST_SUITE("supervisors") {
  TEST_CASE("shutdown() with a supervision tree: every actor stops at once with reason shutdown, none restarts") {
    // Deterministic, so no timer can fire during the shutdown unless it waits for one (it runs
    // the actors only): trapping children with an hour to stop, and a nested supervisor that
    // waits for its children as long as it takes, stop all the same.
    const auto result = troupe::testing::explore(50, [](std::uint64_t seed) {
      std::vector<troupe_test::ExitRecord> exits;
      std::vector<std::string> restarts;
      troupe::Config config = troupe::testing::deterministic(seed);
      config.on_actor_exit = [&exits](const troupe::ExitInfo& info) {
        exits.push_back({std::string(info.actor), info.reason});
      };
      troupe::System system(config);
      auto log = std::make_shared<Log>();
      troupe::SupervisorSpec root_spec{.strategy = troupe::Strategy::one_for_one, .max_restarts = 100};
      root_spec.on_restart = [&restarts](const troupe::RestartEvent& e) { restarts.push_back(std::string(e.child)); };
      troupe::SupervisorSpec inner_spec{.strategy = troupe::Strategy::one_for_all, .max_restarts = 100};
      inner_spec.on_restart = root_spec.on_restart;
      const auto an_hour = troupe::Shutdown::after(std::chrono::hours(1));
      system.spawn_supervisor(
          root_spec, {worker(log, "a"),
                      troupe::supervisor_child("inner", inner_spec,
                                               {worker(log, "x", true).with_shutdown(an_hour), worker(log, "y")}),
                      worker(log, "b", true).with_shutdown(an_hour)});
      check(system.wait_idle(), "the tree starts");
      check(system.live_actors() == 6, "two supervisors and four workers run");
      const std::size_t starts = log->size();

      system.shutdown();
      check(system.live_actors() == 0, "an actor outlived shutdown");
      check(exits.size() == 6, "not every actor stopped exactly once");
      for (const auto& e : exits) {
        check(e.reason.kind == troupe::ExitReason::Kind::shutdown, e.actor + " stopped with " + e.reason.to_string());
      }
      check(restarts.empty(), "a supervisor restarted a child during shutdown");
      const auto after = log->since(starts);
      for (const auto& e : after) check(e.rfind("start:", 0) != 0, "a child was started during shutdown: " + e);
      // Trapping workers do not refuse it: the system's stop is no exit signal.
      for (const auto& e : after) check(e.rfind("refused:", 0) != 0, "a worker was asked to stop, not stopped");
      check(after.size() == 4, "not every worker's state was destroyed");
    });
    CHECK_MESSAGE(result, result.failure);
  }
}
