// The mailbox of one actor: an intrusive many-producer / one-consumer FIFO.
//
// Producers push with one atomic exchange (Vyukov's node-based queue, as in Pony's messageq.c).
// The low bit of `head_` is the "empty" mark: the consumer sets it when it has drained the queue
// and stops running, and the one producer whose exchange returns a marked pointer learns that the
// mailbox was empty, so it alone must schedule the owner. That makes "schedule exactly once per
// empty→non-empty transition" fall out of the push itself, with no extra atomic.
#pragma once

#include <atomic>
#include <cstdint>

namespace troupe::runtime {

// The one field of a message the mailbox touches. Messages derive from it.
struct MailboxLink {
  std::atomic<MailboxLink*> next{nullptr};
};

class Mailbox {
 public:
  // A new mailbox is empty and marked: the first push schedules its owner.
  Mailbox() noexcept : head_(mark(&stub_)), tail_(&stub_) {}
  Mailbox(const Mailbox&) = delete;
  Mailbox& operator=(const Mailbox&) = delete;

  // Any thread. Returns true when the mailbox was marked empty: the caller must schedule the owner.
  bool push(MailboxLink* node) noexcept {
    node->next.store(nullptr, std::memory_order_relaxed);
    // acq_rel. Release: publishes the node's contents to the consumer (pairs with the acquire
    // load of `next` in pop). Acquire: pairs with the release CAS in try_mark_empty, so the pusher
    // that takes the mark also sees everything the owner wrote in its last turn.
    MailboxLink* prev = head_.exchange(node, std::memory_order_acq_rel);
    // Release: pairs with the acquire load of `next` in pop; links the node for the consumer.
    unmark(prev)->next.store(node, std::memory_order_release);
    return is_marked(prev);
  }

  // Consumer only. The oldest message, or nullptr when none is ready (empty, or a producer is
  // between its exchange and its link: the message becomes visible moments later).
  MailboxLink* pop() noexcept {
    MailboxLink* tail = tail_;
    // Acquire: pairs with the release store of `next` in push.
    MailboxLink* next = tail->next.load(std::memory_order_acquire);
    if (tail == &stub_) {
      if (next == nullptr) return nullptr;
      tail_ = next;
      tail = next;
      next = next->next.load(std::memory_order_acquire);  // pairs with push's release store
    }
    if (next != nullptr) {
      tail_ = next;
      return tail;
    }
    // `tail` is the last node. Only when it is also the head may we take it: put the stub back
    // behind it first so the queue is never without a node.
    // Relaxed is enough for this comparison: a stale value only makes us return nullptr.
    if (head_.load(std::memory_order_relaxed) != tail) return nullptr;
    push_stub();
    next = tail->next.load(std::memory_order_acquire);  // pairs with push's release store
    if (next != nullptr) {
      tail_ = next;
      return tail;
    }
    return nullptr;
  }

  // Consumer only, when pop() returned nullptr and the owner is about to stop running.
  // Returns true if the mailbox is now marked empty (the next push will schedule the owner);
  // false if a message arrived meanwhile, in which case the owner must stay scheduled.
  bool try_mark_empty() noexcept {
    if (tail_ != &stub_ || stub_.next.load(std::memory_order_acquire) != nullptr) return false;
    MailboxLink* expected = &stub_;
    // Release: publishes the owner's last turn to the pusher that takes the mark (pairs with the
    // acquire half of push's exchange). Relaxed on failure: we only learn that we must go on.
    return head_.compare_exchange_strong(expected, mark(&stub_), std::memory_order_release,
                                         std::memory_order_relaxed);
  }

  // Takes the empty mark of a mailbox nobody else can see yet, so its owner can be scheduled
  // without a message (a new actor's first turn). Relaxed: the actor is published to other
  // threads only later, through the run queue's own release.
  void claim_new() noexcept { head_.store(&stub_, std::memory_order_relaxed); }

  // Consumer only: whether a message may be waiting (used to decide between idle and re-queue).
  bool maybe_nonempty() const noexcept {
    return tail_ != &stub_ || stub_.next.load(std::memory_order_acquire) != nullptr;
  }

 private:
  static MailboxLink* mark(MailboxLink* p) noexcept {
    return reinterpret_cast<MailboxLink*>(reinterpret_cast<std::uintptr_t>(p) | 1u);
  }
  static MailboxLink* unmark(MailboxLink* p) noexcept {
    return reinterpret_cast<MailboxLink*>(reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{1});
  }
  static bool is_marked(MailboxLink* p) noexcept {
    return (reinterpret_cast<std::uintptr_t>(p) & 1u) != 0;
  }
  void push_stub() noexcept {
    stub_.next.store(nullptr, std::memory_order_relaxed);
    // acq_rel as in push; the consumer never holds the mark here, so `prev` is unmarked.
    MailboxLink* prev = head_.exchange(&stub_, std::memory_order_acq_rel);
    prev->next.store(&stub_, std::memory_order_release);  // pairs with pop's acquire load
  }

  std::atomic<MailboxLink*> head_;  // newest node; written by every producer
  MailboxLink* tail_;               // oldest node; consumer only
  MailboxLink stub_;                // keeps the queue non-empty of nodes
};

}  // namespace troupe::runtime
