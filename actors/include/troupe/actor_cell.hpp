// The actor cell: the runtime object behind every actor (an internal type; users see its Context).
// It is the actors layer's part of an actor: the turn loop, replies and awaited responses,
// signals, stopping. Its state is in small parts (actor_extras.hpp), allocated on first use:
// the request table, the messages set aside, the book of links and monitors, the behavior stack.
#pragma once

#include <troupe/actor_type_id.hpp>
#include <troupe/context.hpp>
#include <troupe/error.hpp>
#include <troupe/exit_reason.hpp>
#include <troupe/handle.hpp>
#include <troupe/message.hpp>
#include <troupe/runtime/actor_core.hpp>
#include <troupe/runtime/mailbox_limit.hpp>
#include <troupe/task.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace troupe {

class System;

namespace detail {
struct ActorExtras;
struct Requests;
struct LiveLinks {
  ActorCell* prev = nullptr;
  ActorCell* next = nullptr;
};

// Every actor is an ActorCell (spawn.hpp's ActorBlock, the scoped actor, the pool router), and
// every ActorCell is the Context its handlers get. What is public here is for the runtime, the
// System and the other internal parts; users reach none of it through a Context.
class ActorCell : public runtime::ActorCore, public Context {
 public:
  System& system() const noexcept { return *system_; }
  DynamicHandle self() const noexcept { return DynamicHandle::share(const_cast<ActorCell*>(this)); }

  // The actor's type, for diagnostics.
  std::string_view name() const noexcept override = 0;
  // Whether this actor has a handler for messages of `type`: what a typed lookup or spawn checks
  // (Errc::interface_mismatch). Any thread, any time: an actor spawned from a behavior answers for
  // the behavior it was spawned with (its type; spawn.hpp). A cell built from no behavior (a
  // ScopedActor) takes any type.
  virtual bool handles(const MessageType* type) const noexcept {
    (void)type;
    return true;
  }

  runtime::TurnResult resume() noexcept final;
  runtime::TurnResult resume_sampled() noexcept final;
  // Runs a handler's coroutine (behavior.hpp): it keeps `env` until it ends.
  template <class T>
  void start_task(Task<T> task, Envelope& env) {
    auto h = task.release();
    start_task_erased(h, h.promise(), env);
  }
  LiveLinks& live_links() noexcept { return live_links_; }
  // Links this actor (on its own thread) and `child`, which has not started yet, on both sides.
  // Strong guarantee: throws (no memory) with neither side changed.
  void link_unstarted(ActorCell& child);
  // The actor whose turn runs on this thread (nullptr outside turns).
  static ActorCell* current_actor() noexcept;
  // Owner, in a turn: handle no more messages this turn (backpressure muted the actor).
  void end_turn_early() noexcept { layer_flags_ |= kEndTurn; }
  // Context::pace (actor_cell.cpp): whether the coroutine may go on now; else, suspends it
  // until this actor's next turn (after its mute, if muted).
  bool pace_ready() noexcept;
  void pause(std::coroutine_handle<> h);
  // Pusher side: drains a stopped actor's mailbox as dead letters.
  void drain_dead_letters() noexcept;
  // The reason the actor stopped (normal while it runs). Owner, or anyone after it stopped.
  ExitReason exit_reason() const;
  // The behavior become() put on top, or nullptr while the initial behavior is current.
  const BehaviorBase* became() const noexcept;

 protected:
  ActorCell(System& system, runtime::Executor* executor) noexcept;
  ~ActorCell() override;

  // Implemented by each actor type (see spawn.hpp).
  virtual void construct() = 0;              // builds the state (first turn)
  virtual void dispatch(Envelope& env) = 0;  // runs the handler for env's type
  virtual void destruct() noexcept = 0;      // destroys the state

  // Marks the actor stopped and turns the rest of its mailbox, and all later messages, into
  // dead letters. Consumer only.
  void close_mailbox() noexcept;
  void dead_letter(Envelope* env) noexcept;
  enum LifecycleFlag : std::uint8_t {
    kConstructed = 1,
    kExiting = 2,
    kTerminated = 4,
    kEnvelopeAdopted = 8,  // the handler's coroutine, or the user's stash, keeps the current envelope
    kTrapExits = 16,
    kEndTurn = 32,          // a send of this turn muted the actor: handle no more messages this turn
    kBecame = 64,           // become() was used: dispatch through dispatch_became (context_behavior.cpp)
    kReceiveTimeout = 128,  // a receive timeout is set: each turn notes its activity (receive_timeout.cpp)
  };

 private:
  friend class troupe::Context;  // the user's verbs work on the parts below
  friend struct Requests;

