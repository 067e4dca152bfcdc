// The name registry: register, look up, unregister; names freed when their actor stops; taken
// names are error values; reaching a replaced service by name. (Concurrent registration and
// lookups: registry_concurrency_test.cpp.)
#include <troupe/troupe.hpp>

#include "supervision/registry_support.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

using namespace troupe_test;

using namespace registry_test;

TEST_SUITE_BEGIN("registry");

TEST_CASE("register, whereis, unregister") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  auto a = system.spawn(service, 1);

  CHECK_FALSE(system.whereis("a").has_value());
  REQUIRE(system.register_name("a", a).ok());
  std::optional<troupe::DynamicHandle> found = system.whereis("a");
  REQUIRE(found.has_value());
  CHECK(*found == a);
  CHECK(me.request<int>(*found, WhoAreYou{}).value() == 1);

  CHECK(system.unregister_name("a"));
  CHECK_FALSE(system.whereis("a").has_value());
  CHECK_FALSE(system.unregister_name("a"));  // already gone
  CHECK_FALSE(system.unregister_name("never registered"));
  CHECK(me.request<int>(a, WhoAreYou{}).value() == 1);  // unregistering does not touch the actor
}

TEST_CASE("an actor may hold several names; unregistering one keeps the others") {
  troupe::System system(troupe::Config{.workers = 2});
  auto a = system.spawn(service, 1);
  REQUIRE(system.register_name("first", a).ok());
  REQUIRE(system.register_name("second", a).ok());
  REQUIRE(system.register_name("third", a).ok());
  CHECK(system.unregister_name("second"));
  CHECK(system.whereis("first") == std::optional<troupe::DynamicHandle>(a));
  CHECK_FALSE(system.whereis("second").has_value());
  CHECK(system.whereis("third") == std::optional<troupe::DynamicHandle>(a));
}

TEST_CASE("a taken name is an error value and leaves the table unchanged") {
  troupe::System system(troupe::Config{.workers = 2});
  auto a = system.spawn(service, 1);
  auto b = system.spawn(service, 2);
  REQUIRE(system.register_name("svc", a).ok());

  troupe::Result<void> again = system.register_name("svc", b);
  REQUIRE_FALSE(again.ok());
  CHECK(again.code() == troupe::Errc::name_taken);
  CHECK(again.error().what == "svc");
  CHECK(again.error().message() == "name_taken: svc");
  CHECK(system.register_name("svc", a).code() == troupe::Errc::name_taken);  // even for its holder
  CHECK(system.whereis("svc") == std::optional<troupe::DynamicHandle>(a));
}

TEST_CASE("a name is freed when its actor quits, and can be registered again") {
  ExitCounter counter;
  troupe::System system(counter.config());
  troupe::ScopedActor me(system);
  auto a = system.spawn(service, 1);
  REQUIRE(system.register_name("svc", a).ok());
  REQUIRE(system.register_name("alias", a).ok());

  a.send(Stop{});
  REQUIRE(counter.wait_for(1));
  // The hook runs after the names are dropped, so this holds at once, not eventually.
  CHECK_FALSE(system.whereis("svc").has_value());
  CHECK_FALSE(system.whereis("alias").has_value());
  CHECK_FALSE(system.unregister_name("svc"));

  auto b = system.spawn(service, 2);
  REQUIRE(system.register_name("svc", b).ok());
  auto found = system.whereis("svc");
  REQUIRE(found.has_value());
  CHECK(*found == b);
  CHECK(me.request<int>(*found, WhoAreYou{}).value() == 2);
}

TEST_CASE("a name is freed when its actor fails") {
  ExitCounter counter;
  troupe::System system(counter.config());
  auto a = system.spawn(service, 1);
  REQUIRE(system.register_name("svc", a).ok());
  a.send(Boom{});
  REQUIRE(counter.wait_for(1));
  CHECK_FALSE(system.whereis("svc").has_value());
  auto b = system.spawn(service, 2);
  CHECK(system.register_name("svc", b).ok());
}

TEST_CASE("the exit hook sees the name freed and can register a replacement under it") {
  std::atomic<int> hook_saw_name{0}, replacements{0}, replacement_failures{0};
  troupe::System* sys = nullptr;  // set before the first spawn, read only by the hook
  troupe::Config config{.workers = 2};
  config.on_actor_exit = [&](const troupe::ExitInfo& info) {
    if (sys->whereis("svc").has_value()) hook_saw_name.fetch_add(1);
    if (info.reason.kind != troupe::ExitReason::Kind::error) return;
    const int generation = replacements.fetch_add(1) + 2;
    if (!sys->register_name("svc", sys->spawn(service, generation)).ok()) {
      replacement_failures.fetch_add(1);
    }
  };
  troupe::System system(std::move(config));
  sys = &system;
  troupe::ScopedActor me(system);
  REQUIRE(system.register_name("svc", system.spawn(service, 1)).ok());

  for (int generation = 1; generation <= 3; ++generation) {
    std::optional<troupe::DynamicHandle> svc;
    REQUIRE(eventually([&] { return (svc = system.whereis("svc")).has_value(); }));
    CHECK(me.request<int>(*svc, WhoAreYou{}).value() == generation);
    svc->send(Boom{});  // the hook restarts it under the same name
    REQUIRE(eventually([&] { return replacements.load() == generation; }));
  }
  CHECK(hook_saw_name.load() == 0);
  CHECK(replacement_failures.load() == 0);
  system.shutdown();  // shutdown exits are not errors: no more replacements
  CHECK(replacements.load() == 3);
  CHECK_FALSE(system.whereis("svc").has_value());
}

