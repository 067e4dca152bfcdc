// What supervisors log (Config::log): each restart ("supervisor_restart", info) and giving up
// ("escalation", error), with the child's actor type, ids and reasons.
#include "log_recorder.hpp"
#include "supervisor_fixture.hpp"

#include <string>

namespace {

bool has(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_SUITE("logs") {
  TEST_CASE("a restart is logged as supervisor_restart, and giving up as escalation") {
    LogRecorder events;
    troupe::System system(troupe::Config{.workers = 2, .log = events.config()});
    troupe::ScopedActor me(system);
    auto log = std::make_shared<Log>();
    auto sup = system.spawn_supervisor({.strategy = troupe::Strategy::one_for_one, .max_restarts = 1, .period = 1h},
                                       {worker(log, "w")});
    me.monitor(sup);

    crash(me, sup, "w");
    REQUIRE(eventually([&] { return events.named("supervisor_restart").size() == 1; }));
    const RecordedEvent restart = events.named("supervisor_restart")[0];
    CHECK(restart.level == troupe::LogLevel::info);
    CHECK(has(restart.actor, "Worker"));
    CHECK(restart.reason == "error: crashed on purpose");
    CHECK(restart.field("child") == "w");
    CHECK(restart.field("failed") == "w");
    CHECK(restart.field("restarts") == "1");
    CHECK(has(restart.message, "restarted child 'w' (restart 1) after it stopped: error: crashed on purpose"));
    CHECK(events.named("escalation").empty());

    crash(me, sup, "w");  // one more within the period: too many
    auto down = me.receive<troupe::Down>(10s);
    REQUIRE(down.ok());
    CHECK(down->reason.message == "reached max restart intensity");
    const auto escalation = events.first("escalation");
    REQUIRE(escalation);
    CHECK(escalation->level == troupe::LogLevel::error);
    CHECK(has(escalation->actor, "Worker"));
    CHECK(escalation->reason == "reached max restart intensity");
    CHECK(escalation->field("child") == "w");
    CHECK(escalation->field("max_restarts") == "1");
    CHECK(escalation->field("period_ms") == "3600000");
    CHECK(events.named("supervisor_restart").size() == 1);  // no second restart
    // The supervisor's own exit is a failure its parent (here: nobody) would see.
    CHECK(eventually([&] {
      for (const auto& e : events.named("actor_failed")) {
        if (e.reason == "reached max restart intensity") return true;
      }
      return false;
    }));
  }

  TEST_CASE("one_for_all: each child started again is logged, naming the child that failed") {
    LogRecorder events;
    troupe::System system(troupe::Config{.workers = 2, .log = events.config()});
    troupe::ScopedActor me(system);
    auto log = std::make_shared<Log>();
    auto sup = system.spawn_supervisor({.strategy = troupe::Strategy::one_for_all, .max_restarts = 5, .period = 1h},
                                       {worker(log, "a"), worker(log, "b")});
    crash(me, sup, "b");
    REQUIRE(eventually([&] { return events.named("supervisor_restart").size() == 2; }));
    const auto restarts = events.named("supervisor_restart");
    CHECK(restarts[0].field("child") == "a");  // start order
    CHECK(restarts[1].field("child") == "b");
    for (const auto& e : restarts) {
      CHECK(e.field("failed") == "b");
      CHECK(e.reason == "error: crashed on purpose");
    }
    CHECK(has(restarts[0].message, "restarted child 'a' (restart 1) after child 'b' stopped: "));
  }

  TEST_CASE("a supervisor whose child fails to start escalates at once") {
    LogRecorder events;
    troupe::System system(troupe::Config{.workers = 2, .log = events.config()});
    troupe::ScopedActor me(system);
    troupe::ChildSpec broken;
    broken.id = "broken";
    broken.start = [](troupe::Context&) -> troupe::DynamicHandle { throw std::runtime_error("no database"); };
    auto sup = system.spawn_supervisor({}, {std::move(broken)});
    me.monitor(sup);
    REQUIRE(me.receive<troupe::Down>(10s).ok());
    const auto escalation = events.first("escalation");
    REQUIRE(escalation);
    CHECK(escalation->field("child") == "broken");
    CHECK(has(escalation->reason, "failed to start child 'broken'"));
    CHECK(has(escalation->reason, "no database"));
    CHECK(escalation->actor.empty());  // it never ran: no type to name
  }
}
