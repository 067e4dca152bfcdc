// The parts of an actor cell that most actors never need, allocated on first use: the request
// table and the suspended coroutine, the messages set aside, the exit reason, the book of links
// and monitors, and the behavior stack with the user's stash. It lives until the actor's block is
// freed, so the exit reason outlives the state (a monitor that arrives late gets a Down with it).
#pragma once

#include <troupe/actor_cell.hpp>
#include <troupe/behavior.hpp>
#include <troupe/exit_reason.hpp>
#include <troupe/signals.hpp>
#include <troupe/task.hpp>

#include "link_book.hpp"
#include "request_table.hpp"
#include "set_aside.hpp"

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace troupe::detail {

// become/unbecome and the user's stash (context_behavior.cpp): allocated on first use.
struct BehaviorState {
  // The become stack above the initial behavior (which the actor's state holds); top last.
  std::vector<std::unique_ptr<BehaviorBase>> behaviors;
  // Behaviors replaced or popped while one of their handlers may still run: freed when the next
  // message is dispatched (no handler, and no handler's coroutine, runs then).
  std::vector<std::unique_ptr<BehaviorBase>> retired;
  // Messages stashed by the user, in order. A request's requester is kept here, not in its
  // envelope, so that the handler that stashed it cannot answer it by returning.
  struct Stashed {
    Envelope* env;
    runtime::ActorCore* reply_to;  // holds a reference; nullptr for a one-way message
  };
  std::vector<Stashed> stashed;
  // Markers (responses that answer no request: a node's credit token) kept among the stashed
  // messages, each behind the messages it stands for, so that it is disposed of only once they
  // are handled for good (ActorCell::keep_marker_with_stash); not the user's, so stashed() leaves
  // them out.
  std::size_t markers = 0;
  // A message was stashed since the last marker came: the next marker may stand for it.
  bool stashed_since_marker = false;
};

// Context::set_receive_timeout (receive_timeout.cpp): allocated on first use.
struct ReceiveTimeoutState {
  using TimePoint = runtime::TimerService::Clock::time_point;
  Duration after{};  // zero: none
  // The end of the last turn that handled a message other than a check, or the last set_receive_timeout,
  // or the last ReceiveTimeout given: the time the actor is idle since, on the system's clock.
  TimePoint last_activity{};
  // At most one check is ever on its way: its timer pending, or its envelope (EnvelopeKind::idle)
  // queued. It falls due at `armed_due`. A second would only come as a duplicate.
  bool armed = false;
  TimePoint armed_due{};
  Timer timer;
};

struct ActorExtras : runtime::Pooled {
  struct RunningTask {
    std::coroutine_handle<> handle;
    TaskPromiseBase* promise = nullptr;
    Envelope* message = nullptr;  // the message the handler took: alive while the task runs
  };

  RequestTable pending;
  RequestTimer request_timer;            // for the timeouts of `pending` (actor_cell_requests.cpp)
  std::size_t awaited = 0;               // entries of `pending` the coroutine awaits; 0: not awaiting
  std::coroutine_handle<> resume_point;  // resumed when `awaited` drops to 0
  // Context::pace() calls since pace() last suspended the coroutine, and when its slice began:
  // the first look at the clock since then (ActorCell::pace_ready).
  unsigned paces = 0;
  std::chrono::steady_clock::time_point pace_slice_start{};
  RunningTask task;
  SetAside set_aside;
  // Set when the actor starts stopping; final once it has stopped (read by the dead-letter path).
  std::optional<ExitReason> exit_reason;

  LinkBook links;

  std::unique_ptr<BehaviorState> behavior;  // null until become() or stash()
  std::unique_ptr<ReceiveTimeoutState> receive_timeout;  // null until set_receive_timeout()
};

}  // namespace troupe::detail
