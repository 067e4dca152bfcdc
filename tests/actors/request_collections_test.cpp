// Collections of requests: troupe::all over a runtime-sized vector, and troupe::first_success.
#include <troupe/testing.hpp>
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

using namespace troupe_test;

namespace {

struct Ask {};
struct Go {
  int n;
};
struct Quit {};
struct Fail {};

// Answers Ask with its number, Fail with an Error; Quit stops it.
auto numbered(troupe::Context& self, int number) {
  return troupe::behavior([number](Ask) { return number; },
                          [](Fail) -> troupe::Result<int> {
                            return troupe::Error{troupe::Errc::actor_failed, "refused"};
                          },
                          [&self](Quit) { self.quit(); });
}
using Numbered = decltype(std::declval<troupe::System&>().spawn(numbered, 0));

// Never answers Ask (keeps the promises), so a request to it waits for its timeout.
auto silent(troupe::Context& self) {
  auto kept = std::make_shared<std::vector<troupe::Promise<int>>>();
  return troupe::behavior([&self, kept](Ask) {
    kept->push_back(self.promise<int>());
    return kept->back();
  });
}

}  // namespace

TEST_SUITE("request collections") {
  TEST_CASE("all over a vector: one Result per request, in the vector's order, failures in their places") {
    troupe::System system(troupe::testing::deterministic(11));
    std::vector<Numbered> workers;
    for (int i = 0; i < 8; ++i) workers.push_back(system.spawn(numbered, i * 10));
    troupe::ScopedActor me(system);
    auto down = me.monitor(workers[3]);
    (void)down;
    workers[3].send(Quit{});
    REQUIRE(me.receive<troupe::Down>(30s).ok());

    auto results = std::make_shared<std::vector<troupe::Result<int>>>();
    auto gatherer = system.spawn([workers, results](troupe::Context& self) {
      return troupe::behavior([&self, workers, results](Go go) -> troupe::Task<void> {
        std::vector<troupe::RequestAwaitable<int>> asks;
        for (int i = 0; i < go.n; ++i) asks.push_back(self.request(workers[static_cast<std::size_t>(i)], Ask{}));
        *results = co_await troupe::all(std::move(asks));
      });
    });
    gatherer.send(Go{8});
    REQUIRE(system.wait_idle());
    REQUIRE(results->size() == 8u);
    for (int i = 0; i < 8; ++i) {
      const auto& r = (*results)[static_cast<std::size_t>(i)];
      if (i == 3) {
        CHECK(r.code() == troupe::Errc::dead_actor);
      } else {
        CHECK(r.value_or(-1) == i * 10);
      }
    }
    gatherer.send(Go{0});  // an empty set: resumes at once with no results
    REQUIRE(system.wait_idle());
    CHECK(results->empty());
  }

  TEST_CASE("first_success gives the first successful reply, without waiting for a silent one") {
    troupe::System system(troupe::testing::deterministic(12));
    auto quiet = system.spawn(silent);
    auto refusing = system.spawn(numbered, 1);
    auto answering = system.spawn(numbered, 42);
    auto got = std::make_shared<std::optional<troupe::Result<int>>>();
    auto asker = system.spawn([&](troupe::Context& self) {
      return troupe::behavior([&self, quiet, refusing, answering, got](Go) -> troupe::Task<void> {
        std::vector<troupe::RequestAwaitable<int>> asks;
        asks.push_back(self.request(quiet, Ask{}, 1h));
        asks.push_back(self.request(refusing, Fail{}, 1h));
        asks.push_back(self.request(answering, Ask{}, 1h));
        got->emplace(co_await troupe::first_success(std::move(asks)));
      });
    });
    const auto start = system.now();
    asker.send(Go{});
    REQUIRE(system.wait_idle());
    REQUIRE(got->has_value());
    CHECK((**got).value_or(-1) == 42);
    // Resumed at the success: the silent request's hour never had to pass (its timer was cancelled).
    CHECK(system.now() - start < 1h);
  }

  TEST_CASE("first_success when every request fails: the first one's code, and every failure in the text") {
    troupe::System system(troupe::testing::deterministic(13));
    auto quiet = system.spawn(silent);
    auto refusing = system.spawn(numbered, 1);
    auto got = std::make_shared<std::optional<troupe::Result<int>>>();
    auto asker = system.spawn([&](troupe::Context& self) {
      return troupe::behavior([&self, quiet, refusing, got](Go go) -> troupe::Task<void> {
        std::vector<troupe::RequestAwaitable<int>> asks;
        if (go.n > 0) {
          asks.push_back(self.request(quiet, Ask{}, 1s));
          asks.push_back(self.request(refusing, Fail{}, 1s));
          asks.push_back(self.request<int>(troupe::DynamicHandle{}, Ask{}));
        }
        got->emplace(co_await troupe::first_success(std::move(asks)));
      });
    });
    asker.send(Go{1});
    REQUIRE(system.wait_idle());
    REQUIRE(got->has_value());
    const auto& r = **got;
    REQUIRE_FALSE(r.ok());
    CHECK(r.code() == troupe::Errc::timeout);
    CHECK(r.error().what ==
          "all 3 requests failed: #0 timeout; #1 actor_failed: refused; #2 dead_actor: request "
          "through an empty handle");

    got->reset();
    asker.send(Go{0});
    REQUIRE(system.wait_idle());
    REQUIRE(got->has_value());
    CHECK((**got).code() == troupe::Errc::dead_actor);
  }

}  // TEST_SUITE
