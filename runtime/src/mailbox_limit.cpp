// Bounded mailboxes: counting, muting of senders, waiting threads (see mailbox_limit.hpp).
#include <troupe/runtime/mailbox_limit.hpp>
#include <troupe/runtime/pool.hpp>

namespace troupe::runtime {

struct MailboxLimit::MutedSender : Pooled {
  ActorCore* sender;  // holds a reference
  MutedSender* next;
};

MailboxLimit::~MailboxLimit() { close(); }

bool MailboxLimit::try_reserve() noexcept {
  // Relaxed: the count orders nothing; the message itself is published by the mailbox push.
  std::uint32_t n = queued_.load(std::memory_order_relaxed);
  do {
    if (n >= capacity_ && !closed_.load(std::memory_order_relaxed)) return false;
  } while (!queued_.compare_exchange_weak(n, n + 1, std::memory_order_relaxed));
  return true;
}

bool MailboxLimit::reserve() noexcept {
  // Relaxed: as in try_reserve. A closed mailbox's count no longer matters.
  return queued_.fetch_add(1, std::memory_order_relaxed) + 1 >= capacity_ && !closed_.load(std::memory_order_relaxed);
}

void MailboxLimit::consumed() noexcept {
  // Seq_cst: the owner's half of two Dekker pairs. Against add_muted (push, then load queued_)
  // and wait_for_room (count the waiter, then load queued_): either they see the drained count,
  // or we see them below.
  if (queued_.fetch_sub(1, std::memory_order_seq_cst) - 1 != low_water_) return;
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
  return queued_.load(std::memory_order_seq_cst) <= low_water_ || closed_.load(std::memory_order_seq_cst);
}

void MailboxLimit::release_muted() noexcept {
  // Acquire: pairs with the push in add_muted, so we see each node's fields.
  MutedSender* node = muted_.exchange(nullptr, std::memory_order_acquire);
  while (node != nullptr) {
    MutedSender* next = node->next;
    node->sender->unmute();
    node->sender->release();
    delete node;
    node = next;
  }
}

void MailboxLimit::wait_for_room() {
  // Seq_cst: pairs with the seq_cst load in consumed() (see there).
  waiting_threads_.fetch_add(1, std::memory_order_seq_cst);
  {
    std::unique_lock lock(wait_mutex_);
    // Seq_cst loads: the waiter's half of the Dekker pair; closed_ pairs with close().
    room_.wait(lock, [this] {
      return queued_.load(std::memory_order_seq_cst) < capacity_ || closed_.load(std::memory_order_seq_cst);
    });
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
  release_muted();
  wake_waiters();
}

}  // namespace troupe::runtime
