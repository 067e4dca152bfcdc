// What the runtime knows of an actor: a mailbox, a reference count, a budget, and the executor
// that runs it. Everything about behaviors, handles and replies lives in the actors layer above.
#pragma once

#include <troupe/runtime/mailbox.hpp>

#include <atomic>
#include <cstdint>
#include <string_view>

namespace troupe::runtime {

class ActorCore;
class MailboxLimit;
namespace overload {
void add_muted(ActorCore* receiver, ActorCore* sender);
bool withdraw(ActorCore* receiver, ActorCore* sender) noexcept;
void release_all(ActorCore* receiver) noexcept;
}  // namespace overload

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
  terminated,  // the actor has stopped; its own reference is the executor's to drop once the turn is
               // over (ActorCore::release), and then it must not touch it. Until then the actor
               // lives: the watchdog may name a turn that is still running (worker.hpp).
  parked,      // muted (see mailbox_limit.hpp): left out of every run queue, with its mailbox
               // unmarked; whoever unmutes it schedules it again. The executor does nothing.
};

// What a bounded actor says of a message before a sender counts it against its MailboxLimit.
struct Admission {
  std::uint64_t bytes = 0;  // what it weighs against the limit's byte bound
  // Non-zero: refused outright, for a reason the layer above defines (the actors layer: an Errc).
  // The refusing actor has dealt with the message (counted it as a dead letter, answered a
  // request); the sender only frees it and reports the refusal.
  std::uint8_t refusal = 0;
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
  // this, once. A thread that can reach the actor before (the layer above's shutdown, through its
  // set of live actors) must wait for started(): a push before the start would find the new
  // mailbox marked empty and schedule the actor, which the start then schedules again (run twice
  // at once, it breaks the run queues).
  void start() noexcept {
    mailbox_.claim_new();
    // Release: pairs with the acquire load in started(), so whoever sees the actor started also
    // sees its mailbox claimed, and their push cannot take the first mark. A store, not an RMW:
    // until started() is true nobody else changes the flags (see above).
    flags_.store(static_cast<std::uint8_t>(flags_.load(std::memory_order_relaxed) | kStarted),
                 std::memory_order_release);
    executor_->schedule(this);
  }
  // Whether start() has been called. Acquire: pairs with its release store.
  bool started() const noexcept { return (flags_.load(std::memory_order_acquire) & kStarted) != 0; }

  // Executor only: run up to `budget` messages.
  virtual TurnResult resume() noexcept = 0;
  // The same, for about one turn in kSampledTurnPeriod of each executor thread's (which ones:
  // TurnSampler): the turn the metrics measure (the actors layer times its handlers then). A
  // second entry rather than a flag, so that the other turns pay nothing for it.
  virtual TurnResult resume_sampled() noexcept { return resume(); }
  static constexpr std::uint64_t kSampledTurnPeriod = 1024;  // the mean gap between them

  // The actor's type, for diagnostics and traces; static storage.
  virtual std::string_view name() const noexcept { return "actor"; }

