// Messages the cell has set aside, to handle before its mailbox: user messages that came while a
// coroutine awaited or that a signal overtook, continuations' replies waiting for the coroutine
// to end, and what unstash_all() put back. The first ones may be "urgent": Downs and Exits made
// from signals, which go before every other message. Owner only.
#pragma once

#include <troupe/message.hpp>
#include <troupe/signals.hpp>

#include <algorithm>
#include <cstddef>
#include <deque>

namespace troupe::detail {

class SetAside {
 public:
  bool empty() const noexcept { return queue_.empty(); }

  // At the back. May throw (no memory): then nothing changed.
  void push(Envelope* env) { queue_.push_back(env); }
  // After the urgent messages already here, before the rest. May throw: then nothing changed.
  void push_urgent(Envelope* env) {
    queue_.insert(queue_.begin() + static_cast<std::ptrdiff_t>(urgent_), env);
    ++urgent_;
  }
  // The first message (nullptr when none); `urgent` says whether it was one.
  Envelope* pop(bool& urgent) noexcept {
    if (queue_.empty()) return nullptr;
    Envelope* env = queue_.front();
    queue_.pop_front();
    urgent = urgent_ > 0;
    if (urgent) --urgent_;
    return env;
  }
  // Puts `count` messages, produced in order by `next()`, after the urgent messages and before
  // every other one. Room is made first: if that throws, nothing changed.
  template <class Next>
  void put_back(std::size_t count, Next next) {
    queue_.insert(queue_.begin() + static_cast<std::ptrdiff_t>(urgent_), count, nullptr);
    for (std::size_t i = 0; i < count; ++i) queue_[urgent_ + i] = next();
  }
  // A Down that came while a coroutine awaited (its monitor already left the book) waits here among
  // the urgent messages: demonitor drops it, as it would drop the signal. Returns it, or nullptr.
  Envelope* take_down(MonitorRef ref) noexcept {
    const auto urgent_end = queue_.begin() + static_cast<std::ptrdiff_t>(urgent_);
    const auto it = std::find_if(queue_.begin(), urgent_end, [&](Envelope* env) {
      return env->is(message_type<Down>) && payload<Down>(*env).ref == ref;
    });
    if (it == urgent_end) return nullptr;
    Envelope* env = *it;
    queue_.erase(it);
    --urgent_;
    return env;
  }

 private:
  std::deque<Envelope*> queue_;
  std::size_t urgent_ = 0;  // the first `urgent_` messages are urgent
};

}  // namespace troupe::detail
