// The user's stash: stash() sets the current message aside, unstash_all() puts every stashed one
// back before everything not handled yet, in order, across a become; requests keep their reply;
// stashed messages count toward a bounded mailbox; they coexist with the stash a waiting
// coroutine uses.
#include <troupe/testing.hpp>
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace troupe_test;

namespace {

struct Deposit {
  int amount;
};
struct OpenAccount {};
struct Stashed {
  int count;
};
struct Go {
  troupe::DynamicHandle account;
  int amount;
};
struct Replied {
  int amount;
  int balance;
};
struct Item {
  char sender;
  int index;
};
struct Check {};
struct OpenGate {};
struct Ping {
  int n;
};

using Trace = std::vector<std::string>;

std::string label(const Item& i) {
  char text[16];
  std::snprintf(text, sizeof text, "%c%d", i.sender, i.index);
  return text;
}

std::vector<int> from(const Trace& trace, char sender) {
  std::vector<int> indices;
  for (const auto& e : trace) {
    if (e[0] == sender) indices.push_back(std::stoi(e.substr(1)));
  }
  return indices;
}

// An account: closed, it stashes deposits (telling `observer` how many it holds); opened, it
// takes them, answering each with the balance after it.
class Account {
 public:
  Account(troupe::Context& self, troupe::DynamicHandle observer) : self_(self), observer_(std::move(observer)) {}
  auto behavior() {
    return troupe::behavior(
        [this](Deposit) {
          self_.stash();
          observer_.send(Stashed{static_cast<int>(self_.stashed())});
          return -1;  // not sent: the stashed request is answered when it is handled again
        },
        [this](OpenAccount) {
          self_.become(troupe::behavior([this](Deposit d) { return balance_ += d.amount; }));
          self_.unstash_all();
        });
  }

 private:
  troupe::Context& self_;
  troupe::DynamicHandle observer_;
  int balance_ = 0;
};

// Asks the account for a deposit and tells `to` what came back.
auto client(troupe::Context& self, troupe::DynamicHandle to) {
  return troupe::behavior([&self, to](Go g) -> troupe::Task<void> {
    troupe::Result<int> r = co_await self.request<int>(g.account, Deposit{g.amount});
    to.send(Replied{g.amount, r.value_or(-2)});
  });
}

// A gate that stashes items until OpenGate; Check makes it await a request first (messages that
// come meanwhile wait in the coroutine's stash), in either state.
auto gate(troupe::Context& self, troupe::DynamicHandle echo, std::shared_ptr<Trace> trace) {
  auto check = [&self, echo](Check) -> troupe::Task<void> { co_await self.request<int>(echo, Ping{1}); };
  return troupe::behavior([&self](Item) { self.stash(); }, check,
                          [&self, trace, check](OpenGate) {
                            self.become(troupe::behavior([trace](Item i) { trace->push_back(label(i)); }, check));
                            self.unstash_all();
                          });
}

}  // namespace

TEST_SUITE("stash") {

TEST_CASE("stashed requests are answered when handled after unstash_all, in the order they came") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  auto account = system.spawn<Account>(me.handle());
  std::vector<troupe::DynamicHandle> clients;
  const std::vector<int> amounts{1, 2, 4, 8};
  for (int amount : amounts) {
    auto c = system.spawn(client, me.handle());
    c.send(Go{account, amount});
    // One at a time: the account has stashed this one before the next is sent.
    REQUIRE(me.receive<Stashed>(5s).value().count == static_cast<int>(clients.size()) + 1);
    clients.push_back(c);
  }
  account.send(OpenAccount{});
  std::vector<int> balance_for(9, 0);
  for (std::size_t i = 0; i < amounts.size(); ++i) {
    auto r = me.receive<Replied>(5s);
    REQUIRE(r.ok());
    balance_for[static_cast<std::size_t>(r->amount)] = r->balance;
  }
  // Handled in the order stashed: 1, then 2, then 4, then 8.
  CHECK(balance_for[1] == 1);
  CHECK(balance_for[2] == 3);
  CHECK(balance_for[4] == 7);
  CHECK(balance_for[8] == 15);
  CHECK(me.request<int>(account, Deposit{16}).value() == 31);
}

TEST_CASE("a catch-all may stash what the current behavior lacks; a stashed request is answered later, in order") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  auto trace = std::make_shared<Trace>();
  // Until OpenGate, the catch-all stashes everything (and says when it stashed a Ping); then
  // Items are traced, and a Ping is answered with its n plus the items traced before it.
  troupe::DynamicHandle observer = me.handle();
  auto actor = system.spawn([trace, observer](troupe::Context& self) {
    return troupe::behavior(
        [&self, trace](OpenGate) {
          self.become(troupe::behavior([trace](Item i) { trace->push_back(label(i)); },
                                       [trace](Ping p) { return p.n + static_cast<int>(trace->size()); }));
          self.unstash_all();
        },
        troupe::others([observer](troupe::AnyMessage& m) {
          m.stash();
          if (m.is<Ping>()) observer.send(Stashed{1});
        }));
  });
  troupe::DynamicHandle any = actor;
  for (int i = 0; i < 3; ++i) any.send(Item{'a', i});
  troupe::Result<int> answer(troupe::Errc::timeout);
  std::thread asker([&] {  // a thread of its own: its request blocks while stashed
    troupe::ScopedActor other(system);
    answer = other.request<int>(any, Ping{100}, 10s);
  });
  REQUIRE(me.receive<Stashed>(10s).ok());  // the Ping is stashed, behind the items
  actor.send(OpenGate{});
  asker.join();
  CHECK(answer.value() == 103);
  CHECK(*trace == Trace{"a0", "a1", "a2"});
}

