// System::metrics(): what the per-thread counters add up to (<troupe/metrics.hpp>).
#include <troupe/testing.hpp>
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

using namespace troupe_test;

namespace metrics_test {

struct Note {
  int n;
};
struct Quit {};
struct Fail {};
struct Unknown {};

class Tally {
 public:
  explicit Tally(troupe::Context& self) : self_(self) {}
  auto behavior() {
    return troupe::behavior([this](Note n) { sum_ += n.n; }, [this](Quit) { self_.quit(); },
                            [](Fail) { throw std::runtime_error("asked to fail"); });
  }

 private:
  troupe::Context& self_;
  long sum_ = 0;
};

class Busy {
 public:
  auto behavior() {
    return troupe::behavior([](Note) { std::this_thread::sleep_for(std::chrono::microseconds(70)); });
  }
};

// A ball passed back and forth between two actor types until `left` runs out: on one worker their
// turns alternate, one message each.
struct Ball {
  troupe::DynamicHandle back;
  int left;
};
class Bounce {
 public:
  explicit Bounce(troupe::Context& self) : self_(self) {}
  auto behavior() {
    return troupe::behavior([this](Ball b) {
      if (b.left > 0) b.back.send(Ball{self_.self(), b.left - 1});
    });
  }

 private:
  troupe::Context& self_;
};
class Left : public Bounce {
 public:
  using Bounce::Bounce;
};
class Right : public Bounce {
 public:
  using Bounce::Bounce;
};

const troupe::ActorTypeMetrics* type_named(const troupe::MetricsSnapshot& s, std::string_view name) {
  auto it = std::find_if(s.actor_types.begin(), s.actor_types.end(), [&](const auto& t) { return t.type == name; });
  return it == s.actor_types.end() ? nullptr : &*it;
}

// Handles Notes and ReceiveTimeouts (every 100 ms of silence), and counts the latter.
class Quiet {
 public:
  Quiet(troupe::Context& self, std::shared_ptr<int> timeouts) : timeouts_(std::move(timeouts)) {
    self.set_receive_timeout(std::chrono::milliseconds(100));
  }
  auto behavior() {
    return troupe::behavior([](Note) {}, [this](troupe::ReceiveTimeout) { ++*timeouts_; });
  }

 private:
  std::shared_ptr<int> timeouts_;
};

std::uint64_t messages_of(const troupe::System& system, std::string_view type) {
  const auto s = system.metrics();
  const auto* t = type_named(s, type);
  return t == nullptr ? 0 : t->messages;
}

std::uint64_t exits(const troupe::ActorTypeMetrics& t, troupe::ExitReason::Kind kind) {
  return t.exits[static_cast<std::size_t>(kind)];
}

}  // namespace metrics_test

using namespace metrics_test;

