// An actor's requests on their way, by id: one the suspended coroutine awaits (several, with
// troupe::all), or one continued with then() (or never awaited: its continuation drops the reply).
//
// A slot map: an id is (sequence << 32 | slot), so a reply finds its entry in O(1) however many
// requests are on their way (a teller with thousands of continued transfers), and a late reply to
// a slot reused since carries another sequence and finds nothing. Freed slots are reused, so the
// table's size is the most requests ever on their way at once.
//
// Timeouts: each entry keeps its deadline, and a min-heap of (deadline, id) beside the slots
// gives the earliest. One timer per actor (RequestTimer) stands for them all, armed for the
// earliest (actor_cell_requests.cpp). So a request answered in time costs a push on a heap of
// the actor's own, not a timer of its own to arm, and to cancel when its reply comes. An answered
// request leaves its heap entry behind (stale: its id finds no timed entry); stale entries are
// dropped when they reach the top, and all at once when they outnumber the live ones.
#pragma once

#include <troupe/context.hpp>
#include <troupe/request.hpp>
#include <troupe/runtime/timer_service.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

namespace troupe::detail {

using RequestClock = runtime::TimerService::Clock;

struct PendingRequest {
  std::uint64_t request_id = 0;  // 0: a free slot
  DeliverFn deliver = nullptr;   // awaited: fills `awaitable`
  void* awaitable = nullptr;
  std::unique_ptr<Continuation> continuation;  // continued: runs as a turn
  // When its timeout comes; max: none (no timeout, or its timeout was taken: take_due).
  RequestClock::time_point deadline = RequestClock::time_point::max();
  bool timed() const noexcept { return deadline != RequestClock::time_point::max(); }
};

// The one timer of an actor's request timeouts. It is armed for `armed_for`, never later than
// the earliest deadline in the table, while the table has one. When it fires, it sends its
// actor a timeout envelope whose id is its generation: an id whose high half is 0, which no
// request's has (their sequence starts at 1). One that was replaced by an earlier one may have
// fired already: its envelope then carries an older generation.
struct RequestTimer {
  Timer timer;
  RequestClock::time_point armed_for = RequestClock::time_point::max();  // max: not armed
  std::uint32_t generation = 0;
  static bool fired_id(std::uint64_t id) noexcept { return id != 0 && (id >> 32) == 0; }
};

class RequestTable {
 public:
  // Stores `entry` under a new id, and returns the id (never 0).
  std::uint64_t add(PendingRequest entry) {
    if (entry.timed()) make_room_for_deadline();  // may throw: nothing changed yet
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
    if (entry.timed()) {
      deadlines_.push_back(Deadline{entry.deadline, entry.request_id});  // room made above
      std::push_heap(deadlines_.begin(), deadlines_.end(), later);
      ++timed_;
    }
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
    free_slot(taken.request_id, taken.timed());
    return taken;
  }

  // Removes (destroys) every entry for which `pred(entry)` holds.
  template <class Pred>
  void remove_if(Pred pred) noexcept {
    for (auto& entry : slots_) {
      if (entry.request_id == 0 || !pred(entry)) continue;
      const std::uint64_t id = entry.request_id;
      const bool timed = entry.timed();
      entry = PendingRequest{};
      free_slot(id, timed);
    }
  }

  bool empty() const noexcept { return size_ == 0; }
  // Entries with a deadline still to come.
  std::size_t timed() const noexcept { return timed_; }
  // The sequence of the id add() gave last: take_due leaves the requests started after it.
  std::uint32_t last_sequence() const noexcept { return sequence_; }
  // Deadlines held, stale ones included (for the tests: at most about twice the timed entries).
  std::size_t deadlines_held() const noexcept { return deadlines_.size(); }

  // The earliest deadline; max if none.
  RequestClock::time_point earliest_deadline() noexcept {
    drop_stale_top();
    return deadlines_.empty() ? RequestClock::time_point::max() : deadlines_.front().at;
  }

  // The id of a request started no later than `sequence` (last_sequence) whose deadline has come
  // by `now`, earliest first, or 0 if there is none. Its timeout is now taken: it stays in the
  // table, untimed, until the timeout is handled. The table may change between calls (a timeout
  // handled resumes a coroutine, which may start and end requests); one started since `sequence`
  // whose timeout is due at once waits for the timer's next firing (another turn), so that a
  // coroutine that starts one on each timeout cannot hold its actor's turn for ever.
  std::uint64_t take_due(RequestClock::time_point now, std::uint32_t sequence) noexcept {
    drop_stale_top();
    if (deadlines_.empty() || deadlines_.front().at > now) return 0;
    const std::uint64_t id = deadlines_.front().id;
    const auto started = static_cast<std::uint32_t>(id >> 32);
    if (static_cast<std::int32_t>(started - sequence) > 0) return 0;  // started since (serial order)
    std::pop_heap(deadlines_.begin(), deadlines_.end(), later);
    deadlines_.pop_back();
    PendingRequest& entry = *find(id);  // drop_stale_top left a live one on top
    entry.deadline = RequestClock::time_point::max();
    --timed_;
    return id;
  }

 private:
  struct Deadline {
    RequestClock::time_point at;
    std::uint64_t id;
  };
  // The heap's order: the earliest on top; of equal deadlines, the request started first (ids
  // grow with their sequence).
  static bool later(const Deadline& a, const Deadline& b) noexcept {
    return a.at > b.at || (a.at == b.at && a.id > b.id);
  }

  // Whether `d` stands for a request still timed at that deadline.
  bool live(const Deadline& d) noexcept {
    const PendingRequest* entry = find(d.id);
    return entry != nullptr && entry->deadline == d.at;
  }

  void drop_stale_top() noexcept {
    while (!deadlines_.empty() && !live(deadlines_.front())) {
      std::pop_heap(deadlines_.begin(), deadlines_.end(), later);
      deadlines_.pop_back();
    }
  }

  // Room for one more deadline, so that add() cannot fail after it has taken a slot. Stale
  // entries go first once they are more than the live ones: each is dropped once, so the heap's
  // upkeep stays O(1) a request, and its size O(requests on their way).
  void make_room_for_deadline() {
    if (deadlines_.size() >= 2 * timed_ + 64) {
      std::erase_if(deadlines_, [this](const Deadline& d) { return !live(d); });
      std::make_heap(deadlines_.begin(), deadlines_.end(), later);
    }
    if (deadlines_.size() == deadlines_.capacity()) deadlines_.reserve(2 * deadlines_.size() + 16);
  }

  void free_slot(std::uint64_t id, bool timed) noexcept {
    if (timed) --timed_;
    --size_;
    try {
      free_.push_back(static_cast<std::uint32_t>(id));
    } catch (...) {  // no memory: the slot is not reused
    }
  }

  std::vector<PendingRequest> slots_;
  std::vector<std::uint32_t> free_;
  std::vector<Deadline> deadlines_;  // a min-heap by `at` (later()); some entries stale
  std::uint32_t sequence_ = 0;
  std::size_t size_ = 0;
  std::size_t timed_ = 0;  // entries whose deadline is not max
};

}  // namespace troupe::detail
