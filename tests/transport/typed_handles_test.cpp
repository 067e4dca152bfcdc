// Typed remote handles: Node::whereis<H>, Node::spawn<H> and their actor-side forms give a
// Handle<...> after the remote node checked that its actor handles every message type H names
// (Errc::interface_mismatch, naming the missing types, otherwise). Also the local System::whereis<H>.
#include "peer_process.hpp"
#include "transport_test_support.hpp"
#include "wire_messages.hpp"

#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>

using namespace transport_test;
using namespace std::chrono_literals;

namespace {

using Echo = troupe::Handle<Pong(Ping)>;                                       // node_peer's "echo"
using Counter = troupe::Handle<std::uint64_t(CountWords)>;                     // its "word-counter"
using EchoAndCounter = troupe::Handle<Pong(Ping), std::uint64_t(CountWords)>;  // neither

bool mentions(const troupe::Error& error, const std::string& text) {
  return error.what.find(text) != std::string::npos;
}

struct LookUpAndCount {
  std::string text;
};

}  // namespace

TEST_CASE("a typed whereis gives a typed handle, checked on the remote node") {
  PeerProcess b("b", kTestSecret);
  troupe::System system;
  troupe::transport::Node node(system, node_config("a"));
  node.add_peer("b", "127.0.0.1", b.port());
  troupe::ScopedActor me(system);

  troupe::Result<Echo> echo = node.whereis<Echo>("b", "echo", 10s);
  REQUIRE(echo.ok());
  troupe::Result<Pong> pong = me.request(*echo, Ping{41, "typed", {1, 2}}, 10s);  // the handle knows the reply
  REQUIRE(pong.ok());
  CHECK(pong->n == 42);
  CHECK(pong->sum == 3);

  SUBCASE("a handle naming a type the actor has no handler for is interface_mismatch, naming the type") {
    troupe::Result<EchoAndCounter> wrong = node.whereis<EchoAndCounter>("b", "echo", 10s);
    REQUIRE(wrong.code() == troupe::Errc::interface_mismatch);
    CHECK(mentions(wrong.error(), "CountWords"));
    CHECK_FALSE(mentions(wrong.error(), "Ping"));
    CHECK(mentions(wrong.error(), "echo"));
  }
  SUBCASE("the untyped whereis is unchecked, as before") { CHECK(node.whereis("b", "echo", 10s).ok()); }
  SUBCASE("a name not registered there is no_such_name") {
    CHECK(node.whereis<Echo>("b", "nobody", 10s).code() == troupe::Errc::no_such_name);
  }
  SUBCASE("a node without an address is node_unreachable") {
    CHECK(node.whereis<Echo>("nowhere", "echo", 10s).code() == troupe::Errc::node_unreachable);
  }
}

TEST_CASE("a typed remote spawn gives a typed handle, checked on the remote node") {
  PeerProcess b("b", kTestSecret);
  troupe::System system;
  troupe::transport::Node node(system, node_config("a"));
  node.add_peer("b", "127.0.0.1", b.port());
  troupe::ScopedActor me(system);

  troupe::Result<Counter> counter = node.spawn<Counter>("b", "word-counter", WordCounterArgs{"the"}, 10s);
  REQUIRE(counter.ok());
  troupe::Result<std::uint64_t> words = me.request(*counter, CountWords{"the cat saw the dog"}, 10s);
  REQUIRE(words.ok());
  CHECK(*words == 3);

  SUBCASE("a handle naming a type the new actor has no handler for is interface_mismatch, naming it") {
    troupe::Result<Echo> wrong = node.spawn<Echo>("b", "word-counter", WordCounterArgs{"the"}, 10s);
    REQUIRE(wrong.code() == troupe::Errc::interface_mismatch);
    CHECK(mentions(wrong.error(), "Ping"));
    CHECK(mentions(wrong.error(), "word-counter"));
  }
  SUBCASE("the spawn's own errors come first") {
    CHECK(node.spawn<Counter>("b", "no-such-counter", WordCounterArgs{}, 10s).code() == troupe::Errc::no_such_type);
  }
}

