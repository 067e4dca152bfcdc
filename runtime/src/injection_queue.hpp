// The pool's global injection queue: where actors scheduled from outside the workers (main(),
// timers, blocking actors) and overflow from full worker deques wait.
//
// Producers push with one atomic exchange (intrusive Vyukov queue through ActorCore's RunLink);
// consumers take turns through a try-lock flag and never wait on it: a worker that loses the
// flag goes on to steal or to park, and the winner wakes another worker when it leaves work behind.
#pragma once

#include <troupe/runtime/actor_core.hpp>

#include <atomic>

namespace troupe::runtime::detail {

class InjectionQueue {
 public:
  InjectionQueue() noexcept : head_(&stub_), tail_(&stub_) {}

  // Any thread.
  void push(ActorCore* actor) noexcept { push_link(actor); }

  // Any thread; nullptr when empty, momentarily inconsistent, or another consumer is inside.
  ActorCore* pop() noexcept {
    // Acquire: pairs with the release store in pop's unlock; we see the previous consumer's tail_.
    if (consumer_busy_.exchange(true, std::memory_order_acquire)) return nullptr;
    RunLink* link = pop_locked();
    // Release: publishes our update of tail_ to the next consumer.
    consumer_busy_.store(false, std::memory_order_release);
    return link == nullptr ? nullptr : static_cast<ActorCore*>(link);
  }

  // Any thread; a hint used by the parking protocol (after a seq_cst fence).
  bool maybe_nonempty() const noexcept {
    // Relaxed: a hint; the parking protocol's fence orders it against pushes.
    return head_.load(std::memory_order_relaxed) != &stub_ ||
           stub_.next.load(std::memory_order_relaxed) != nullptr;
  }

 private:
  void push_link(RunLink* link) noexcept {
    link->next.store(nullptr, std::memory_order_relaxed);
    // acq_rel: release publishes the link to the consumer; acquire orders us after the previous
    // producer so our link store below lands on a node it has fully initialised.
    RunLink* prev = head_.exchange(link, std::memory_order_acq_rel);
    // Release: pairs with the acquire loads of `next` in pop_locked.
    prev->next.store(link, std::memory_order_release);
  }

  RunLink* pop_locked() noexcept {
    RunLink* tail = tail_;
    RunLink* next = tail->next.load(std::memory_order_acquire);  // pairs with push's release
    if (tail == &stub_) {
      if (next == nullptr) return nullptr;
      tail_ = next;
      tail = next;
      next = next->next.load(std::memory_order_acquire);  // pairs with push's release
    }
    if (next != nullptr) {
      tail_ = next;
      return tail;
    }
    // Acquire: pairs with the exchange in push_link, to compare against the latest producer.
    if (head_.load(std::memory_order_acquire) != tail) return nullptr;
    push_link(&stub_);
    next = tail->next.load(std::memory_order_acquire);  // pairs with push's release
    if (next != nullptr) {
      tail_ = next;
      return tail;
    }
    return nullptr;
  }

  alignas(64) std::atomic<RunLink*> head_;
  alignas(64) std::atomic<bool> consumer_busy_{false};
  RunLink* tail_;
  RunLink stub_;
};

}  // namespace troupe::runtime::detail
