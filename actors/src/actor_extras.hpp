// The parts of an actor that most actors never need, allocated on first use: request ids, the
// suspended coroutine and the response it awaits, messages stashed meanwhile, the exit reason,
// links and monitors. It lives until the actor's block is freed, so the exit reason outlives the
// state (a monitor that arrives late gets a Down with it).
#pragma once

#include <troupe/context.hpp>
#include <troupe/exit_reason.hpp>
#include <troupe/signals.hpp>
#include <troupe/task.hpp>

#include "request_table.hpp"

#include <coroutine>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <vector>

namespace troupe::detail {

struct ActorExtras : runtime::Pooled {
  struct RunningTask {
    std::coroutine_handle<> handle;
    TaskPromiseBase* promise = nullptr;
    Envelope* message = nullptr;  // the message the handler took: alive while the task runs
  };

  RequestTable pending;
  std::size_t awaited = 0;               // entries of `pending` the coroutine awaits; 0: not awaiting
  std::coroutine_handle<> resume_point;  // resumed when `awaited` drops to 0
  RunningTask task;
  // Messages that arrived while a coroutine awaited, or that a signal overtook, in order. The
  // first `urgent_in_stash` are Down / Exit messages made from signals: they go before the rest.
  std::deque<Envelope*> stash;
  std::size_t urgent_in_stash = 0;
  // Set when the actor starts stopping; final once it has stopped (read by the dead-letter path).
  std::optional<ExitReason> exit_reason;

  // Links and monitors (owner only). A few entries at most, usually: vectors.
  struct Monitor {  // another actor watches this one
    DynamicHandle watcher;
    MonitorRef ref;
  };
  struct Watch {  // this actor watches another
    MonitorRef ref;
    DynamicHandle target;  // empty when the monitor was of an empty handle
  };
  std::vector<DynamicHandle> links;
  std::vector<Monitor> monitors;
  std::vector<Watch> watching;
  std::uint64_t last_monitor_id = 0;
};

}  // namespace troupe::detail
