// What supervisors promise about stopping (README, "Failure handling"), in deterministic mode so
// that "a child takes an hour to stop" costs nothing and "while it stops" is exact:
// - which_children (and count_children) are answered while a child is still stopping;
// - a transient child that exits with reason shutdown is not restarted (nor after normal; it is
//   after a failure or a kill);
// - Shutdown::infinity() is the default for nested supervisors: the parent waits for the nested
//   one to stop its own children, however long that takes; given to a worker, it waits too.
#include <troupe/testing.hpp>

#include "supervision/supervisor_fixture.hpp"

#include <optional>

namespace {

using TimePoint = troupe::runtime::TimerService::Clock::time_point;

struct Go {};
struct QuitWith {
  troupe::ExitReason reason;
};

troupe::Config quiet_deterministic(std::uint64_t seed) {
  troupe::Config config = troupe::testing::deterministic(seed);
  config.on_actor_exit = [](const troupe::ExitInfo&) {};  // the failures here are on purpose
  return config;
}

// Stops with the reason it is given.
auto quitter(troupe::Context& self) {
  return troupe::behavior([&self](const QuitWith& q) { self.quit(q.reason); });
}

// Traps exits; asked to stop by its supervisor, it takes two hours (virtual) to do so, then stops
// normally.
class Lingering {
 public:
  Lingering(troupe::Context& self, std::shared_ptr<Log> log) : self_(self), log_(std::move(log)) {
    self_.trap_exits(true);
  }
  ~Lingering() { log_->add("stop:lingering"); }
  Lingering(const Lingering&) = delete;
  Lingering& operator=(const Lingering&) = delete;

  auto behavior() {
    return troupe::behavior(
        [this](const troupe::Exit&) {
          log_->add("asked:lingering");
          self_.send_after(self_.self(), std::chrono::hours(2), QuitNormally{});
        },
        [this](QuitNormally) { self_.quit(); });
  }

 private:
  troupe::Context& self_;
  std::shared_ptr<Log> log_;
};

}  // namespace

