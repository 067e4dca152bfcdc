// Bounded mailboxes: the drop and fail policies, backpressure on threads (they wait) and on
// actors (they are muted), no deadlock in a cycle of full mailboxes, and the 10^7-message flood
// with memory sampled while it runs.
#include <troupe/testing.hpp>
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <semaphore>
#include <thread>
#include <unistd.h>
#include <vector>

using namespace troupe_test;

namespace {

struct Hold {};  // the receiver's handler waits for the gate: its mailbox fills meanwhile
struct Item {
  std::uint64_t seq;
};
struct Ask {
  using reply_type = int;
};

// A receiver that can be held still, counting what it handles and checking FIFO order.
struct Gate {
  std::binary_semaphore open{0};
  std::atomic<bool> holding{false};
  std::atomic<std::uint64_t> handled{0};
  std::atomic<bool> out_of_order{false};
  std::uint64_t last = 0;  // receiver only
};

auto gated_receiver(troupe::Context&, std::shared_ptr<Gate> gate) {
  return troupe::behavior(
      [gate](Hold) {
        gate->holding.store(true);
        gate->open.acquire();
      },
      [gate](Item item) {
        if (item.seq != 0 && item.seq <= gate->last) gate->out_of_order.store(true);
        gate->last = item.seq;
        gate->handled.fetch_add(1);
      },
      [](Ask) { return 7; });
}

struct DeadLetterLog {
  std::atomic<int> mailbox_full{0};
  std::atomic<int> mailbox_full_requests{0};
  troupe::Config config() {
    troupe::Config c;
    c.workers = 2;
    c.on_dead_letter = [this](const troupe::DeadLetter& d) {
      if (d.reason == troupe::DeadLetter::Reason::mailbox_full) {
        mailbox_full.fetch_add(1);
        if (d.was_request) mailbox_full_requests.fetch_add(1);
      }
    };
    return c;
  }
};

troupe::SpawnOptions bounded(std::uint32_t capacity, troupe::Overflow overflow) {
  troupe::SpawnOptions o;
  o.mailbox_capacity = capacity;
  o.overflow = overflow;
  return o;
}

std::size_t resident_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  return n == 2 ? resident * static_cast<std::size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

// Samples the process's resident memory every millisecond while it lives; keeps the peak.
class PeakMemory {
 public:
  PeakMemory() : base_(resident_bytes()), peak_(base_) {
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        const std::size_t now = resident_bytes();
        if (now > peak_.load()) peak_.store(now);
        std::this_thread::sleep_for(1ms);
      }
    });
  }
  ~PeakMemory() { stop(); }
  void stop() {
    stop_.store(true);
    if (thread_.joinable()) thread_.join();
  }
  std::size_t growth() const { return peak_.load() - base_; }

 private:
  std::size_t base_;
  std::atomic<std::size_t> peak_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

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
    REQUIRE(eventually([&] { return sent.load() == capacity; }));
    // The receiver is held: the sender cannot get past capacity, however long we look.
    std::this_thread::sleep_for(50ms);
    CHECK(sent.load() == capacity);
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
    struct Done {
      std::uint64_t received;
    };
    struct More {};
    auto flooder = [](troupe::Context& self, troupe::DynamicHandle report, std::uint64_t total) {
      struct State {
        troupe::DynamicHandle peer;
        std::uint64_t sent = 0;
        std::uint64_t received = 0;
        bool reported = false;
      };
      auto st = std::make_shared<State>();
      auto maybe_done = [st, report, total] {
        if (!st->reported && st->sent == total && st->received == total) {
          st->reported = true;
          report.send(Done{st->received});
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
          [st, maybe_done](Item) {
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
    }
  }

  TEST_CASE("a muted actor still stops at once when killed, and shutdown does not wait for its receiver") {
    troupe::System system(troupe::Config{.workers = 2});
    auto gate = std::make_shared<Gate>();
    auto receiver = system.spawn(bounded(4, troupe::Overflow::backpressure), gated_receiver, gate);
    receiver.send(Hold{});
    REQUIRE(eventually([&] { return gate->holding.load(); }));
    struct Flood {};
    auto floods = std::make_shared<std::atomic<int>>(0);
    auto sender = system.spawn(
        [](troupe::Context&, troupe::DynamicHandle to, std::shared_ptr<std::atomic<int>> floods) {
          return troupe::behavior([to, floods](Flood) {
            for (std::uint64_t i = 1; i <= 10; ++i) to.send(Item{i});
            floods->fetch_add(1);
          });
        },
        troupe::DynamicHandle(receiver), floods);
    troupe::ScopedActor me(system);
    me.monitor(sender);
    sender.send(Flood{});
    sender.send(Flood{});
    REQUIRE(eventually([&] { return floods->load() == 1; }));
    // Muted by the full mailbox, it is parked: its second message waits, however long we look.
    std::this_thread::sleep_for(50ms);
    CHECK(floods->load() == 1);
    auto killer = system.spawn([](troupe::Context& self, troupe::DynamicHandle target) {
      self.exit(target, troupe::ExitReason::kill());
      self.quit();
      return troupe::behavior([](Flood) {});
    }, troupe::DynamicHandle(sender));
    auto down = me.receive<troupe::Down>(10s);
    REQUIRE(down.ok());
    CHECK(down->reason.kind == troupe::ExitReason::Kind::kill);
    CHECK(gate->handled.load() == 0);  // the receiver is still held
    gate->open.release();
    REQUIRE(system.wait_idle(10s));
    CHECK(gate->handled.load() == 10);
    CHECK(floods->load() == 1);  // killed before its second message
    (void)killer;
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
          bounded(capacity, troupe::Overflow::backpressure), [](troupe::Context&, std::shared_ptr<Shared> s) {
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
    CHECK(result.runs >= 1);
  }

  TEST_CASE("flood: 10^7 messages to a slow bounded actor; memory stays bounded, every message handled or counted") {
    const std::uint64_t total = scaled(10'000'000);
    // Drop: a thread floods as fast as it can; what does not fit is counted as a dead letter.
    {
      troupe::System system(troupe::Config{.workers = 2});
      auto gate = std::make_shared<Gate>();
      auto receiver = system.spawn(bounded(1000, troupe::Overflow::drop), gated_receiver, gate);
      PeakMemory memory;
      std::uint64_t refused = 0;
      for (std::uint64_t i = 1; i <= total; ++i) {
        if (!receiver.send(Item{i})) ++refused;
      }
      REQUIRE(system.wait_idle(60s));
      memory.stop();
      CHECK(gate->handled.load() + system.dead_letters() == total);
      CHECK(system.dead_letters() == refused);
      CHECK_FALSE(gate->out_of_order.load());
      MESSAGE("drop: handled " << gate->handled.load() << ", dropped " << refused << ", peak RSS growth "
                               << memory.growth() / 1024 << " KiB");
#ifndef TROUPE_TEST_SANITIZED  // sanitizers keep freed memory in quarantine: RSS says nothing
      CHECK(memory.growth() < 64u * 1024 * 1024);  // unbounded, the backlog alone would be 320 MB
#endif
    }
    // Backpressure: nothing is dropped; the sending thread waits whenever the mailbox is full.
    {
      troupe::System system(troupe::Config{.workers = 2});
      auto gate = std::make_shared<Gate>();
      auto receiver = system.spawn(bounded(1000, troupe::Overflow::backpressure), gated_receiver, gate);
      PeakMemory memory;
      for (std::uint64_t i = 1; i <= total; ++i) receiver.send(Item{i});
      REQUIRE(system.wait_idle(60s));
      memory.stop();
      CHECK(gate->handled.load() == total);
      CHECK(system.dead_letters() == 0);
      CHECK_FALSE(gate->out_of_order.load());
      MESSAGE("backpressure: handled " << gate->handled.load() << ", peak RSS growth " << memory.growth() / 1024
                                       << " KiB");
#ifndef TROUPE_TEST_SANITIZED
      CHECK(memory.growth() < 64u * 1024 * 1024);
#endif
    }
  }
}
