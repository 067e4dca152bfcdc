// Bounded mailboxes under backpressure: who holds a sender back, and what lets it go.
// - A muted actor runs again once its receiver has drained to half its capacity (not before, and
//   not only once it is empty), or once its receiver stops.
// - A thread blocked in send() wakes when its receiver stops; its message becomes a dead letter.
// The first two run in deterministic mode, where "it did not run" means "nothing else could run".
#include <troupe/testing.hpp>
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <sys/syscall.h>
#include <unistd.h>
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace troupe_test;
using troupe::testing::check;

namespace {

struct Item {
  std::uint64_t n;
};
struct Flood {
  std::uint64_t count;
};
struct Next {};
struct AwaitServer {};
struct Ask {
  using reply_type = int;
};
struct KillIt {
  troupe::DynamicHandle target;
};

troupe::SpawnOptions backpressure(std::uint32_t capacity) {
  troupe::SpawnOptions o;
  o.mailbox_capacity = capacity;
  o.overflow = troupe::Overflow::backpressure;
  return o;
}

// What the actors of one deterministic run saw. One thread runs them all: plain fields.
struct Counts {
  std::uint64_t sent = 0;
  std::uint64_t handled = 0;
  bool woke = false;                  // the flooder handled Next
  std::uint64_t backlog_at_wake = 0;  // the receiver's unhandled items then
};

// Sends `count` items in one turn (a send from an actor is never refused or blocked, only muted
// at the end of the turn), and on Next notes how far the receiver had got.
auto flooder(troupe::Context&, troupe::DynamicHandle to, std::shared_ptr<Counts> counts) {
  return troupe::behavior(
      [to, counts](Flood f) {
        for (std::uint64_t i = 0; i < f.count; ++i) {
          ++counts->sent;
          to.send(Item{counts->sent});
        }
      },
      [counts](Next) {
        counts->woke = true;
        counts->backlog_at_wake = counts->sent - counts->handled;
      });
}

// Answers nothing: a request to it waits for its timeout.
auto silent_server(troupe::Context& self, std::shared_ptr<std::atomic<int>> asked) {
  auto kept = std::make_shared<std::vector<troupe::Promise<int>>>();
  return troupe::behavior([&self, kept, asked](Ask) {
    kept->push_back(self.promise<int>());
    asked->fetch_add(1);
    return kept->back();
  });
}

// Counts the items it handles; on AwaitServer, awaits `srv` for an hour, handling nothing else
// meanwhile (its mailbox keeps whatever arrives, counted against the capacity).
auto slow_receiver(troupe::Context& self, troupe::DynamicHandle srv, std::shared_ptr<Counts> counts) {
  return troupe::behavior(
      [&self, srv](AwaitServer) -> troupe::Task<void> {
        (void)co_await self.request(srv, Ask{}, std::chrono::hours(1));
      },
      [counts](Item) { ++counts->handled; });
}

auto killer(troupe::Context& self) {
  return troupe::behavior([&self](const KillIt& k) { self.exit(k.target, troupe::ExitReason::kill()); });
}

// The scheduling state of one of this process's threads ('S': asleep, as in a wait), from
// /proc; '?' once it has ended.
char thread_state(pid_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = stat.rfind(')');  // the name, in parentheses, may hold spaces
  if (close == std::string::npos || close + 2 >= stat.size()) return '?';
  return stat[close + 2];
}

// A receiver that awaits `srv` on AwaitServer (as slow_receiver), and sets `stopped` when its
// state is destroyed: as it stops, before its mailbox limit is lifted and the threads waiting on
// it are woken.
class StoppingSink {
 public:
  StoppingSink(troupe::Context& self, troupe::DynamicHandle srv, std::shared_ptr<std::atomic<bool>> stopped)
      : self_(self), srv_(std::move(srv)), stopped_(std::move(stopped)) {}
  ~StoppingSink() { stopped_->store(true); }
  StoppingSink(const StoppingSink&) = delete;
  StoppingSink& operator=(const StoppingSink&) = delete;

  auto behavior() {
    return troupe::behavior(
        [this](AwaitServer) -> troupe::Task<void> { (void)co_await self_.request(srv_, Ask{}, std::chrono::hours(1)); },
        [](Item) {});
  }

 private:
  troupe::Context& self_;
  troupe::DynamicHandle srv_;
  std::shared_ptr<std::atomic<bool>> stopped_;
};

}  // namespace

