// Mailbox: FIFO, the "was empty" protocol, and many producers against one consumer.
#include <troupe/runtime/mailbox.hpp>

#include "test_support.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <semaphore>
#include <thread>
#include <vector>

using troupe::runtime::Mailbox;
using troupe::runtime::MailboxLink;

namespace {

struct Node : MailboxLink {
  unsigned producer = 0;
  std::uint64_t seq = 0;
  unsigned popped = 0;  // consumer only
};

Node* pop_node(Mailbox& mb) { return static_cast<Node*>(mb.pop()); }

}  // namespace

TEST_SUITE("mailbox") {

TEST_CASE("single thread: FIFO order, then empty") {
  Mailbox mb;
  std::vector<Node> nodes(1000);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    nodes[i].seq = i;
    mb.push(&nodes[i]);
  }
  CHECK(mb.maybe_nonempty());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    Node* n = pop_node(mb);
    REQUIRE(n != nullptr);
    CHECK(n == &nodes[i]);
  }
  CHECK(mb.pop() == nullptr);
  CHECK(mb.pop() == nullptr);
  CHECK_FALSE(mb.maybe_nonempty());
}

TEST_CASE("single node: push, pop, empty") {
  Mailbox mb;
  Node a;
  CHECK(mb.push(&a));
  CHECK(pop_node(mb) == &a);
  CHECK(mb.pop() == nullptr);
  CHECK(mb.try_mark_empty());
  Node b;
  CHECK(mb.push(&b));  // marked empty: this push must schedule the owner
  CHECK(pop_node(mb) == &b);
}

TEST_CASE("was-empty protocol: only the first push after a mark reports it") {
  Mailbox mb;
  Node n[6];
  // A new mailbox is empty and marked.
  CHECK(mb.push(&n[0]));
  CHECK_FALSE(mb.push(&n[1]));
  CHECK_FALSE(mb.push(&n[2]));
  // Not drained: marking must fail, whether or not something was popped.
  CHECK_FALSE(mb.try_mark_empty());
  CHECK(pop_node(mb) == &n[0]);
  CHECK_FALSE(mb.try_mark_empty());
  CHECK(pop_node(mb) == &n[1]);
  CHECK(pop_node(mb) == &n[2]);
  CHECK(mb.pop() == nullptr);
  // Pushes while unmarked never report "was empty", even when the queue is drained.
  CHECK_FALSE(mb.push(&n[3]));
  CHECK(pop_node(mb) == &n[3]);
  CHECK(mb.pop() == nullptr);
  CHECK(mb.try_mark_empty());
  CHECK(mb.push(&n[4]));
  CHECK_FALSE(mb.push(&n[5]));
  CHECK(pop_node(mb) == &n[4]);
  CHECK(pop_node(mb) == &n[5]);
  CHECK(mb.pop() == nullptr);
  CHECK(mb.try_mark_empty());
}

TEST_CASE("many producers: every node popped exactly once, order kept per producer") {
  constexpr unsigned kProducers = 4;
  const std::uint64_t per_producer = 200'000;
  const std::uint64_t total = kProducers * per_producer;

  Mailbox mb;
  std::vector<std::unique_ptr<Node[]>> nodes;
  for (unsigned p = 0; p < kProducers; ++p) {
    nodes.emplace_back(new Node[per_producer]);
    for (std::uint64_t i = 0; i < per_producer; ++i) {
      nodes[p][i].producer = p;
      nodes[p][i].seq = i;
    }
  }

  // The executor protocol: the producer whose push reports "was empty" wakes the consumer,
  // which drains, then marks the mailbox empty and sleeps until the next such push.
  std::counting_semaphore<> wake(0);
  std::atomic<std::uint64_t> schedules{0};
  std::atomic<bool> go{false};

  std::vector<std::thread> producers;
  for (unsigned p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
      for (std::uint64_t i = 0; i < per_producer; ++i) {
        if (mb.push(&nodes[p][i])) {
          schedules.fetch_add(1, std::memory_order_relaxed);
          wake.release();
        }
      }
    });
  }

  std::uint64_t consumed = 0, marks = 0, wakeups = 0, order_errors = 0, duplicates = 0;
  std::vector<std::uint64_t> next(kProducers, 0);
  std::thread consumer([&] {
    wake.acquire();
    ++wakeups;
    for (;;) {
      while (Node* n = pop_node(mb)) {
        ++consumed;
        if (++n->popped != 1) ++duplicates;
        if (n->seq != next[n->producer]) ++order_errors;
        next[n->producer] = n->seq + 1;
      }
      if (consumed == total) break;
      if (mb.try_mark_empty()) {
        ++marks;
        wake.acquire();
        ++wakeups;
      }
    }
  });

  go.store(true, std::memory_order_release);
  for (auto& t : producers) t.join();
  consumer.join();

  CHECK(consumed == total);
  CHECK(duplicates == 0);
  CHECK(order_errors == 0);
  for (unsigned p = 0; p < kProducers; ++p) CHECK(next[p] == per_producer);
  // Exactly one "was empty" per empty→non-empty transition: the initial mark plus each later one.
  CHECK(schedules.load() == marks + 1);
  CHECK(wakeups == marks + 1);
  CHECK_FALSE(wake.try_acquire());  // no schedule left over
  CHECK(mb.pop() == nullptr);
  CHECK(mb.try_mark_empty());
}

}  // TEST_SUITE
