// Supervisors at run time: dynamic children (start, terminate, restart, delete, which, count)
// from a ScopedActor and from an actor, and clients reaching a restarted service by its name.
#include "supervision/supervisor_fixture.hpp"

namespace {

struct AddChild {
  troupe::SupervisorHandle sup;
  troupe::ChildSpec spec;
};

// An actor that manages a supervisor's children with co_await.
auto manager(troupe::Context& self) {
  return troupe::behavior([&self](AddChild a) -> troupe::Task<std::size_t> {
    auto started = co_await troupe::start_child(self, a.sup, a.spec);
    if (!started.ok()) throw std::runtime_error("start_child failed");
    auto again = co_await troupe::start_child(self, a.sup, a.spec);  // same id
    if (again.code() != troupe::Errc::child_exists) throw std::runtime_error("duplicate accepted");
    auto counts = co_await troupe::count_children(self, a.sup);
    co_return counts.ok() ? counts->active : 0;
  });
}

}  // namespace

TEST_SUITE("supervisors") {
  TEST_CASE("dynamic children: start, terminate, restart, delete, which_children, count") {
    HookLog hooks;
    troupe::System system(hooks.config());
    troupe::ScopedActor me(system);
    auto log = std::make_shared<Log>();
    auto sup = system.spawn_supervisor({}, {worker(log, "a")});

    auto b = troupe::start_child(me, sup, worker(log, "b"));
    REQUIRE(b.ok());
    CHECK(me.request(*b, WhoAreYou{}).value() == "b");
    CHECK(troupe::start_child(me, sup, worker(log, "b")).code() == troupe::Errc::child_exists);
    auto failing = worker(log, "bad");
    failing.start = [](troupe::Context&) -> troupe::DynamicHandle { throw std::runtime_error("no way"); };
    auto bad = troupe::start_child(me, sup, failing);
    CHECK(bad.code() == troupe::Errc::actor_failed);
    CHECK(contains(bad.error().what, "no way"));

    auto kids = children_of(me, sup);
    REQUIRE(kids.size() == 2);  // the failed start left no spec
    CHECK(kids[0].id == "a");
    CHECK(kids[1].id == "b");
    CHECK(kids[1].handle == *b);
    CHECK(kids[1].alive);

    CHECK(troupe::delete_child(me, sup, "b").code() == troupe::Errc::child_running);
    CHECK(troupe::restart_child(me, sup, "b").code() == troupe::Errc::child_running);
    CHECK(troupe::terminate_child(me, sup, "nobody").code() == troupe::Errc::no_child);

    me.monitor(*b);
    REQUIRE(troupe::terminate_child(me, sup, "b").ok());
    auto down = me.receive<troupe::Down>(10s);  // it had stopped before the reply
    REQUIRE(down.ok());
    CHECK(down->reason.kind == troupe::ExitReason::Kind::shutdown);
    CHECK_FALSE(info_of(me, sup, "b").alive);
    auto counts = troupe::count_children(me, sup);
    REQUIRE(counts.ok());
    CHECK(counts->specs == 2);
    CHECK(counts->active == 1);
    CHECK(counts->workers == 2);
    CHECK(counts->supervisors == 0);

    auto b2 = troupe::restart_child(me, sup, "b");
    REQUIRE(b2.ok());
    CHECK(*b2 != *b);
    CHECK(me.request(*b2, WhoAreYou{}).value() == "b");
    REQUIRE(troupe::terminate_child(me, sup, "b").ok());
    REQUIRE(troupe::delete_child(me, sup, "b").ok());
    CHECK(troupe::delete_child(me, sup, "b").code() == troupe::Errc::no_child);
    CHECK(children_of(me, sup).size() == 1);
    CHECK(log->all() == Events{"start:a", "start:b", "stop:b", "start:b", "stop:b"});
  }

  TEST_CASE("dynamic children from an actor, with co_await") {
    HookLog hooks;
    troupe::System system(hooks.config());
    troupe::ScopedActor me(system);
    auto log = std::make_shared<Log>();
    auto sup = system.spawn_supervisor({}, {worker(log, "a")});
    auto m = system.spawn(manager);
    auto active = me.request(m, AddChild{sup, worker(log, "b")}, 10s);
    REQUIRE(active.ok());
    CHECK(*active == 2);
  }

  TEST_CASE("names: a client reaches the restarted service by its registered name") {
    HookLog hooks;
    troupe::System system(hooks.config());
    troupe::ScopedActor me(system);
    auto log = std::make_shared<Log>();
    auto sup = system.spawn_supervisor(reporting({}, me), {worker(log, "svc").registered_as("service")});
    REQUIRE(children_of(me, sup).size() == 1);  // started (and registered)
    auto first = system.whereis("service");
    REQUIRE(first.has_value());
    CHECK(me.request<std::string>(*first, WhoAreYou{}).value() == "svc");

    crash(me, sup, "svc");
    CHECK(expect_restart(me).child == "svc");
    auto second = system.whereis("service");  // registered by the restart, before the hook ran
    REQUIRE(second.has_value());
    CHECK(*second != *first);
    CHECK(*second == info_of(me, sup, "svc").handle);
    CHECK(me.request<std::string>(*second, WhoAreYou{}).value() == "svc");
    // The old handle reaches a stopped actor.
    CHECK(me.request<std::string>(*first, WhoAreYou{}).code() == troupe::Errc::dead_actor);

    // Terminated: the name goes with it.
    REQUIRE(troupe::terminate_child(me, sup, "svc").ok());
    CHECK_FALSE(system.whereis("service").has_value());
  }
}