  void add_ref() noexcept {
    // Relaxed: taking a reference needs no ordering; the caller already holds one.
    refs_.fetch_add(1, std::memory_order_relaxed);
  }
  void release() noexcept {
    // acq_rel: release publishes our uses of the actor to the thread that frees it; acquire on
    // the last decrement pairs with every other release, so the destroyer sees all of them.
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) destroy();
  }
  // The references held now. Meaningful as "1" only to the holder of that one reference, where
  // no other can appear meanwhile (a table that alone hands out an actor: the node's proxies).
  // Acquire: pairs with the release half of every other holder's release(), so that holder's uses
  // (its sends included) happened before the caller acts on its answer.
  std::uint32_t refs_now() const noexcept { return refs_.load(std::memory_order_acquire); }

  // Any thread, right after enqueue() of a system signal (exit, down, link, monitor): asks the
  // owner to take its signals before the user messages still queued, at its next turn.
  // Release: pairs with the acquire exchange in take_signal_flag(), so the owner that takes the
  // flag also sees the signal's envelope linked into the mailbox (the push came first).
  // A parked actor is woken at once: signals do not wait for backpressure.
  void flag_signal() noexcept {
    if ((flags_.fetch_or(kSignalFlag, std::memory_order_release) & kMuteMask) == kParked) unmute();
  }

  // Bounded mailboxes (mailbox_limit.hpp). The limit is set before start() and never changes,
  // so any sender may read the pointer without ordering; nullptr: unbounded.
  MailboxLimit* mailbox_limit() const noexcept { return limit_; }
  // Takes ownership. Only the creator, before start().
  void set_mailbox_limit(MailboxLimit* limit) noexcept { limit_ = limit; }

  // Bounded actors only: asked by a sender (any thread) before it counts `message` against
  // mailbox_limit(). Default: admitted, weighing nothing (the limit counts messages only). A
  // node's remote actors weigh a message by its encoded size and refuse what cannot cross.
  virtual Admission admit(MailboxLink& message) noexcept {
    (void)message;
    return {};
  }

  // Muting, sender side (the owner, in its turn): true if this call muted it (it was not muted
  // yet); the caller then registers it with the full mailbox (MailboxLimit::add_muted).
  bool mute() noexcept;
  // Owner: takes back a mute whose receiver has drained already.
  void cancel_mute() noexcept;
  // Owner, at the end of a turn: parks the actor if it is muted and no sender is muted on its
  // own mailbox (an actor that holds others back keeps running: no cycle can deadlock).
  bool park_if_muted() noexcept {
    // Relaxed: only the owner moves the state to muted; the slow path's CAS decides.
    if ((flags_.load(std::memory_order_relaxed) & kMuteMask) != kMuted) [[likely]]
      return false;
    return park_muted();
  }
  bool park_muted() noexcept;
  // Any thread: ends a mute; if the actor was parked, schedules it.
  void unmute() noexcept;
  // Whether the actor is muted now (the owner, in its turn: a send of this turn muted it).
  // Relaxed: a releaser may clear it meanwhile; a stale answer only delays by one turn.
  bool muted() const noexcept { return (flags_.load(std::memory_order_relaxed) & kMuteMask) != 0; }

  // Overload, for every actor, bounded or not (Pony's default backpressure). An actor whose turn
  // used its whole budget with messages still waiting marks itself overloaded; until it next
  // finds its mailbox empty, an actor that sends to it is muted at the end of the message it is
  // handling, as for a full bounded mailbox. Senders pay one load of a flag on a line the send
  // touches anyway; the list of muted senders is kept outside the actor (overload_registry.hpp).
  // A bounded mailbox slows its senders by its capacity instead (the layer above checks this
  // flag only for unbounded actors).
  // Any thread: a hint. Relaxed: the muting protocol orders itself (overload_registry.hpp).
  bool overloaded() const noexcept { return (flags_.load(std::memory_order_relaxed) & kOverloaded) != 0; }
  // Owner, at the end of a turn that used its budget with messages left.
  void mark_overloaded() noexcept {
    // Relaxed: a hint for senders; only the owner writes this bit.
    if (!overloaded()) flags_.fetch_or(kOverloaded, std::memory_order_relaxed);
  }
  // Owner, having found its mailbox empty (or stopping): no longer overloaded; unmutes the
  // senders muted on it.
  void relieve_overload() noexcept {
    if (overloaded()) [[unlikely]]
      relieve_overload_slow();
  }
  // Sender (the owner of this actor, in its turn), after it sent to an overloaded `receiver`:
  // mutes this actor until the receiver drains. True if it is muted now (its turn should end).
  bool mute_on(ActorCore* receiver) noexcept;

  // Shutdown (the layer above sends every actor one stop signal, however long it waits for
  // them). Only the thread that shuts down reads or sets the bit; relaxed: nothing is published
  // through it, and the RMW keeps the other bits, which other threads change meanwhile.
  bool stop_signalled() const noexcept { return (flags_.load(std::memory_order_relaxed) & kStopSignalled) != 0; }
  void mark_stop_signalled() noexcept { flags_.fetch_or(kStopSignalled, std::memory_order_relaxed); }

  // Where the actor stands, seen from another thread, for a report of actors that do not stop.
  // A hint: it may change as it is read.
  enum class RunState : std::uint8_t {
    idle,       // its mailbox is marked empty: the next message schedules it
    parked,     // muted and out of every run queue until its receiver unmutes it
    scheduled,  // in a run queue or in a turn (or muted in a turn)
  };
  RunState run_state_hint() const noexcept {
    // Relaxed: a hint; nothing is read through it.
    if ((flags_.load(std::memory_order_relaxed) & kMuteMask) == kParked) return RunState::parked;
    return mailbox_.marked_empty_hint() ? RunState::idle : RunState::scheduled;
  }

  std::uint16_t budget() const noexcept { return budget_; }
  void set_budget(std::uint16_t budget) noexcept { budget_ = budget == 0 ? 1 : budget; }
  Executor* executor() const noexcept { return executor_; }

 protected:
  // Starts with one reference, which the caller owns.
  explicit ActorCore(Executor* executor) noexcept : executor_(executor) {}
  virtual ~ActorCore();
  // Called once, when the last reference is released.
  virtual void destroy() noexcept = 0;
  void set_executor(Executor* executor) noexcept { executor_ = executor; }
  // Owner, once per turn: whether a signal may wait. Relaxed: a hint; a stale 0 only leaves the
  // signal to be popped in order this turn, or found by the next turn's check (the flag stays set).
  bool signal_flagged() const noexcept { return (flags_.load(std::memory_order_relaxed) & kSignalFlag) != 0; }
  // Owner: clears the flag. Acquire: pairs with flag_signal()'s release, so every signal whose
  // flag this clears is visible to the mailbox pops that follow.
  bool take_signal_flag() noexcept {
    return (flags_.fetch_and(static_cast<std::uint8_t>(~kSignalFlag), std::memory_order_acquire) & kSignalFlag) != 0;
  }

  Mailbox mailbox_;

 private:
  std::atomic<std::uint32_t> refs_{1};
  std::uint16_t budget_ = default_budget;

 protected:
  // Bits owned by the layer above (actor lifecycle state); placed here to fill padding.
  std::uint8_t layer_flags_ = 0;

 private:
  // Bit 0: a signal waits (set by its sender in flag_signal, cleared by the owner in
  // take_signal_flag). Bits 1-2: the mute state, none → muted (owner, in a turn) → parked (owner,
  // at the turn's end) → none (unmute, by the releaser, who then schedules a parked actor).
  // Bits 3-4: overload (below).
  // Shares the word with refs_, budget_ and layer_flags_: no extra bytes per actor.
  static constexpr std::uint8_t kSignalFlag = 1;
  static constexpr std::uint8_t kMuteMask = 6;
  static constexpr std::uint8_t kMuted = 2;
  static constexpr std::uint8_t kParked = 4;
  // Bit 3: overloaded (set and cleared by the owner at its turns' ends; read by senders).
  static constexpr std::uint8_t kOverloaded = 8;
  // Bit 4: some sender is muted on this overloaded actor, which therefore must not park (see
  // park_muted). Set and cleared under the registry's lock, so that it is set exactly while the
  // registry holds an entry for this actor (overload_registry.cpp).
  static constexpr std::uint8_t kHoldsSenders = 16;
  // Bit 5: the layer above has sent this actor its stop signal at shutdown (stop_signalled).
  static constexpr std::uint8_t kStopSignalled = 32;
  // Bit 6: start() has been called (started).
  static constexpr std::uint8_t kStarted = 64;
  friend void overload::add_muted(ActorCore* receiver, ActorCore* sender);
  friend bool overload::withdraw(ActorCore* receiver, ActorCore* sender) noexcept;
  friend void overload::release_all(ActorCore* receiver) noexcept;
  void relieve_overload_slow() noexcept;
  std::atomic<std::uint8_t> flags_{0};
  Executor* executor_;
  MailboxLimit* limit_ = nullptr;  // owned; set before start()
};

}  // namespace troupe::runtime
