// Remote spawn of a registered type by name, from the main thread and from inside an actor.
#include "peer_process.hpp"
#include "transport_test_support.hpp"
#include "wire_messages.hpp"

#include <troupe/troupe.hpp>

#include <doctest/doctest.h>

using namespace transport_test;
using namespace std::chrono_literals;

namespace {
struct CountOnB {
  std::string text;
};
}  // namespace

TEST_CASE("a node spawns a registered actor type on another node by name, with arguments") {
  PeerProcess b("b", kTestSecret);
  troupe::System system;
  troupe::transport::Node node(system, node_config("a"));
  node.add_peer("b", "127.0.0.1", b.port());
  troupe::ScopedActor me(system);

  auto counter = node.spawn("b", "word-counter", WordCounterArgs{"the"}, 10s);
  REQUIRE(counter.ok());
  auto words = me.request<std::uint64_t>(*counter, CountWords{"the cat saw the dog"}, 10s);
  REQUIRE(words.ok());
  CHECK(*words == 3);

  SUBCASE("each spawn is a new actor") {
    auto other = node.spawn("b", "word-counter", WordCounterArgs{"cat"}, 10s);
    REQUIRE(other.ok());
    CHECK(*other != *counter);
    CHECK(me.request<std::uint64_t>(*other, CountWords{"the cat saw the dog"}, 10s).value_or(0) == 4);
  }
  SUBCASE("an unknown type name is no_such_type") {
    CHECK(node.spawn("b", "no-such-counter", WordCounterArgs{}, 10s).code() == troupe::Errc::no_such_type);
  }
  SUBCASE("arguments of another type are bad_arguments") {
    CHECK(node.spawn("b", "word-counter", Ping{1, "", {}}, 10s).code() == troupe::Errc::bad_arguments);
  }
  SUBCASE("a node without an address is node_unreachable") {
    CHECK(node.spawn("nowhere", "word-counter", WordCounterArgs{}, 10s).code() == troupe::Errc::node_unreachable);
  }
}

TEST_CASE("a node spawns its own registered types through its own name") {
  troupe::System system;
  troupe::transport::Node node(system, node_config("a"));
  node.register_spawnable<WordCounterArgs>("doubler", [](troupe::System& sys, const WordCounterArgs& args) {
    return sys.spawn([n = args.ignore.size()](troupe::Context&) {
      return troupe::behavior([n](const CountWords&) { return std::uint64_t{2 * n}; });
    });
  });
  auto doubler = node.spawn("a", "doubler", WordCounterArgs{"abc"}, 10s);
  REQUIRE(doubler.ok());
  troupe::ScopedActor me(system);
  CHECK(me.request<std::uint64_t>(*doubler, CountWords{}, 10s).value_or(0) == 6);
}

TEST_CASE("an actor spawns on another node with co_await, without blocking its worker") {
  PeerProcess b("b", kTestSecret);
  troupe::System system;
  troupe::transport::Node node(system, node_config("a"));
  node.add_peer("b", "127.0.0.1", b.port());
  troupe::DynamicHandle spawner = node.spawner("b");
  REQUIRE(spawner.valid());

  auto boss = system.spawn([spawner](troupe::Context& self) {
    return troupe::behavior([&self, spawner](const CountOnB& job) -> troupe::Task<troupe::Result<std::uint64_t>> {
      auto request = troupe::transport::SpawnRequest::of("word-counter", WordCounterArgs{"a"});
      troupe::Result<troupe::DynamicHandle> counter = co_await self.request(spawner, std::move(request), 10s);
      if (!counter) co_return counter.error();
      CountWords count{job.text};
      troupe::Result<std::uint64_t> n = co_await self.request<std::uint64_t>(*counter, std::move(count), 10s);
      co_return n;
    });
  });
  troupe::ScopedActor me(system);
  auto n = me.request<std::uint64_t>(boss, CountOnB{"a b a c"}, 20s);
  REQUIRE(n.ok());
  CHECK(*n == 2);
}
