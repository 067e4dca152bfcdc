// Bounded mailboxes: what a capacity never holds back, and the policy a capacity alone gets.
// - An exit, a Down, a reply and a request's timeout each reach an actor whose mailbox is full
//   (a send to it is refused at that moment), under the drop and the fail policy, and none of
//   them takes a place that a user message could have had.
// - A capacity set without a policy means backpressure: nothing is refused or dropped, a thread
//   waits for room and an actor is muted.
// All in deterministic mode: the receiver's mailbox stays full exactly as long as the test says,
// and "afterwards" means "once nothing else can run", not "after a while".
#include <troupe/testing.hpp>
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

using namespace troupe_test;
using troupe::testing::check;

namespace {

constexpr std::uint32_t kCapacity = 2;
constexpr std::uint64_t kSeeds = 20;

struct Item {
  int n;
};
struct AwaitServer {};  // the receiver's coroutine awaits the server; meanwhile its mailbox fills
struct Ask {
  using reply_type = int;
};
struct Answer {
  int value;
};
struct Fail {};
struct Quit {};

using Trace = std::vector<std::string>;

troupe::SpawnOptions bounded(std::uint32_t capacity, troupe::Overflow overflow) {
  troupe::SpawnOptions o;
  o.mailbox_capacity = capacity;
  o.overflow = overflow;
  return o;
}

// Keeps the promise of every Ask until told to Answer.
auto server(troupe::Context& self) {
  auto kept = std::make_shared<std::vector<troupe::Promise<int>>>();
  return troupe::behavior(
      [&self, kept](Ask) {
        kept->push_back(self.promise<int>());
        return kept->back();
      },
      [kept](Answer a) {
        for (auto& p : *kept) p.deliver(a.value);
        kept->clear();
      });
}

// Fails on Fail, stops normally on Quit.
auto peer(troupe::Context& self) {
  return troupe::behavior([](Fail) { throw std::runtime_error("peer failed"); }, [&self](Quit) { self.quit(); });
}

// Traps exits, is linked to `linked` and monitors `watched`, and records all it handles. On
// AwaitServer its coroutine awaits `server` for an hour of virtual time: until the answer (or the
// timeout) it handles nothing else, so what arrives stays in its mailbox, and user messages keep
// counting against its capacity.
auto receiver(troupe::Context& self, troupe::DynamicHandle linked, troupe::DynamicHandle watched,
              troupe::DynamicHandle srv, std::shared_ptr<Trace> trace) {
  self.trap_exits(true);
  self.link(linked);
  self.monitor(watched);
  return troupe::behavior(
      [&self, srv, trace](AwaitServer) -> troupe::Task<void> {
        troupe::Result<int> r = co_await self.request(srv, Ask{}, std::chrono::hours(1));
        if (r) {
          trace->push_back("reply " + std::to_string(*r));
        } else {
          trace->push_back(r.code() == troupe::Errc::timeout ? "timeout" : "error " + r.error().message());
        }
      },
      [trace](Item i) { trace->push_back("item " + std::to_string(i.n)); },
      [trace](const troupe::Exit& e) { trace->push_back("exit " + e.reason.to_string()); },
      [trace](const troupe::Down& d) { trace->push_back("down " + d.reason.to_string()); });
}

enum class Arrival { exit, down, reply, timeout };

const char* name_of(Arrival a) {
  switch (a) {
    case Arrival::exit:
      return "exit";
    case Arrival::down:
      return "down";
    case Arrival::reply:
      return "reply";
    case Arrival::timeout:
      return "timeout";
  }
  return "?";
}

std::string joined(const Trace& trace) {
  std::string text;
  for (const auto& e : trace) text += e + "; ";
  return text;
}

// Whether a user message would be refused now (the driving thread's send runs nothing under drop
// and fail, so this looks at the mailbox as it stands).
bool refuses(troupe::DynamicHandle& receiver, int n) {
  return receiver.send(Item{n}).code() == troupe::Errc::mailbox_full;
}

// One seed: fills the suspended receiver's mailbox, makes `arrival` happen, then lets it resume.
// Returns the receiver's trace.
Trace run(std::uint64_t seed, troupe::Overflow policy, Arrival arrival) {
  auto trace = std::make_shared<Trace>();
  troupe::Config config = troupe::testing::deterministic(seed);
  config.on_actor_exit = [](const troupe::ExitInfo&) {};  // the peer's failure is expected: no log
  troupe::System system(config);
  auto srv = system.spawn(server);
  auto linked = system.spawn(peer);
  auto watched = system.spawn(peer);
  troupe::DynamicHandle r = system.spawn(bounded(kCapacity, policy), receiver, troupe::DynamicHandle(linked),
                                         troupe::DynamicHandle(watched), troupe::DynamicHandle(srv), trace);
  r.send(AwaitServer{});
  system.advance_time(std::chrono::seconds(1));  // everything runs; the request is pending
  check(trace->empty(), "the receiver is suspended, nothing handled yet");

  for (int n = 1; n <= static_cast<int>(kCapacity); ++n) check(r.send(Item{n}).ok(), "an item within capacity");
  check(refuses(r, 99), "the mailbox is full before the arrival");

  switch (arrival) {
    case Arrival::exit:
      linked.send(Fail{});
      break;
    case Arrival::down:
      watched.send(Quit{});
      break;
    case Arrival::reply:
      srv.send(Answer{42});
      break;
    case Arrival::timeout:
      break;  // the hour passes below
  }
  if (arrival == Arrival::exit || arrival == Arrival::down) {
    // The signal has arrived (nothing else is left to run) and the receiver is still suspended:
    // its mailbox is as full as before. (That the signal took no place in it shows below.)
    system.advance_time(std::chrono::seconds(1));
    check(trace->empty(), "the receiver stayed suspended");
    check(refuses(r, 98), "the mailbox is still full");
    srv.send(Answer{42});  // now let it resume
  }
  check(system.wait_idle(), "the system goes idle");
  check(trace->size() > kCapacity, "the receiver never resumed: " + joined(*trace));

  // Everything handled: a whole capacity of room again (an arrival that had been counted and
  // never uncounted would leave one place less).
  for (int n = 1; n <= static_cast<int>(kCapacity); ++n) check(r.send(Item{100 + n}).ok(), "room again");
  check(refuses(r, 199), "full again at capacity");
  return *trace;
}

Trace expected(Arrival arrival) {
  switch (arrival) {
    case Arrival::exit:  // the Exit overtakes the queued items once the coroutine is done
      return {"reply 42", "exit error: peer failed", "item 1", "item 2"};
    case Arrival::down:
      return {"reply 42", "down normal", "item 1", "item 2"};
    case Arrival::reply:
      return {"reply 42", "item 1", "item 2"};
    case Arrival::timeout:
      return {"timeout", "item 1", "item 2"};
  }
  return {};
}

}  // namespace

