// An actor's requests on their way, by id: one the suspended coroutine awaits (several, with
// troupe::all), or one continued with then() (or never awaited: its continuation drops the reply).
//
// A slot map: an id is (sequence << 32 | slot), so a reply finds its entry in O(1) however many
// requests are on their way (a teller with thousands of continued transfers), and a late reply to
// a slot reused since carries another sequence and finds nothing. Freed slots are reused, so the
// table's size is the most requests ever on their way at once.
#pragma once

#include <troupe/context.hpp>
#include <troupe/request.hpp>

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace troupe::detail {

struct PendingRequest {
  std::uint64_t request_id = 0;  // 0: a free slot
  DeliverFn deliver = nullptr;   // awaited: fills `awaitable`
  void* awaitable = nullptr;
  std::unique_ptr<Continuation> continuation;  // continued: runs as a turn
  Timer timeout;
};

class RequestTable {
 public:
  // Stores `entry` under a new id, and returns the id (never 0).
  std::uint64_t add(PendingRequest entry) {
    std::uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slots_.emplace_back();  // may throw: nothing changed yet
      slot = static_cast<std::uint32_t>(slots_.size() - 1);
    }
    if (++sequence_ == 0) sequence_ = 1;  // wraps after 2^32 requests: a stale reply then needs the same slot too
    entry.request_id = (static_cast<std::uint64_t>(sequence_) << 32) | slot;
    slots_[slot] = std::move(entry);
    ++size_;
    return slots_[slot].request_id;
  }

  // The entry of `id`, or nullptr (answered already, abandoned, or never ours).
  PendingRequest* find(std::uint64_t id) noexcept {
    const auto slot = static_cast<std::uint32_t>(id);
    if (id == 0 || slot >= slots_.size() || slots_[slot].request_id != id) return nullptr;
    return &slots_[slot];
  }

  // Removes `entry` (from find), giving it back.
  PendingRequest take(PendingRequest& entry) noexcept {
    PendingRequest taken = std::move(entry);
    entry = PendingRequest{};
    free_slot(taken.request_id);
    return taken;
  }

  // Removes (destroys) every entry for which `pred(entry)` holds.
  template <class Pred>
  void remove_if(Pred pred) noexcept {
    for (auto& entry : slots_) {
      if (entry.request_id == 0 || !pred(entry)) continue;
      const std::uint64_t id = entry.request_id;
      entry = PendingRequest{};
      free_slot(id);
    }
  }

  bool empty() const noexcept { return size_ == 0; }

 private:
  void free_slot(std::uint64_t id) noexcept {
    --size_;
    try {
      free_.push_back(static_cast<std::uint32_t>(id));
    } catch (...) {  // no memory: the slot is not reused
    }
  }

  std::vector<PendingRequest> slots_;
  std::vector<std::uint32_t> free_;
  std::uint32_t sequence_ = 0;
  std::size_t size_ = 0;
};

}  // namespace troupe::detail
