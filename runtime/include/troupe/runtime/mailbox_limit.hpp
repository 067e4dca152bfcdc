// The capacity of a bounded mailbox and what happens at it: the count of user messages not yet
// handled (and, where the mailbox weighs them, their bytes), the senders muted because they sent
// to it while it was full, and the threads waiting for room. Only bounded actors have one (ActorCore::mailbox_limit());
// unbounded actors pay one pointer and one predictable branch per send.
//
// Backpressure follows Pony's muting: an actor that sends to a full mailbox is not refused and
// not blocked (a worker must never block); its message is queued, and when its turn ends it is
// parked — not run again, whatever arrives for it — until the receiver has drained to its low
// water mark and releases it. A thread that is not a runtime thread instead waits for room.
//
// A byte bound (byte_capacity, non-zero) makes the mailbox full when either bound is reached, and
// drained when both are at half. What a message weighs is its owner's to say (ActorCore::admit);
// a message is admitted while the bytes queued are under the bound, so concurrent senders can
// overshoot it by at most one message each.
//
// No cycle of muted actors can deadlock: an actor parks only if no sender is muted on it (see
// ActorCore::park_if_muted), and registration and that check are sequentially consistent, so in
// any cycle the last actor to park would have seen its predecessor registered on it.
#pragma once

#include <troupe/runtime/actor_core.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace troupe::runtime {

enum class Overflow : std::uint8_t {
  drop,          // a message to a full mailbox is dropped (the actors layer counts a dead letter)
  fail,          // a send to a full mailbox fails with an error value
  backpressure,  // the message is queued; the sending actor is muted, a sending thread waits
};

class MailboxLimit;

// How a thread of the caller's own waits for room in a full mailbox, when the mailbox's system runs
// its actors on that very thread (deterministic mode: it runs them until there is room). Chosen
// once, when the bounded actor is spawned, so that sending never asks which mode it is in.
class RoomWaiter {
 public:
  virtual void wait_for_room(MailboxLimit& limit) = 0;

 protected:
  ~RoomWaiter() = default;
};

class MailboxLimit {
 public:
  // `waiter`: see RoomWaiter; nullptr (the usual case) blocks the waiting thread until the owner
  // drains its mailbox. It must outlive the limit.
  MailboxLimit(std::uint32_t capacity, Overflow policy, std::uint64_t byte_capacity = 0,
               RoomWaiter* waiter = nullptr) noexcept
      : capacity_(capacity == 0 ? 1 : capacity),
        low_water_(capacity_ / 2),
        consume_batch_(policy == Overflow::backpressure
                           ? std::min<std::uint32_t>(kConsumeBatch, std::max<std::uint32_t>(1, capacity_ / 8))
                           : 1),
        byte_capacity_(byte_capacity),
        byte_low_water_(byte_capacity / 2),
        policy_(policy),
        waiter_(waiter) {}
  ~MailboxLimit();
  MailboxLimit(const MailboxLimit&) = delete;
  MailboxLimit& operator=(const MailboxLimit&) = delete;

  std::uint32_t capacity() const noexcept { return capacity_; }
  std::uint64_t byte_capacity() const noexcept { return byte_capacity_; }  // 0: no byte bound
  Overflow policy() const noexcept { return policy_; }
  // Messages counted and not yet handled (a snapshot).
  std::uint32_t queued() const noexcept {
    // Relaxed: a snapshot for diagnostics and tests.
    return queued_.load(std::memory_order_relaxed);
  }
  // Bytes counted and not yet handled (a snapshot; 0 without a byte bound).
  std::uint64_t queued_bytes() const noexcept {
    // Relaxed: a snapshot for diagnostics and tests.
    return queued_bytes_.load(std::memory_order_relaxed);
  }
  // Threads that found the mailbox full in wait_for_room and wait there (or are about to: they
  // look once more after counting themselves). A snapshot, for diagnostics and tests: a test sees
  // a sending thread waiting, rather than sleeping and guessing that it is.
  std::uint32_t waiting_threads() const noexcept {
    // Relaxed: a snapshot.
    return waiting_threads_.load(std::memory_order_relaxed);
  }
  // Whether a thread waiting for room may go on (below both bounds), or the owner has stopped.
  bool has_room() const noexcept;

  // Whether the owner has stopped (no limit any more). Relaxed: a snapshot.
  bool closed() const noexcept { return closed_.load(std::memory_order_relaxed); }

