// Bounded mailboxes: counting, muting of senders, waiting threads (see mailbox_limit.hpp).
#include <troupe/runtime/mailbox_limit.hpp>
#include <troupe/runtime/pool.hpp>

#include <utility>

namespace troupe::runtime {

struct MailboxLimit::MutedSender : Pooled {
  ActorCore* sender;  // holds a reference
  MutedSender* next;
};

MailboxLimit::~MailboxLimit() { close(); }

bool MailboxLimit::has_room() const noexcept {
  // Seq_cst loads: the waiter's half of the Dekker pair with consumed(); closed_ pairs with close().
  return !full(queued_.load(std::memory_order_seq_cst), queued_bytes_.load(std::memory_order_seq_cst)) ||
         closed_.load(std::memory_order_seq_cst);
}

bool MailboxLimit::try_reserve(std::uint64_t bytes) noexcept {
  // Relaxed: the counts order nothing; the message itself is published by the mailbox push.
  if (byte_capacity_ != 0 && queued_bytes_.load(std::memory_order_relaxed) >= byte_capacity_ &&
      !closed_.load(std::memory_order_relaxed))
    return false;
  std::uint32_t n = queued_.load(std::memory_order_relaxed);
  do {
    if (n >= capacity_ && !closed_.load(std::memory_order_relaxed)) return false;
  } while (!queued_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
  if (byte_capacity_ != 0) queued_bytes_.fetch_add(bytes, std::memory_order_relaxed);  // relaxed: as above
  return true;
}

bool MailboxLimit::reserve(std::uint64_t bytes) noexcept {
  // Relaxed: as in try_reserve. A closed mailbox's counts no longer matter.
  const std::uint32_t n = queued_.fetch_add(1, std::memory_order_relaxed) + 1;
  const std::uint64_t b = byte_capacity_ != 0 ? queued_bytes_.fetch_add(bytes, std::memory_order_relaxed) + bytes : 0;
  return full(n, b) && !closed_.load(std::memory_order_relaxed);
}

bool MailboxLimit::reserve_many(std::uint32_t count) noexcept {
  // Relaxed: as in reserve().
  const std::uint32_t n = queued_.fetch_add(count, std::memory_order_relaxed) + count;
  return full(n, 0) && !closed_.load(std::memory_order_relaxed);
}

void MailboxLimit::owner_consumed(std::uint32_t count, std::uint64_t bytes) noexcept {
  // Seq_cst: the owner's half of two Dekker pairs. Against add_muted (push, then load the counts)
  // and wait_for_room (count the waiter, then load the counts): either they see the drained
  // counts, or we see them below. Only the owner lowers the counts, so the mailbox becomes drained
  // only in a call that lowers one of them to its low water mark with the other already there:
  // that call releases.
  const std::uint32_t n_before = queued_.fetch_sub(count, std::memory_order_seq_cst);
  std::uint64_t b_before = 0;
  if (byte_capacity_ != 0) b_before = queued_bytes_.fetch_sub(bytes, std::memory_order_seq_cst);
  const std::uint64_t b_after = b_before - (byte_capacity_ != 0 ? bytes : 0);
  if (!drained(n_before - count, b_after)) return;
  on_drained(!drained(n_before, b_before), count);
}

// Owner: `handled` consumed messages left the counts at or below the low water marks; `crossed`:
// they brought them there. (A batch is at most a quarter of the low water mark: consume_batch_.)
void MailboxLimit::on_drained(bool crossed, std::uint32_t handled) noexcept {
  if (!one_at_a_time_) {
    if (!crossed) return;
    release_muted();
  } else {
    // The next sender goes only after a quarter of the low water mark more has been handled: the
    // one released last needs a moment to be scheduled and fill the room.
    if (!crossed && (handled_since_release_ += handled) < low_water_ / 4) return;
    // Seq_cst: as has_muted(); the crossing call always looks, so the Dekker pair holds.
    if (!crossed && released_one_by_one_.head == nullptr && muted_.load(std::memory_order_seq_cst) == nullptr) return;
    take_registered();
    handled_since_release_ = 0;
    if (MutedSender* node = released_one_by_one_.head) {
      released_one_by_one_.head = node->next;
      if (node->next == nullptr) released_one_by_one_.tail = nullptr;
      let_go(node);
    }
  }
  // Seq_cst: pairs with the seq_cst increment in wait_for_room.
  if (crossed && waiting_threads_.load(std::memory_order_seq_cst) != 0) wake_waiters();
}

// Owner: moves the senders registered since the last look behind those already queued, oldest
// first (the stack holds them newest first).
void MailboxLimit::take_registered() noexcept {
  // Acquire: pairs with the push in add_muted, so we see each node's fields.
  MutedSender* node = muted_.exchange(nullptr, std::memory_order_acquire);
  if (node == nullptr) return;
  MutedSender* oldest_first = nullptr;
  MutedSender* last = node;
  while (node != nullptr) {
    MutedSender* next = node->next;
    node->next = oldest_first;
    oldest_first = node;
    node = next;
  }
  if (released_one_by_one_.tail != nullptr) {
    released_one_by_one_.tail->next = oldest_first;
  } else {
    released_one_by_one_.head = oldest_first;
  }
  released_one_by_one_.tail = last;
}

void MailboxLimit::consumed_many(std::uint32_t count) noexcept {
  // Seq_cst: as in consumed(), whose release rule this follows for `count` messages at once.
  const std::uint32_t n_before = queued_.fetch_sub(count, std::memory_order_seq_cst);
  const std::uint64_t bytes = byte_capacity_ != 0 ? queued_bytes_.load(std::memory_order_seq_cst) : 0;
  if (!drained(n_before - count, bytes) || drained(n_before, bytes)) return;
  release_muted();
  // Seq_cst: pairs with the seq_cst increment in wait_for_room.
  if (waiting_threads_.load(std::memory_order_seq_cst) != 0) wake_waiters();
}

bool MailboxLimit::add_muted(ActorCore* sender) {
  auto* node = new MutedSender{{}, sender, nullptr};
  sender->add_ref();
  // Seq_cst (success): pairs with has_muted()'s and consumed()'s seq_cst operations (see above);
  // relaxed on failure, we only retry.
  MutedSender* head = muted_.load(std::memory_order_relaxed);
  do {
    node->next = head;
  } while (!muted_.compare_exchange_weak(head, node, std::memory_order_seq_cst, std::memory_order_relaxed));
  // Seq_cst: the sender's half of the Dekker pair with consumed().
  return drained(queued_.load(std::memory_order_seq_cst), queued_bytes_.load(std::memory_order_seq_cst)) ||
         closed_.load(std::memory_order_seq_cst);
}

// Any thread: lets every registered sender go (not those the owner queued to go one at a time).
void MailboxLimit::release_muted() noexcept {
  // Acquire: pairs with the push in add_muted, so we see each node's fields.
  release_list(muted_.exchange(nullptr, std::memory_order_acquire));
}

// Owner: lets every muted sender go, queued or registered.
void MailboxLimit::release_owned() noexcept {
  take_registered();
  released_one_by_one_.tail = nullptr;
  release_list(std::exchange(released_one_by_one_.head, nullptr));
}

void MailboxLimit::release_list(MutedSender* node) noexcept {
  while (node != nullptr) {
    MutedSender* next = node->next;
    let_go(node);
    node = next;
  }
}

// Unmutes one sender (scheduling it, if it parked) and drops the registration's reference.
void MailboxLimit::let_go(MutedSender* node) noexcept {
  node->sender->unmute();
  node->sender->release();
  delete node;
}

void MailboxLimit::wait_for_room() {
  if (waiter_ != nullptr) {
    waiter_->wait_for_room(*this);
    return;
  }
  // Room now (a send below the bound, the common case): no need to be woken, so no registration,
  // no lock. A waiter is a thread that found the mailbox full (waiting_threads() says so).
  if (has_room()) return;
  // Seq_cst: pairs with the seq_cst load in consumed() (see there).
  waiting_threads_.fetch_add(1, std::memory_order_seq_cst);
  {
    std::unique_lock lock(wait_mutex_);
    room_.wait(lock, [this] { return has_room(); });
  }
  waiting_threads_.fetch_sub(1, std::memory_order_relaxed);  // relaxed: only makes a wake-up spare
}

void MailboxLimit::wake_waiters() noexcept {
  // Taking the lock orders us after a waiter's check of its predicate: it is either waiting
  // (and gets the notification) or has not checked yet (and will see the new count).
  { std::lock_guard lock(wait_mutex_); }
  room_.notify_all();
}

void MailboxLimit::close() noexcept {
  // Seq_cst: pairs with the loads in add_muted and wait_for_room.
  closed_.store(true, std::memory_order_seq_cst);
  // Only an owner that releases one at a time has a queue of its own to empty; another limit's
  // close may run beside its owner's consumed() (a node's outbox), so it touches only the stack.
  if (one_at_a_time_) {
    release_owned();
  } else {
    release_muted();
  }
  wake_waiters();
}

}  // namespace troupe::runtime
