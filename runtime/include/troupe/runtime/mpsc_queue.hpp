// The one intrusive many-producer / one-consumer FIFO of the runtime: every mailbox, the pool's
// injection queue and a node's ready list (transport's node_loop) are this queue.
//
// Producers push with one atomic exchange (Vyukov's node-based queue, as in Pony's messageq.c);
// `Link` is the node type, with a `std::atomic<Link*> next` field that queued objects derive
// from. With `kMarksEmpty`, the low bit of `head_` is an "empty" mark: the consumer sets it when it
// has drained the queue and stops running, and the one producer whose exchange returns a marked
// pointer learns that the queue was empty, so it alone must schedule the consumer. That makes
// "schedule exactly once per empty→non-empty transition" fall out of the push itself, with no
// extra atomic (the mailbox). Without it, push returns false.
//
// The consumer side is single-threaded: one consumer at a time, whoever guarantees that (the
// actor's turn for a mailbox; a try-lock for the injection queue, which then also orders the
// consumers' updates of tail_).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace troupe::runtime {

template <class Link, bool kMarksEmpty>
class MpscQueue {
 public:
  // A new queue is empty; with kMarksEmpty it is also marked: the first push reports it.
  MpscQueue() noexcept : head_(kMarksEmpty ? mark(&stub_) : &stub_), tail_(&stub_) {}
  MpscQueue(const MpscQueue&) = delete;
  MpscQueue& operator=(const MpscQueue&) = delete;

  // Any thread. Returns true when the queue was marked empty: the caller must schedule the
  // consumer (always false without kMarksEmpty).
  bool push(Link* node) noexcept {
    node->next.store(nullptr, std::memory_order_relaxed);
    // acq_rel. Release: publishes the node's contents to the consumer (pairs with the acquire
    // load of `next` in pop). Acquire: pairs with the release CAS in try_mark_empty, so the pusher
    // that takes the mark also sees everything the consumer wrote in its last turn; and orders us
    // after the previous producer, whose node we link to below.
    Link* prev = head_.exchange(node, std::memory_order_acq_rel);
    // Release: pairs with the acquire load of `next` in pop; links the node for the consumer.
    unmark(prev)->next.store(node, std::memory_order_release);
    return is_marked(prev);
  }

  // Consumer only. The oldest node, or nullptr when none is ready (empty, or a producer is
  // between its exchange and its link: the node becomes visible moments later).
  Link* pop() noexcept {
    Link* tail = tail_;
    // Acquire: pairs with the release store of `next` in push.
    Link* next = tail->next.load(std::memory_order_acquire);
    if (tail == &stub_) {
      if (next == nullptr) return nullptr;
      tail_ = next;
      tail = next;
      next = next->next.load(std::memory_order_acquire);  // pairs with push's release store
    }
    if (next != nullptr) {
      tail_ = next;
      // A backlog: the next node was most likely written on another core. Start fetching it now,
      // so that its line arrives while the caller handles this one (a flooded actor's every pop
      // was a cache miss; the rest of the queue costs nothing).
      __builtin_prefetch(next);
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

  // Consumer only, when pop() returned nullptr and the consumer is about to stop running.
  // Returns true if the queue is now marked empty (the next push reports it), by this call or
  // already (a consumer that also looks without being scheduled, as the node's loop does, may
  // find it so); false if a node arrived meanwhile, in which case the consumer must stay
  // scheduled.
  bool try_mark_empty() noexcept
    requires kMarksEmpty
  {
    if (tail_ != &stub_ || stub_.next.load(std::memory_order_acquire) != nullptr) return false;
    Link* expected = &stub_;
    // Release: publishes the consumer's last turn to the pusher that takes the mark (pairs with
    // the acquire half of push's exchange). Relaxed on failure: we only learn what head_ holds
    // (an RMW reads the latest value): still marked, or a push came.
    if (head_.compare_exchange_strong(expected, mark(&stub_), std::memory_order_release,
                                      std::memory_order_relaxed))
      return true;
    return expected == mark(&stub_);
  }

  // Consumer only: takes the empty mark back, so that pushes report nothing until the next
  // try_mark_empty (a consumer that polls, and wants no wake-up meanwhile). False if a push took
  // it first, or it was not marked. Relaxed: nothing is published; head_ goes back to the stub
  // that try_mark_empty left there, whose next is null.
  bool try_unmark() noexcept
    requires kMarksEmpty
  {
    Link* expected = mark(&stub_);
    return head_.compare_exchange_strong(expected, &stub_, std::memory_order_relaxed, std::memory_order_relaxed);
  }

  // Takes the empty mark of a queue nobody else can see yet, so its consumer can be scheduled
  // without a node (a new actor's first turn). Relaxed: the actor is published to other threads
  // only later, through the run queue's own release.
  void claim_new() noexcept
    requires kMarksEmpty
  {
    head_.store(&stub_, std::memory_order_relaxed);
  }

  // Consumer only: whether a node may be waiting (used to decide between idle and re-queue).
  bool maybe_nonempty() const noexcept {
    return tail_ != &stub_ || stub_.next.load(std::memory_order_acquire) != nullptr;
  }

  // Consumer only: how many nodes wait, counting at most `limit` (a walk along the links, for the
  // metrics; a node still being linked is not counted yet).
  std::size_t count_waiting(std::size_t limit) const noexcept {
    std::size_t n = 0;
    // Acquire: pairs with push's release store of `next`; the node is whole before we step on.
    for (const Link* node = tail_; node != nullptr && n < limit; node = node->next.load(std::memory_order_acquire)) {
      if (node != &stub_) ++n;
    }
    return n;
  }

  // Any thread: a hint, for a protocol that orders it itself (the pool's parking fence).
  bool maybe_nonempty_hint() const noexcept {
    // Relaxed: a hint; the caller's own fence orders it against pushes.
    return unmark(head_.load(std::memory_order_relaxed)) != &stub_ ||
           stub_.next.load(std::memory_order_relaxed) != nullptr;
  }

  // Any thread: whether the queue is marked empty now (the next push will report it). A hint for
  // diagnostics: it may change as it is read. Relaxed: nothing is read through it.
  bool marked_empty_hint() const noexcept
    requires kMarksEmpty
  {
    return is_marked(head_.load(std::memory_order_relaxed));
  }

 private:
  static Link* mark(Link* p) noexcept {
    if constexpr (!kMarksEmpty) return p;
    return reinterpret_cast<Link*>(reinterpret_cast<std::uintptr_t>(p) | 1u);
  }
  static Link* unmark(Link* p) noexcept {
    if constexpr (!kMarksEmpty) return p;
    return reinterpret_cast<Link*>(reinterpret_cast<std::uintptr_t>(p) & ~std::uintptr_t{1});
  }
  static bool is_marked(Link* p) noexcept {
    if constexpr (!kMarksEmpty) return false;
    return (reinterpret_cast<std::uintptr_t>(p) & 1u) != 0;
  }
  void push_stub() noexcept {
    stub_.next.store(nullptr, std::memory_order_relaxed);
    // acq_rel as in push; the consumer never holds the mark here, so `prev` is unmarked.
    Link* prev = head_.exchange(&stub_, std::memory_order_acq_rel);
    prev->next.store(&stub_, std::memory_order_release);  // pairs with pop's acquire load
  }

  std::atomic<Link*> head_;  // newest node; written by every producer
  Link* tail_;               // oldest node; consumer only
  Link stub_;                // keeps the queue non-empty of nodes
};

}  // namespace troupe::runtime