TEST_SUITE("bounded mailboxes") {
  TEST_CASE("a muted actor runs again once its receiver has drained to half its capacity") {
    constexpr std::uint32_t kCap = 8;
    std::set<std::uint64_t> backlogs_at_wake;
    const auto result = troupe::testing::explore(60, [&](std::uint64_t seed) {
      auto counts = std::make_shared<Counts>();
      troupe::System system(troupe::testing::deterministic(seed));  // one message per turn
      auto sink = system.spawn(backpressure(kCap), [counts](troupe::Context&) {
        return troupe::behavior([counts](Item) { ++counts->handled; });
      });
      auto sender = system.spawn(flooder, troupe::DynamicHandle(sink), counts);
      sender.send(Flood{kCap + 2});  // over capacity: muted when this turn ends
      sender.send(Next{});           // runs only once unmuted
      check(system.wait_idle(), "the system goes idle");
      check(counts->woke, "the muted actor never ran again");
      check(counts->backlog_at_wake <= kCap / 2, "the muted actor ran before its receiver drained to half");
      check(counts->handled == kCap + 2, "an item was lost");
      backlogs_at_wake.insert(counts->backlog_at_wake);
    });
    CHECK_MESSAGE(result, result.failure);
    // Whether the flooder or the receiver goes next once it is unmuted is the seed's choice: in
    // some seeds the flooder ran at the first moment it could, with half the capacity still queued
    // (it is woken at half, not only once the mailbox is empty).
    REQUIRE_FALSE(backlogs_at_wake.empty());
    CHECK(*backlogs_at_wake.rbegin() == kCap / 2);
  }

  TEST_CASE("a muted actor runs again once its receiver stops; what it sent becomes dead letters") {
    constexpr std::uint32_t kCap = 4;
    const auto result = troupe::testing::explore(30, [&](std::uint64_t seed) {
      auto counts = std::make_shared<Counts>();
      std::uint64_t dead_items = 0;
      troupe::Config config = troupe::testing::deterministic(seed);
      config.on_dead_letter = [&dead_items](const troupe::DeadLetter& d) {
        if (d.message_type.find("Item") != std::string_view::npos) ++dead_items;
      };
      troupe::System system(config);
      auto srv = system.spawn(silent_server, std::make_shared<std::atomic<int>>(0));
      auto sink = system.spawn(backpressure(kCap), slow_receiver, troupe::DynamicHandle(srv), counts);
      sink.send(AwaitServer{});
      auto sender = system.spawn(flooder, troupe::DynamicHandle(sink), counts);
      sender.send(Flood{kCap + 1});
      sender.send(Next{});
      // Everything that can run has run: the receiver awaits the server (its items wait), and the
      // flooder is muted.
      system.advance_time(std::chrono::seconds(1));
      check(counts->sent == kCap + 1 && counts->handled == 0, "the receiver handled an item");
      check(!counts->woke, "the flooder ran while its receiver was full");

      auto k = system.spawn(killer);
      k.send(KillIt{sink});
      system.advance_time(std::chrono::seconds(1));  // well before the receiver's request times out
      check(counts->woke, "the muted actor did not run again when its receiver stopped");
      check(dead_items == kCap + 1, "the items the receiver never handled are not all dead letters");
    });
    CHECK_MESSAGE(result, result.failure);
  }

  TEST_CASE("a thread blocked in send() wakes when its receiver stops; its message is a dead letter") {
    constexpr std::uint32_t kCap = 2;
    std::atomic<int> dead_items{0};
    troupe::Config config{.workers = 2};
    config.on_dead_letter = [&dead_items](const troupe::DeadLetter& d) {
      if (d.message_type.find("Item") != std::string_view::npos) dead_items.fetch_add(1);
    };
    troupe::System system(config);
    auto asked = std::make_shared<std::atomic<int>>(0);
    auto srv = system.spawn(silent_server, asked);
    auto stopped = std::make_shared<std::atomic<bool>>(false);
    troupe::DynamicHandle sink = system.spawn<StoppingSink>(backpressure(kCap), troupe::DynamicHandle(srv), stopped);
    sink.send(AwaitServer{});
    // The server has the request: the receiver is suspended, and handles nothing until it stops.
    REQUIRE(eventually([&] { return asked->load() == 1; }));

    // Shared with the sender thread (which a failing run leaves blocked, detached): nothing on
    // this stack.
    struct Sender {
      std::atomic<std::uint64_t> sent{0};
      std::atomic<pid_t> tid{0};
      std::atomic<bool> returned{false};
      std::atomic<bool> receiver_had_stopped{false};
    };
    auto s = std::make_shared<Sender>();
    std::thread thread([s, sink, stopped] {
      s->tid.store(static_cast<pid_t>(::syscall(SYS_gettid)));
      for (std::uint64_t i = 1; i <= kCap + 1; ++i) {
        sink.send(Item{i});  // the last one finds the mailbox full: it waits
        s->sent.fetch_add(1);
      }
      s->receiver_had_stopped.store(stopped->load());
      s->returned.store(true);
    });
    REQUIRE(eventually([&] { return s->sent.load() == kCap; }));
    // The thread is asleep in its last send (it has nothing else to wait for).
    CHECK(eventually([&] { return thread_state(s->tid.load()) == 'S'; }));
    CHECK_FALSE(s->returned.load());

    auto k = system.spawn(killer);
    k.send(KillIt{sink});
    const bool woke = eventually([&] { return s->returned.load(); });
    CHECK_MESSAGE(woke, "the sending thread stayed blocked after its receiver stopped");
    if (!woke) {
      thread.detach();  // it would block forever; everything it uses it owns
      return;
    }
    thread.join();
    CHECK(s->receiver_had_stopped.load());  // it woke because the receiver stopped, not before
    CHECK(s->sent.load() == kCap + 1);
    CHECK(eventually([&] { return dead_items.load() == static_cast<int>(kCap) + 1; }));
  }
}
