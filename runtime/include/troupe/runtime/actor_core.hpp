// What the runtime knows of an actor: a mailbox, a reference count, a budget, and the executor
// that runs it. Everything about behaviors, handles and replies lives in the actors layer above.
#pragma once

#include <troupe/runtime/mailbox.hpp>

#include <atomic>
#include <cstdint>

namespace troupe::runtime {

class ActorCore;

// Whatever runs actors: the worker pool, a dedicated thread for a blocking actor, the thread of
// a scoped actor, or (later) a connection that serializes for a remote peer. One call: `schedule`
// is made exactly once per empty→non-empty transition of the actor's mailbox.
class Executor {
 public:
  virtual void schedule(ActorCore* actor) noexcept = 0;

 protected:
  ~Executor() = default;
};

// Intrusive link for the pool's injection queue; an actor is in at most one run queue at a time.
struct RunLink {
  std::atomic<RunLink*> next{nullptr};
};

// What one turn of an actor ended with.
enum class TurnResult : std::uint8_t {
  idle,        // mailbox drained and marked empty: the next push schedules the actor again
  more,        // budget used up with messages left: put the actor back in a run queue
  terminated,  // the actor has stopped; the executor drops the reference it held for the turn
};

// Derives from RunLink so a run queue can hold it without a separate node.
class ActorCore : public RunLink {
 public:
  static constexpr std::uint16_t default_budget = 100;

  ActorCore(const ActorCore&) = delete;
  ActorCore& operator=(const ActorCore&) = delete;

  // Any thread: deliver a message; schedules the actor if its mailbox was empty.
  void enqueue(MailboxLink* message) noexcept {
    if (mailbox_.push(message)) executor_->schedule(this);
  }

  // Schedules a new actor for its first turn, before any message. Only its creator may call
  // this, once, before the actor is shared with any other thread.
  void start() noexcept {
    mailbox_.claim_new();
    executor_->schedule(this);
  }

  // Executor only: run up to `budget` messages.
  virtual TurnResult resume() noexcept = 0;

  void add_ref() noexcept {
    // Relaxed: taking a reference needs no ordering; the caller already holds one.
    refs_.fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept {
    // acq_rel: release publishes our uses of the actor to the thread that frees it; acquire on
    // the last decrement pairs with every other release, so the destroyer sees all of them.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
  }

  // Any thread, right after enqueue() of a system signal (exit, down, link, monitor): asks the
  // owner to take its signals before the user messages still queued, at its next turn.
  // Release: pairs with the acquire exchange in take_signal_flag(), so the owner that takes the
  // flag also sees the signal's envelope linked into the mailbox (the push came first).
  void flag_signal() noexcept { signals_.store(1, std::memory_order_release); }

  std::uint16_t budget() const noexcept { return budget_; }
  void set_budget(std::uint16_t budget) noexcept { budget_ = budget == 0 ? 1 : budget; }
  Executor* executor() const noexcept { return executor_; }

 protected:
  // Starts with one reference, which the caller owns.
  explicit ActorCore(Executor* executor) noexcept : executor_(executor) {}
  virtual ~ActorCore() = default;
  // Called once, when the last reference is released.
  virtual void destroy() noexcept = 0;
  void set_executor(Executor* executor) noexcept { executor_ = executor; }
  // Owner, once per turn: whether a signal may wait. Relaxed: a hint; a stale 0 only leaves the
  // signal to be popped in order this turn, or found by the next turn's check (the flag stays set).
  bool signal_flagged() const noexcept { return signals_.load(std::memory_order_relaxed) != 0; }
  // Owner: clears the flag. Acquire: pairs with flag_signal()'s release, so every signal whose
  // flag this clears is visible to the mailbox pops that follow.
  bool take_signal_flag() noexcept { return signals_.exchange(0, std::memory_order_acquire) != 0; }

  Mailbox mailbox_;

 private:
  std::atomic<std::uint32_t> refs_{1};
  std::uint16_t budget_ = default_budget;

 protected:
  // Bits owned by the layer above (actor lifecycle state); placed here to fill padding.
  std::uint8_t layer_flags_ = 0;

 private:
  // Set by senders of signals (flag_signal), cleared by the owner (take_signal_flag). Shares
  // the word with refs_, budget_ and layer_flags_: no extra bytes per actor.
  std::atomic<std::uint8_t> signals_{0};
  Executor* executor_;
};

}  // namespace troupe::runtime
