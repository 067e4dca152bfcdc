// The parts of an actor that most actors never need, allocated on first use: request ids, the
// suspended coroutine and the response it awaits, messages stashed meanwhile, the exit reason.
#pragma once

#include <troupe/context.hpp>
#include <troupe/exit_reason.hpp>
#include <troupe/task.hpp>

#include <coroutine>
#include <cstdint>
#include <deque>
#include <optional>
#include <vector>

namespace troupe::detail {

struct ActorExtras : runtime::Pooled {
  // One request the suspended coroutine waits for (several, with troupe::all).
  struct Pending {
    std::uint64_t request_id;
    DeliverFn deliver;
    void* awaitable;
    Timer timeout;
  };
  struct RunningTask {
    std::coroutine_handle<> handle;
    TaskPromiseBase* promise = nullptr;
    Envelope* message = nullptr;  // the message the handler took: alive while the task runs
  };

  std::uint64_t last_request_id = 0;
  std::vector<Pending> pending;          // empty: not awaiting
  std::coroutine_handle<> resume_point;  // resumed when `pending` empties
  RunningTask task;
  std::deque<Envelope*> stash;  // messages that arrived while a coroutine awaited, in order
  std::optional<ExitReason> exit_reason;
};

}  // namespace troupe::detail
