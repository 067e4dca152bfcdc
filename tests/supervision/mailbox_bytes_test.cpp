// Mailboxes bounded in bytes (SpawnOptions::mailbox_bytes): what a message weighs
// (<troupe/message_bytes.hpp>), refusals once the bytes waiting reach the bound however few the
// messages, and backpressure that holds a flooding sender to about the bound.
#include <troupe/message_bytes.hpp>
#include <troupe/testing.hpp>
#include <troupe/troupe.hpp>

#include "supervision/gated_receiver.hpp"
#include "test_support.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

using namespace troupe_test;
using namespace bounded_test;

namespace weigh_test {

struct Blob {
  std::string data;
};
// A plain struct's fields are not seen: listed, its string is weighed.
[[maybe_unused]] constexpr auto troupe_wire_fields(const Blob*) { return std::make_tuple(&Blob::data); }
struct Listed {
  std::string name;
  std::vector<std::string> lines;
  int n = 0;
};
// As TROUPE_WIRE_MESSAGE lists a type's fields for the wire.
[[maybe_unused]] constexpr auto troupe_wire_fields(const Listed*) {
  return std::make_tuple(&Listed::name, &Listed::lines, &Listed::n);
}
struct Own {
  std::size_t said;
};
std::size_t troupe_heap_bytes(const Own& own) { return own.said; }

// What a one-way Blob of `chars` characters weighs in a mailbox: its block and its string's heap.
std::uint64_t blob_weight(std::size_t chars) {
  return sizeof(troupe::Message<Blob>) + troupe::heap_bytes(Blob{std::string(chars, 'x')});
}

}  // namespace weigh_test

using namespace weigh_test;

