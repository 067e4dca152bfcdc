// MailboxLimit's two bounds: a count of messages and, where the owner weighs them, their bytes.
#include <troupe/runtime/mailbox_limit.hpp>

#include <doctest/doctest.h>

#include <thread>

using troupe::runtime::MailboxLimit;
using troupe::runtime::Overflow;

TEST_CASE("without a byte bound, only the count fills the mailbox") {
  MailboxLimit limit(2, Overflow::fail);
  CHECK(limit.try_reserve(1u << 30));
  CHECK(limit.try_reserve(1u << 30));
  CHECK_FALSE(limit.try_reserve(0));
  CHECK(limit.queued_bytes() == 0);
}

TEST_CASE("the byte bound refuses once reached, whatever the count") {
  MailboxLimit limit(1000, Overflow::fail, 100);
  CHECK(limit.try_reserve(60));
  CHECK(limit.try_reserve(60));  // admitted while under the bound: one message may overshoot it
  CHECK(limit.queued_bytes() == 120);
  CHECK_FALSE(limit.try_reserve(1));
  CHECK_FALSE(limit.has_room());
  limit.consumed(60);
  CHECK(limit.has_room());
  CHECK(limit.try_reserve(10));
  CHECK(limit.queued() == 2);
  CHECK(limit.queued_bytes() == 70);
}

TEST_CASE("reserve reports full by bytes, and a waiting thread goes on once the bytes drain") {
  MailboxLimit limit(1000, Overflow::backpressure, 100);
  CHECK_FALSE(limit.reserve(40));
  CHECK(limit.reserve(70));  // 110 bytes: full, though only 2 of 1000 messages
  bool waited = false;
  std::thread waiter([&] {
    limit.wait_for_room();
    waited = true;
  });
  limit.consumed(70);  // 40 bytes left: at most half the bound, so the waiter is woken
  waiter.join();
  CHECK(waited);
  CHECK(limit.queued_bytes() == 40);
}
