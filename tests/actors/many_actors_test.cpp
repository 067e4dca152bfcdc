// A million actors: spawned, each handles one message and stops; nothing stays behind.
#include <troupe/troupe.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>

using namespace troupe_test;

namespace {

struct Go {};

// Each actor's state notes its destruction.
class OneShot {
 public:
  OneShot(troupe::Context& self, std::atomic<std::uint64_t>* handled, std::atomic<std::uint64_t>* destroyed)
      : self_(self), handled_(handled), destroyed_(destroyed) {}
  ~OneShot() { destroyed_->fetch_add(1, std::memory_order_relaxed); }
  OneShot(const OneShot&) = delete;
  OneShot& operator=(const OneShot&) = delete;
  auto behavior() {
    return troupe::behavior([this](Go) {
      handled_->fetch_add(1, std::memory_order_relaxed);
      self_.quit();
    });
  }

 private:
  troupe::Context& self_;
  std::atomic<std::uint64_t>* handled_;
  std::atomic<std::uint64_t>* destroyed_;
};

struct Build {
  int depth;
};

// Spawns ten children down to `depth`, then answers with its subtree's size and stops.
class TreeNode {
 public:
  explicit TreeNode(troupe::Context& self) : self_(self) {}
  auto behavior() {
    return troupe::behavior([this](Build b) { return build(b); });
  }

 private:
  troupe::Task<std::uint64_t> build(Build b);
  troupe::Context& self_;
};

troupe::Task<std::uint64_t> TreeNode::build(Build b) {
  std::uint64_t size = 1;
  if (b.depth > 0) {
    std::vector<troupe::Handle<std::uint64_t(Build)>> children;
    for (int i = 0; i < 10; ++i) children.push_back(self_.spawn<TreeNode>());
    for (auto& child : children) {
      auto r = co_await self_.request(child, Build{b.depth - 1}, 30s);
      size += r.value_or(0);
    }
  }
  self_.quit();
  co_return size;
}

struct Ping {};
struct Stop {};

// Answers a Ping, then waits for Stop.
auto short_lived(troupe::Context& self) {
  return troupe::behavior([](Ping) { return 1; }, [&self](Stop) { self.quit(); });
}

// Spawns children one at a time: each is pinged, stopped as soon as it has answered (its turn may
// still be ending on the other worker) and dropped; the next spawn may reuse its memory.
struct Churn {
  std::uint64_t children;
  troupe::DynamicHandle report_to;  // gets the number of children that answered
};

class Churner {
 public:
  explicit Churner(troupe::Context& self) : self_(self) {}
  auto behavior() {
    return troupe::behavior([this](Churn c) { return churn(std::move(c)); });
  }

 private:
  troupe::Task<void> churn(Churn c) {
    const std::uint64_t children = c.children;
    std::uint64_t answered = 0;
    for (std::uint64_t i = 0; i < children; ++i) {
      auto child = self_.spawn(short_lived);
      auto r = co_await self_.request(child, Ping{}, 30s);
      answered += r.ok() ? 1 : 0;
      child.send(Stop{});
    }
    c.report_to.send(answered);
    self_.quit();
  }
  troupe::Context& self_;
};

}  // namespace

TEST_SUITE("many actors") {

TEST_CASE("10^6 actors spawned and finished; live_actors() returns to 0") {
  const std::uint64_t total = scaled(1'000'000);
  const std::uint64_t wave = std::min<std::uint64_t>(total, 50'000);  // bounds how many are alive at once
  std::atomic<std::uint64_t> handled{0}, destroyed{0}, exited{0};
  troupe::Config config{.workers = 2};
  config.on_actor_exit = [&](const troupe::ExitInfo& info) {
    if (info.reason.is_normal()) exited.fetch_add(1, std::memory_order_relaxed);
  };
  troupe::System system(std::move(config));
  const auto start = Clock::now();
  std::uint64_t spawned = 0;
  while (spawned < total) {
    const std::uint64_t n = std::min(wave, total - spawned);
    for (std::uint64_t i = 0; i < n; ++i) system.spawn<OneShot>(&handled, &destroyed).send(Go{});
    spawned += n;
    REQUIRE(system.wait_idle(60s));
    REQUIRE(handled.load() == spawned);
  }
  MESSAGE(total << " actors spawned and finished in " << ms_since(start).count() << " ms");
  CHECK(handled.load() == total);
  CHECK(destroyed.load() == total);
  CHECK(exited.load() == total);
  CHECK(system.live_actors() == 0);
  CHECK(system.dead_letters() == 0);
}

TEST_CASE("actors that stop in their init turn") {
  const std::uint64_t total = scaled(100'000);
  std::atomic<std::uint64_t> inits{0}, exited{0};
  troupe::Config config{.workers = 2};
  config.on_actor_exit = [&](const troupe::ExitInfo&) { exited.fetch_add(1, std::memory_order_relaxed); };
  troupe::System system(std::move(config));
  for (std::uint64_t i = 0; i < total; ++i) {
    system.spawn([&](troupe::Context& self) {
      inits.fetch_add(1, std::memory_order_relaxed);
      self.quit();
      return troupe::behavior([](Go) {});
    });
  }
  REQUIRE(system.wait_idle(60s));
  CHECK(inits.load() == total);
  CHECK(exited.load() == total);
  CHECK(system.live_actors() == 0);
}

TEST_CASE("a tree of actors spawned by actors, each answering for its subtree") {
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  const int depth = scale_divisor > 1 ? 3 : 4;  // 11,111 actors (1,111 under sanitizers)
  auto root = system.spawn<TreeNode>();
  auto size = me.request(root, Build{depth}, 60s);
  REQUIRE(size.ok());
  std::uint64_t expected = 0;
  for (int d = 0, level = 1; d <= depth; ++d, level *= 10) expected += static_cast<std::uint64_t>(level);
  CHECK(*size == expected);
  REQUIRE(system.wait_idle(30s));
  CHECK(system.live_actors() == 0);
}

// A turn that ends with the mailbox marked empty gives the actor up: a message sent to it next may
// run it on another worker, stop it and free it there, and a spawn there may reuse its memory, all
// before the turn's last instructions run. The turn must touch nothing of the actor after the mark
// (a sampled turn once read its System through it: ThreadSanitizer saw the read race with the next
// actor's constructor in the reused memory). Here children are stopped right after answering, by
// a parent that may run on the other worker, and spawned again at once, many times over; sampled
// turns (about one in a thousand) are among their turns.
TEST_CASE("an actor stopped and its memory reused while its last turn ends") {
  const std::uint64_t parents = 8;
  const std::uint64_t children = scaled(40'000);
  troupe::System system(troupe::Config{.workers = 2});
  troupe::ScopedActor me(system);
  for (std::uint64_t i = 0; i < parents; ++i) system.spawn<Churner>().send(Churn{children, me.handle()});
  for (std::uint64_t i = 0; i < parents; ++i) {
    auto answered = me.receive<std::uint64_t>(120s);
    REQUIRE(answered.ok());
    CHECK(*answered == children);
  }
  REQUIRE(system.wait_idle(30s));
  CHECK(system.live_actors() == 0);
}

}  // TEST_SUITE
