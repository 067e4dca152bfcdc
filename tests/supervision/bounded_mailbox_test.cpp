// Bounded mailboxes: the drop and fail policies, backpressure on threads (they wait) and on
// actors (they are muted), and no deadlock in a cycle of full mailboxes. (The 10^7-message flood:
// bounded_flood_test.cpp.)
#include <troupe/testing.hpp>
#include <troupe/troupe.hpp>

#include "supervision/gated_receiver.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

using namespace troupe_test;
using namespace bounded_test;

TEST_SUITE("bounded mailboxes") {
  TEST_CASE("drop: messages beyond capacity are dead letters; a refused request gets mailbox_full") {
    DeadLetterLog log;
    troupe::System system(log.config());
    auto gate = std::make_shared<Gate>();
    auto receiver = system.spawn(bounded(8, troupe::Overflow::drop), gated_receiver, gate);
    receiver.send(Hold{});
    REQUIRE(eventually([&] { return gate->holding.load(); }));

    int refused = 0;
    for (std::uint64_t i = 1; i <= 20; ++i) {
      const troupe::SendResult r = receiver.send(Item{i});
      if (!r) {
        CHECK(r.code() == troupe::Errc::mailbox_full);
        ++refused;
      }
    }
    CHECK(refused == 12);
    CHECK(log.mailbox_full.load() == 12);

    troupe::ScopedActor me(system);
    auto reply = me.request(receiver, Ask{}, 5s);
    REQUIRE_FALSE(reply.ok());
    CHECK(reply.code() == troupe::Errc::mailbox_full);
    CHECK(log.mailbox_full_requests.load() == 1);

    gate->open.release();
    REQUIRE(system.wait_idle(10s));
    CHECK(gate->handled.load() == 8);
    CHECK(system.dead_letters() == 13);
    CHECK_FALSE(gate->out_of_order.load());
    // Room again: a request goes through.
    CHECK(me.request(receiver, Ask{}, 5s).value_or(0) == 7);
  }

  TEST_CASE("fail: the send returns mailbox_full and nothing counts as a dead letter") {
    DeadLetterLog log;
    troupe::System system(log.config());
    auto gate = std::make_shared<Gate>();
    auto receiver = system.spawn(bounded(4, troupe::Overflow::fail), gated_receiver, gate);
    receiver.send(Hold{});
    REQUIRE(eventually([&] { return gate->holding.load(); }));
    for (std::uint64_t i = 1; i <= 4; ++i) CHECK(receiver.send(Item{i}).ok());
    CHECK(receiver.send(Item{5}).code() == troupe::Errc::mailbox_full);
    troupe::ScopedActor me(system);
    CHECK(me.request(receiver, Ask{}, 5s).code() == troupe::Errc::mailbox_full);
    gate->open.release();
    REQUIRE(system.wait_idle(10s));
    CHECK(gate->handled.load() == 4);
    CHECK(system.dead_letters() == 0);
    CHECK(log.mailbox_full.load() == 0);
  }

  TEST_CASE("backpressure: a thread that sends to a full mailbox waits for room, and loses nothing") {
    troupe::System system(troupe::Config{.workers = 2});
    auto gate = std::make_shared<Gate>();
    constexpr std::uint64_t capacity = 16;
    auto receiver = system.spawn(bounded(capacity, troupe::Overflow::backpressure), gated_receiver, gate);
    receiver.send(Hold{});
    REQUIRE(eventually([&] { return gate->holding.load(); }));

    std::atomic<std::uint64_t> sent{0};
    std::thread sender([&] {
      for (std::uint64_t i = 1; i <= 3 * capacity; ++i) {
        receiver.send(Item{i});
        sent.fetch_add(1);
      }
    });
    // The receiver is held in the turn that took Hold, and Hold counts until that turn ends (the
    // owner of a backpressure mailbox takes what it handled off the count in batches): the sender
    // gets as far as capacity - 1, then waits for room.
    REQUIRE(eventually([&] { return sent.load() == capacity - 1 && limit_of(receiver).waiting_threads() == 1; }));
    CHECK(sent.load() == capacity - 1);
    CHECK(limit_of(receiver).queued() == capacity);
    CHECK(gate->handled.load() == 0);

    gate->open.release();
    sender.join();
    REQUIRE(system.wait_idle(10s));
    CHECK(gate->handled.load() == 3 * capacity);
    CHECK_FALSE(gate->out_of_order.load());
    CHECK(system.dead_letters() == 0);
  }

  TEST_CASE("backpressure: an actor that floods a slow bounded actor is muted; the backlog stays bounded") {
    troupe::System system(troupe::Config{.workers = 2});
    constexpr std::uint64_t capacity = 64;
    constexpr std::uint64_t batch = 32;
    const std::uint64_t total = scaled(200'000);
    struct Shared {
      std::atomic<std::uint64_t> sent{0};
      std::atomic<std::uint64_t> handled{0};
      std::atomic<std::uint64_t> max_backlog{0};
      std::atomic<bool> out_of_order{false};
    };
    auto shared = std::make_shared<Shared>();

    auto receiver = system.spawn(
        bounded(capacity, troupe::Overflow::backpressure), [](troupe::Context&, std::shared_ptr<Shared> s) {
          return troupe::behavior([s, last = std::uint64_t{0}](Item item) mutable {
            if (item.seq != last + 1) s->out_of_order.store(true);
            last = item.seq;
            const std::uint64_t handled = s->handled.fetch_add(1) + 1;
            const std::uint64_t backlog = s->sent.load() - handled;
            if (backlog > s->max_backlog.load()) s->max_backlog.store(backlog);
            volatile std::uint64_t burn = 0;  // a slow handler
            for (int i = 0; i < 200; ++i) burn = burn + static_cast<std::uint64_t>(i);
          });
        },
        shared);

    struct More {};
    auto sender = system.spawn(
        [](troupe::Context& self, troupe::DynamicHandle to, std::shared_ptr<Shared> s, std::uint64_t total) {
          return troupe::behavior([&self, to, s, total, next = std::uint64_t{1}](More) mutable {
            for (std::uint64_t i = 0; i < batch && next <= total; ++i, ++next) {
              s->sent.fetch_add(1);
              to.send(Item{next});
            }
            if (next <= total) self.self().send(More{});
          });
        },
        troupe::DynamicHandle(receiver), shared, total);
    sender.send(More{});

    REQUIRE(eventually([&] { return shared->handled.load() == total; }, 120s));
    CHECK_FALSE(shared->out_of_order.load());
    // Muted at the end of the turn that found the mailbox full: at most one batch beyond capacity.
    CHECK(shared->max_backlog.load() <= capacity + batch);
    CHECK(system.dead_letters() == 0);
  }

  TEST_CASE("backpressure: two bounded actors flooding each other do not deadlock") {
    troupe::System system(troupe::Config{.workers = 2});
    const std::uint64_t total = scaled(100'000);
    struct Go {
      troupe::DynamicHandle peer;
    };
    // Each flooder numbers what it sends, 1, 2, ...; the other checks that each number comes
    // once, in order (FIFO per sender and receiver), so a loss cannot hide behind a duplicate.
    struct Done {
      std::uint64_t received;
      std::uint64_t last;
      std::uint64_t out_of_order;
    };
    struct More {};
    auto flooder = [](troupe::Context& self, troupe::DynamicHandle report, std::uint64_t total) {
      struct State {
        troupe::DynamicHandle peer;
        std::uint64_t sent = 0;
        std::uint64_t received = 0;
        std::uint64_t last = 0;  // the number of the last Item received
        std::uint64_t out_of_order = 0;
        bool reported = false;
      };
      auto st = std::make_shared<State>();
      auto maybe_done = [st, report, total] {
        if (!st->reported && st->sent == total && st->received == total) {
          st->reported = true;
          report.send(Done{st->received, st->last, st->out_of_order});
        }
      };
      return troupe::behavior(
          [&self, st, maybe_done](Go go) {
            st->peer = go.peer;
            self.self().send(More{});
            maybe_done();
          },
          [&self, st, total, maybe_done](More) {
            for (int i = 0; i < 64 && st->sent < total; ++i) {
              ++st->sent;
              st->peer.send(Item{st->sent});
            }
            if (st->sent < total) self.self().send(More{});
            maybe_done();
          },
          [st, maybe_done](Item item) {
            if (item.seq != st->last + 1) ++st->out_of_order;
            st->last = item.seq;
            ++st->received;
            maybe_done();
          });
    };
    troupe::ScopedActor me(system);
    auto a = system.spawn(bounded(32, troupe::Overflow::backpressure), flooder, me.handle(), total);
    auto b = system.spawn(bounded(32, troupe::Overflow::backpressure), flooder, me.handle(), total);
    a.send(Go{b});
    b.send(Go{a});
    for (int i = 0; i < 2; ++i) {
      auto done = me.receive<Done>(120s);
      REQUIRE(done.ok());
      CHECK(done->received == total);
      CHECK(done->last == total);
      CHECK(done->out_of_order == 0);
    }
  }

  TEST_CASE(
      "deterministic mode: a muted actor waits parked, still stops at once when killed, and shutdown does not "
      "wait for its receiver") {
    // One thread runs everything, so "the muted sender handled nothing more" is checked after
    // everything else that could run has run, not after a sleep.
    troupe::System system(troupe::testing::deterministic(17, 4));
    struct Release {};
    struct Seen {  // one thread: plain fields
      std::uint64_t handled = 0;
      std::uint64_t last = 0;
      bool out_of_order = false;
    };
    auto seen = std::make_shared<Seen>();
    // Answers Ask only once released: the receiver awaits it meanwhile, its mailbox filling.
    auto keeper = system.spawn([](troupe::Context& self) {
      auto kept = std::make_shared<std::vector<troupe::Promise<int>>>();
      return troupe::behavior(
          [&self, kept](Ask) {
            kept->push_back(self.promise<int>());
            return kept->back();
          },
          [kept](Release) {
            for (auto& p : *kept) p.deliver(0);
            kept->clear();
          });
    });
    struct HoldUntil {
      troupe::DynamicHandle keeper;
    };
    auto receiver = system.spawn(bounded(4, troupe::Overflow::backpressure), [seen](troupe::Context& self) {
      return troupe::behavior(
          [&self](HoldUntil h) -> troupe::Task<void> { (void)co_await self.request<int>(h.keeper, Ask{}, 1h); },
          [seen](Item item) {
            if (item.seq != seen->last + 1) seen->out_of_order = true;
            seen->last = item.seq;
            ++seen->handled;
          });
    });
    struct Flood {};
    auto flooder = [](troupe::Context&, troupe::DynamicHandle to, std::shared_ptr<int> floods) {
      return troupe::behavior([to, floods](Flood) {
        for (std::uint64_t i = 1; i <= 10; ++i) to.send(Item{i});
        ++*floods;
      });
    };
    auto floods = std::make_shared<int>(0);
    auto sender = system.spawn(flooder, troupe::DynamicHandle(receiver), floods);
    troupe::ScopedActor me(system);
    me.monitor(sender);
    receiver.send(HoldUntil{keeper});
    sender.send(Flood{});
    sender.send(Flood{});
    system.advance_time(1s);  // everything that can run runs (the 1 h request timeout aside)
    CHECK(*floods == 1);      // muted by the full mailbox after its first flood, and parked
    CHECK(limit_of(receiver).queued() == 10);
    CHECK(limit_of(receiver).has_muted());

    auto killer = system.spawn(
        [](troupe::Context& self, troupe::DynamicHandle target) {
          self.exit(target, troupe::ExitReason::kill());
          self.quit();
          return troupe::behavior([](Flood) {});
        },
        troupe::DynamicHandle(sender));
    auto down = me.receive<troupe::Down>(10s);
    REQUIRE(down.ok());
    CHECK(down->reason.kind == troupe::ExitReason::Kind::kill);
    CHECK(seen->handled == 0);  // the receiver is still held
    keeper.send(Release{});
    REQUIRE(system.wait_idle());
    CHECK(seen->handled == 10);
    CHECK(seen->last == 10);
    CHECK_FALSE(seen->out_of_order);
    CHECK(*floods == 1);  // killed before its second message

    // Held again and flooded by a new sender, which is muted and parked: shutdown stops both,
    // and the messages still queued are dead letters.
    auto floods2 = std::make_shared<int>(0);
    auto sender2 = system.spawn(flooder, troupe::DynamicHandle(receiver), floods2);
    receiver.send(HoldUntil{keeper});
    sender2.send(Flood{});
    sender2.send(Flood{});
    system.advance_time(1s);
    CHECK(*floods2 == 1);
    const std::uint64_t dead_before = system.dead_letters();
    system.shutdown();
    CHECK(system.live_actors() == 0);
    CHECK(seen->handled == 10);
    // The ten Items and sender2's second Flood, at least (an answer to the abandoned request
    // may come too).
    CHECK(system.dead_letters() - dead_before >= 11);
    (void)killer;
  }

  TEST_CASE("backpressure: room an actor reserved ahead and did not use is given back when its turn ends") {
    // An actor's second send in a row to one mailbox reserves room for a batch (an eighth of this
    // capacity: 8). A turn that sends only three gives the rest back, so once they are handled
    // the count is zero again.
    troupe::System system(troupe::testing::deterministic(1));
    auto receiver = system.spawn(bounded(64, troupe::Overflow::backpressure),
                                 [](troupe::Context&) { return troupe::behavior([](Item) {}); });
    struct Go {};
    auto sender = system.spawn([to = troupe::DynamicHandle(receiver)](troupe::Context&) {
      return troupe::behavior([to](Go) {
        for (std::uint64_t i = 1; i <= 3; ++i) to.send(Item{i});
      });
    });
    sender.send(Go{});
    REQUIRE(system.wait_idle());
    CHECK(limit_of(receiver).queued() == 0);
  }

  TEST_CASE("backpressure: muted senders are let go one at a time, and every one of them once the receiver drains") {
    // Six actors each fill the mailbox once and are muted; then they only report. The receiver
    // lets one go at its low water mark and the rest as it drains, so all six report.
    troupe::System system(troupe::testing::deterministic(3));
    troupe::ScopedActor me(system);
    auto receiver = system.spawn(bounded(16, troupe::Overflow::backpressure),
                                 [](troupe::Context&) { return troupe::behavior([](Item) {}); });
    struct Flood {};
    struct Report {};
    struct Reported {};
    constexpr int senders = 6;
    for (int s = 0; s < senders; ++s) {
      auto sender = system.spawn([to = troupe::DynamicHandle(receiver), done = me.handle()](troupe::Context&) {
        return troupe::behavior(
            [to](Flood) {
              for (std::uint64_t i = 1; i <= 16; ++i) to.send(Item{i});
            },
            [done](Report) { done.send(Reported{}); });
      });
      sender.send(Flood{});
      sender.send(Report{});
    }
    for (int s = 0; s < senders; ++s) CHECK(me.receive<Reported>(10s));
    CHECK(limit_of(receiver).queued() == 0);
  }

  TEST_CASE("deterministic mode: backpressure between a flooding actor, the driving thread and a bounded actor") {
    // Over many interleavings: every message handled once, in order per sender, the backlog
    // never beyond capacity plus one batch, and the driving thread's sends never deadlock.
    auto result = troupe::testing::explore(100, [](std::uint64_t seed) {
      troupe::System system(troupe::testing::deterministic(seed, 4));
      constexpr std::uint64_t capacity = 8;
      constexpr std::uint64_t batch = 4;
      constexpr std::uint64_t per_sender = 200;
      struct Shared {
        std::uint64_t sent = 0;  // one thread runs everything: plain counters
        std::uint64_t handled = 0;
        std::uint64_t max_backlog = 0;
        std::uint64_t last[2] = {0, 0};
        bool out_of_order = false;
      };
      struct Tagged {
        int from;
        std::uint64_t seq;
      };
      struct More {};
      auto shared = std::make_shared<Shared>();
      auto receiver = system.spawn(
          bounded(capacity, troupe::Overflow::backpressure),
          [](troupe::Context&, std::shared_ptr<Shared> s) {
            return troupe::behavior([s](Tagged t) {
              if (t.seq != s->last[t.from] + 1) s->out_of_order = true;
              s->last[t.from] = t.seq;
              ++s->handled;
              s->max_backlog = std::max(s->max_backlog, s->sent - s->handled);
            });
          },
          shared);
      auto flooder = system.spawn(
          [](troupe::Context& self, troupe::DynamicHandle to, std::shared_ptr<Shared> s) {
            return troupe::behavior([&self, to, s, next = std::uint64_t{1}](More) mutable {
              for (std::uint64_t i = 0; i < batch && next <= per_sender; ++i, ++next) {
                ++s->sent;
                to.send(Tagged{0, next});
              }
              if (next <= per_sender) self.self().send(More{});
            });
          },
          troupe::DynamicHandle(receiver), shared);
      flooder.send(More{});
      for (std::uint64_t i = 1; i <= per_sender; ++i) {  // the driving thread floods too
        ++shared->sent;
        receiver.send(Tagged{1, i});
      }
      troupe::testing::check(system.wait_idle(), "the system goes idle");
      troupe::testing::check(shared->handled == 2 * per_sender, "every message handled");
      troupe::testing::check(!shared->out_of_order, "FIFO per sender");
      troupe::testing::check(shared->max_backlog <= capacity + batch, "backlog within capacity and a batch");
    });
    CHECK_MESSAGE(result, result.failure);
    CHECK(result.runs == (troupe::testing::seed_from_environment() ? 1u : 100u));  // TROUPE_SEED: that seed alone
  }
}