  template <bool Sampled>
  runtime::TurnResult turn() noexcept;  // actor_cell.cpp
  template <bool Timed>
  unsigned handle_messages() noexcept;
  void report_depth() noexcept;
  bool awaiting() const noexcept;
  bool answers_pending(Envelope& response) noexcept;  // actor_cell_requests.cpp
  bool set_aside_ready() const noexcept;  // actor_cell.cpp only
  Envelope* next_envelope(bool& urgent) noexcept;
  void handle(Envelope* env, bool urgent = false) noexcept;
  // A counted user message leaves the mailbox's count (bounded mailboxes only), in batches that
  // the turn flushes before it ends (turn()); a mailbox bounded in bytes takes it off at once,
  // weighed as admit() weighed it (before the handler can move out of it).
  void message_taken(const Envelope& env) noexcept {
    if (runtime::MailboxLimit* limit = mailbox_limit()) [[unlikely]] {
      if (limit->byte_capacity() == 0) {
        limit->consumed_one();
      } else {
        limit->consumed(counted_bytes(*limit, env));
      }
    }
  }
  // The bytes `limit` counts `env` as: its weight where the mailbox is bounded in bytes, else
  // nothing. Asked when a sender counts it (admit), when a stash counts it again, and when the
  // owner takes it for good, so all three agree.
  static std::uint64_t counted_bytes(const runtime::MailboxLimit& limit, const Envelope& env) noexcept {
    return limit.byte_capacity() == 0 ? 0 : env.type()->weigh(env);
  }
  // A sender asks before it counts a message against this (bounded) mailbox.
  runtime::Admission admit(runtime::MailboxLink& message) noexcept override {
    return runtime::Admission{counted_bytes(*mailbox_limit(), static_cast<const Envelope&>(message)), 0};
  }
  void handle_response(Envelope* env) noexcept;
  // A marker (a response that answers no request) after the user stashed a message it may stand
  // for: kept in the stash, behind it; false if not kept (context_behavior.cpp).
  bool keep_marker_with_stash(Envelope* marker) noexcept;
  void run_continuation(Continuation& continuation, Envelope* env) noexcept;
  void abandon_awaited() noexcept;
  void handle_message(Envelope* env, bool urgent) noexcept;
  void take_signals() noexcept;
  void handle_signal(Envelope* env) noexcept;
  void dead_signal(Envelope* env) noexcept;
  void run_handler(Envelope& env);
  // The receive timeout (receive_timeout.cpp): a check that came, the `handled_before` messages
  // of its turn before it; the end of a turn that handled `handled`; arming the next check.
  void check_receive_timeout(Envelope* check, unsigned handled_before) noexcept;
  void receive_timeout_after_turn(unsigned handled) noexcept;
  void arm_receive_timeout(runtime::TimerService::Clock::time_point due);
  void cancel_receive_timeout() noexcept;
  // The behavior stack (context_behavior.cpp).
  void dispatch_became(Envelope& env);
  void end_behaviors() noexcept;
  void start_task_erased(std::coroutine_handle<> h, TaskPromiseBase& promise, Envelope& env);
  void after_task_step() noexcept;
  void begin_stopping(ExitReason&& reason);  // the first reason stands; may throw (no memory)
  void fail(std::string why) noexcept;
  void stop_with(ExitReason reason) noexcept;
  void terminate() noexcept;
  ActorExtras& extras();

  // First, right behind the runtime's part (bytes 64-67 of the block): the count below is
  // written on every turn, and there the 64 bytes around it are always this actor's own, whatever
  // the block's alignment. At the cell's end (byte 98) a quarter of 144-byte actors shared that
  // line with the next block's mailbox (ping-pong over 4 pairs: about 3% of its time).

 protected:
  // The actor's type, for the metrics (actor_type_id.hpp); set by the maker before start().
  ActorTypeId type_id_ = 0;

 private:
  // Messages handled and not yet added to its type's total (live_set.hpp): one add per turn.
  // Written by the owner in its turns; at 65,536 it is folded into the total under the live set's
  // lock, as it is when the actor stops, so a reader holding that lock sees every message once.
  // Relaxed: the lock orders the folds. With the type id they take 8 bytes (4 of them padding);
  // the idle actor still takes 113 bytes (idle-footprint).
  std::atomic<std::uint16_t> unfolded_messages_{0};

  System* system_;
  ActorExtras* extras_ = nullptr;  // allocated on first request, coroutine, link or quit
  LiveLinks live_links_;

 public:
  ActorTypeId type_id() const noexcept { return type_id_; }
  std::uint16_t unfolded_messages() const noexcept { return unfolded_messages_.load(std::memory_order_relaxed); }
  // The owner, under the live set's lock (LiveSet::fold, erase): a load and a store, since only
  // the owner writes it.
  std::uint16_t take_unfolded_messages() noexcept {
    const std::uint16_t n = unfolded_messages_.load(std::memory_order_relaxed);
    unfolded_messages_.store(0, std::memory_order_relaxed);
    return n;
  }
  // The owner, at the end of a turn that handled `handled` messages.
  // (A turn handles at most its budget, 16 bits: a 16-bit add whose carry says when to fold.)
  void count_handled(std::uint16_t handled) noexcept {
    const std::uint16_t before = unfolded_messages_.load(std::memory_order_relaxed);
    std::uint16_t sum;
    if (!__builtin_add_overflow(before, handled, &sum)) [[likely]] {
      unfolded_messages_.store(sum, std::memory_order_relaxed);
    } else {
      fold_handled(unsigned{before} + handled);
    }
  }
  void fold_handled(unsigned sum) noexcept;  // actor_cell.cpp
};

}  // namespace detail

// The facade's way to its cell: a Context is always the Context of an ActorCell.
inline detail::ActorCell& Context::cell() noexcept { return static_cast<detail::ActorCell&>(*this); }
inline const detail::ActorCell& Context::cell() const noexcept { return static_cast<const detail::ActorCell&>(*this); }
inline System& Context::system() const noexcept { return cell().system(); }
inline DynamicHandle Context::self() const noexcept { return cell().self(); }
inline std::string_view Context::name() const noexcept { return cell().name(); }
inline bool Context::trapping_exits() const noexcept {
  return (cell().layer_flags_ & detail::ActorCell::kTrapExits) != 0;
}

}  // namespace troupe