  // Any sender, drop/fail: counts one message of `bytes` if there is room; false when full.
  bool try_reserve(std::uint64_t bytes = 0) noexcept;
  // Any sender, backpressure: counts one message of `bytes`, room or not; true if the mailbox is
  // now full (the sender should slow down).
  bool reserve(std::uint64_t bytes = 0) noexcept;
  // Any sender, backpressure, no byte bound: counts `count` messages at once (room reserved ahead
  // by an actor's turn); true if the mailbox is now full.
  bool reserve_many(std::uint32_t count) noexcept;
  // Owner, once per counted message handled, with the bytes it was counted with: once drained to
  // the low water marks, releases the muted senders (all, or one per message: see
  // release_one_at_a_time) and wakes the waiting threads.
  void consumed(std::uint64_t bytes = 0) noexcept { owner_consumed(1, bytes); }
  // The same for a mailbox without a byte bound, in batches under backpressure: the owner counts
  // what it handles and takes it off the shared count once per batch (32 messages, or an eighth
  // of a smaller capacity), so that a busy mailbox's count line does not move between the sending
  // cores and the owner's on every message. The count stays high by less than a batch meanwhile,
  // which only holds senders back sooner. (drop and fail count each message at once: there the
  // count decides what is lost.) The owner must call flush_consumed() before its turn ends.
  void consumed_one() noexcept {
    if (++consumed_pending_ == consume_batch_) flush_consumed();
  }
  void flush_consumed() noexcept {
    if (consumed_pending_ == 0) return;
    const std::uint32_t count = consumed_pending_;
    consumed_pending_ = 0;
    owner_consumed(count, 0);
  }
  // Any sender: gives back `count` messages of room it reserved ahead (reserve_many) and did not
  // use, as if they had been handled; counted without bytes.
  void consumed_many(std::uint32_t count) noexcept;

  // A sending actor (in its turn) registers itself as muted on this mailbox; the limit keeps a
  // reference to it until it releases it. Returns true if the mailbox has already drained to its
  // low water mark, in which case the sender must not park (ActorCore::cancel_mute).
  bool add_muted(ActorCore* sender);
  // Owner: whether some sender is muted here (the owner then must not park itself).
  bool has_muted() const noexcept {
    // Seq_cst: pairs with the seq_cst push in add_muted; see the note on cycles at the top.
    return released_one_by_one_.head != nullptr || muted_.load(std::memory_order_seq_cst) != nullptr;
  }

  // Owner, before it starts: release muted senders one at a time instead of all at once. Once the
  // mailbox has drained to its low water mark, the oldest muted sender goes, and another after
  // each further quarter of the low water mark handled below it; so a released sender has room
  // for many messages, instead of all of them waking to find room for a few each. The owner
  // promises to call
  // release_all_muted() whenever its mailbox is empty (an actor cell, at the end of a turn that
  // drained it), so that nobody stays muted on an idle, drained actor.
  void release_one_at_a_time() noexcept { one_at_a_time_ = true; }
  // Owner, its mailbox empty: lets every muted sender go, if the counts are at or below the low
  // water marks (messages set aside or stashed still count, and hold senders back).
  void release_all_muted() noexcept {
    // Relaxed: the owner's own counts, but for senders' reservations, which only hold back more.
    if (has_muted() && drained(queued_.load(std::memory_order_relaxed), queued_bytes_.load(std::memory_order_relaxed)))
        [[unlikely]]
      release_owned();
  }

  // A thread that may block: waits until the mailbox is below capacity or closed (with a
  // RoomWaiter: however it waits, and it may return while the mailbox is still full).
  void wait_for_room();

  // Owner, when it stops: no limit from now on; releases every muted sender and waiting thread.
  void close() noexcept;

 private:
  struct MutedSender;
  void release_muted() noexcept;
  void release_owned() noexcept;
  static void release_list(MutedSender* node) noexcept;
  static void let_go(MutedSender* node) noexcept;
  void owner_consumed(std::uint32_t count, std::uint64_t bytes) noexcept;
  void on_drained(bool crossed, std::uint32_t handled) noexcept;
  void take_registered() noexcept;
  void wake_waiters() noexcept;

  bool drained(std::uint32_t count, std::uint64_t bytes) const noexcept {
    return count <= low_water_ && bytes <= byte_low_water_;
  }
  bool full(std::uint32_t count, std::uint64_t bytes) const noexcept {
    return count >= capacity_ || (byte_capacity_ != 0 && bytes >= byte_capacity_);
  }

  static constexpr std::uint32_t kConsumeBatch = 32;

  const std::uint32_t capacity_;
  const std::uint32_t low_water_;
  const std::uint32_t consume_batch_;
  const std::uint64_t byte_capacity_;
  const std::uint64_t byte_low_water_;
  const Overflow policy_;
  RoomWaiter* const waiter_;
  std::atomic<bool> closed_{false};
  // Written by every sender and by the owner: on a line of its own, apart from the constants.
  alignas(64) std::atomic<std::uint32_t> queued_{0};
  std::atomic<std::uint64_t> queued_bytes_{0};  // only with a byte bound
  std::atomic<std::uint32_t> waiting_threads_{0};
  std::atomic<MutedSender*> muted_{nullptr};  // a stack: senders push, the owner takes all
  // Owner only: the senders taken from muted_, oldest first, to release one at a time.
  struct Queue {
    MutedSender* head = nullptr;
    MutedSender* tail = nullptr;
  } released_one_by_one_;
  bool one_at_a_time_ = false;
  std::uint32_t handled_since_release_ = 0;  // owner only
  // Owner only, and on a line of its own: written once per message (consumed_one).
  alignas(64) std::uint32_t consumed_pending_ = 0;
  std::mutex wait_mutex_;
  std::condition_variable room_;
};

}  // namespace troupe::runtime
