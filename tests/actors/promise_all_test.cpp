// Replies given later (Promise), awaiting several requests at once (troupe::all), and coroutines
// replying with a Result.
#include <troupe/troupe.hpp>

#include "actors/exit_log.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <string>
#include <vector>

using namespace troupe_test;

namespace {

struct Get {};
struct Put {
  int value;
};
struct Drop {};
struct Refuse {};
struct Count {};
struct Square {
  int n;
};

// Answers Get only once a value has been Put: the Get requests wait in promises meanwhile.
auto mailbox_slot(troupe::Context& self) {
  auto waiting = std::make_shared<std::vector<troupe::Promise<int>>>();
  return troupe::behavior(
      [&self, waiting](Get) {
        auto p = self.promise<int>();
        waiting->push_back(p);
        return p;
      },
      [waiting](Put put) {
        for (auto& p : *waiting) p.deliver(put.value);
        waiting->clear();
      },
      [waiting](Drop) { waiting->clear(); },  // the last copies go: requesters hear "reply dropped"
      [waiting](Refuse) {
        for (auto& p : *waiting) p.fail(troupe::Error{troupe::Errc::unexpected_message, "refused"});
        waiting->clear();
      },
      [waiting](Count) { return static_cast<int>(waiting->size()); });
}

}  // namespace

TEST_SUITE("promises and all") {

TEST_CASE("a promise replies later, from another message's handler") {
  troupe::System system(troupe::Config{.workers = 2});
  auto slot = system.spawn(mailbox_slot);
  static_assert(std::is_same_v<decltype(slot)::reply_type<Get>, int>);
  std::vector<std::thread> requesters;
  std::atomic<int> got{0};
  std::vector<troupe::Result<int>> replies(3, troupe::Result<int>(troupe::Errc::timeout));
  for (std::size_t i = 0; i < 3; ++i) {
    requesters.emplace_back([&, i] {
      troupe::ScopedActor me(system);
      replies[i] = me.request(slot, Get{}, 10s);
      got.fetch_add(1);
    });
  }
  // The requests wait in promises. The value only the Put holds is what each reply must carry:
  // a reply given before it (a default, or an error) could not.
  troupe::ScopedActor me(system);
  REQUIRE(eventually([&] { return me.request(slot, Count{}).value_or(-1) == 3; }));
  CHECK(got.load() == 0);
  slot.send(Put{7});
  for (auto& t : requesters) t.join();
  CHECK(got.load() == 3);
  for (const auto& r : replies) CHECK(r.value_or(-1) == 7);
}

TEST_CASE("a promise that fails, or is dropped unanswered, gives the requester an error") {
  troupe::System system(troupe::Config{.workers = 2});
  auto slot = system.spawn(mailbox_slot);
  auto ask_then = [&](auto then) {
    troupe::Result<int> result(troupe::Errc::timeout);
    std::thread requester([&] {
      troupe::ScopedActor me(system);
      result = me.request(slot, Get{}, 10s);
    });
    troupe::ScopedActor me(system);
    REQUIRE(eventually([&] { return me.request(slot, Count{}).value_or(-1) == 1; }));
    slot.send(then);
    requester.join();
    return result;
  };
  auto refused = ask_then(Refuse{});
  CHECK(refused.code() == troupe::Errc::unexpected_message);
  CHECK(refused.error().what == "refused");
  auto dropped = ask_then(Drop{});
  CHECK(dropped.code() == troupe::Errc::dead_actor);
}

TEST_CASE("troupe::all awaits several requests at once and gives every result") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  auto square = system.spawn([](troupe::Context&) { return troupe::behavior([](Square s) { return s.n * s.n; }); });
  auto name = system.spawn([](troupe::Context&) { return troupe::behavior([](Get) { return std::string("troupe"); }); });
  struct Quit {};
  auto dead = system.spawn([](troupe::Context& self) {
    return troupe::behavior([&self](Quit) { self.quit(); }, [](Square s) { return s.n; });
  });
  dead.send(Quit{});
  REQUIRE(system.wait_idle(10s));
  struct Gather {};
  auto gatherer = system.spawn([&](troupe::Context& self) {
    return troupe::behavior([&self, square, name, dead](Gather) -> troupe::Task<std::string> {
      auto [a, b, c, d] = co_await troupe::all(self.request(square, Square{3}), self.request(name, Get{}),
                                                 self.request(dead, Square{1}), self.request(square, Square{4}));
      co_return std::to_string(a.value_or(-1)) + " " + b.value_or("?") + " " +
          std::string(troupe::to_string(c.code())) + " " + std::to_string(d.value_or(-1));
    });
  });
  CHECK(me.request(gatherer, Gather{}).value() == "9 troupe dead_actor 16");
}

TEST_CASE("a Task<Result<T>> replies with its value or its error, and the actor lives on") {
  HookLog log;
  troupe::System system(log.config());
  troupe::ScopedActor me(system);
  auto square = system.spawn([](troupe::Context&) { return troupe::behavior([](Square s) { return s.n * s.n; }); });
  auto checked = system.spawn([square](troupe::Context& self) {
    return troupe::behavior([&self, square](Square s) -> troupe::Task<troupe::Result<int>> {
      if (s.n < 0) co_return troupe::Error{troupe::Errc::unexpected_message, "negative"};
      auto r = co_await self.request(square, s);
      co_return r;
    });
  });
  static_assert(std::is_same_v<decltype(checked)::reply_type<Square>, int>);
  CHECK(me.request(checked, Square{5}).value() == 25);
  auto negative = me.request(checked, Square{-1});
  CHECK(negative.code() == troupe::Errc::unexpected_message);
  CHECK(negative.error().what == "negative");
  CHECK(me.request(checked, Square{6}).value() == 36);
  CHECK(log.exit_count() == 0);
}

}  // TEST_SUITE