TEST_SUITE("supervisors") {
  TEST_CASE("which_children and count_children are answered while a child is still stopping") {
    for (std::uint64_t seed : {0u, 1u, 2u}) {
      CAPTURE(seed);
      troupe::System system(quiet_deterministic(seed));
      troupe::ScopedActor me(system);
      auto log = std::make_shared<Log>();
      auto sup = system.spawn_supervisor(
          {},
          {worker(log, "a"), worker(log, "slow", true).with_shutdown(troupe::Shutdown::after(std::chrono::hours(1)))});
      REQUIRE(children_of(me, sup).size() == 2);
      const TimePoint start = system.now();

      // An actor asks for "slow" to be terminated, and notes when the answer comes.
      auto answered = std::make_shared<std::optional<TimePoint>>();
      auto terminator = system.spawn([sup, answered](troupe::Context& self) {
        return troupe::behavior([&self, sup, answered](Go) -> troupe::Task<void> {
          std::string id = "slow";
          auto r = co_await troupe::terminate_child(self, sup, std::move(id), std::chrono::hours(2));
          if (r) *answered = self.system().now();
        });
      });
      terminator.send(Go{});
      system.advance_time(1min);  // "slow" has refused its exit(shutdown); its kill is due at 1 h
      const Events so_far = log->since(2);
      CHECK(so_far == Events{"refused:slow"});
      REQUIRE_FALSE(answered->has_value());

      // Answered at once, in virtual time, though "slow" has most of an hour still to go; a
      // supervisor that waited for the stop to end first would let these 10 s timeouts pass.
      const TimePoint asked = system.now();
      auto infos = troupe::which_children(me, sup, 10s);
      REQUIRE(infos.ok());
      CHECK(system.now() == asked);
      REQUIRE(infos->size() == 2);
      CHECK((*infos)[1].id == "slow");
      CHECK((*infos)[1].alive);  // still stopping: its exit has not come
      CHECK((*infos)[1].handle.valid());
      auto counts = troupe::count_children(me, sup, 10s);
      REQUIRE(counts.ok());
      CHECK(system.now() == asked);
      CHECK(counts->active == 2);
      CHECK_FALSE(answered->has_value());

      REQUIRE(system.wait_idle());  // the hour passes: "slow" is killed
      REQUIRE(answered->has_value());
      CHECK(**answered == start + std::chrono::hours(1));
      CHECK(log->since(2) == Events{"refused:slow", "stop:slow"});
      CHECK_FALSE(info_of(me, sup, "slow").alive);
      CHECK(info_of(me, sup, "a").alive);
    }
  }

  TEST_CASE("a transient child that exits with reason shutdown is not restarted") {
    struct Case {
      troupe::ExitReason reason;
      bool restarted;
    };
    for (const Case& c : {Case{troupe::ExitReason::shutdown(), false}, Case{troupe::ExitReason::normal(), false},
                          Case{troupe::ExitReason::error("broke"), true}, Case{troupe::ExitReason::kill(), true}}) {
      CAPTURE(c.reason.to_string());
      troupe::System system(quiet_deterministic(3));
      troupe::ScopedActor me(system);
      auto sup = system.spawn_supervisor(reporting({.max_restarts = 10}, me),
                                         {troupe::child("t", quitter).with_restart(troupe::Restart::transient)});
      auto first = info_of(me, sup, "t").handle;
      REQUIRE(first.valid());
      me.monitor(first);
      first.send(QuitWith{c.reason});
      auto down = me.receive<troupe::Down>(10s);
      REQUIRE(down.ok());
      CHECK(down->reason.kind == c.reason.kind);
      // Everything that can follow from the exit has happened once the system is idle.
      REQUIRE(system.wait_idle());
      auto info = info_of(me, sup, "t");
      CHECK(info.alive == c.restarted);
      CHECK(info.restarts == (c.restarted ? 1u : 0u));
      CHECK(me.queued() == (c.restarted ? 1u : 0u));  // the on_restart report
      if (c.restarted) CHECK(info.handle != first);
    }
  }

  TEST_CASE("Shutdown::infinity() is a nested supervisor's default: its parent waits for its children to stop") {
    // The defaults, as a spec states them.
    auto nested = troupe::supervisor_child("inner", {}, {});
    CHECK(nested.shutdown.kind == troupe::Shutdown::Kind::infinity);
    auto log = std::make_shared<Log>();
    auto plain = worker(log, "w");
    CHECK(plain.shutdown.kind == troupe::Shutdown::Kind::timeout);
    CHECK(plain.shutdown.timeout == std::chrono::seconds(5));

    // Stopping the root: the nested supervisor takes an hour (its trapping child is killed only
    // when its own shutdown timer fires). With a timeout of its own, the root would kill it
    // after 5 s, and its child would live on, trapping the `kill` exit passed along the link.
    troupe::System system(quiet_deterministic(5));
    troupe::ScopedActor me(system);
    auto root = system.spawn_supervisor(
        {},
        {troupe::supervisor_child(
            "inner", {}, {worker(log, "slow", true).with_shutdown(troupe::Shutdown::after(std::chrono::hours(1)))})});
    auto inner = troupe::SupervisorHandle::from(info_of(me, root, "inner").handle);
    REQUIRE(children_of(me, inner).size() == 1);
    me.monitor(inner);
    const TimePoint start = system.now();
    const std::size_t mark = log->size();
    REQUIRE(troupe::stop_supervisor(me, root, std::chrono::hours(3)).ok());
    CHECK(system.now() == start + std::chrono::hours(1));
    auto down = me.receive<troupe::Down>(10s);
    REQUIRE(down.ok());
    CHECK(down->actor == inner);
    CHECK(down->reason.kind == troupe::ExitReason::Kind::shutdown);  // it stopped; it was not killed
    CHECK(log->since(mark) == Events{"refused:slow", "stop:slow"});
    CHECK(system.live_actors() == 0);
  }

  TEST_CASE("Shutdown::infinity() given to a worker: its supervisor waits as long as it takes to stop") {
    troupe::System system(quiet_deterministic(6));
    troupe::ScopedActor me(system);
    auto log = std::make_shared<Log>();
    auto lingering = troupe::child<Lingering>("lingering", log).with_shutdown(troupe::Shutdown::infinity());
    auto root = system.spawn_supervisor({}, {worker(log, "a"), std::move(lingering)});
    auto handle = info_of(me, root, "lingering").handle;
    me.monitor(handle);
    const TimePoint start = system.now();
    const std::size_t mark = log->size();
    REQUIRE(troupe::stop_supervisor(me, root, std::chrono::hours(3)).ok());
    CHECK(system.now() == start + std::chrono::hours(2));
    auto down = me.receive<troupe::Down>(10s);
    REQUIRE(down.ok());
    CHECK(down->actor == handle);
    CHECK(down->reason.is_normal());  // it stopped on its own, never killed
    CHECK(log->since(mark) == Events{"asked:lingering", "stop:lingering", "stop:a"});
  }
}
