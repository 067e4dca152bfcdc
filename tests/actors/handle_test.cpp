// Typed handles (what they accept, checked at compile time) and dynamic handles.
#include <troupe/troupe.hpp>

#include "actors/exit_log.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <string>
#include <type_traits>
#include <unordered_set>

using namespace troupe_test;

namespace {

struct Get {};
struct Add {
  int n;
};
struct Reset {};
struct Other {};
struct Declared {
  using reply_type = std::string;
};

auto counter(troupe::Context&) {
  auto total = std::make_shared<int>(0);
  return troupe::behavior([total](Add a) { *total += a.n; }, [total](Get) { return *total; },
                          [total](Reset) -> troupe::Result<void> {
                            if (*total < 0) return troupe::Error{troupe::Errc::actor_failed, "negative"};
                            *total = 0;
                            return {};
                          },
                          [](Declared) { return std::string("declared"); });
}

using CounterHandle = troupe::Handle<void(Add), int(Get), void(Reset), std::string(Declared)>;

}  // namespace

TEST_SUITE("handles") {

TEST_CASE("a typed handle lists exactly its actor's handlers and their reply types") {
  troupe::System system(troupe::Config{.workers = 1});
  auto h = system.spawn(counter);
  // The handle type is derived from the behavior: one signature per handler.
  static_assert(std::is_same_v<decltype(h), CounterHandle>);
  static_assert(decltype(h)::accepts<Add>);
  static_assert(decltype(h)::accepts<Get>);
  static_assert(decltype(h)::accepts<const Get&>);  // decayed
  static_assert(!decltype(h)::accepts<Other>);       // h.send(Other{}) does not compile
  static_assert(!decltype(h)::accepts<int>);
  static_assert(std::is_same_v<decltype(h)::reply_type<Get>, int>);
  static_assert(std::is_same_v<decltype(h)::reply_type<Add>, void>);
  static_assert(std::is_same_v<decltype(h)::reply_type<Reset>, void>);  // from Result<void>
  static_assert(std::is_same_v<troupe::reply_of<CounterHandle, Get>::type, int>);
  static_assert(std::is_same_v<troupe::reply_of<troupe::DynamicHandle, Declared>::type, std::string>);
  static_assert(std::is_same_v<troupe::reply_of<troupe::DynamicHandle, Get>::type, void>);
  // A class derived from a typed handle (a library's own handle type) keeps its reply types.
  struct DerivedCounter : CounterHandle {};
  static_assert(std::is_same_v<troupe::reply_of<DerivedCounter, Get>::type, int>);

  troupe::ScopedActor me(system);
  h.send(Add{4});
  // Requests through a typed handle know their reply type.
  auto total = me.request(h, Get{});
  static_assert(std::is_same_v<decltype(total), troupe::Result<int>>);
  CHECK(total.value() == 4);
  auto added = me.request(h, Add{1});
  static_assert(std::is_same_v<decltype(added), troupe::Result<void>>);
  CHECK(added.ok());
  CHECK(me.request(h, Get{}).value() == 5);
}

TEST_CASE("DynamicHandle: converted from a typed one, sends anything, compares and hashes") {
  HookLog log;
  troupe::System system(log.config(1));
  troupe::ScopedActor me(system);
  auto typed = system.spawn(counter);
  troupe::DynamicHandle dynamic = typed;
  CHECK(dynamic.valid());
  CHECK(static_cast<bool>(dynamic));
  CHECK(dynamic == typed);
  troupe::DynamicHandle copy = dynamic;
  troupe::DynamicHandle moved = std::move(copy);
  CHECK_FALSE(copy.valid());  // NOLINT(bugprone-use-after-move): a moved-from handle is empty
  CHECK(moved == dynamic);

  dynamic.send(Add{3});
  dynamic.send(Add{4});
  // The reply type is named, or declared by the message.
  auto total = me.request<int>(dynamic, Get{});
  CHECK(total.value() == 7);
  CHECK(me.request(dynamic, Declared{}).value() == "declared");
  // Naming the wrong reply type is reported, not undefined behaviour.
  auto wrong = me.request<std::string>(dynamic, Get{});
  CHECK(wrong.code() == troupe::Errc::unexpected_reply);

  // A dynamic handle sends what the actor does not handle: a dead letter of reason `unhandled`.
  dynamic.send(Other{});
  REQUIRE(system.wait_idle(10s));
  CHECK(system.dead_letters() == 1);
  auto letters = log.dead_letters();
  REQUIRE(letters.size() == 1);
  CHECK(letters[0].reason == troupe::DeadLetter::Reason::unhandled);
  CHECK(contains(letters[0].message_type, "Other"));
  CHECK_FALSE(letters[0].was_request);
  CHECK(me.request<int>(dynamic, Get{}).value() == 7);  // the actor lives on

  auto other = system.spawn(counter);
  CHECK_FALSE(troupe::DynamicHandle(other) == dynamic);
  CHECK(((troupe::DynamicHandle(other) < dynamic) != (dynamic < troupe::DynamicHandle(other))));
  std::unordered_set<troupe::DynamicHandle> set{dynamic, typed, moved, other};
  CHECK(set.size() == 2);
  CHECK(set.count(typed) == 1);
}

TEST_CASE("handlers take their message by value, reference, const reference or rvalue reference") {
  troupe::System system(troupe::Config{.workers = 1});
  troupe::ScopedActor me(system);
  struct ByValue {
    std::string s;
  };
  struct ByRef {
    std::string s;
  };
  struct ByConstRef {
    std::string s;
  };
  struct ByRvalue {
    std::string s;
  };
  auto a = system.spawn([](troupe::Context&) {
    return troupe::behavior([](ByValue m) { return m.s + "v"; }, [](ByRef& m) { return m.s += "r"; },
                            [](const ByConstRef& m) { return m.s + "c"; },
                            [](ByRvalue&& m) { return std::string(std::move(m.s)) + "m"; });
  });
  static_assert(decltype(a)::accepts<ByRef> && decltype(a)::accepts<ByRvalue>);
  CHECK(me.request(a, ByValue{"x"}).value() == "xv");
  CHECK(me.request(a, ByRef{"x"}).value() == "xr");
  CHECK(me.request(a, ByConstRef{"x"}).value() == "xc");
  CHECK(me.request(a, ByRvalue{"x"}).value() == "xm");
}

TEST_CASE("an empty handle: requests through it fail with dead_actor") {
  troupe::System system(troupe::Config{.workers = 1});
  troupe::ScopedActor me(system);
  troupe::DynamicHandle none;
  CHECK_FALSE(none.valid());
  CHECK(me.request<int>(none, Get{}).code() == troupe::Errc::dead_actor);
  CounterHandle typed_none;
  CHECK(me.request(typed_none, Get{}).code() == troupe::Errc::dead_actor);

  struct Via {};
  auto proxy = system.spawn([](troupe::Context& self) {
    return troupe::behavior([&self](Via) -> troupe::Task<int> {
      troupe::DynamicHandle nobody;
      auto r = co_await self.request<int>(nobody, Get{});
      co_return static_cast<int>(r.code());
    });
  });
  CHECK(me.request(proxy, Via{}).value() == static_cast<int>(troupe::Errc::dead_actor));
}

TEST_CASE("handles keep working after the actor is gone: sends become dead letters") {
  troupe::System system(troupe::Config{.workers = 1});
  troupe::ScopedActor me(system);
  struct Quit {};
  auto h = system.spawn([](troupe::Context& self) { return troupe::behavior([&self](Quit) { self.quit(); }); });
  troupe::DynamicHandle keep = h;
  h.send(Quit{});
  REQUIRE(system.wait_idle(10s));
  CHECK(system.live_actors() == 0);
  keep.send(Quit{});
  h.send(Quit{});
  CHECK(system.dead_letters() == 2);
}

}  // TEST_SUITE