TEST_CASE("registering a stopped actor, an empty handle or a scoped actor fails with dead_actor") {
  ExitCounter counter;
  troupe::System system(counter.config());
  auto a = system.spawn(service, 1);
  a.send(Stop{});
  REQUIRE(counter.wait_for(1));
  troupe::Result<void> stopped = system.register_name("svc", a);
  CHECK(stopped.code() == troupe::Errc::dead_actor);
  CHECK_FALSE(system.whereis("svc").has_value());

  CHECK(system.register_name("svc", troupe::DynamicHandle{}).code() == troupe::Errc::dead_actor);
  troupe::ScopedActor me(system);  // its stop is not seen by the registry: refused
  CHECK(system.register_name("svc", me.handle()).code() == troupe::Errc::dead_actor);

  troupe::System other(troupe::Config{.workers = 1});
  auto foreign = other.spawn(service, 2);
  CHECK(system.register_name("svc", foreign).code() == troupe::Errc::dead_actor);
  CHECK_FALSE(system.whereis("svc").has_value());
  CHECK(system.register_name("svc", system.spawn(service, 3)).ok());
}

TEST_CASE("an actor registers itself, and other actors find it by name") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  struct Registered {
    bool ok;
  };
  auto probe = me.handle();
  system.spawn([probe](troupe::Context& self) {
    const bool ok = self.system().register_name("self-named", self.self()).ok();
    probe.send(Registered{ok});
    return troupe::behavior([](WhoAreYou) { return 42; });
  });
  REQUIRE(me.receive<Registered>().value().ok);
  struct Ask {};
  auto asker = system.spawn([](troupe::Context& self) {
    return troupe::behavior([&self](Ask) -> troupe::Task<int> {
      auto target = self.system().whereis("self-named");
      if (!target) co_return -1;
      auto reply = co_await self.request<int>(*target, WhoAreYou{});
      co_return reply.value_or(-2);
    });
  });
  CHECK(me.request(asker, Ask{}).value() == 42);
}

TEST_CASE("a client reaches a replaced service by name") {
  ExitCounter counter;
  troupe::System system(counter.config());
  troupe::ScopedActor me(system);
  struct Call {};  // reply: the service's id; -1 when no service has the name
  auto client = system.spawn([](troupe::Context& self) {
    return troupe::behavior([&self](Call) -> troupe::Task<int> {
      auto service = self.system().whereis("counter");
      if (!service) co_return -1;
      auto reply = co_await self.request<int>(*service, WhoAreYou{});
      co_return reply.value_or(-2);
    });
  });

  auto v1 = system.spawn(service, 1);
  REQUIRE(system.register_name("counter", v1).ok());
  CHECK(me.request(client, Call{}).value() == 1);

  v1.send(Stop{});
  REQUIRE(counter.wait_for(1));
  CHECK(me.request(client, Call{}).value() == -1);  // the name went with the stopped service

  auto v2 = system.spawn(service, 2);
  REQUIRE(system.register_name("counter", v2).ok());
  CHECK(me.request(client, Call{}).value() == 2);
  CHECK_FALSE(v1 == v2);
  CHECK(me.request<int>(v1, WhoAreYou{}).code() == troupe::Errc::dead_actor);  // the old handle is dead
}

TEST_CASE("shutdown drops every name") {
  troupe::System system(troupe::Config{.workers = 2});
  constexpr int kActors = 100;
  for (int i = 0; i < kActors; ++i) {
    auto a = system.spawn(service, i);
    REQUIRE(system.register_name(numbered("a", i), a).ok());
    REQUIRE(system.register_name(numbered("b", i), a).ok());
  }
  system.shutdown();
  CHECK(system.live_actors() == 0);
  int left = 0;
  for (int i = 0; i < kActors; ++i) {
    if (system.whereis(numbered("a", i)).has_value()) ++left;
    if (system.whereis(numbered("b", i)).has_value()) ++left;
  }
  CHECK(left == 0);
  // Nothing is live to register any more. (Under ASan, a leaked reference would show as a leak.)
  CHECK_FALSE(system.unregister_name("a0"));
}

TEST_SUITE_END();
