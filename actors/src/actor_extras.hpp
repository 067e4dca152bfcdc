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

namespace troupe::detail {

struct ActorExtras : runtime::Pooled {
  struct Awaiting {
    std::uint64_t request_id = 0;  // 0: not awaiting
    std::coroutine_handle<> resume_point;
    DeliverFn deliver = nullptr;
    void* awaitable = nullptr;
    Timer timeout;
  };
  struct RunningTask {
    std::coroutine_handle<> handle;
    TaskPromiseBase* promise = nullptr;
    Envelope* message = nullptr;  // the message the handler took: alive while the task runs
  };

  std::uint64_t last_request_id = 0;
  Awaiting awaiting;
  RunningTask task;
  std::deque<Envelope*> stash;  // messages that arrived while a coroutine awaited, in order
  std::optional<ExitReason> exit_reason;
};

}  // namespace troupe::detail