TEST_SUITE("bounded mailboxes") {
  TEST_CASE("an exit, a Down, a reply and a timeout each reach an actor whose mailbox is full") {
    for (troupe::Overflow policy : {troupe::Overflow::fail, troupe::Overflow::drop}) {
      for (Arrival arrival : {Arrival::exit, Arrival::down, Arrival::reply, Arrival::timeout}) {
        CAPTURE(static_cast<int>(policy));
        CAPTURE(name_of(arrival));
        const auto result = troupe::testing::explore(kSeeds, [&](std::uint64_t seed) {
          const Trace trace = run(seed, policy, arrival);
          check(trace == expected(arrival),
                std::string(name_of(arrival)) + " did not arrive as expected: " + joined(trace));
        });
        CHECK_MESSAGE(result, result.failure);
      }
    }
  }

  TEST_CASE("a capacity alone means backpressure: the driving thread is held back, nothing is refused or lost") {
    troupe::SpawnOptions options;
    options.mailbox_capacity = 4;  // and no policy
    CHECK(options.overflow == troupe::Overflow::backpressure);
    const auto result = troupe::testing::explore(kSeeds, [&](std::uint64_t seed) {
      struct Counts {
        std::uint64_t sent = 0;  // one thread runs everything: plain counters
        std::uint64_t handled = 0;
        std::uint64_t max_backlog = 0;
        bool out_of_order = false;
      };
      auto counts = std::make_shared<Counts>();
      troupe::System system(troupe::testing::deterministic(seed));
      auto sink = system.spawn(options, [counts](troupe::Context&) {
        return troupe::behavior([counts](Item i) {
          if (static_cast<std::uint64_t>(i.n) != counts->handled + 1) counts->out_of_order = true;
          ++counts->handled;
        });
      });
      constexpr int kTotal = 40;
      for (int n = 1; n <= kTotal; ++n) {
        // Under backpressure this send runs the actors until there is room; under drop or fail
        // it would refuse the fifth message.
        check(sink.send(Item{n}).ok(), "a send refused");
        ++counts->sent;
        counts->max_backlog = std::max(counts->max_backlog, counts->sent - counts->handled);
      }
      check(counts->handled > 0, "the sends were never held back for room");
      check(counts->max_backlog <= 4, "more than the capacity waited");
      check(system.wait_idle(), "the system goes idle");
      check(counts->handled == kTotal && !counts->out_of_order, "every item handled once, in order");
      check(system.dead_letters() == 0, "a dead letter");
    });
    CHECK_MESSAGE(result, result.failure);
  }

  TEST_CASE("a capacity alone means backpressure: an actor that floods it is muted, and loses nothing") {
    constexpr std::uint32_t kCap = 8;
    constexpr int kBatch = 4;
    constexpr int kTotal = 200;
    const auto result = troupe::testing::explore(kSeeds, [&](std::uint64_t seed) {
      struct Counts {
        std::uint64_t sent = 0;
        std::uint64_t handled = 0;
        std::uint64_t max_backlog = 0;
        bool refused = false;  // not check() in a handler: a throw there fails the actor, not the seed
      };
      struct More {};
      auto counts = std::make_shared<Counts>();
      troupe::System system(troupe::testing::deterministic(seed, 4));
      troupe::SpawnOptions options;
      options.mailbox_capacity = kCap;
      auto sink = system.spawn(options, [counts](troupe::Context&) {
        return troupe::behavior([counts](Item) {
          ++counts->handled;
          counts->max_backlog = std::max(counts->max_backlog, counts->sent - counts->handled);
        });
      });
      auto flooder = system.spawn([sink, counts](troupe::Context& self) {
        return troupe::behavior([&self, sink, counts, next = 1](More) mutable {
          for (int i = 0; i < kBatch && next <= kTotal; ++i, ++next) {
            ++counts->sent;
            if (!sink.send(Item{next}).ok()) counts->refused = true;
          }
          if (next <= kTotal) self.self().send(More{});
        });
      });
      flooder.send(More{});
      check(system.wait_idle(), "the system goes idle");
      check(!counts->refused, "a send from an actor refused");
      check(counts->handled == kTotal, "an item was lost");
      // Muted at the end of the turn that found the mailbox full: at most a batch beyond capacity.
      check(counts->max_backlog <= kCap + kBatch, "the flooder was not muted");
      check(system.dead_letters() == 0, "a dead letter");
    });
    CHECK_MESSAGE(result, result.failure);
  }
}
