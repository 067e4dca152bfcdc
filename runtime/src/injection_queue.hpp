// The pool's global injection queue: where actors scheduled from outside the workers (main(),
// timers, blocking actors) and overflow from full worker deques wait.
//
// Producers push with one atomic exchange (mpsc_queue.hpp, through ActorCore's RunLink);
// consumers take turns through a try-lock flag and never wait on it: a worker that loses the
// flag goes on to steal or to park, and the winner wakes another worker when it leaves work behind.
#pragma once

#include <troupe/runtime/actor_core.hpp>
#include <troupe/runtime/mpsc_queue.hpp>

#include <atomic>

namespace troupe::runtime::detail {

class InjectionQueue {
 public:
  // Any thread.
  void push(ActorCore* actor) noexcept { queue_.push(actor); }

  // Any thread; nullptr when empty, momentarily inconsistent, or another consumer is inside.
  ActorCore* pop() noexcept {
    // Acquire: pairs with the release store below, by the previous consumer: we see its tail_.
    if (consumer_busy_.exchange(true, std::memory_order_acquire)) return nullptr;
    RunLink* link = queue_.pop();
    // Release: publishes our update of the queue's tail_ to the next consumer.
    consumer_busy_.store(false, std::memory_order_release);
    return link == nullptr ? nullptr : static_cast<ActorCore*>(link);
  }

  // Any thread; a hint used by the parking protocol (after a seq_cst fence).
  bool maybe_nonempty() const noexcept { return queue_.maybe_nonempty_hint(); }

 private:
  alignas(64) MpscQueue<RunLink, false> queue_;  // the consumer side only under consumer_busy_
  alignas(64) std::atomic<bool> consumer_busy_{false};
};

}  // namespace troupe::runtime::detail