TEST_SUITE("metrics") {
  TEST_CASE("per actor type: messages handled, live actors, spawns and exits by reason kind") {
    troupe::System system(troupe::Config{.workers = 2});
    std::vector<decltype(system.spawn<Tally>())> tallies;
    for (int i = 0; i < 5; ++i) tallies.push_back(system.spawn<Tally>());
    for (int round = 0; round < 1000; ++round) {
      for (auto& t : tallies) t.send(Note{round});
    }
    REQUIRE(system.wait_idle(30s));
    auto s = system.metrics();
    const auto* tally = type_named(s, "metrics_test::Tally");
    REQUIRE(tally != nullptr);
    CHECK(tally->messages == 5000);
    CHECK(tally->spawned == 5);
    CHECK(tally->live == 5);

    tallies[0].send(Quit{});
    tallies[1].send(Quit{});
    tallies[2].send(Fail{});
    REQUIRE(system.wait_idle(30s));
    s = system.metrics();
    tally = type_named(s, "metrics_test::Tally");
    REQUIRE(tally != nullptr);
    CHECK(tally->messages == 5003);
    CHECK(tally->live == 2);
    CHECK(exits(*tally, troupe::ExitReason::Kind::normal) == 2);
    CHECK(exits(*tally, troupe::ExitReason::Kind::error) == 1);
    CHECK(s.live_actors == 2);
  }

  TEST_CASE("a type's message count never goes down between snapshots, across the 65,536 folds") {
    troupe::System system(troupe::Config{.workers = 2});
    auto t = system.spawn<Tally>();
    constexpr int kMessages = 200'000;
    std::thread sender([&] {
      for (int i = 0; i < kMessages; ++i) t.send(Note{i});
    });
    std::uint64_t last = 0;
    bool went_down = false;
    const auto count = [&] {
      const auto s = system.metrics();
      const auto* tally = type_named(s, "metrics_test::Tally");
      return tally == nullptr ? std::uint64_t{0} : tally->messages;
    };
    const auto deadline = Clock::now() + 60s;  // bounds a failing test only
    while (last < kMessages && Clock::now() < deadline) {
      const std::uint64_t now = count();
      went_down = went_down || now < last;
      last = std::max(last, now);
    }
    sender.join();
    REQUIRE(system.wait_idle(30s));
    CHECK_FALSE(went_down);
    CHECK(count() == kMessages);
  }

  TEST_CASE("handling times are sampled into the fixed buckets") {
    troupe::System system(troupe::Config{.workers = 1});
    // Budget 1: one message a turn, so 3,072 turns hold at least 2 sampled ones (gaps of at most
    // 1,280 turns per thread: turn_sampler.hpp).
    auto busy = system.spawn<Busy>(troupe::SpawnOptions{.budget = 1});
    for (int i = 0; i < 3072; ++i) busy.send(Note{i});
    REQUIRE(system.wait_idle(60s));
    const auto s = system.metrics();
    const auto* t = type_named(s, "metrics_test::Busy");
    REQUIRE(t != nullptr);
    CHECK(t->messages == 3072);
    const auto& h = t->handling_time;
    CHECK(h.count >= 2);
    CHECK(h.count <= 3072);
    // Every timed handler slept 70 µs: nothing in the buckets up to 64 µs, and the sum agrees.
    for (std::size_t b = 0; b < 4; ++b) CHECK(h.counts[b] == 0);
    CHECK(h.sum >= 70e-6 * static_cast<double>(h.count));
  }

  // Regression: every 1024th turn of a worker was sampled, and on one worker a ping-pong's turns
  // alternate between its two actors, so one of the two types was never timed at all.
  TEST_CASE("sampling reaches both sides of a ping-pong on one worker") {
    troupe::System system(troupe::Config{.workers = 1});
    auto left = system.spawn<Left>();
    auto right = system.spawn<Right>();
    constexpr int kBounces = 40'000;  // about 39 sampled turns
    left.send(Ball{troupe::DynamicHandle(right), kBounces});
    REQUIRE(system.wait_idle(60s));
    const auto s = system.metrics();
    const auto* l = type_named(s, "metrics_test::Left");
    const auto* r = type_named(s, "metrics_test::Right");
    REQUIRE(l != nullptr);
    REQUIRE(r != nullptr);
    CHECK(l->messages + r->messages == kBounces + 1);
    CHECK(l->handling_time.count >= 5);
    CHECK(r->handling_time.count >= 5);
  }

  // A sink held in its first handler while 60,000 messages queue (6,000 turns of 10: at least four
  // sampled, gaps of at most 1,280 turns per thread), then draining them slowly (about a microsecond each): the board
  // shows it while it drains, and forgets it once a sampled turn finds it drained.
  void watch_a_backlog(troupe::SpawnOptions options, troupe::MailboxDepth & deepest) {
    troupe::System system(troupe::Config{.workers = 1, .stuck_turn = 0ms});
    std::promise<void> release;
    std::shared_future<void> gate = release.get_future().share();
    auto sink = system.spawn(options, [gate](troupe::Context&) {
      return troupe::behavior([gate](Note n) {
        if (n.n < 0) gate.wait();
        const auto until = Clock::now() + std::chrono::microseconds(1);
        while (Clock::now() < until) {
        }
      });
    });
    sink.send(Note{-1});
    for (int i = 0; i < 60'000; ++i) sink.send(Note{i});
    release.set_value();
    while (!system.wait_idle(0ms)) {
      for (const auto& m : system.metrics().mailboxes) {
        if (m.depth > deepest.depth) deepest = m;
      }
    }
    // Drained: a sampled turn (at most 1,280 turns apart per thread) finds it so, and the board forgets it.
    for (int i = 0; i < 2100; ++i) {
      sink.send(Note{i});
      REQUIRE(system.wait_idle(30s));
    }
    CHECK(system.metrics().mailboxes.empty());
  }

  TEST_CASE("the deepest mailboxes: an unbounded one counted up to the limit, a bounded one exactly") {
    troupe::MailboxDepth unbounded;
    watch_a_backlog({.budget = 10}, unbounded);
    CHECK(unbounded.depth == troupe::mailbox_count_limit);
    CHECK(unbounded.at_least);
    CHECK(unbounded.type.find("watch_a_backlog") != std::string::npos);  // the function actor's name

    troupe::MailboxDepth bounded;
    watch_a_backlog({.budget = 10, .mailbox_capacity = 100'000, .overflow = troupe::Overflow::drop}, bounded);
    CHECK(bounded.depth > troupe::mailbox_count_limit);  // counted exactly, past the walk's limit
    CHECK(bounded.depth < 60'000);
    CHECK_FALSE(bounded.at_least);
  }

  TEST_CASE("dead letters by reason") {
    troupe::System system(troupe::Config{.workers = 1});
    troupe::ScopedActor me(system);
    auto t = system.spawn<Tally>();
    troupe::DynamicHandle(t).send(Unknown{});  // no handler: unhandled
    t.send(Quit{});
    REQUIRE(system.wait_idle(30s));
    t.send(Note{1});  // stopped: receiver_stopped
    t.send(Note{2});
    REQUIRE(system.wait_idle(30s));
    const auto s = system.metrics();
    CHECK(s.dead_letters[static_cast<std::size_t>(troupe::DeadLetter::Reason::unhandled)] == 1);
    CHECK(s.dead_letters[static_cast<std::size_t>(troupe::DeadLetter::Reason::receiver_stopped)] == 2);
    CHECK(troupe::dead_letter_reason_name(0) == "receiver_stopped");
  }

  TEST_CASE("restarts by supervisors count against the child's type") {
    troupe::System system(troupe::Config{.workers = 1});
    troupe::ScopedActor me(system);
    auto sup = system.spawn_supervisor({.max_restarts = 5}, {troupe::child<Tally>("t")});
    for (int i = 0; i < 2; ++i) {
      auto child = troupe::which_children(me, sup).value().at(0).handle;
      child.send(Fail{});
      REQUIRE(eventually([&] {
        auto info = troupe::which_children(me, sup);
        return info.ok() && info.value().at(0).handle.valid() && info.value().at(0).handle != child;
      }));
    }
    const auto s = system.metrics();
    const auto* t = type_named(s, "metrics_test::Tally");
    REQUIRE(t != nullptr);
    CHECK(t->restarts == 2);
    CHECK(exits(*t, troupe::ExitReason::Kind::error) == 2);
    CHECK(t->live == 1);
  }

  TEST_CASE("workers: turns, and where their time went") {
    troupe::System system(troupe::Config{.workers = 2});
    auto t = system.spawn<Tally>(troupe::SpawnOptions{.budget = 1});
    for (int i = 0; i < 1000; ++i) t.send(Note{i});
    REQUIRE(system.wait_idle(30s));
    const auto before = system.metrics();
    REQUIRE(before.workers.size() == 2);
    std::uint64_t turns = 0;
    for (const auto& w : before.workers) {
      turns += w.turns;
      CHECK_FALSE(w.compensating);
      // Each worker's time adds up to the pool's age (read a moment apart: within a second).
      const auto total = w.busy + w.parked + w.spinning;
      CHECK(total <= before.uptime + 1s);
      CHECK(total + 1s >= before.uptime);
    }
    CHECK(turns >= 1000);                // budget 1: a turn per message, besides the first
    std::this_thread::sleep_for(200ms);  // an idle pool: its workers sleep
    const auto after = system.metrics();
    REQUIRE(after.workers.size() == 2);
    for (std::size_t i = 0; i < 2; ++i) {
      CHECK(after.workers[i].parked - before.workers[i].parked >= 100ms);
      CHECK(after.workers[i].parks >= before.workers[i].parks);
    }
  }

  TEST_CASE("urgent messages count as handled, as the others do") {
    troupe::System system(troupe::testing::deterministic(1));
    auto t = system.spawn<Tally>();
    for (int i = 0; i < 3; ++i) t.send(Note{i});
    for (int i = 0; i < 2; ++i) REQUIRE(t.send_urgent(Note{i}).ok());
    REQUIRE(system.wait_idle(30s));
    CHECK(messages_of(system, "metrics_test::Tally") == 5);
  }

  TEST_CASE("a ReceiveTimeout counts as a message handled; a receive timeout's check does not") {
    troupe::System system(troupe::testing::deterministic(2));
    auto timeouts = std::make_shared<int>(0);
    auto quiet = system.spawn<Quiet>(timeouts);
    system.advance_time(50ms);
    quiet.send(Note{1});
    system.advance_time(60ms);  // 110 ms: the check due at 100 finds the Note of 50 ms
    CHECK(*timeouts == 0);
    CHECK(messages_of(system, "metrics_test::Quiet") == 1);
    system.advance_time(50ms);  // 160 ms: the ReceiveTimeout of 150 ms
    CHECK(*timeouts == 1);
    CHECK(messages_of(system, "metrics_test::Quiet") == 2);
    system.advance_time(100ms);  // 260 ms: and of 250 ms
    CHECK(*timeouts == 2);
    CHECK(messages_of(system, "metrics_test::Quiet") == 3);
  }

  TEST_CASE("sources add their part to every snapshot until removed") {
    troupe::System system(troupe::Config{.workers = 1});
    const auto id = system.add_metrics_source([](troupe::MetricsSnapshot& s) {
      troupe::NodeMetrics node;
      node.name = "n1";
      node.peers.emplace_back().node = "n2";
      s.nodes.push_back(std::move(node));
    });
    auto s = system.metrics();
    REQUIRE(s.nodes.size() == 1);
    CHECK(s.nodes[0].peers.at(0).node == "n2");
    system.remove_metrics_source(id);
    CHECK(system.metrics().nodes.empty());
  }

}  // TEST_SUITE