TEST_CASE("a spawned actor that does not match the typed handle is stopped where it was spawned") {
  auto killed = std::make_shared<std::promise<std::string>>();
  troupe::System system(troupe::Config{.on_actor_exit = [killed](const troupe::ExitInfo& info) {
    if (info.reason.kind == troupe::ExitReason::Kind::kill) killed->set_value(std::string(info.actor));
  }});
  troupe::transport::Node node(system, node_config("a"));
  node.register_spawnable<WordCounterArgs>("counter", [](troupe::System& sys, const WordCounterArgs&) {
    return sys.spawn(
        [](troupe::Context&) { return troupe::behavior([](const CountWords&) { return std::uint64_t{1}; }); });
  });
  auto gone = killed->get_future();

  troupe::Result<Echo> wrong = node.spawn<Echo>("a", "counter", WordCounterArgs{}, 10s);
  REQUIRE(wrong.code() == troupe::Errc::interface_mismatch);
  REQUIRE(gone.wait_for(10s) == std::future_status::ready);  // the actor the factory made was killed
  CHECK(node.spawn<Counter>("a", "counter", WordCounterArgs{}, 10s).ok());
}

TEST_CASE("an actor looks up and spawns typed handles on another node with co_await") {
  PeerProcess b("b", kTestSecret);
  troupe::System system;
  troupe::transport::Node node(system, node_config("a"));
  node.add_peer("b", "127.0.0.1", b.port());
  troupe::DynamicHandle spawner = node.spawner("b");
  REQUIRE(spawner.valid());

  auto boss = system.spawn([spawner](troupe::Context& self) {
    return troupe::behavior([&self, spawner](const LookUpAndCount& job) -> troupe::Task<troupe::Result<std::int64_t>> {
      troupe::Result<Echo> echo = co_await troupe::transport::whereis<Echo>(self, spawner, "echo", 10s);
      if (!echo) co_return echo.error();
      WordCounterArgs args{"a"};  // built in its own statement: g++ 12 (see task.hpp)
      troupe::Result<Counter> counter =
          co_await troupe::transport::spawn<Counter>(self, spawner, "word-counter", std::move(args), 10s);
      if (!counter) co_return counter.error();
      troupe::Result<EchoAndCounter> wrong =
          co_await troupe::transport::whereis<EchoAndCounter>(self, spawner, "echo", 10s);
      if (wrong.code() != troupe::Errc::interface_mismatch)
        co_return troupe::Error{troupe::Errc::actor_failed, "no mismatch"};
      CountWords count{job.text};
      troupe::Result<std::uint64_t> n = co_await self.request(*counter, std::move(count), 10s);
      if (!n) co_return n.error();
      Ping ping{static_cast<std::int32_t>(*n), "", {}};
      troupe::Result<Pong> pong = co_await self.request(*echo, std::move(ping), 10s);
      if (!pong) co_return pong.error();
      co_return std::int64_t{pong->n};
    });
  });
  troupe::ScopedActor me(system);
  auto n = me.request<std::int64_t>(boss, LookUpAndCount{"a b a c"}, 30s);
  REQUIRE(n.ok());
  CHECK(*n == 3);  // two words that are not "a", plus one from echo
}

TEST_CASE("a typed whereis in the local registry checks the actor's handlers too") {
  troupe::System system;
  auto counter = system.spawn(
      [](troupe::Context&) { return troupe::behavior([](const CountWords&) { return std::uint64_t{7}; }); });
  REQUIRE(system.register_name("counter", counter).ok());

  troupe::Result<Counter> found = system.whereis<Counter>("counter");
  REQUIRE(found.ok());
  troupe::ScopedActor me(system);
  CHECK(me.request(*found, CountWords{}, 10s).value_or(0) == 7);

  troupe::Result<EchoAndCounter> wrong = system.whereis<EchoAndCounter>("counter");
  REQUIRE(wrong.code() == troupe::Errc::interface_mismatch);
  CHECK(mentions(wrong.error(), "Ping"));
  CHECK_FALSE(mentions(wrong.error(), "CountWords"));
  CHECK(system.whereis<Counter>("nobody").code() == troupe::Errc::no_such_name);
}
