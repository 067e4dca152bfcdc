// A minimal actor for runtime tests: an ActorCore whose messages are counted by a callback.
#pragma once

#include <troupe/runtime/actor_core.hpp>
#include <troupe/runtime/mailbox.hpp>

#include <atomic>
#include <cstdint>
#include <functional>

namespace troupe_test {

struct TestMessage : troupe::runtime::MailboxLink {
  explicit TestMessage(std::uint64_t v = 0) : value(v) {}
  std::uint64_t value;
};

class TestActor final : public troupe::runtime::ActorCore {
 public:
  using Handler = std::function<void(TestActor&, TestMessage&)>;

  TestActor(troupe::runtime::Executor* executor, Handler handler, std::uint16_t budget = default_budget)
      : ActorCore(executor), handler_(std::move(handler)) {
    set_budget(budget);
  }

  troupe::runtime::TurnResult resume() noexcept override {
    // Two turns of one actor must never overlap.
    if (in_turn_.exchange(true, std::memory_order_acq_rel)) overlaps_.fetch_add(1, std::memory_order_relaxed);
    turns_.fetch_add(1, std::memory_order_relaxed);
    unsigned n = 0;
    for (; n < budget(); ++n) {
      auto* m = static_cast<TestMessage*>(mailbox_.pop());
      if (m == nullptr) break;
      handler_(*this, *m);
      delete m;
      handled_.fetch_add(1, std::memory_order_release);
    }
    if (n > max_turn_.load(std::memory_order_relaxed)) max_turn_.store(n, std::memory_order_relaxed);
    // Cleared before marking: once marked, the next push may start a turn elsewhere.
    in_turn_.store(false, std::memory_order_release);
    if (n == budget()) return troupe::runtime::TurnResult::more;
    return mailbox_.try_mark_empty() ? troupe::runtime::TurnResult::idle : troupe::runtime::TurnResult::more;
  }

  std::uint64_t handled() const noexcept { return handled_.load(std::memory_order_acquire); }
  std::uint64_t turns() const noexcept { return turns_.load(std::memory_order_relaxed); }
  std::uint64_t overlaps() const noexcept { return overlaps_.load(std::memory_order_relaxed); }
  unsigned max_turn() const noexcept { return max_turn_.load(std::memory_order_relaxed); }

  // Puts a message in the mailbox without scheduling; returns whether the caller must schedule.
  bool preload(TestMessage* m) noexcept { return mailbox_.push(m); }

 protected:
  void destroy() noexcept override { delete this; }

 private:
  Handler handler_;
  std::atomic<bool> in_turn_{false};
  std::atomic<std::uint64_t> handled_{0};
  std::atomic<std::uint64_t> turns_{0};
  std::atomic<std::uint64_t> overlaps_{0};
  std::atomic<unsigned> max_turn_{0};  // only one turn writes at a time
};

}  // namespace troupe_test
