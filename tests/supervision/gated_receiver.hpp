// Shared by the bounded-mailbox tests: a receiver that can be held still while its mailbox fills,
// counting what it handles and checking FIFO order, and a dead-letter hook that counts refusals.
#pragma once

#include <troupe/troupe.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <semaphore>

namespace bounded_test {

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
  std::atomic<std::uint64_t> last{0};  // written by the receiver only; read once it is idle
};

inline auto gated_receiver(troupe::Context&, std::shared_ptr<Gate> gate) {
  return troupe::behavior(
      [gate](Hold) {
        gate->holding.store(true);
        gate->open.acquire();
      },
      [gate](Item item) {
        if (item.seq != 0 && item.seq <= gate->last.load()) gate->out_of_order.store(true);
        gate->last.store(item.seq);
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

inline troupe::SpawnOptions bounded(std::uint32_t capacity, troupe::Overflow overflow) {
  troupe::SpawnOptions o;
  o.mailbox_capacity = capacity;
  o.overflow = overflow;
  return o;
}

// The receiver's MailboxLimit, to watch its count and the threads that wait on it.
inline troupe::runtime::MailboxLimit& limit_of(const troupe::DynamicHandle& actor) {
  return *actor.core()->mailbox_limit();
}

}  // namespace bounded_test