TEST_CASE("stashed requests of an actor that stops get dead_actor, not silence") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  auto holder = system.spawn([](troupe::Context& self) {
    return troupe::behavior([&self](Deposit) {
      self.stash();
      self.quit();
    });
  });
  auto r = me.request(holder, Deposit{1}, 10s);
  CHECK(r.code() == troupe::Errc::dead_actor);
}

TEST_CASE("stash in a coroutine handler fails the actor with a clear reason") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  auto actor = system.spawn([](troupe::Context& self) {
    return troupe::behavior([&self](Deposit) -> troupe::Task<int> {
      self.stash();
      co_return 0;
    });
  });
  auto r = me.request(actor, Deposit{1});
  CHECK(r.code() == troupe::Errc::actor_failed);
  CHECK(r.error().message().find("stash() outside a handler of this actor, or in a coroutine") != std::string::npos);
}

TEST_CASE("stashed messages still count toward a bounded mailbox's capacity") {
  // Deterministic: nothing runs before wait_idle, so OpenAccount is still queued when the mailbox
  // is found full. (With workers, the account could handle it before the next send.)
  troupe::System system(troupe::testing::deterministic(1));
  auto stashed = std::make_shared<std::vector<int>>();
  auto replies = std::make_shared<std::vector<Replied>>();
  auto observer = system.spawn([stashed, replies](troupe::Context&) {
    return troupe::behavior([stashed](Stashed s) { stashed->push_back(s.count); },
                            [replies](Replied r) { replies->push_back(r); });
  });
  troupe::SpawnOptions options;
  options.mailbox_capacity = 3;
  options.overflow = troupe::Overflow::fail;
  auto account = system.spawn<Account>(options, troupe::DynamicHandle(observer));
  const troupe::runtime::MailboxLimit& limit = *account.core()->mailbox_limit();
  CHECK(account.send(Deposit{1}).ok());
  CHECK(account.send(Deposit{2}).ok());
  REQUIRE(system.wait_idle());
  CHECK(*stashed == std::vector<int>{1, 2});
  CHECK(limit.queued() == 2);  // both stashed, both counted
  CHECK(account.send(OpenAccount{}).ok());
  CHECK(account.send(Deposit{4}).code() == troupe::Errc::mailbox_full);  // 2 stashed + Open
  // Open unstashes them; once handled they no longer count.
  REQUIRE(system.wait_idle());
  CHECK(limit.queued() == 0);
  system.spawn(client, troupe::DynamicHandle(observer)).send(Go{account, 8});
  REQUIRE(system.wait_idle());
  REQUIRE(replies->size() == 1);
  CHECK(replies->front().balance == 11);  // 1 + 2 + 8: the refused 4 never came in
  CHECK(limit.queued() == 0);             // all handled for good
}

TEST_CASE("deterministic: unstashed items go before those a coroutine's wait set aside, under every seed") {
  const auto result = troupe::testing::explore(60, [](std::uint64_t seed) {
    auto trace = std::make_shared<Trace>();
    troupe::System system(troupe::testing::deterministic(seed));
    auto echo = system.spawn([](troupe::Context&) { return troupe::behavior([](Ping p) { return p.n; }); });
    auto g = system.spawn(gate, troupe::DynamicHandle(echo), trace);
    auto b = system.spawn([g](troupe::Context&) {
      return troupe::behavior([g](Ping) {
        for (int i = 0; i < 4; ++i) g.send(Item{'b', i});
      });
    });
    // Nothing runs before wait_idle: a0 and a1 are stashed; a2, OpenGate, a3 arrive while Check
    // awaits echo, so OpenGate is handled out of the coroutine's stash, with a3 still behind it.
    // Then b's items come in wherever the seed puts them.
    g.send(Item{'a', 0});
    g.send(Item{'a', 1});
    g.send(Check{});
    b.send(Ping{0});
    g.send(Item{'a', 2});
    g.send(OpenGate{});
    g.send(Item{'a', 3});
    g.send(Check{});
    g.send(Item{'a', 4});
    troupe::testing::check(system.wait_idle(), "the system went idle");
    troupe::testing::check(from(*trace, 'a') == std::vector<int>{0, 1, 2, 3, 4}, "a's items out of order");
    troupe::testing::check(from(*trace, 'b') == std::vector<int>{0, 1, 2, 3}, "b's items out of order");
  });
  CHECK_MESSAGE(result, result.failure);
}

}  // TEST_SUITE