TEST_SUITE("bounded mailboxes") {
  TEST_CASE("a message weighs what its value owns: strings off the small buffer, vectors, listed fields, a hook") {
    CHECK(troupe::heap_bytes(42) == 0);
    CHECK(troupe::heap_bytes(std::string("short")) == 0);  // in the small-string buffer
    const std::string long_one(1000, 'x');
    CHECK(troupe::heap_bytes(long_one) == long_one.capacity() + 1);
    std::vector<std::int64_t> numbers(100);
    CHECK(troupe::heap_bytes(numbers) == numbers.capacity() * sizeof(std::int64_t));
    std::vector<std::string> strings{long_one, "s"};
    CHECK(troupe::heap_bytes(strings) == strings.capacity() * sizeof(std::string) + long_one.capacity() + 1);
    CHECK(troupe::heap_bytes(std::optional<std::string>(long_one)) == long_one.capacity() + 1);
    CHECK(troupe::heap_bytes(std::optional<std::string>()) == 0);
    CHECK(troupe::heap_bytes(std::make_unique<std::string>(long_one)) == sizeof(std::string) + long_one.capacity() + 1);
    Listed listed{long_one, {long_one}, 3};
    CHECK(troupe::heap_bytes(listed) == 2 * (long_one.capacity() + 1) + listed.lines.capacity() * sizeof(std::string));
    CHECK(troupe::heap_bytes(Own{12345}) == 12345);
    // Tuple-likes: their elements'. Views own nothing.
    CHECK(troupe::heap_bytes(std::pair<int, std::string>{1, long_one}) == long_one.capacity() + 1);
    CHECK(troupe::heap_bytes(std::tuple<std::string, int, std::string>{long_one, 2, "s"}) == long_one.capacity() + 1);
    CHECK(troupe::heap_bytes(std::array<std::string, 2>{long_one, long_one}) == 2 * (long_one.capacity() + 1));
    CHECK(troupe::heap_bytes(std::string_view(long_one)) == 0);
    // Node-based containers: a node per element, with its links, and what the elements own.
    const std::map<int, std::string> map{{1, long_one}, {2, "s"}};
    CHECK(troupe::heap_bytes(map) ==
          2 * (sizeof(std::pair<const int, std::string>) + 4 * sizeof(void*)) + long_one.capacity() + 1);
    const std::list<std::int64_t> list{1, 2, 3};
    CHECK(troupe::heap_bytes(list) == 3 * (sizeof(std::int64_t) + 2 * sizeof(void*)));
    const std::unordered_map<int, int> hashed{{1, 1}, {2, 2}};
    CHECK(troupe::heap_bytes(hashed) ==
          hashed.bucket_count() * sizeof(void*) + 2 * (sizeof(std::pair<const int, int>) + 2 * sizeof(void*)));
  }

  TEST_CASE("fail and drop: a mailbox bounded in bytes refuses once the bytes waiting reach the bound") {
    for (const troupe::Overflow overflow : {troupe::Overflow::fail, troupe::Overflow::drop}) {
      CAPTURE(static_cast<int>(overflow));
      DeadLetterLog log;
      troupe::System system(log.config());
      auto gate = std::make_shared<Gate>();
      troupe::SpawnOptions options;
      options.mailbox_bytes = 10'000;  // no bound on the count: bytes alone
      options.overflow = overflow;
      auto receiver = system.spawn(options, [gate](troupe::Context&) {
        return troupe::behavior(
            [gate](Hold) {
              gate->holding.store(true);
              gate->open.acquire();
            },
            [gate](const Blob& blob) {
              if (blob.data.size() != 1000) gate->out_of_order.store(true);
              gate->handled.fetch_add(1);
            });
      });
      receiver.send(Hold{});
      REQUIRE(eventually([&] { return gate->holding.load(); }));

      // Ten 1,000-character messages are nowhere near a count bound, but they are the bound in bytes:
      // each is let in while the bytes waiting are under it.
      const std::uint64_t weight = blob_weight(1000);
      const std::uint64_t admitted = (10'000 + weight - 1) / weight;
      CHECK(admitted == 10);  // (a failed REQUIRE here would leave the receiver held)
      int refused = 0;
      for (int i = 0; i < 15; ++i) {
        const troupe::SendResult r = receiver.send(Blob{std::string(1000, 'x')});
        if (!r) {
          CHECK(r.code() == troupe::Errc::mailbox_full);
          ++refused;
        }
      }
      CHECK(refused == 15 - static_cast<int>(admitted));
      CHECK(limit_of(receiver).queued_bytes() == admitted * weight);
      CHECK(limit_of(receiver).queued() == admitted);
      CHECK(log.mailbox_full.load() == (overflow == troupe::Overflow::drop ? refused : 0));

      gate->open.release();
      REQUIRE(system.wait_idle(10s));
      CHECK(gate->handled.load() == admitted);
      // Handled, the bytes are off the count: the mailbox takes messages again.
      CHECK(limit_of(receiver).queued_bytes() == 0);
      CHECK(receiver.send(Blob{std::string(1000, 'x')}).ok());
      REQUIRE(system.wait_idle(10s));
      CHECK(gate->handled.load() == admitted + 1);
      CHECK_FALSE(gate->out_of_order.load());
    }
  }

  TEST_CASE("a stashed message's bytes count until it is handled for good, and no longer") {
    troupe::System system(troupe::Config{.workers = 2});
    struct Open {};
    auto handled = std::make_shared<std::atomic<int>>(0);
    troupe::SpawnOptions options;
    options.mailbox_bytes = 10'000;
    options.overflow = troupe::Overflow::fail;
    auto receiver = system.spawn(options, [handled](troupe::Context& self) {
      auto open = std::make_shared<bool>(false);
      return troupe::behavior(
          [&self, open, handled](const Blob&) {
            if (!*open) {
              self.stash();
            } else {
              handled->fetch_add(1);
            }
          },
          [&self, open](Open) {
            *open = true;
            self.unstash_all();
          });
    });
    troupe::runtime::MailboxLimit& limit = limit_of(receiver);
    const std::uint64_t weight = blob_weight(1000);
    for (int i = 0; i < 3; ++i) CHECK(receiver.send(Blob{std::string(1000, 'x')}).ok());
    REQUIRE(system.wait_idle(10s));
    CHECK(limit.queued_bytes() == 3 * weight);  // stashed, still counted
    CHECK(receiver.send(Open{}).ok());
    REQUIRE(system.wait_idle(10s));
    CHECK(handled->load() == 3);
    CHECK(limit.queued_bytes() == 0);  // handled for good: off the count, not below it
    // Room for as many as ever: nine 1,049-byte messages, and the tenth that reaches the bound.
    receiver.send(Open{});
    int admitted = 0;
    for (int i = 0; i < 12; ++i) admitted += receiver.send(Blob{std::string(1000, 'x')}).ok() ? 1 : 0;
    CHECK(admitted >= 10);
  }

  TEST_CASE("backpressure: a thread waits for room in bytes, and loses nothing") {
    troupe::System system(troupe::Config{.workers = 2});
    auto gate = std::make_shared<Gate>();
    troupe::SpawnOptions options;
    options.mailbox_bytes = 10'000;
    auto receiver = system.spawn(options, [gate](troupe::Context&) {
      return troupe::behavior(
          [gate](Hold) {
            gate->holding.store(true);
            gate->open.acquire();
          },
          [gate](const Blob&) { gate->handled.fetch_add(1); });
    });
    receiver.send(Hold{});
    REQUIRE(eventually([&] { return gate->holding.load(); }));
    std::atomic<int> sent{0};
    std::thread sender([&] {
      for (int i = 0; i < 30; ++i) {
        receiver.send(Blob{std::string(1000, 'x')});
        sent.fetch_add(1);
      }
    });
    // Ten reach the bound in bytes; the eleventh waits. (Hold is off the count already: a mailbox
    // bounded in bytes takes each message off as its owner takes it, not in batches.)
    REQUIRE(eventually([&] { return sent.load() == 10 && limit_of(receiver).waiting_threads() == 1; }));
    CHECK(sent.load() == 10);
    CHECK(gate->handled.load() == 0);
    gate->open.release();
    sender.join();
    REQUIRE(system.wait_idle(10s));
    CHECK(gate->handled.load() == 30);
    CHECK(limit_of(receiver).queued_bytes() == 0);
  }

  TEST_CASE("backpressure: a thread whose sends find room never counts as waiting") {
    // A send from a thread to a backpressure mailbox that has room goes straight in: it never
    // registers as a waiter, so waiting_threads() means what the tests above read it as. (It
    // once counted every send for a moment, and a watcher could catch the first send "waiting".)
    troupe::System system(troupe::Config{.workers = 2});
    troupe::SpawnOptions options;
    options.mailbox_bytes = 1u << 30;  // never reached here
    auto handled = std::make_shared<std::atomic<int>>(0);
    auto receiver = system.spawn(options, [handled](troupe::Context&) {
      return troupe::behavior([handled](const Blob&) { handled->fetch_add(1); });
    });
    troupe::runtime::MailboxLimit& limit = limit_of(receiver);
    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> looks{0};
    std::atomic<int> seen_waiting{0};
    std::thread watcher([&] {
      while (!done.load()) {
        if (limit.waiting_threads() != 0) seen_waiting.fetch_add(1);
        looks.fetch_add(1, std::memory_order_relaxed);  // relaxed: a count, read once it joined
      }
    });
    // Sends while the watcher looks: until it has looked 200,000 times (a bounded while, so that
    // the two overlap however the threads are scheduled).
    const auto deadline = Clock::now() + 10s;
    int sends = 0;
    while ((sends < 1000 || looks.load(std::memory_order_relaxed) < 200'000) && Clock::now() < deadline) {
      receiver.send(Blob{"x"});
      ++sends;
    }
    done.store(true);
    watcher.join();
    REQUIRE(system.wait_idle(10s));
    CHECK(handled->load() == sends);
    CHECK(seen_waiting.load() == 0);
  }

  TEST_CASE("deterministic mode: the driving thread sending past the bound in bytes runs the receiver for room") {
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      CAPTURE(seed);
      troupe::System system(troupe::testing::deterministic(seed));
      auto handled = std::make_shared<int>(0);
      auto most_waiting = std::make_shared<std::uint64_t>(0);
      troupe::SpawnOptions options;
      options.mailbox_bytes = 10'000;
      auto receiver = system.spawn(options, [handled, most_waiting](troupe::Context& self) {
        return troupe::behavior([&self, handled, most_waiting](const Blob&) {
          ++*handled;
          *most_waiting = std::max(*most_waiting, self.self().core()->mailbox_limit()->queued_bytes());
        });
      });
      for (int i = 0; i < 50; ++i) receiver.send(Blob{std::string(1000, 'x')});
      REQUIRE(system.wait_idle());
      CHECK(*handled == 50);
      CHECK(*most_waiting <= 10'000 + blob_weight(1000));
      CHECK(limit_of(receiver).queued_bytes() == 0);
    }
  }

  TEST_CASE("backpressure: a sender flooding a mailbox bounded in bytes is held to about the bound") {
    troupe::System system(troupe::Config{.workers = 2});
    constexpr std::uint64_t bound = 64 * 1024;
    constexpr int messages = 2000;  // 2 MB of strings in all, 32 times the bound
    struct Watch {
      std::atomic<std::uint64_t> most_waiting{0};
      std::atomic<int> sent{0};
      std::atomic<int> handled{0};
      std::atomic<bool> out_of_order{false};
    };
    auto watch = std::make_shared<Watch>();
    troupe::SpawnOptions options;
    options.mailbox_bytes = bound;
    auto receiver = system.spawn(options, [watch](troupe::Context&) {
      return troupe::behavior([watch](const Blob& blob) {
        // The receiver is the slower side: a little work per message.
        std::uint64_t x = blob.data.size();
        for (int i = 0; i < 2000; ++i) x = x * 6364136223846793005u + 1;
        if (x == 0) watch->out_of_order.store(true);  // never: keeps the loop
        if (blob.data.front() - 'a' != watch->handled.load() % 26) watch->out_of_order.store(true);
        // Sent and not yet handled, this one included, counted apart from the mailbox's own count.
        const auto waiting = static_cast<std::uint64_t>(watch->sent.load() - watch->handled.load());
        watch->most_waiting.store(std::max(watch->most_waiting.load(), waiting * blob_weight(1000)));
        watch->handled.fetch_add(1);
      });
    });
    system
        .spawn(
            [watch](troupe::Context& self, troupe::DynamicHandle to) {
              return troupe::behavior([&self, to, watch](Hold) -> troupe::Task<void> {
                for (int i = 0; i < messages; ++i) {
                  watch->sent.fetch_add(1);  // before: the receiver never sees more handled than sent
                  to.send(Blob{std::string(1000, static_cast<char>('a' + i % 26))});
                  co_await self.pace();  // suspends while this actor is muted by the full mailbox
                }
              });
            },
            troupe::DynamicHandle(receiver))
        .send(Hold{});
    REQUIRE(eventually([&] { return watch->handled.load() == messages; }, 60s));
    CHECK_FALSE(watch->out_of_order.load());
    // At most the bound, and the one message let in while under it (and the one counted as sent
    // just before its send).
    CHECK(watch->most_waiting.load() <= bound + 2 * blob_weight(1000));
    CHECK(watch->most_waiting.load() >= bound / 2);  // the sender did run ahead of the receiver
  }
}
